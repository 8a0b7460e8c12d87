import http from 'node:http';
import autocannon from 'autocannon';

/** One HTTP request of an operation; `i` numbers the requests so both sides get the same sequence. */
export interface BenchRequest {
  readonly method: 'GET' | 'POST';
  readonly path: string;
  readonly body?: unknown;
  readonly headers?: Record<string, string>;
}

export interface Sample {
  readonly ms: number;
  readonly status: number;
  /** SQL statements the server ran for it (Server-Timing), or -1 when the header is absent. */
  readonly queries: number;
}

export interface PhaseResult {
  readonly samples: Sample[];
  /** From the first request sent to the last response received. */
  readonly elapsedMs: number;
}

export interface PhaseOptions {
  readonly concurrency: number;
  /** Keep sending until this much time has passed... */
  readonly durationMs: number;
  /** ...and at least this many requests completed (slow operations still get a sample)... */
  readonly minRequests: number;
  /** ...but never more than this many. */
  readonly maxRequests: number;
}

/** A keep-alive HTTP client for one server: what a load balancer or a reverse proxy would hold open. */
export class Target {
  readonly name: string;
  readonly #url: URL;
  readonly #agent: http.Agent;

  constructor(name: string, baseUrl: string, maxSockets = 64) {
    this.name = name;
    this.#url = new URL(baseUrl);
    this.#agent = new http.Agent({ keepAlive: true, maxSockets });
  }

  send(req: BenchRequest): Promise<{ status: number; body: string; ms: number; queries: number }> {
    const payload = req.body === undefined ? undefined : JSON.stringify(req.body);
    const headers: Record<string, string | number> = { ...req.headers };
    if (payload !== undefined) {
      headers['content-type'] = 'application/json';
      headers['content-length'] = Buffer.byteLength(payload);
    }
    return new Promise((resolve, reject) => {
      const startedAt = performance.now();
      const r = http.request(
        {
          agent: this.#agent,
          host: this.#url.hostname,
          port: this.#url.port,
          method: req.method,
          path: req.path,
          headers,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('error', reject);
          res.on('end', () => {
            const ms = performance.now() - startedAt;
            const timing = String(res.headers['server-timing'] ?? '');
            const match = /desc="(\d+) queries"/.exec(timing);
            resolve({
              status: res.statusCode ?? 0,
              body: Buffer.concat(chunks).toString('utf8'),
              ms,
              queries: match ? Number(match[1]) : res.statusCode ? 0 : -1,
            });
          });
        },
      );
      r.on('error', reject);
      r.end(payload);
    });
  }

  close(): void {
    this.#agent.destroy();
  }
}

/**
 * Sends `next(i)` for i = start, start+1, ... from `concurrency` loops until the duration has passed
 * and `minRequests` completed (or `maxRequests` were sent). Latency is measured per request around
 * the whole exchange, so it includes the client's share; both sides of a comparison pay the same.
 */
export async function runPhase(
  target: Target,
  next: (i: number) => BenchRequest,
  start: number,
  options: PhaseOptions,
): Promise<PhaseResult & { sent: number }> {
  const samples: Sample[] = [];
  let sent = 0;
  const startedAt = performance.now();
  const deadline = startedAt + options.durationMs;
  const more = () =>
    sent < options.maxRequests && (performance.now() < deadline || sent < options.minRequests);
  const loop = async () => {
    while (more()) {
      const i = start + sent++;
      const res = await target.send(next(i));
      if (res.status >= 500) {
        throw new Error(
          `${target.name}: ${next(i).method} ${next(i).path} answered ${res.status}: ${res.body}`,
        );
      }
      samples.push({ ms: res.ms, status: res.status, queries: res.queries });
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, loop));
  return { samples, elapsedMs: performance.now() - startedAt, sent };
}

/** Nearest-rank percentile (q in [0, 1]) of unsorted values. */
export function percentile(values: readonly number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.ceil(q * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))] as number;
}

export function median(values: readonly number[]): number {
  return percentile(values, 0.5);
}

export interface LoadResult {
  readonly completed: number;
  /** From the start to the last response, timed here (autocannon's own duration rounds up to its 1 s tick). */
  readonly elapsedMs: number;
  readonly p50: number;
  readonly statuses: Record<string, number>;
}

/**
 * Throughput at a fixed number of connections, with autocannon (it drives more requests per core
 * than node:http, so the load generator takes less of the machine from the server). Always a fixed
 * number of requests, `request(0)` .. `request(amount - 1)`: autocannon waits for every answer, so
 * no request is still running on the server when the next phase starts.
 */
export async function runLoad(
  target: { readonly url: string; readonly name: string },
  request: (j: number) => BenchRequest,
  options: { connections: number; amount: number },
): Promise<LoadResult> {
  let j = 0;
  // Without a callback autocannon returns its instance (an event emitter) made thenable.
  const instance = autocannon({
    url: target.url,
    connections: options.connections,
    amount: options.amount,
    timeout: 300,
    requests: [
      {
        setupRequest: (req) => {
          const r = request(j++);
          const body = r.body === undefined ? undefined : JSON.stringify(r.body);
          return {
            ...req,
            method: r.method,
            path: r.path,
            headers: { ...r.headers, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
            ...(body === undefined ? {} : { body }),
          };
        },
      },
    ],
  }) as unknown as autocannon.Instance & PromiseLike<autocannon.Result>;
  const startedAt = performance.now();
  let lastAt = startedAt;
  instance.on('response', () => {
    lastAt = performance.now();
  });
  const result = await instance;
  const statuses: Record<string, number> = {};
  for (const [code, stat] of Object.entries(result.statusCodeStats ?? {})) statuses[code] = stat.count ?? 0;
  const fivexx = Object.entries(statuses).filter(([code]) => code.startsWith('5'));
  if (fivexx.length > 0 || result.errors > 0 || result.timeouts > 0) {
    throw new Error(
      `${target.name}: ${request(0).method} ${request(0).path.split('?')[0]} under load: ` +
        `${JSON.stringify(statuses)}, ${result.errors} errors, ${result.timeouts} timeouts`,
    );
  }
  return {
    completed: result.requests.total,
    elapsedMs: lastAt - startedAt,
    p50: result.latency.p50,
    statuses,
  };
}
