import { setTimeout as sleep } from 'node:timers/promises';

/** SQLSTATEs after which re-running an idempotent read can succeed. */
const TRANSIENT_SQLSTATES = new Set([
  '40001', // serialization_failure
  '40P01', // deadlock_detected
  '08000', // connection_exception
  '08003', // connection_does_not_exist
  '08006', // connection_failure
  '57P01', // admin_shutdown (server restarting, failover)
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now (starting up)
  '53300', // too_many_connections
]);
const TRANSIENT_NODE_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT']);
const TRANSIENT_MESSAGES = [
  /Connection terminated/i,
  /connection timeout/i,
  /Client has encountered a connection error/i,
];

export function isTransientDbError(err: unknown): boolean {
  if (!err || typeof err !== 'object') return false;
  const { code, message } = err as { code?: string; message?: string };
  if (code && (TRANSIENT_SQLSTATES.has(code) || TRANSIENT_NODE_CODES.has(code))) return true;
  return typeof message === 'string' && TRANSIENT_MESSAGES.some((re) => re.test(message));
}

export interface RetryOptions {
  /** Extra attempts after the first. */
  readonly retries: number;
  readonly baseDelayMs?: number;
  readonly onRetry?: (err: unknown, attempt: number) => void;
}

/**
 * Re-runs an idempotent read after a transient failure, with full-jitter exponential backoff and a
 * bound. Never use it around writes: a reset connection may have committed the first attempt.
 *
 * @example
 * const rows = await retryTransientRead(() => pool.query('SELECT 1'), { retries: 2 });
 */
export async function retryTransientRead<T>(fn: () => Promise<T>, options: RetryOptions): Promise<T> {
  const base = options.baseDelayMs ?? 20;
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (attempt >= options.retries || !isTransientDbError(err)) throw err;
      options.onRetry?.(err, attempt + 1);
      await sleep(Math.random() * base * 2 ** attempt);
    }
  }
}
