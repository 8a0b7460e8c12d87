import FindMyWay from 'find-my-way';

const NOOP = () => undefined;

/**
 * Which methods a path is served with: a mirror of the app's routes (fed from `onRoute`) in a
 * router of its own, because Fastify only looks a path up for the method asked. It turns a 404 for a
 * known path with the wrong method into 405 with `Allow`, as HTTP says.
 */
export class RouteMethods {
  readonly #router: FindMyWay.Instance<FindMyWay.HTTPVersion.V1>;
  readonly #methods = new Set<string>();

  constructor(options: { ignoreTrailingSlash: boolean; maxParamLength: number }) {
    this.#router = FindMyWay(options);
  }

  add(method: string | readonly string[], url: string): void {
    for (const m of typeof method === 'string' ? [method] : method) {
      this.#methods.add(m);
      // Fastify already rejected anything this router would; a duplicate is the same route twice.
      if (!this.#router.find(m as FindMyWay.HTTPMethod, url))
        this.#router.on(m as FindMyWay.HTTPMethod, url, NOOP);
    }
  }

  /** The methods `path` (a request URL, query string allowed) is routed for, in a stable order. */
  allowed(path: string): string[] {
    return [...this.#methods]
      .sort()
      .filter((m) => this.#router.find(m as FindMyWay.HTTPMethod, path) !== null);
  }
}
