import { DependencyHttpError, parseRetryAfter } from './classify.ts';
import type { CallOptions, DependencyPolicy } from './policy.ts';

/** What the outbound client needs from `fetch`; injectable so tests and chaos can stand in. */
export type FetchLike = (url: string, init: RequestInit & { signal: AbortSignal }) => Promise<Response>;

export interface OutboundRequest<T> extends Omit<CallOptions<T>, 'fallback'> {
  readonly method?: string;
  /** Appended to the client's base URL. */
  readonly path: string;
  readonly headers?: Record<string, string>;
  readonly json?: unknown;
  readonly fallback?: () => T | Promise<T>;
}

/**
 * The outbound HTTP client later provider adapters use: every request runs through the dependency's
 * policy (timeout with the AbortSignal handed to fetch, retry, breaker), a non-2xx answer becomes a
 * {@link DependencyHttpError} (status + Retry-After) so the counting rules apply, and the response
 * body is read inside the timeout. The base URL stays in here: errors name the dependency only.
 *
 * @example
 * const places = new OutboundHttpClient(resilience.policy('places'), 'http://127.0.0.1:9000');
 * const body = await places.json<{ results: unknown[] }>({ path: '/search?q=paris' });
 */
export class OutboundHttpClient {
  readonly #policy: DependencyPolicy;
  readonly #baseUrl: string;
  readonly #fetch: FetchLike;

  constructor(policy: DependencyPolicy, baseUrl: string, fetchImpl: FetchLike = fetch) {
    this.#policy = policy;
    this.#baseUrl = baseUrl.replace(/\/$/, '');
    this.#fetch = fetchImpl;
  }

  /** Sends the request and parses the JSON answer. */
  async json<T>(request: OutboundRequest<T>): Promise<T> {
    const { signal, deadline, fallback } = request;
    return this.#policy.execute(
      async (inner) => {
        const res = await this.#fetch(`${this.#baseUrl}${request.path}`, {
          method: request.method ?? (request.json === undefined ? 'GET' : 'POST'),
          headers: {
            accept: 'application/json',
            ...(request.json === undefined ? {} : { 'content-type': 'application/json' }),
            ...request.headers,
          },
          ...(request.json === undefined ? {} : { body: JSON.stringify(request.json) }),
          signal: inner,
        });
        if (!res.ok) {
          // Drain the body so the connection is reused; its text is the provider's and stays here.
          await res.arrayBuffer().catch(() => undefined);
          throw new DependencyHttpError(
            this.#policy.name,
            res.status,
            parseRetryAfter(res.headers.get('retry-after')),
          );
        }
        return (await res.json()) as T;
      },
      {
        ...(signal ? { signal } : {}),
        ...(deadline !== undefined ? { deadline } : {}),
        ...(fallback ? { fallback } : {}),
      },
    );
  }
}
