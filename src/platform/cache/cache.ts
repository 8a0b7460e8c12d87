import { setTimeout as sleep } from 'node:timers/promises';
import { BentoCache, bentostore } from 'bentocache';
import type { LRUCache } from 'lru-cache';
import type { Logger } from '../observability/index.ts';
import { CacheStats, type CacheStatsSnapshot, hitRate, type NamespaceStats } from './cache-stats.ts';
import { memoryTier, objectMemoryDriver, type Sized } from './memory-tier.ts';
import { type CommandKind, RedisLink } from './redis-link.ts';
import { l2Serializer } from './serializer.ts';
import { presetSeconds, type TtlPreset, type TtlSeconds } from './ttl.ts';

export interface CacheOptions {
  readonly enabled: boolean;
  readonly prefix: string;
  readonly l1MaxMb: number;
  readonly l1MaxEntries: number;
  readonly ttl: TtlSeconds;
  readonly compressMinBytes: number;
  readonly l2TimeoutMs: number;
  readonly l2BreakerMs: number;
  /** Unset: memory only. */
  readonly redisUrl?: string | undefined;
}

/**
 * How a namespace's entries live. **strict**: never served after an invalidation, never served stale
 * when the load fails, and not served from memory at all while Redis (when configured) is away or
 * failing commands, since other instances' invalidations may not have arrived (nor tags' times been
 * read), until memory has been emptied and resynced. **graceful**: may be served up to
 * `grace` past its TTL, but only when loading a fresh value fails (PostgreSQL down); an invalidated
 * entry is reloaded like a strict one.
 */
export interface NamespacePolicy {
  /** Lower-case letters, digits and dashes; the first part of every key. */
  readonly name: string;
  readonly ttl: TtlPreset;
  readonly mode: 'strict' | 'graceful';
  /** graceful only: how long past its TTL an entry may be served when its load fails. */
  readonly grace?: TtlPreset;
  /** One line for the docs and `innkeep cache stats`: what is cached, and what invalidates it. */
  readonly description: string;
}

export interface GetOrSetOptions {
  /** Invalidating any of these drops the entry (see `Cache.invalidate`). */
  readonly tags?: readonly string[];
  /** Keep the entry at most this long (ms), if shorter than the namespace's TTL. */
  readonly maxTtlMs?: number;
  /**
   * The bytes the value is charged in the memory tier, when the caller knows them (the response
   * cache: its buffers); else the length of its JSON, computed once per fill.
   */
  readonly sizeOf?: (value: never) => number;
}

/** What is kept: the value and the size it is charged in the memory tier. */
interface Envelope<T> extends Sized {
  readonly d: T;
}

/** A load running in this process, joined by callers asking for the same key meanwhile. */
interface Flight {
  readonly tags: readonly string[];
  readonly promise: Promise<unknown>;
}

/** bentocache's key for the invalidation time of a tag. */
const TAG_KEY_PREFIX = '___bc:t:';
/**
 * Loads that took longer than this are not kept, and the entries this instance wrote in the last
 * RECENT_MS are remembered: when another instance's invalidation of one of their tags arrives over the
 * bus, they are deleted (a load that read PostgreSQL before the other instance's commit and was stored
 * after its invalidation would otherwise outlive it; see `#onRemoteInvalidation`).
 */
const RECENT_MS = 10_000;
const MAX_RECENT_WRITES = 20_000;
const MAX_PENDING_TAGS = 10_000;
const NAMESPACE_NAME = /^[a-z][a-z0-9-]{0,39}$/;

/**
 * The two-tier cache on bentocache: a bounded memory tier (L1) in every process and, when REDIS_URL is
 * set, Redis as a shared second tier (L2) plus a bus that keeps every instance's L1 coherent. Domain
 * modules get namespaces ({@link CacheNamespace}); writes call {@link Cache.invalidate} with the tags of
 * what they changed, after their transaction commits.
 *
 * Redis failures never reach callers: bentocache's L2 breaker skips Redis for CACHE_L2_BREAKER_MS after
 * an error, reads fall back to L1 and PostgreSQL, and invalidations still reach this process's L1.
 * Invalidations that could not reach Redis are remembered and written when it answers again (after
 * the breaker has closed), and L1 is emptied then (it may hold entries other instances invalidated
 * meanwhile). The same resync follows a failed command while the connections stay up (a stall).
 *
 * @example
 * const cache = new Cache(options, log);
 * const hotels = cache.namespace({ name: 'hotel', ttl: 'LONG', mode: 'graceful', grace: 'VERY_LONG', description: '…' });
 * const detail = await hotels.getOrSet(`${id}`, () => loadDetail(id), { tags: [`hotel:${id}`] });
 * tx.onCommit(() => cache.invalidate([`hotel:${id}`]));
 */
export class Cache {
  readonly enabled: boolean;
  readonly stats = new CacheStats();
  readonly #options: CacheOptions;
  readonly #log: Logger;
  readonly #bento: BentoCache<Record<string, ReturnType<typeof bentostore>>> | undefined;
  readonly #memory: LRUCache<string, object> | undefined;
  readonly #link: RedisLink | undefined;
  readonly #namespaces = new Map<string, CacheNamespace>();
  readonly #flights = new Map<string, Flight>();
  /** Invalidation sequence: a load started at sequence s is not kept if one of its tags moved past s. */
  #sequence = 0;
  readonly #tagSequence = new Map<string, { seq: number; at: number }>();
  /** The sequence of the last time everything was invalidated at once (a clear, a resync). */
  #clearedSequence = 0;
  readonly #recentWrites: Array<{ key: string; tags: readonly string[]; at: number }> = [];
  /** Tags invalidated while Redis was away, written to Redis when it is back. */
  readonly #pendingTags = new Set<string>();
  #pendingOverflow = false;
  /** True while L1 can be trusted for strict data: no Redis configured, or Redis up and resynced. */
  #coherent: boolean;
  #resync: Promise<void> | undefined;
  /** When a Redis command last failed: bentocache's breaker then skips Redis for CACHE_L2_BREAKER_MS. */
  #lastRedisErrorAt = 0;
  /** Moves whenever memory stops being trusted (Redis failed or went away); see `trustEpoch`. */
  #trustEpoch = 0;
  #recheck: NodeJS.Timeout | undefined;
  #closed = false;
  readonly #invalidations = { local: 0, remote: 0 };

  constructor(options: CacheOptions, log: Logger) {
    this.#options = options;
    this.#log = log.child({ module: 'cache' });
    this.enabled = options.enabled;
    this.#coherent = !options.redisUrl;
    if (!options.enabled) return;
    // Tags' invalidation times are entries too (bentocache keeps them like values).
    this.stats.register('tags', 'strict');
    const keyPrefix = `${options.prefix}:`;
    this.#memory = memoryTier(
      { maxEntries: options.l1MaxEntries, maxBytes: options.l1MaxMb * 2 ** 20 },
      this.stats,
      (key) => namespaceOfKey(key.startsWith(keyPrefix) ? key.slice(keyPrefix.length) : key),
    );
    const serializer = l2Serializer(options.compressMinBytes);
    let store = bentostore().useL1Layer(objectMemoryDriver(this.#memory, serializer.deserialize));
    if (options.redisUrl) {
      this.#link = new RedisLink(
        {
          url: options.redisUrl,
          commandTimeoutMs: options.l2TimeoutMs,
          onCommandError: (key, op) => this.#onRedisError(key, op),
        },
        this.#log,
      );
      this.#link.onChange((state) => this.#onLinkChange(state));
      store = store
        .useL2Layer(this.#link.l2Driver())
        .useBus({ ...this.#link.busDriver(), options: { retryQueue: { enabled: true, maxSize: 10_000 } } });
    }
    this.#bento = new BentoCache({
      default: options.prefix,
      prefix: options.prefix,
      stores: { [options.prefix]: store },
      serializer,
      // No stale-while-revalidate: an expired or invalidated entry is reloaded before it is answered;
      // graceful namespaces fall back to it only when the load fails.
      timeout: null,
      grace: false,
      suppressL2Errors: true,
      ...(options.l2BreakerMs > 0 ? { l2CircuitBreakerDuration: options.l2BreakerMs } : {}),
    });
    // bentocache builds a store (and opens its bus) on first use: open it now, so that the link can
    // come up and invalidations from other instances arrive before the first lookup.
    this.#bento.use(options.prefix);
    this.#bento.on('cache:hit', ({ key, layer, graced }) => {
      if (key.startsWith(TAG_KEY_PREFIX)) return;
      this.stats.add(namespaceOfKey(key), graced ? 'stale' : layer === 'l2' ? 'hitsL2' : 'hitsL1');
    });
    this.#bento.on('bus:message:received', ({ message }) => {
      if (message.type === 'clear') return this.#onRemoteClear();
      for (const key of message.keys) {
        if (key.startsWith(TAG_KEY_PREFIX)) this.#onRemoteInvalidation(key.slice(TAG_KEY_PREFIX.length));
      }
    });
  }

  /** 'l1+l2' with REDIS_URL, else 'l1'. */
  get tiers(): 'l1' | 'l1+l2' {
    return this.#link ? 'l1+l2' : 'l1';
  }

  /** Redis as this process sees it; 'none' without REDIS_URL. */
  get redis(): 'up' | 'down' | 'none' {
    return this.#link ? this.#link.state : 'none';
  }

  /** False while strict namespaces must bypass the cache (Redis configured but away, or resyncing). */
  get coherent(): boolean {
    return this.#coherent;
  }

  /** Resolves once Redis has been reached and the cache is coherent (tests, warm-up); false on timeout. */
  async ready(timeoutMs = 5_000): Promise<boolean> {
    const until = Date.now() + timeoutMs;
    while (!this.#coherent && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
    return this.#coherent;
  }

  /** Declares a namespace (once per name; the same policy may be asked for again). */
  namespace(policy: NamespacePolicy): CacheNamespace {
    if (!NAMESPACE_NAME.test(policy.name)) throw new Error(`Invalid cache namespace name: ${policy.name}`);
    if (policy.mode === 'strict' && policy.grace) {
      throw new Error(`Cache namespace ${policy.name} is strict: it cannot have a grace period`);
    }
    const existing = this.#namespaces.get(policy.name);
    if (existing) return existing;
    const ns = new CacheNamespace(this, policy, this.stats.register(policy.name, policy.mode));
    this.#namespaces.set(policy.name, ns);
    return ns;
  }

  namespaces(): CacheNamespace[] {
    return [...this.#namespaces.values()];
  }

  /**
   * Drops every entry carrying one of `tags`, in every namespace, here and (through Redis and its bus)
   * on every instance. Call it after the write committed (`tx.onCommit`); it resolves once this
   * process's memory tier no longer answers with them, and never rejects.
   */
  async invalidate(tags: readonly string[]): Promise<void> {
    if (!this.#bento || tags.length === 0) return;
    const unique = [...new Set(tags)];
    this.#invalidations.local += 1;
    this.#noteInvalidated(unique);
    // Redis away, failing or being resynced: the write may not reach it (bentocache's breaker skips
    // Redis without an error), so the tags are also kept for the resync to write.
    if (this.#link && !this.#coherent) this.#remember(unique);
    try {
      await this.#bento.deleteByTag({ tags: unique });
    } catch (err) {
      this.#log.warn({ err, tags: unique }, 'cache invalidation failed');
      this.#remember(unique);
    }
  }

  /** Empties one namespace (every instance), or the whole cache. */
  async clear(namespace?: string): Promise<void> {
    if (!this.#bento) return;
    if (namespace !== undefined) return this.invalidate([namespaceTag(namespace)]);
    this.#noteInvalidated([]);
    this.#flights.clear();
    await this.#bento.clear();
  }

  snapshot(): CacheStatsSnapshot {
    const namespaces = this.stats.namespaces().map((ns) => ({ ...ns, hitRate: hitRate(ns) }));
    return {
      enabled: this.enabled,
      tiers: this.tiers,
      redis: this.redis,
      totals: this.stats.totals(),
      namespaces,
      memory: {
        entries: this.#memory?.size ?? 0,
        bytes: this.#memory?.calculatedSize ?? 0,
        maxEntries: this.#options.l1MaxEntries,
        maxBytes: this.#options.l1MaxMb * 2 ** 20,
      },
      invalidations: { ...this.#invalidations, pendingReplay: this.#pendingTags.size },
    };
  }

  async close(): Promise<void> {
    if (!this.#bento) return;
    this.#closed = true;
    clearTimeout(this.#recheck);
    try {
      await this.#bento.disconnect();
    } catch (err) {
      this.#log.warn({ err }, 'cache disconnect failed');
    }
    await this.#link?.close();
  }

  // ---- used by CacheNamespace ----------------------------------------------------------------

  /** @internal */
  get bento() {
    return this.#bento;
  }

  /** @internal */
  ttlMs(preset: TtlPreset): number {
    return presetSeconds(this.#options.ttl, preset) * 1000;
  }

  /**
   * @internal Moves when memory stops being trusted. A strict lookup during which it moved is answered
   * by its loader: what bentocache answered from memory may be out of date.
   */
  get trustEpoch(): number {
    return this.#trustEpoch;
  }

  /** @internal The sequence a load starts at. */
  get sequence(): number {
    return this.#sequence;
  }

  /** @internal True when a tag was invalidated after `since` (the load that began then is out of date). */
  invalidatedSince(tags: readonly string[], since: number): boolean {
    if (this.#clearedSequence > since) return true;
    for (const tag of tags) {
      const seen = this.#tagSequence.get(tag);
      if (seen && seen.seq > since) return true;
    }
    return false;
  }

  /** @internal */
  flight(key: string): Flight | undefined {
    return this.#flights.get(key);
  }

  /** @internal */
  startFlight(key: string, flight: Flight): void {
    this.#flights.set(key, flight);
    void flight.promise.then(
      () => this.#endFlight(key, flight),
      () => this.#endFlight(key, flight),
    );
  }

  /** @internal Remembers a write so that a remote invalidation arriving soon after can undo it. */
  wrote(key: string, tags: readonly string[]): void {
    if (!this.#link) return;
    const now = Date.now();
    const recent = this.#recentWrites;
    while (
      recent.length > 0 &&
      (recent.length >= MAX_RECENT_WRITES || now - (recent[0]?.at ?? now) > RECENT_MS)
    ) {
      recent.shift();
    }
    recent.push({ key, tags, at: now });
  }

  // ---- internals ------------------------------------------------------------------------------

  #endFlight(key: string, flight: Flight): void {
    if (this.#flights.get(key) === flight) this.#flights.delete(key);
  }

  /**
   * Loads running now that carry one of `tags` are not kept, and nobody joins them any more. No tags:
   * everything was invalidated (a clear, a resync), and no load running now is kept.
   */
  #noteInvalidated(tags: readonly string[]): void {
    this.#sequence += 1;
    if (tags.length === 0) this.#clearedSequence = this.#sequence;
    const now = Date.now();
    for (const tag of tags) this.#tagSequence.set(tag, { seq: this.#sequence, at: now });
    if (this.#tagSequence.size > 50_000) {
      for (const [tag, seen] of this.#tagSequence)
        if (now - seen.at > RECENT_MS) this.#tagSequence.delete(tag);
    }
    const set = new Set(tags);
    for (const [key, flight] of this.#flights) {
      if (tags.length === 0 || flight.tags.some((t) => set.has(t))) this.#flights.delete(key);
    }
  }

  /**
   * Another instance invalidated `tag`. bentocache has already expired the tag's time in L1 (the next
   * read fetches it from Redis); what it cannot know is that a load here may have read PostgreSQL
   * before that instance committed and stored its answer after the invalidation, stamped later than
   * it. Loads still running are marked out of date, and entries written here in the last RECENT_MS
   * with that tag are deleted.
   */
  #onRemoteInvalidation(tag: string): void {
    this.#invalidations.remote += 1;
    this.#noteInvalidated([tag]);
    const stale = this.#recentWrites.filter((w) => w.tags.includes(tag));
    if (stale.length === 0) return;
    this.#recentWrites.splice(
      0,
      this.#recentWrites.length,
      ...this.#recentWrites.filter((w) => !w.tags.includes(tag)),
    );
    this.#dropWrites(stale, tag);
  }

  /**
   * Another instance emptied the whole cache (bentocache has emptied L1 here). As for a tag: loads
   * running here are not kept, and entries written here in the last RECENT_MS are deleted (one stored
   * between that instance's clear and this message would otherwise outlive the clear).
   */
  #onRemoteClear(): void {
    this.#invalidations.remote += 1;
    this.#noteInvalidated([]);
    this.#dropWrites(this.#recentWrites.splice(0), undefined);
  }

  #dropWrites(writes: ReadonlyArray<{ key: string }>, tag: string | undefined): void {
    const bento = this.#bento;
    if (!bento || writes.length === 0) return;
    void Promise.all(writes.map((w) => bento.delete({ key: w.key }))).catch((err: unknown) =>
      this.#log.warn({ err, tag }, 'cache: dropping entries of a remote invalidation failed'),
    );
  }

  #remember(tags: readonly string[]): void {
    for (const tag of tags) {
      if (this.#pendingTags.size >= MAX_PENDING_TAGS) {
        this.#pendingOverflow = true;
        return;
      }
      this.#pendingTags.add(tag);
    }
  }

  #onRedisError(key: string | undefined, op: CommandKind): void {
    // A tag's key is written by an invalidation (to be written again once Redis is back); reading it
    // is only a lookup's check, and failing to read it invalidated nothing.
    if (op === 'write' && key?.startsWith(TAG_KEY_PREFIX)) this.#remember([key.slice(TAG_KEY_PREFIX.length)]);
    this.stats.add(key === undefined ? 'other' : namespaceOfKey(key), 'errors');
    this.#lastRedisErrorAt = Date.now();
    this.#distrust();
  }

  /**
   * A Redis command failed, maybe with every connection still up (a timeout: Redis stalled). What
   * bentocache decided meanwhile cannot be trusted: a tag whose time it could not read (or that its
   * breaker then skipped) counts as never invalidated, and that is kept in memory for days, so an entry
   * invalidated by another instance went on being served, strict ones included. Strict namespaces
   * therefore bypass memory, as while Redis is away, until it has been emptied and resynced once Redis
   * answers again; the resync also writes the invalidations that could not reach Redis meanwhile.
   */
  #distrust(): void {
    this.#trustEpoch += 1;
    this.#coherent = false;
    this.#scheduleRecheck();
  }

  #scheduleRecheck(): void {
    if (this.#recheck || this.#closed || !this.#link) return;
    this.#recheck = setTimeout(
      () => {
        this.#recheck = undefined;
        // While the link is down, its coming back up starts the resync.
        if (this.#link?.state === 'up') this.#startResync();
      },
      Math.max(100, this.#options.l2BreakerMs),
    );
    this.#recheck.unref();
  }

  #onLinkChange(state: 'up' | 'down'): void {
    if (state === 'down') {
      this.#trustEpoch += 1;
      this.#coherent = false;
      return;
    }
    this.#startResync();
  }

  #startResync(): void {
    if (this.#resync || this.#closed) return;
    this.#resync = this.#resyncAfterOutage().then((trusted) => {
      this.#resync = undefined;
      // Redis may have failed, or gone, again while resyncing.
      this.#coherent = trusted && this.#link?.state === 'up';
      if (!this.#coherent && this.#link?.state === 'up') this.#scheduleRecheck();
    });
  }

  /**
   * Redis is (back) up. This instance missed the bus while it was away, so its L1 is emptied; the
   * invalidations it could not write are written now (or, past MAX_PENDING_TAGS, the whole Redis tier
   * is cleared). Strict namespaces keep reading PostgreSQL until this is done.
   *
   * bentocache's breaker, opened by the outage's last failed command, skips Redis for
   * CACHE_L2_BREAKER_MS after it, silently: what is written before it closes never reaches Redis
   * (the replayed invalidations were lost, and other instances kept serving what they invalidate).
   * So the resync first waits for the breaker to close; L1 is emptied after that wait, since lookups
   * during it could not read the tags' times from Redis.
   */
  async #resyncAfterOutage(): Promise<boolean> {
    const bento = this.#bento;
    if (!bento) return false;
    // The breaker opens a moment after the failure is reported here, and closes only once its time is
    // strictly past: keep a margin.
    const breakerOpenMs = this.#lastRedisErrorAt + this.#options.l2BreakerMs + 25 - Date.now();
    if (breakerOpenMs > 0) await sleep(breakerOpenMs, undefined, { ref: false });
    if (this.#closed || !(await this.#link?.ping())) return false;
    // Trusted at the end only if no command failed from here on.
    const epoch = this.#trustEpoch;
    this.#memory?.clear();
    this.#noteInvalidated([]);
    // Invalidations made while this runs are remembered too (the cache is not coherent yet).
    for (let round = 0; round < 3 && (this.#pendingTags.size > 0 || this.#pendingOverflow); round++) {
      const tags = [...this.#pendingTags];
      const overflow = this.#pendingOverflow;
      this.#pendingTags.clear();
      this.#pendingOverflow = false;
      try {
        if (overflow) await bento.clear();
        else await bento.deleteByTag({ tags });
        this.#log.info(
          { replayed: tags.length, cleared: overflow },
          'cache: invalidations made while redis was away are written',
        );
      } catch (err) {
        this.#log.warn({ err }, 'cache: writing the invalidations made while redis was away failed');
        this.#remember(tags);
        if (overflow) this.#pendingOverflow = true;
        return false;
      }
    }
    return this.#trustEpoch === epoch;
  }
}

/**
 * One domain module's part of the cache: keys are `<name>:<key>`, every entry also carries the tag
 * `ns:<name>` (so a namespace can be cleared alone), and the policy's TTL and mode apply.
 */
export class CacheNamespace {
  readonly policy: NamespacePolicy;
  readonly stats: NamespaceStats;
  readonly #cache: Cache;
  readonly #ttlMs: number;
  readonly #graceMs: number;
  readonly #ownTag: string;

  constructor(cache: Cache, policy: NamespacePolicy, stats: NamespaceStats) {
    this.#cache = cache;
    this.policy = policy;
    this.stats = stats;
    this.#ttlMs = cache.ttlMs(policy.ttl);
    this.#graceMs = policy.mode === 'graceful' && policy.grace ? cache.ttlMs(policy.grace) : 0;
    this.#ownTag = namespaceTag(policy.name);
  }

  get name(): string {
    return this.policy.name;
  }

  /** The TTL in seconds (for Cache-Control), and the grace in seconds (0 for strict). */
  get ttlSeconds(): number {
    return this.#ttlMs / 1000;
  }
  get graceSeconds(): number {
    return this.#graceMs / 1000;
  }

  /** False when a lookup would go straight to the loader (cache off, or strict while Redis is away). */
  get usable(): boolean {
    return this.#cache.enabled && (this.policy.mode === 'graceful' || this.#cache.coherent);
  }

  /**
   * Counts a lookup that went straight to the loader because the namespace was not `usable`, for a
   * caller that checked `usable` itself instead of calling `getOrSet` (the response cache).
   */
  countBypass(): void {
    if (this.#cache.enabled) this.stats.bypassed += 1;
  }

  /**
   * The cached value of `key`, or `load()`'s, kept for the namespace's TTL. Concurrent callers of one
   * key in this process share one load; bentocache's lock does the same for its own callers. Errors
   * from `load` reach the caller as they were thrown: a 4xx outcome (an error with `statusCode` < 500)
   * is never cached nor answered from a stale entry; any other failure is answered from a stale
   * entry in a graceful namespace when there is one.
   */
  async getOrSet<T>(key: string, load: () => Promise<T>, options: GetOrSetOptions = {}): Promise<T> {
    const bento = this.#cache.bento;
    if (!bento) return load();
    if (!this.usable) {
      this.stats.bypassed += 1;
      return load();
    }
    const fullKey = `${this.policy.name}:${key}`;
    const running = this.#cache.flight(fullKey);
    if (running) {
      this.stats.coalesced += 1;
      return running.promise as Promise<T>;
    }
    const tags = [...(options.tags ?? []), this.#ownTag];
    const ttl = Math.max(1, Math.min(this.#ttlMs, options.maxTtlMs ?? Number.POSITIVE_INFINITY));
    const promise = this.#load(bento, fullKey, tags, ttl, load, options.sizeOf);
    this.#cache.startFlight(fullKey, { tags, promise });
    return promise;
  }

  async #load<T>(
    bento: NonNullable<Cache['bento']>,
    fullKey: string,
    tags: readonly string[],
    ttl: number,
    load: () => Promise<T>,
    sizeOfValue: GetOrSetOptions['sizeOf'],
  ): Promise<T> {
    const since = this.#cache.sequence;
    const epoch = this.#cache.trustEpoch;
    const startedAt = Date.now();
    let loaded: { value: T } | undefined;
    let outcome: unknown;
    let failure: unknown;
    const envelope = await bento
      .getOrSet<Envelope<T>>({
        key: fullKey,
        ttl,
        grace: this.#graceMs > 0 ? this.#graceMs : false,
        timeout: null,
        tags: [...tags],
        factory: async (ctx) => {
          this.stats.misses += 1;
          let value: T;
          try {
            value = await load();
          } catch (err) {
            if (isOutcome(err)) {
              outcome = err;
              return ctx.skip() as unknown as Envelope<T>;
            }
            failure = err;
            throw err;
          }
          loaded = { value };
          if (this.#cache.invalidatedSince(tags, since) || Date.now() - startedAt > RECENT_MS / 2) {
            this.stats.discarded += 1;
            return ctx.skip() as unknown as Envelope<T>;
          }
          this.#cache.wrote(fullKey, tags);
          return { d: value, size: sizeOf(value, sizeOfValue) };
        },
      })
      .catch((err: unknown) => {
        // bentocache wraps the loader's error; callers get it as thrown.
        throw failure ?? err;
      });
    if (outcome !== undefined) throw outcome;
    if (this.policy.mode === 'strict' && !loaded && this.#cache.trustEpoch !== epoch) {
      // Redis failed while bentocache looked this up: its answer from memory may be out of date.
      this.stats.bypassed += 1;
      return load();
    }
    if (envelope !== undefined) return envelope.d;
    if (loaded) return loaded.value;
    // Skipped without a value of ours: cannot happen, but never answer `undefined` as data.
    return load();
  }

  /**
   * Many keys at once (a page built from many entries): the cached ones are read concurrently, and
   * `loadMissing` gets the indexes of the others in one call and returns their values in that order;
   * those are stored. Without a usable cache every index is missing.
   */
  async getMany<T>(
    items: ReadonlyArray<{ readonly key: string; readonly tags?: readonly string[] }>,
    loadMissing: (missing: number[]) => Promise<T[]>,
    options: { readonly maxTtlMs?: number } = {},
  ): Promise<T[]> {
    const bento = this.#cache.bento;
    const all = items.map((_, i) => i);
    if (!bento || !this.usable) {
      if (bento) this.stats.bypassed += items.length;
      return loadMissing(all);
    }
    const since = this.#cache.sequence;
    const epoch = this.#cache.trustEpoch;
    const found = await Promise.all(
      items.map((item) => bento.get<Envelope<T> | undefined>({ key: `${this.policy.name}:${item.key}` })),
    );
    if (this.policy.mode === 'strict' && this.#cache.trustEpoch !== epoch) {
      // Redis failed during the lookups (see `getOrSet`).
      this.stats.bypassed += items.length;
      return loadMissing(all);
    }
    const missing = all.filter((i) => found[i] === undefined);
    const results: T[] = found.map((e) => e?.d as T);
    if (missing.length === 0) return results;
    this.stats.misses += missing.length;
    const startedAt = Date.now();
    const loaded = await loadMissing(missing);
    const tooSlow = Date.now() - startedAt > RECENT_MS / 2;
    await this.setMany(
      missing.flatMap((index, j) => {
        const item = items[index];
        const value = loaded[j] as T;
        results[index] = value;
        if (!item || tooSlow || this.#cache.invalidatedSince([...(item.tags ?? []), this.#ownTag], since)) {
          this.stats.discarded += 1;
          return [];
        }
        return [{ key: item.key, value, ...(item.tags ? { tags: item.tags } : {}) }];
      }),
      options,
    );
    return results;
  }

  /** Stores values under their keys (after a batch load). */
  async setMany<T>(
    entries: ReadonlyArray<{ readonly key: string; readonly value: T; readonly tags?: readonly string[] }>,
    options: { readonly maxTtlMs?: number } = {},
  ): Promise<void> {
    const bento = this.#cache.bento;
    if (!bento || !this.usable || entries.length === 0) return;
    const ttl = Math.max(1, Math.min(this.#ttlMs, options.maxTtlMs ?? Number.POSITIVE_INFINITY));
    await Promise.all(
      entries.map((e) => {
        const fullKey = `${this.policy.name}:${e.key}`;
        const tags = [...(e.tags ?? []), this.#ownTag];
        this.#cache.wrote(fullKey, tags);
        return bento.set({
          key: fullKey,
          value: { d: e.value, size: sizeOf(e.value) } satisfies Envelope<T>,
          ttl,
          grace: this.#graceMs > 0 ? this.#graceMs : false,
          timeout: null,
          tags,
        });
      }),
    );
  }

  /** Drops every entry of this namespace, on every instance. */
  clear(): Promise<void> {
    return this.#cache.clear(this.policy.name);
  }
}

/** The tag every entry of a namespace carries. */
export function namespaceTag(namespace: string): string {
  return `ns:${namespace}`;
}

function namespaceOfKey(key: string): string {
  if (key.startsWith(TAG_KEY_PREFIX)) return 'tags';
  const colon = key.indexOf(':');
  return colon === -1 ? key : key.slice(0, colon);
}

/** An error that is an answer (404, 409, 422…), not a failure: never cached, never hidden by grace. */
function isOutcome(err: unknown): boolean {
  const status = (err as { statusCode?: unknown } | null)?.statusCode;
  return typeof status === 'number' && status < 500;
}

/** The size an entry is charged in the memory tier: its bytes when it says so, else its JSON's length. */
function sizeOf(value: unknown, given?: (value: never) => number): number {
  if (given) {
    const size = given(value as never);
    if (Number.isFinite(size) && size >= 0) return Math.ceil(size);
  }
  try {
    return JSON.stringify(value)?.length ?? 16;
  } catch {
    return 1024;
  }
}
