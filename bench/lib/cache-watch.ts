// What the bench reads of a running Innkeep's cache and process: `GET /api/admin/cache/stats` (the
// admin route, or the same path on the internal listener), turned into hit rates over an interval,
// and the server's resident memory from /proc (same machine only).
import { readFile } from 'node:fs/promises';

/** The counters of one namespace, as `cache.snapshot()` gives them (src/platform/cache/cache-stats.ts). */
export interface NamespaceCounters {
  readonly namespace: string;
  readonly mode: 'strict' | 'graceful';
  readonly hitsL1: number;
  readonly hitsL2: number;
  readonly misses: number;
  readonly stale: number;
  readonly coalesced: number;
  readonly bypassed: number;
  readonly discarded: number;
  readonly errors: number;
  readonly evictions: number;
  readonly entries: number;
  readonly bytes: number;
}

export interface CacheStatsAnswer {
  readonly enabled: boolean;
  readonly tiers: 'l1' | 'l1+l2';
  readonly redis: 'up' | 'down' | 'none';
  readonly totals: Omit<NamespaceCounters, 'namespace' | 'mode'>;
  readonly namespaces: NamespaceCounters[];
  readonly memory: { entries: number; bytes: number; maxEntries: number; maxBytes: number };
  readonly invalidations: { local: number; remote: number; pendingReplay: number };
}

/** One namespace over an interval: counter differences, and entries/bytes at its end. */
export interface NamespaceInterval {
  readonly namespace: string;
  readonly mode: 'strict' | 'graceful' | 'all';
  /** hitsL1 + hitsL2 + coalesced + stale. */
  readonly hits: number;
  readonly hitsL1: number;
  readonly hitsL2: number;
  readonly coalesced: number;
  readonly stale: number;
  readonly misses: number;
  readonly bypassed: number;
  readonly discarded: number;
  readonly errors: number;
  readonly evictions: number;
  /** hits / (hits + misses); null without lookups. Bypassed lookups asked nothing of the cache. */
  readonly hitRate: number | null;
  readonly entries: number;
  readonly bytes: number;
}

export interface CacheInterval {
  readonly tiers: 'l1' | 'l1+l2';
  readonly redis: 'up' | 'down' | 'none';
  readonly total: NamespaceInterval;
  /** Namespaces with a lookup in the interval, most lookups first. */
  readonly namespaces: NamespaceInterval[];
  readonly memory: CacheStatsAnswer['memory'];
  readonly invalidations: { readonly local: number; readonly remote: number };
}

/** Where a server's cache stats are read: the URL of the stats route and the headers it needs. */
export interface StatsSource {
  readonly url: string;
  readonly headers?: Record<string, string>;
}

export async function readCacheStats(source: StatsSource): Promise<CacheStatsAnswer> {
  const res = await fetch(source.url, {
    headers: source.headers ?? {},
    signal: AbortSignal.timeout(10_000),
  });
  if (res.status !== 200) throw new Error(`GET ${source.url} answered ${res.status}: ${await res.text()}`);
  return (await res.json()) as CacheStatsAnswer;
}

const DIFFED = [
  'hitsL1',
  'hitsL2',
  'coalesced',
  'stale',
  'misses',
  'bypassed',
  'discarded',
  'errors',
  'evictions',
] as const;

/** What happened between two snapshots of the same process (the later one's entries and bytes). */
export function cacheInterval(before: CacheStatsAnswer, after: CacheStatsAnswer): CacheInterval {
  const earlier = new Map(before.namespaces.map((ns) => [ns.namespace, ns]));
  const namespaces = after.namespaces
    .filter((ns) => ns.namespace !== 'tags')
    .map((ns) => interval(ns.namespace, ns.mode, ns, earlier.get(ns.namespace)))
    .filter((ns) => ns.hits + ns.misses + ns.bypassed > 0)
    .sort((a, b) => b.hits + b.misses - (a.hits + a.misses));
  const sum = (list: readonly NamespaceInterval[]): NamespaceInterval => {
    const c = Object.fromEntries(DIFFED.map((k) => [k, list.reduce((n, ns) => n + ns[k], 0)])) as Record<
      (typeof DIFFED)[number],
      number
    >;
    return finish('total', 'all', c, after.memory.entries, after.memory.bytes);
  };
  return {
    tiers: after.tiers,
    redis: after.redis,
    total: sum(namespaces),
    namespaces,
    memory: after.memory,
    invalidations: {
      local: after.invalidations.local - before.invalidations.local,
      remote: after.invalidations.remote - before.invalidations.remote,
    },
  };
}

function interval(
  name: string,
  mode: 'strict' | 'graceful',
  now: NamespaceCounters,
  then: NamespaceCounters | undefined,
): NamespaceInterval {
  const c = Object.fromEntries(DIFFED.map((k) => [k, now[k] - (then?.[k] ?? 0)])) as Record<
    (typeof DIFFED)[number],
    number
  >;
  return finish(name, mode, c, now.entries, now.bytes);
}

function finish(
  namespace: string,
  mode: NamespaceInterval['mode'],
  c: Record<(typeof DIFFED)[number], number>,
  entries: number,
  bytes: number,
): NamespaceInterval {
  const hits = c.hitsL1 + c.hitsL2 + c.coalesced + c.stale;
  const lookups = hits + c.misses;
  return { namespace, mode, hits, ...c, hitRate: lookups === 0 ? null : hits / lookups, entries, bytes };
}

/** USER_HZ, the unit of /proc/<pid>/stat's CPU times: 100 on Linux (getconf CLK_TCK). */
const CLOCK_TICKS = 100;

/**
 * CPU time (user + system, every thread) a process on this machine has used, in ms, from /proc
 * (Linux). It counts only that process's own work, so it moves much less than wall-clock figures when
 * other programs share the machine; 10 ms ticks, so sum it over thousands of requests.
 */
export async function cpuMs(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may contain spaces): utime and stime are the 12th and 13th.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
}

/** VmRSS of a process on this machine, in bytes (Linux /proc); undefined when it cannot be read. */
export async function residentBytes(pid: number): Promise<number | undefined> {
  try {
    const status = await readFile(`/proc/${pid}/status`, 'utf8');
    const kb = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
    return kb ? Number(kb[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

export interface WatchSummary {
  readonly samples: number;
  /** The server's VmRSS: first sample, highest, last (bytes); null without a readable pid. */
  readonly rss: { readonly first: number; readonly peak: number; readonly last: number } | null;
  /** The memory tier as the cache counts it: highest and last bytes and entries, and its bounds. */
  readonly l1: {
    readonly peakBytes: number;
    readonly lastBytes: number;
    readonly peakEntries: number;
    readonly lastEntries: number;
    readonly maxBytes: number;
    readonly maxEntries: number;
    /** Every sample had bytes <= maxBytes and entries <= maxEntries. */
    readonly withinBounds: boolean;
  } | null;
}

/**
 * Samples a server every `intervalMs` while something runs: VmRSS of `pid` (when given) and the cache's
 * memory tier from its stats (when a source is given). `stop()` ends it and summarises.
 */
export function watchServer(options: {
  readonly pid?: number | undefined;
  readonly stats?: StatsSource | undefined;
  readonly intervalMs?: number;
}): { stop(): Promise<WatchSummary> } {
  const rss: number[] = [];
  const l1: CacheStatsAnswer['memory'][] = [];
  let samples = 0;
  let running: Promise<void> = Promise.resolve();
  const sample = async () => {
    samples += 1;
    const [r, s] = await Promise.all([
      options.pid === undefined ? undefined : residentBytes(options.pid),
      options.stats ? readCacheStats(options.stats).catch(() => undefined) : undefined,
    ]);
    if (r !== undefined) rss.push(r);
    if (s) l1.push(s.memory);
  };
  running = sample();
  const timer = setInterval(() => {
    running = running.then(sample);
  }, options.intervalMs ?? 1000);
  return {
    async stop() {
      clearInterval(timer);
      await running;
      await sample();
      const last = l1.at(-1);
      return {
        samples,
        rss: rss.length === 0 ? null : { first: rss[0]!, peak: Math.max(...rss), last: rss.at(-1)! },
        l1: last
          ? {
              peakBytes: Math.max(...l1.map((m) => m.bytes)),
              lastBytes: last.bytes,
              peakEntries: Math.max(...l1.map((m) => m.entries)),
              lastEntries: last.entries,
              maxBytes: last.maxBytes,
              maxEntries: last.maxEntries,
              withinBounds: l1.every((m) => m.bytes <= m.maxBytes && m.entries <= m.maxEntries),
            }
          : null,
      };
    },
  };
}
