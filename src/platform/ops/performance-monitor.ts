import type { Database } from '../db/database.ts';
import type { Queryable } from '../db/queryable.ts';
import {
  type StatementStats,
  serverInfo,
  slowestStatements,
  type TableScanStat,
  tableScans,
} from '../db/server-stats.ts';
import type { Logger } from '../observability/logger.ts';
import type { MemoryReport, ProcessSamples } from '../observability/process-samples.ts';
import type { RouteWindows, WindowSummary } from '../observability/route-windows.ts';
import { foreignKeyIndexNames } from './foreign-key-indexes.ts';
import { indexUsage } from './index-usage.ts';
import {
  type CacheNamespaceReads,
  type Recommendation,
  type RecommendationThresholds,
  recommend,
  type UnusedIndex,
} from './recommendations.ts';

const POOL_WAITING = 'pool-waiting';

export interface PerformanceMonitorOptions {
  readonly db: Database;
  /** Request windows; undefined when metrics are off (the report then has no route section). */
  readonly windows: RouteWindows | undefined;
  readonly samples: ProcessSamples;
  readonly thresholds: RecommendationThresholds;
  /** The cache's per-namespace reads, once a cache is wired in. */
  readonly cache?: () => readonly CacheNamespaceReads[];
  readonly log: Logger;
  /**
   * Schemas whose statements the slowest-statements section leaves out: the job queue's own
   * bookkeeping (its one-off installation, its polling), which would crowd out the app's statements.
   */
  readonly excludeSchemas?: readonly string[];
}

type Unavailable = { readonly available: false; readonly reason: string };

export interface PerformanceReport {
  readonly generatedAt: string;
  readonly uptimeSeconds: number;
  readonly routes:
    | { readonly '1m': WindowSummary; readonly '5m': WindowSummary; readonly '15m': WindowSummary }
    | Unavailable;
  readonly statements: StatementStats;
  readonly tables:
    | { readonly available: true; readonly seqScansSinceStart: readonly TableScanStat[] }
    | Unavailable;
  readonly indexes:
    | { readonly available: true; readonly unused: readonly UnusedIndex[]; readonly statsAgeSeconds: number }
    | Unavailable;
  readonly pool: ReturnType<Database['stats']> & {
    readonly saturation: number;
    readonly waitingForMs: number;
  };
  readonly memory: MemoryReport;
  readonly eventLoop: {
    readonly '1m': { readonly p99Ms: number; readonly maxMs: number; readonly turns: number };
  };
  readonly cache:
    | { readonly available: true; readonly namespaces: readonly CacheNamespaceReads[] }
    | Unavailable;
  readonly recommendations: readonly Recommendation[];
}

/**
 * The live performance picture behind `GET /api/performance`: per-route latency over 1/5/15
 * minutes, the slowest statements (pg_stat_statements), sequential scans since the app started,
 * unused indexes, pool saturation, memory trend, event-loop delay, and the recommendations those
 * figures call for (see recommend). Every database section fails on its own: a report is always
 * produced, with `available: false` and the reason where a source did not answer.
 *
 * @example
 * const monitor = new PerformanceMonitor({ db, windows, samples, thresholds: DEFAULT_THRESHOLDS, log });
 * monitor.start();
 * const report = await monitor.report();
 */
export class PerformanceMonitor {
  readonly #o: PerformanceMonitorOptions;
  /** pg_stat_user_tables at start, so sequential scans are counted since then, not since a reset. */
  #baseline: Promise<Map<string, TableScanStat> | undefined> | undefined;

  constructor(options: PerformanceMonitorOptions) {
    this.#o = options;
  }

  start(): void {
    const { db, samples } = this.#o;
    samples.watch(POOL_WAITING, () => db.stats().waiting > 0);
    samples.start();
    this.#baseline = this.#scanBaseline();
  }

  stop(): void {
    this.#o.samples.stop();
  }

  async report(): Promise<PerformanceReport> {
    const { db, windows, samples, thresholds, cache } = this.#o;
    // The process figures are read first: the database sections may themselves wait for a pool
    // connection, and the report describes the moment it was asked for.
    const stats = db.stats();
    const waitingForMs = samples.heldForMs(POOL_WAITING);
    const routes = windows
      ? { '1m': windows.summary(60_000), '5m': windows.summary(300_000), '15m': windows.summary(900_000) }
      : undefined;
    const cacheReads = cache?.();
    const eventLoop1m = samples.eventLoop(60_000);
    const memory = samples.memory();
    const [info, statements, scans, unused] = await Promise.all([
      this.#attempt('server info', () => db.read((q) => serverInfo(q))),
      this.#attempt('slowest statements', () =>
        db.read((q) => slowestStatements(q, 10, this.#o.excludeSchemas ?? [])),
      ),
      this.#attempt('table scans', () => this.#scansSinceStart()),
      this.#attempt('unused indexes', () => db.read((q) => unusedIndexes(q))),
    ]);
    const recommendations = recommend(
      {
        ...(routes ? { routes5m: routes['5m'].routes } : {}),
        ...(scans.ok ? { tableScans: scans.value } : {}),
        ...(statements.ok && statements.value.available ? { statements: statements.value.statements } : {}),
        ...(unused.ok ? { unusedIndexes: unused.value } : {}),
        ...(info.ok ? { statsAgeSeconds: info.value.statsAgeSeconds } : {}),
        ...(cacheReads ? { cache: cacheReads } : {}),
        pool: { waitingForMs, waiting: stats.waiting, max: stats.max },
        eventLoop1m,
      },
      thresholds,
    );
    return {
      generatedAt: new Date().toISOString(),
      uptimeSeconds: Math.round(process.uptime()),
      routes: routes ?? { available: false, reason: 'metrics are off (METRICS_ENABLED=false)' },
      statements: statements.ok ? statements.value : unavailable(statements.reason),
      tables: scans.ok
        ? {
            available: true,
            seqScansSinceStart: scans.value
              .filter((s) => s.seqScans > 0)
              .sort(bySeqRows)
              .slice(0, 10),
          }
        : unavailable(scans.reason),
      indexes: !unused.ok
        ? unavailable(unused.reason)
        : !info.ok
          ? unavailable(info.reason)
          : { available: true, unused: unused.value, statsAgeSeconds: info.value.statsAgeSeconds },
      pool: { ...stats, saturation: round((stats.total - stats.idle) / stats.max), waitingForMs },
      memory,
      eventLoop: { '1m': eventLoop1m },
      cache: cacheReads ? { available: true, namespaces: cacheReads } : unavailable('no cache is configured'),
      recommendations,
    };
  }

  async #scanBaseline(): Promise<Map<string, TableScanStat> | undefined> {
    try {
      const rows = await this.#o.db.read((q) => tableScans(q));
      return new Map(rows.map((r) => [r.table, r]));
    } catch (err) {
      this.#o.log.warn(
        { err },
        'could not read table statistics at start; the next report takes the baseline',
      );
      return undefined;
    }
  }

  async #scansSinceStart(): Promise<TableScanStat[]> {
    let baseline = await this.#baseline;
    if (!baseline) {
      // Taken now: the first report after a failed start has nothing to show yet, never stale totals.
      this.#baseline = this.#scanBaseline();
      baseline = (await this.#baseline) ?? new Map();
    }
    const rows = await this.#o.db.read((q) => tableScans(q));
    const base = baseline;
    const deltas = rows.map((r) => {
      const b = base.get(r.table);
      if (!b) return r;
      return {
        ...r,
        seqScans: r.seqScans - b.seqScans,
        seqRowsRead: r.seqRowsRead - b.seqRowsRead,
        indexScans: r.indexScans - b.indexScans,
      };
    });
    // Counters below the baseline mean the statistics were reset (pg_stat_reset, crash recovery):
    // count from the reset instead, and from now on against zero.
    if (deltas.some((d) => d.seqScans < 0 || d.seqRowsRead < 0 || d.indexScans < 0)) {
      this.#baseline = Promise.resolve(new Map());
      return rows;
    }
    return deltas;
  }

  async #attempt<T>(what: string, fn: () => Promise<T>): Promise<Attempt<T>> {
    try {
      return { ok: true, value: await fn() };
    } catch (err) {
      this.#o.log.warn({ err }, `performance report: ${what} unavailable`);
      const code = (err as { code?: unknown }).code;
      return { ok: false, reason: `${what} failed${typeof code === 'string' ? ` (${code})` : ''}` };
    }
  }
}

type Attempt<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly reason: string };

/**
 * Indexes never scanned since the statistics were reset, except those enforcing a rule (primary
 * key, unique, exclusion, a constraint's index) or supporting a foreign key: they earn their keep
 * on writes, and `check-indexes` requires the latter.
 */
async function unusedIndexes(db: Queryable): Promise<UnusedIndex[]> {
  const [{ indexes }, supportingForeignKeys] = await Promise.all([indexUsage(db), foreignKeyIndexNames(db)]);
  return indexes
    .filter((i) => i.scans === 0 && !i.enforcesConstraint && !supportingForeignKeys.has(i.index))
    .map((i) => ({ table: i.table, index: i.index, bytes: i.sizeBytes }));
}

function unavailable(reason: string): Unavailable {
  return { available: false, reason };
}

function bySeqRows(a: TableScanStat, b: TableScanStat): number {
  return b.seqRowsRead - a.seqRowsRead;
}

function round(value: number): number {
  return Math.round(value * 1000) / 1000;
}
