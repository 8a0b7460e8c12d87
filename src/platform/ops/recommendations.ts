import type { StatementStat, TableScanStat } from '../db/server-stats.ts';
import type { RouteWindowStats } from '../observability/route-windows.ts';

/** A finding from live data, with the figures that support it. */
export interface Recommendation {
  /** Stable kind, for alerting and tests: one of the RULES below. */
  readonly kind:
    | 'route_latency'
    | 'sequential_scan'
    | 'unused_index'
    | 'cache_hit_rate'
    | 'pool_waiting'
    | 'event_loop_lag';
  readonly severity: 'warning' | 'info';
  readonly title: string;
  readonly advice: string;
  readonly evidence: Readonly<Record<string, unknown>>;
}

/** The thresholds the rules use (PERF_* settings). */
export interface RecommendationThresholds {
  /** A route whose p95 over 5 minutes is above this, with enough requests, is reported. */
  readonly routeP95TargetMs: number;
  /** Requests a route needs in the window before its percentile is trusted. */
  readonly routeMinRequests: number;
  /** Tables at least this large that are read by sequential scans are reported. */
  readonly seqScanMinRows: number;
  /** Unused indexes are reported only once statistics are at least this old (seconds). */
  readonly unusedIndexMinAgeS: number;
  /** Cache namespaces below this hit rate (with enough reads) are reported. */
  readonly cacheHitRateMin: number;
  readonly cacheMinReads: number;
  /** Callers waiting for a pool connection without a break for this long are reported. */
  readonly poolWaitingMs: number;
  /** Event-loop delay p99 over the last minute above this is reported. */
  readonly eventLoopLagMs: number;
}

export const DEFAULT_THRESHOLDS: RecommendationThresholds = {
  routeP95TargetMs: 500,
  routeMinRequests: 20,
  seqScanMinRows: 10_000,
  unusedIndexMinAgeS: 7 * 86_400,
  cacheHitRateMin: 0.7,
  cacheMinReads: 100,
  poolWaitingMs: 60_000,
  eventLoopLagMs: 200,
};

/** An index no scan has used, with its size. */
export interface UnusedIndex {
  readonly table: string;
  readonly index: string;
  readonly bytes: number;
}

/** A cache namespace's reads, as the cache reports them. */
export interface CacheNamespaceReads {
  readonly namespace: string;
  readonly hits: number;
  readonly misses: number;
}

/** What the rules look at; each field is optional evidence (a source that is unavailable is left out). */
export interface Evidence {
  readonly routes5m?: readonly RouteWindowStats[];
  /** Table scans since the app started (deltas of pg_stat_user_tables). */
  readonly tableScans?: readonly TableScanStat[];
  readonly statements?: readonly StatementStat[];
  readonly unusedIndexes?: readonly UnusedIndex[];
  readonly statsAgeSeconds?: number;
  readonly cache?: readonly CacheNamespaceReads[];
  readonly pool?: { readonly waitingForMs: number; readonly waiting: number; readonly max: number };
  readonly eventLoop1m?: { readonly p99Ms: number; readonly maxMs: number; readonly turns?: number };
}

/**
 * Turns live evidence into recommendations, one rule per finding. Pure: the performance monitor
 * gathers the evidence; tests feed it directly or provoke each condition in a running app.
 *
 * @example
 * recommend({ eventLoop1m: { p99Ms: 450, maxMs: 900 } }, DEFAULT_THRESHOLDS)[0]?.kind; // 'event_loop_lag'
 */
export function recommend(evidence: Evidence, t: RecommendationThresholds): Recommendation[] {
  return [
    ...slowRoutes(evidence, t),
    ...sequentialScans(evidence, t),
    ...unused(evidence, t),
    ...coldCaches(evidence, t),
    ...poolWaiting(evidence, t),
    ...eventLoopLag(evidence, t),
  ];
}

function slowRoutes(e: Evidence, t: RecommendationThresholds): Recommendation[] {
  return (e.routes5m ?? [])
    .filter((r) => r.requests >= t.routeMinRequests && r.p95Ms > t.routeP95TargetMs)
    .map((r) => ({
      kind: 'route_latency',
      severity: 'warning',
      title: `${r.method} ${r.route} is over its latency target`,
      advice:
        'Look at the statements it runs (innkeep_db_statements_per_request, the slowest statements below), whether it waits for locks or pool connections, and whether its reads can be cached.',
      evidence: {
        method: r.method,
        route: r.route,
        p95Ms: r.p95Ms,
        p99Ms: r.p99Ms,
        targetMs: t.routeP95TargetMs,
        requests: r.requests,
        window: '5m',
      },
    }));
}

function sequentialScans(e: Evidence, t: RecommendationThresholds): Recommendation[] {
  return (
    (e.tableScans ?? [])
      // Scans that stop early (a LIMIT on an unordered read) read few rows: only whole-table reads count.
      .filter(
        (s) =>
          s.seqScans > 0 &&
          s.liveRows >= t.seqScanMinRows &&
          s.seqRowsRead / s.seqScans >= t.seqScanMinRows / 2,
      )
      .map((s) => {
        const name = new RegExp(`\\b${s.table.replace(/[^\w]/g, '')}\\b`, 'i');
        const statements = (e.statements ?? []).filter((st) => name.test(st.query)).slice(0, 3);
        return {
          kind: 'sequential_scan',
          severity: 'warning',
          title: `Sequential scans read the large table ${s.table}`,
          advice:
            'Find the statement (below, or `innkeep perf analyze-queries`) and give it an index on the columns it filters or sorts by; a scan of a large table grows with the data.',
          evidence: {
            table: s.table,
            liveRows: s.liveRows,
            seqScans: s.seqScans,
            rowsReadBySeqScans: s.seqRowsRead,
            since: 'app start',
            ...(statements.length > 0 ? { statements } : {}),
          },
        } satisfies Recommendation;
      })
  );
}

function unused(e: Evidence, t: RecommendationThresholds): Recommendation[] {
  if (e.statsAgeSeconds === undefined || e.statsAgeSeconds < t.unusedIndexMinAgeS) return [];
  return (e.unusedIndexes ?? []).map((i) => ({
    kind: 'unused_index',
    severity: 'info',
    title: `Index ${i.index} on ${i.table} has not been used since statistics were reset`,
    advice:
      'If no rare job (a report, a month-end batch) needs it, drop it: every write pays to maintain it. Check replicas too: their index use is counted there.',
    evidence: { table: i.table, index: i.index, bytes: i.bytes, statsAgeSeconds: e.statsAgeSeconds },
  }));
}

function coldCaches(e: Evidence, t: RecommendationThresholds): Recommendation[] {
  return (e.cache ?? [])
    .filter((c) => c.hits + c.misses >= t.cacheMinReads && c.hits / (c.hits + c.misses) < t.cacheHitRateMin)
    .map((c) => ({
      kind: 'cache_hit_rate',
      severity: 'warning',
      title: `Cache namespace ${c.namespace} hits ${Math.round((100 * c.hits) / (c.hits + c.misses))}% of reads`,
      advice:
        'Check its TTL against how often its data changes, whether keys carry needless variety (unnormalised parameters), and whether invalidation is broader than the write.',
      evidence: {
        namespace: c.namespace,
        hits: c.hits,
        misses: c.misses,
        hitRate: Math.round((1000 * c.hits) / (c.hits + c.misses)) / 1000,
        minimum: t.cacheHitRateMin,
      },
    }));
}

function poolWaiting(e: Evidence, t: RecommendationThresholds): Recommendation[] {
  if (!e.pool || e.pool.waitingForMs < t.poolWaitingMs) return [];
  return [
    {
      kind: 'pool_waiting',
      severity: 'warning',
      title: `Requests have waited for a database connection for ${Math.round(e.pool.waitingForMs / 1000)} s`,
      advice:
        'The pool (DB_POOL_MAX) is saturated: find long statements or transactions holding connections (slowest statements below), then raise DB_POOL_MAX within the server max_connections, or add replicas for reads.',
      evidence: {
        waitingForMs: e.pool.waitingForMs,
        waitingNow: e.pool.waiting,
        poolMax: e.pool.max,
        thresholdMs: t.poolWaitingMs,
      },
    },
  ];
}

function eventLoopLag(e: Evidence, t: RecommendationThresholds): Recommendation[] {
  if (!e.eventLoop1m || e.eventLoop1m.p99Ms <= t.eventLoopLagMs) return [];
  return [
    {
      kind: 'event_loop_lag',
      severity: 'warning',
      title: `The event loop was blocked for up to ${Math.round(e.eventLoop1m.maxMs)} ms in the last minute`,
      advice:
        'Some synchronous work is holding every request up: large JSON bodies, password hashing on the main thread, a big sort in JavaScript. A CPU profile (node --cpu-prof) under load shows it.',
      evidence: {
        lagP99Ms: e.eventLoop1m.p99Ms,
        lagMaxMs: e.eventLoop1m.maxMs,
        thresholdMs: t.eventLoopLagMs,
        window: '1m',
      },
    },
  ];
}
