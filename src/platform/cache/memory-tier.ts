import { MemoryDriver } from 'bentocache/drivers/memory';
import { LRUCache } from 'lru-cache';
import type { CacheStats } from './cache-stats.ts';

/** What bentocache keeps in the memory tier for one key (it does not serialize there). */
interface L1Item {
  readonly value?: unknown;
}

/** A value's size as the cache estimated it when it was filled (see {@link Sized}). */
export interface Sized {
  /** The size in bytes the entry is charged for in the memory tier. */
  readonly size: number;
}

const MIN_ENTRY_BYTES = 64;

/**
 * The memory tier's store: one LRU for every namespace, bounded in entries and in bytes. bentocache's
 * memory driver can only measure strings, so the cache passes this instance in and charges each entry
 * the size computed once when it was filled (values carry it, see {@link Sized}). Entries, bytes and
 * evictions are counted per namespace (the part of the key before the first `:`).
 *
 * @example
 * const lru = memoryTier({ maxEntries: 50_000, maxBytes: 64 * 2 ** 20 }, stats, (k) => k.split(':')[1]);
 */
export function memoryTier(
  limits: { readonly maxEntries: number; readonly maxBytes: number },
  stats: CacheStats,
  namespaceOf: (key: string) => string,
): LRUCache<string, object> {
  // sizeCalculation runs before the old value (if any) is disposed of, onInsert after: the size
  // being inserted waits in `pending` so that dispose still subtracts the old one.
  const sizes = new Map<string, number>();
  let pending = 0;
  return new LRUCache<string, object>({
    max: limits.maxEntries,
    maxSize: limits.maxBytes,
    // One entry may take at most a quarter of the tier: a huge page must not flush everything else.
    maxEntrySize: Math.max(MIN_ENTRY_BYTES, Math.floor(limits.maxBytes / 4)),
    ttlAutopurge: false,
    sizeCalculation: (item, key) => {
      const value = (item as L1Item).value as Partial<Sized> | undefined;
      // lru-cache throws on a size that is not a positive integer, and the value's `size` may be any
      // number (a cached row's own field: a room of 120.5 m² failed every lookup with a TypeError).
      const size = typeof value?.size === 'number' && Number.isFinite(value.size) ? Math.ceil(value.size) : 0;
      pending = Math.max(MIN_ENTRY_BYTES, size) + key.length;
      return pending;
    },
    onInsert: (_item, key) => {
      const ns = namespaceOf(key);
      sizes.set(key, pending);
      stats.add(ns, 'entries');
      stats.add(ns, 'bytes', pending);
    },
    dispose: (_item, key, reason) => {
      const size = sizes.get(key);
      if (size === undefined) return;
      const ns = namespaceOf(key);
      sizes.delete(key);
      stats.add(ns, 'entries', -1);
      stats.add(ns, 'bytes', -size);
      if (reason === 'evict') stats.add(ns, 'evictions');
    },
  });
}

/**
 * bentocache's memory driver over `lru`, keeping objects. With `serialize: false`, bentocache still
 * hands the memory tier the serialized string of an entry it read from Redis (and then fails to read
 * it back: it has no serializer for L1), so strings are turned back into objects here, once per
 * promotion from L2.
 */
export function objectMemoryDriver(lru: LRUCache<string, object>, deserialize: (text: string) => unknown) {
  const options = { cacheInstance: lru, serialize: false } as unknown as MemoryConfig;
  return {
    options,
    factory: (config: MemoryConfig) => new ObjectMemoryDriver({ ...config, ...options }, deserialize),
  };
}

type MemoryConfig = NonNullable<ConstructorParameters<typeof MemoryDriver>[0]>;

class ObjectMemoryDriver extends MemoryDriver {
  readonly #deserialize: (text: string) => unknown;
  readonly #options: MemoryConfig;
  constructor(config: MemoryConfig, deserialize: (text: string) => unknown) {
    super(config);
    this.#options = config;
    this.#deserialize = deserialize;
  }
  override namespace(namespace: string): ObjectMemoryDriver {
    return new ObjectMemoryDriver(
      { ...this.#options, prefix: this.createNamespacePrefix(namespace) },
      this.#deserialize,
    );
  }
  override set(key: string, value: string, ttl?: number): boolean {
    const item = typeof value === 'string' ? this.#deserialize(value) : value;
    return super.set(key, item as string, ttl);
  }
}
