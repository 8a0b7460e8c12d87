import { RedisDriver, redisBusDriver } from 'bentocache/drivers/redis';
import { Redis, type RedisOptions } from 'ioredis';
import type { Logger } from '../observability/index.ts';

export type LinkState = 'up' | 'down';
/** What a failed command of the second tier did: a read, or a write (set, delete, clear). */
export type CommandKind = 'read' | 'write';

export interface RedisLinkOptions {
  readonly url: string;
  /** A command slower than this fails (the read falls back to memory and PostgreSQL). */
  readonly commandTimeoutMs: number;
  /** Called for every failed command with the key it was for (counted per namespace) and what it did. */
  readonly onCommandError: (key: string | undefined, op: CommandKind) => void;
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
   * bentocache's bus driver. Its transport calls `duplicate()` on the connection it is given, for its
   * publisher first and then for its subscriber; this one hands back connections made here, with their
   * listeners.
   */
  busDriver() {
    const base = new Redis(this.#options.url, { lazyConnect: true });
    base.on('error', () => {});
    let duplicates = 0;
    base.duplicate = () => {
      duplicates += 1;
      return duplicates === 2 ? this.#subscriber() : this.#publisher();
    };
    return redisBusDriver({ connection: base });
  }

  /** Whether Redis answers a PING on the tier's connection now. */
  async ping(): Promise<boolean> {
    try {
      return (await this.commands.ping()) === 'PONG';
    } catch {
      return false;
    }
  }

  async close(): Promise<void> {
    this.#closing = true;
    await Promise.all(
      this.#clients.map(async (c) => {
        // bentocache's disconnect() has normally begun closing it (QUIT, or disconnect() for the tier's
        // connection): wait for that instead of closing it a second time. A second disconnect() arms
        // ioredis's 2 s "destroy the socket" timer on a socket whose 'close' has already fired; nothing
        // clears it, and it kept the process alive for 2 s after close().
        if (await ended(c, 200)) return;
        try {
          await c.quit();
        } catch {
          c.disconnect();
        }
      }),
    );
  }

  /**
   * The bus's publisher. bentocache awaits its publishes inside lookups (an entry found invalidated is
   * expired and announced), so while Redis is away a publish fails at once instead of waiting in the
   * offline queue until the command timeout: every such lookup took CACHE_L2_TIMEOUT_MS longer. The
   * bus keeps what it could not publish and sends it again once Redis is back.
   */
  #publisher(): Redis {
    const client = this.#connect('bus', { enableOfflineQueue: true });
    const publish = client.publish.bind(client) as (channel: string, message: string) => Promise<number>;
    client.publish = ((channel: string, message: string) =>
      client.status === 'ready'
        ? publish(channel, message)
        : Promise.reject(new Error('redis is away: not published'))) as Redis['publish'];
    return client;
  }

  /**
   * The bus's subscriber. bentocache sends its SUBSCRIBE when the store opens, and does not wait for
   * it. If Redis is away then, the command must wait for Redis instead of failing: with the retry
   * limit and timeout of the other connections it was rejected after the first reconnect attempt,
   * unhandled (a process started while Redis was down crashed), and the channel stayed unsubscribed
   * for good (ioredis re-subscribes only to channels it got). Only closing the cache while Redis is
   * still away drops it; that is not an error.
   */
  #subscriber(): Redis {
    const client = this.#connect('bus', {
      enableOfflineQueue: true,
      maxRetriesPerRequest: null,
      commandTimeout: undefined,
    });
    const subscribe = client.subscribe.bind(client) as (...channels: string[]) => Promise<unknown>;
    client.subscribe = ((...channels: string[]) =>
      subscribe(...channels).catch((err: unknown) => {
        if (!this.#closing) this.#log.error({ err, channels }, 'redis: subscribing to the cache bus failed');
        return channels.length;
      })) as Redis['subscribe'];
    return client;
  }

  #connect(role: string, extra: Partial<RedisOptions>): Redis {
    const client = new Redis(this.#options.url, {
      maxRetriesPerRequest: 1,
      commandTimeout: this.#options.commandTimeoutMs,
      connectTimeout: Math.max(1_000, this.#options.commandTimeoutMs * 4),
      // Reconnect quickly at first, then every 2 s for as long as it takes.
      retryStrategy: (attempt) => Math.min(50 * 2 ** attempt, 2_000),
      // How long disconnect() waits for the socket to close before destroying it. ioredis's 2 s timer
      // is armed even on a socket that is already gone (Redis away): the process lingered 2 s after
      // close().
      disconnectTimeout: 250,
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
    // QUIT on a connection that is not up waits in its offline queue, behind any command waiting there
    // for Redis (the subscriber's SUBSCRIBE), for as long as Redis is away: close() would hang. Such a
    // connection has nothing to flush, so it is dropped at once.
    const quit = client.quit.bind(client) as () => Promise<'OK'>;
    client.quit = (() => {
      if (client.status === 'ready') return quit();
      client.disconnect();
      return Promise.resolve('OK' as const);
    }) as Redis['quit'];
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

/** Resolves true once `client` has ended, false if it has not within `ms`. */
function ended(client: Redis, ms: number): Promise<boolean> {
  if (client.status === 'end') return Promise.resolve(true);
  return new Promise((resolve) => {
    const done = (value: boolean) => {
      clearTimeout(timer);
      client.off('end', onEnd);
      resolve(value);
    };
    const onEnd = () => done(true);
    const timer = setTimeout(() => done(false), ms);
    client.once('end', onEnd);
  });
}

/** bentocache's Redis driver, reporting each failed command with its key before rethrowing. */
class CountingRedisDriver extends RedisDriver {
  readonly #onError: (key: string | undefined, op: CommandKind) => void;
  constructor(
    config: ConstructorParameters<typeof RedisDriver>[0],
    onError: (key: string | undefined, op: CommandKind) => void,
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
    return this.#count(key, 'read', () => super.get(key));
  }
  override async set(key: string, value: string, ttl?: number) {
    return this.#count(key, 'write', () => super.set(key, value, ttl));
  }
  override async delete(key: string) {
    return this.#count(key, 'write', () => super.delete(key));
  }
  override async deleteMany(keys: string[]) {
    return this.#count(keys[0], 'write', () => super.deleteMany(keys));
  }
  override async clear() {
    return this.#count(undefined, 'write', () => super.clear());
  }
  async #count<T>(key: string | undefined, op: CommandKind, run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (err) {
      this.#onError(key, op);
      throw err;
    }
  }
}
