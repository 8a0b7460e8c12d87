import { RedisDriver, redisBusDriver } from 'bentocache/drivers/redis';
import { Redis, type RedisOptions } from 'ioredis';
import type { Logger } from '../observability/index.ts';

export type LinkState = 'up' | 'down';

export interface RedisLinkOptions {
  readonly url: string;
  /** A command slower than this fails (the read falls back to memory and PostgreSQL). */
  readonly commandTimeoutMs: number;
  /** Called for every failed command with the key it was for (counted per namespace). */
  readonly onCommandError: (key: string | undefined) => void;
}

/**
 * The cache's connections to Redis: one for the second tier's commands, two for the bus (bentocache's
 * Redis transport publishes on one and subscribes on the other). Every connection has an `error`
 * listener (one without would print "Unhandled error event" on each reconnect attempt), commands fail
 * at once instead of queueing while Redis is away (`enableOfflineQueue: false` on the tier), and the
 * link reports `up` only while all three are ready: with any one of them gone, this instance would
 * miss other instances' invalidations or fail to send its own.
 */
export class RedisLink {
  readonly #log: Logger;
  readonly #options: RedisLinkOptions;
  readonly #clients: Redis[] = [];
  readonly #listeners = new Set<(state: LinkState) => void>();
  #state: LinkState = 'down';
  #closing = false;
  /** The tier's connection, handed to bentocache's Redis driver. */
  readonly commands: Redis;

  constructor(options: RedisLinkOptions, log: Logger) {
    this.#log = log;
    this.#options = options;
    this.commands = this.#connect('l2', { enableOfflineQueue: false });
  }

  get state(): LinkState {
    return this.#state;
  }

  onChange(listener: (state: LinkState) => void): void {
    this.#listeners.add(listener);
  }

  /** bentocache's driver for the second tier, counting failed commands by key. */
  l2Driver() {
    const onError = this.#options.onCommandError;
    const connection = this.commands;
    return {
      options: { connection },
      factory: (config: ConstructorParameters<typeof RedisDriver>[0]) =>
        new CountingRedisDriver({ ...config, connection }, onError),
    };
  }

  /**
   * bentocache's bus driver. Its transport calls `duplicate()` on the connection it is given for
   * its publisher and subscriber; this one hands back connections made here, with their listeners.
   */
  busDriver() {
    const base = new Redis(this.#options.url, { lazyConnect: true });
    base.on('error', () => {});
    // The transport duplicates it twice: its publisher first, then its subscriber. bentocache sends
    // the subscriber's one SUBSCRIBE when the cache is built and neither awaits nor catches it, so
    // that command must not fail: with the tier's settings it did whenever Redis was not there yet
    // (MaxRetriesPerRequestError after one reconnect) or slow to connect (the command timeout), an
    // unhandled rejection that stopped the process at start, and a bus that never heard other
    // instances' invalidations. The subscriber's commands wait for the connection instead, however
    // long; publishes keep failing fast (bentocache retries them).
    let duplicates = 0;
    base.duplicate = () =>
      duplicates++ === 0
        ? this.#connect('bus', { enableOfflineQueue: true })
        : this.#connect('bus', {
            enableOfflineQueue: true,
            maxRetriesPerRequest: null,
            commandTimeout: undefined,
          });
    return redisBusDriver({ connection: base });
  }

  async close(): Promise<void> {
    this.#closing = true;
    await Promise.all(
      this.#clients.map(async (c) => {
        try {
          await c.quit();
        } catch {
          c.disconnect();
        }
      }),
    );
  }

  #connect(role: string, extra: Partial<RedisOptions>): Redis {
    const client = new Redis(this.#options.url, {
      maxRetriesPerRequest: 1,
      commandTimeout: this.#options.commandTimeoutMs,
      connectTimeout: Math.max(1_000, this.#options.commandTimeoutMs * 4),
      // Reconnect quickly at first, then every 2 s for as long as it takes.
      retryStrategy: (attempt) => Math.min(50 * 2 ** attempt, 2_000),
      ...extra,
    });
    let reported = false;
    client.on('error', (err: Error & { code?: string }) => {
      // One line per outage, not one per reconnect attempt.
      if (reported || this.#closing) return;
      reported = true;
      this.#log.warn({ err: { message: err.message, code: err.code }, role }, 'redis connection failed');
    });
    client.on('ready', () => {
      reported = false;
      this.#update();
    });
    client.on('close', () => this.#update());
    client.on('end', () => this.#update());
    this.#clients.push(client);
    return client;
  }

  #update(): void {
    const next: LinkState =
      this.#clients.length === 3 && this.#clients.every((c) => c.status === 'ready') ? 'up' : 'down';
    if (next === this.#state) return;
    this.#state = next;
    if (!this.#closing) {
      if (next === 'up') this.#log.info('redis is up: the cache uses its second tier and bus');
      else this.#log.warn('redis is down: the cache serves from memory, strict namespaces read PostgreSQL');
    }
    for (const listener of this.#listeners) listener(next);
  }
}

/** bentocache's Redis driver, reporting each failed command with its key before rethrowing. */
class CountingRedisDriver extends RedisDriver {
  readonly #onError: (key: string | undefined) => void;
  constructor(
    config: ConstructorParameters<typeof RedisDriver>[0],
    onError: (key: string | undefined) => void,
  ) {
    super(config);
    this.#onError = onError;
  }
  override namespace(namespace: string): CountingRedisDriver {
    return new CountingRedisDriver(
      { ...this.config, connection: this.getConnection(), prefix: this.createNamespacePrefix(namespace) },
      this.#onError,
    );
  }
  override async get(key: string) {
    return this.#count(key, () => super.get(key));
  }
  override async set(key: string, value: string, ttl?: number) {
    return this.#count(key, () => super.set(key, value, ttl));
  }
  override async delete(key: string) {
    return this.#count(key, () => super.delete(key));
  }
  override async deleteMany(keys: string[]) {
    return this.#count(keys[0], () => super.deleteMany(keys));
  }
  override async clear() {
    return this.#count(undefined, () => super.clear());
  }
  async #count<T>(key: string | undefined, run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (err) {
      this.#onError(key);
      throw err;
    }
  }
}
