import { Redis } from 'ioredis';
import type { Logger } from '../observability/index.ts';
import { SharedBreakers } from './shared-breakers.ts';

export interface SharedBreakerConnectionOptions {
  readonly url: string;
  readonly prefix: string;
  readonly opTimeoutMs?: number;
  readonly pollMs?: number;
  readonly probeLeaseMs?: number;
  readonly now?: () => number;
}

/**
 * Opens the breakers' own two Redis connections (commands + subscriber; the resilience folder does
 * not borrow the cache's) and starts the sharing. Commands fail at once while Redis is away
 * (`enableOfflineQueue: false`, short `commandTimeout`), both connections have an 'error' listener
 * and reconnect on their own; `close()` quits both.
 *
 * @example
 * const { shared, close } = await connectSharedBreakers({ url: 'redis://127.0.0.1:6379', prefix: 'innkeep' }, log);
 */
export async function connectSharedBreakers(options: SharedBreakerConnectionOptions, log: Logger) {
  const opTimeoutMs = options.opTimeoutMs ?? 100;
  const base = {
    lazyConnect: true,
    maxRetriesPerRequest: 1,
    connectTimeout: 1_000,
    retryStrategy: (times: number) => Math.min(1_000, 50 * times),
  };
  const commands = new Redis(options.url, {
    ...base,
    enableOfflineQueue: false,
    commandTimeout: opTimeoutMs * 2,
  });
  const subscriber = new Redis(options.url, { ...base });
  let lastError = '';
  for (const c of [commands, subscriber]) {
    c.on('error', (err: Error) => {
      // One line per kind of failure, not one per reconnect attempt.
      if (err.message === lastError) return;
      lastError = err.message;
      log.warn({ err: err.message }, 'shared breaker state: redis connection error');
    });
    c.on('ready', () => {
      lastError = '';
    });
  }
  await Promise.all([commands.connect().catch(() => {}), subscriber.connect().catch(() => {})]);
  const shared = new SharedBreakers(
    {
      commands,
      subscriber,
      prefix: options.prefix,
      opTimeoutMs,
      pollMs: options.pollMs ?? 2_000,
      probeLeaseMs: options.probeLeaseMs ?? 15_000,
      ...(options.now ? { now: options.now } : {}),
    },
    log,
  );
  await shared.start();
  return {
    shared,
    async close() {
      await shared.close();
      commands.disconnect();
      subscriber.disconnect();
    },
  };
}
