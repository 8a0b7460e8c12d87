/** Counters of one namespace since the process started (entries and bytes are current values). */
export interface NamespaceStats {
  readonly namespace: string;
  readonly mode: 'strict' | 'graceful';
  /** Answers from the memory tier. */
  hitsL1: number;
  /** Answers from Redis (then kept in memory). */
  hitsL2: number;
  /** Lookups that ran the loader (PostgreSQL). */
  misses: number;
  /** Expired entries served because their loader failed (graceful namespaces only). */
  stale: number;
  /** Callers that waited for a load another caller had started, instead of running their own. */
  coalesced: number;
  /** Strict lookups sent to PostgreSQL because Redis was away (the memory tier cannot be trusted then). */
  bypassed: number;
  /** Loads not kept because a write invalidated their tags while they ran. */
  discarded: number;
  /** Failed Redis commands. */
  errors: number;
  /** Entries the memory tier dropped to stay within CACHE_L1_MAX_MB / CACHE_L1_MAX_ENTRIES. */
  evictions: number;
  /** Entries now in the memory tier, and their estimated size. */
  entries: number;
  bytes: number;
}

export interface CacheStatsSnapshot {
  readonly enabled: boolean;
  readonly tiers: 'l1' | 'l1+l2';
  readonly redis: 'up' | 'down' | 'none';
  readonly totals: Omit<NamespaceStats, 'namespace' | 'mode'> & { hitRate: number | null };
  readonly namespaces: Array<NamespaceStats & { hitRate: number | null }>;
  readonly memory: {
    readonly entries: number;
    readonly bytes: number;
    readonly maxEntries: number;
    readonly maxBytes: number;
  };
  readonly invalidations: { readonly local: number; readonly remote: number; readonly pendingReplay: number };
}

const COUNTERS = [
  'hitsL1',
  'hitsL2',
  'misses',
  'stale',
  'coalesced',
  'bypassed',
  'discarded',
  'errors',
  'evictions',
  'entries',
  'bytes',
] as const;
type Counter = (typeof COUNTERS)[number];

/**
 * Every cache counter, in one place: the namespaces' lookups (by tier), loads, stale answers,
 * coalesced callers, errors and the memory tier's evictions, entries and bytes. `/health`,
 * `GET /api/admin/cache/stats`, `innkeep cache stats` and the Prometheus exporter all read `snapshot()`.
 */
export class CacheStats {
  readonly #byNamespace = new Map<string, NamespaceStats>();
  /** Stats of lookups whose namespace is unknown (keys outside every namespace). */
  readonly #other: NamespaceStats = blank('other', 'strict');

  register(namespace: string, mode: 'strict' | 'graceful'): NamespaceStats {
    let stats = this.#byNamespace.get(namespace);
    if (!stats) {
      stats = blank(namespace, mode);
      this.#byNamespace.set(namespace, stats);
    }
    return stats;
  }

  /** The namespace's stats; unknown names count under `other`. */
  of(namespace: string): NamespaceStats {
    return this.#byNamespace.get(namespace) ?? this.#other;
  }

  add(namespace: string, counter: Counter, by = 1): void {
    this.of(namespace)[counter] += by;
  }

  namespaces(): NamespaceStats[] {
    const all = [...this.#byNamespace.values()];
    return hasActivity(this.#other) ? [...all, this.#other] : all;
  }

  totals(): Omit<NamespaceStats, 'namespace' | 'mode'> & { hitRate: number | null } {
    const sum = Object.fromEntries(COUNTERS.map((c) => [c, 0])) as Record<Counter, number>;
    for (const ns of this.namespaces()) for (const c of COUNTERS) sum[c] += ns[c];
    return { ...sum, hitRate: hitRate(sum) };
  }
}

/** Hits over lookups that could have hit (bypassed lookups are left out: nothing was asked of the cache). */
export function hitRate(s: Pick<NamespaceStats, 'hitsL1' | 'hitsL2' | 'misses' | 'coalesced' | 'stale'>) {
  const hits = s.hitsL1 + s.hitsL2 + s.coalesced + s.stale;
  const lookups = hits + s.misses;
  return lookups === 0 ? null : Math.round((hits / lookups) * 10_000) / 10_000;
}

function blank(namespace: string, mode: 'strict' | 'graceful'): NamespaceStats {
  return {
    namespace,
    mode,
    hitsL1: 0,
    hitsL2: 0,
    misses: 0,
    stale: 0,
    coalesced: 0,
    bypassed: 0,
    discarded: 0,
    errors: 0,
    evictions: 0,
    entries: 0,
    bytes: 0,
  };
}

function hasActivity(s: NamespaceStats): boolean {
  return COUNTERS.some((c) => s[c] !== 0);
}
