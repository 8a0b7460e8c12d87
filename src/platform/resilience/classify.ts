import { BulkheadRejectedError, TaskCancelledError } from 'cockatiel';

/**
 * An outbound HTTP answer that was not a success, as adapters map it: the status and, for a 429 or
 * 503, the `Retry-After` the provider sent (in ms). The message never carries the provider's body or
 * address: it is logged, and the classifier and the breaker only read `status` and `retryAfterMs`.
 *
 * @example
 * if (!res.ok) throw new DependencyHttpError('payments', res.status, parseRetryAfter(res.headers.get('retry-after')));
 */
export class DependencyHttpError extends Error {
  readonly dependency: string;
  readonly status: number;
  readonly retryAfterMs: number | undefined;

  constructor(dependency: string, status: number, retryAfterMs?: number) {
    super(`${dependency} answered HTTP ${status}`);
    this.name = 'DependencyHttpError';
    this.dependency = dependency;
    this.status = status;
    this.retryAfterMs = retryAfterMs;
  }
}

/** A call that outlived its policy's timeout (the call's AbortSignal was aborted). */
export class DependencyTimeoutError extends Error {
  constructor(dependency: string, timeoutMs: number) {
    super(`${dependency} did not answer within ${timeoutMs} ms`);
    this.name = 'DependencyTimeoutError';
  }
}

/** Node's socket and DNS failures: the dependency is unreachable, not refusing one request. */
const CONNECTION_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
]);

/** What one failure means to the policies: the single place the counting rules live. */
export interface Classification {
  /** Counts towards opening the breaker (and keeps a half-open breaker from closing). */
  readonly counts: boolean;
  /** Worth another attempt. */
  readonly retryable: boolean;
  /** The provider asked for at least this long before the next attempt. */
  readonly retryAfterMs: number | undefined;
  /** A short reason safe to log and to show operators: a kind, never a message or an address. */
  readonly reason: string;
}

/**
 * The counting rules: timeouts, connection errors (ECONNREFUSED, ECONNRESET, ETIMEDOUT, ...), HTTP 429
 * and 5xx count as failures and are retried; any other 4xx is the caller's fault: it neither counts
 * nor is retried. A bulkhead rejection neither counts (the dependency did nothing wrong) nor is
 * retried. Anything else (a bug in the adapter, a parse error) is not retried and does not count.
 *
 * @example
 * classify(new DependencyHttpError('llm', 503, 2000)); // { counts: true, retryable: true, retryAfterMs: 2000, reason: 'http 503' }
 * classify(new DependencyHttpError('llm', 404)).counts; // false
 */
export function classify(err: unknown): Classification {
  if (err instanceof DependencyHttpError) {
    const failure = err.status === 429 || err.status >= 500;
    return {
      counts: failure,
      retryable: failure,
      retryAfterMs: err.retryAfterMs,
      reason: `http ${err.status}`,
    };
  }
  if (err instanceof DependencyTimeoutError || err instanceof TaskCancelledError) {
    return { counts: true, retryable: true, retryAfterMs: undefined, reason: 'timeout' };
  }
  if (err instanceof BulkheadRejectedError) {
    return { counts: false, retryable: false, retryAfterMs: undefined, reason: 'bulkhead full' };
  }
  const code = connectionCode(err);
  if (code) return { counts: true, retryable: true, retryAfterMs: undefined, reason: code.toLowerCase() };
  return { counts: false, retryable: false, retryAfterMs: undefined, reason: 'other' };
}

/** The connection error code of `err` or of its `cause` chain (fetch wraps socket errors in a TypeError). */
function connectionCode(err: unknown): string | undefined {
  for (let e = err, depth = 0; e && typeof e === 'object' && depth < 4; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && CONNECTION_CODES.has(code)) return code;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

/**
 * A `Retry-After` header in ms: delta seconds (`120`) or an HTTP date. Undefined when absent or not
 * one of the two; never negative.
 *
 * @example
 * parseRetryAfter('3'); // 3000
 */
export function parseRetryAfter(value: string | null | undefined, now = Date.now()): number | undefined {
  if (value === null || value === undefined) return undefined;
  const text = value.trim();
  if (/^\d{1,9}$/.test(text)) return Number(text) * 1000;
  if (!/^[A-Za-z]{3}, \d{2} [A-Za-z]{3} \d{4} \d{2}:\d{2}:\d{2} GMT$/.test(text)) return undefined;
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}
