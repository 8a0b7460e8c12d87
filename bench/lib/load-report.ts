// Counting and printing for `npm run loadtest`: what each answer means, and the human summary.
import type { CacheInterval, WatchSummary } from './cache-watch.ts';
import type { ConsistencyReport } from './consistency.ts';
import { REQUEST_KINDS, type RequestKind } from './load-mix.ts';
import type { StaleReadReport } from './stale-reads.ts';

export interface LatencySummary {
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly max: number;
  readonly mean: number;
}

export interface KindStats {
  readonly requests: number;
  /** Responses per HTTP status. */
  readonly statuses: Record<string, number>;
  readonly latency: LatencySummary;
}

export interface LoadTestResult {
  /**
   * No connection error, timeout, 5xx or unexpected 4xx (warm-up included), and neither the inventory
   * check nor the stale-read check (unless skipped) found anything.
   */
  readonly ok: boolean;
  readonly options: {
    readonly url: string;
    readonly durationS: number;
    readonly warmupS: number;
    readonly connections: number;
    readonly users: number;
    readonly seed: number;
  };
  readonly setup: {
    readonly users: number;
    readonly cities: number;
    readonly hotels: number;
    readonly roomTypes: number;
    readonly firstNight: string;
    readonly lastNight: string;
    readonly durationMs: number;
  };
  /** The warm-up pass (same mix, not counted below): its length, answers and errors. */
  readonly warmup?: { readonly durationS: number; readonly requests: number; readonly errors: number };
  /** Measured run time, seconds. */
  readonly durationS: number;
  /** Completed responses. */
  readonly requests: number;
  readonly requestsPerSecond: number;
  readonly latency: LatencySummary;
  readonly statuses: Record<string, number>;
  readonly non2xx: number;
  readonly byKind: Record<RequestKind, KindStats>;
  readonly bookings: { readonly created: number; readonly soldOut: number; readonly cancelled: number };
  /** Answers that are the API working as designed under load, not failures. */
  readonly expected: { readonly soldOut409: number; readonly tooManyRequests429: number };
  readonly errors: {
    readonly total: number;
    readonly connection: number;
    readonly timeouts: number;
    readonly server5xx: number;
    readonly unexpected4xx: number;
    /** 'status code' (e.g. '500 E_INTERNAL', '422 E_DATE_IN_PAST') -> count. */
    readonly byCode: Record<string, number>;
  };
  readonly consistency: ConsistencyReport | null;
  /** Why the inventory check did not run (no database, or not reachable). */
  readonly consistencySkipped?: string;
  /** The check could not complete on a reachable database: the run is not ok. */
  readonly consistencyError?: string;
  /** Availability answers checked against this run's bookings (bench/lib/stale-reads.ts). */
  readonly staleReads: StaleReadReport | null;
  readonly staleReadsSkipped?: string;
  /**
   * The server's cache over the measured pass (stats read after the warm-up and after the load), and
   * per request kind how many GETs asked for an input no earlier request of the run had asked for
   * (a miss no cache can avoid).
   */
  readonly cache:
    | (CacheInterval & {
        readonly inputs: Partial<Record<RequestKind, { requests: number; firstSeen: number }>>;
      })
    | null;
  readonly cacheSkipped?: string;
  /** The server's RSS (with a pid) and the cache's memory tier, sampled every second of both passes. */
  readonly memory: WatchSummary;
}

/** Tallies responses as they arrive, per kind, and sorts them into expected outcomes and errors. */
export class ResponseTally {
  readonly statuses: Record<string, number> = {};
  readonly byKind = new Map<RequestKind, { statuses: Record<string, number>; latencies: number[] }>(
    REQUEST_KINDS.map((k) => [k, { statuses: {}, latencies: [] }]),
  );
  readonly errorsByCode: Record<string, number> = {};
  requests = 0;
  created = 0;
  soldOut = 0;
  cancelled = 0;
  tooMany = 0;
  server5xx = 0;
  unexpected4xx = 0;

  /** Counts one answer; `body` is read only for non-2xx answers, to name their error code. */
  record(kind: RequestKind, status: number, body: string): void {
    this.requests += 1;
    bump(this.statuses, String(status));
    bump(this.byKind.get(kind)!.statuses, String(status));
    if (status < 400) {
      if (kind === 'book' && status === 201) this.created += 1;
      if (kind === 'cancel' && status === 200) this.cancelled += 1;
      return;
    }
    const code = errorCode(body);
    if (kind === 'book' && status === 409 && code === 'E_SOLD_OUT') this.soldOut += 1;
    else if (status === 429) this.tooMany += 1;
    else {
      if (status >= 500) this.server5xx += 1;
      else this.unexpected4xx += 1;
      bump(this.errorsByCode, `${status} ${code ?? '?'}`);
    }
  }

  latency(kind: RequestKind, ms: number): void {
    this.byKind.get(kind)!.latencies.push(ms);
  }

  kindStats(): Record<RequestKind, KindStats> {
    const out = {} as Record<RequestKind, KindStats>;
    for (const [kind, { statuses, latencies }] of this.byKind) {
      out[kind] = { requests: latencies.length, statuses, latency: summarize(latencies) };
    }
    return out;
  }
}

export function summarize(values: readonly number[]): LatencySummary {
  if (values.length === 0) return { p50: 0, p90: 0, p99: 0, max: 0, mean: 0 };
  const sorted = Float64Array.from(values).sort();
  const at = (q: number) => round(sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)]!);
  const mean = sorted.reduce((a, b) => a + b, 0) / sorted.length;
  return { p50: at(0.5), p90: at(0.9), p99: at(0.99), max: round(sorted.at(-1)!), mean: round(mean) };
}

/** The compact summary printed after a run. */
export function formatSummary(r: LoadTestResult): string {
  const n = (x: number) => x.toLocaleString('en-US');
  const ms = (l: LatencySummary) => `p50 ${l.p50} ms  p90 ${l.p90} ms  p99 ${l.p99} ms  max ${l.max} ms`;
  const statuses = Object.entries(r.statuses)
    .map(([s, c]) => `${s}: ${n(c)}`)
    .join('  ');
  const e = r.errors;
  const lines = [
    `Innkeep load test: ${r.options.url}, ${r.options.durationS} s${r.options.warmupS > 0 ? ` after ${r.options.warmupS} s of warm-up` : ''}, ${r.options.connections} connections, ${r.options.users} users, seed ${r.options.seed}`,
    `setup      ${r.setup.users} users logged in; ${n(r.setup.hotels)} hotels / ${n(r.setup.roomTypes)} room types in ${r.setup.cities} cities; stays ${r.setup.firstNight} .. ${r.setup.lastNight} (${(r.setup.durationMs / 1000).toFixed(1)} s)`,
    ...(r.warmup
      ? [
          `warm-up    ${n(r.warmup.requests)} requests in ${r.warmup.durationS} s, ${n(r.warmup.errors)} errors (not counted below)`,
        ]
      : []),
    `requests   ${n(r.requests)} in ${r.durationS} s = ${n(r.requestsPerSecond)} req/s`,
    `latency    ${ms(r.latency)}`,
    `status     ${statuses}`,
    `bookings   ${n(r.bookings.created)} created (201), ${n(r.bookings.soldOut)} sold out (409 E_SOLD_OUT), ${n(r.bookings.cancelled)} cancelled; 429: ${n(r.expected.tooManyRequests429)}`,
    `errors     ${n(e.total)} (connection ${n(e.connection)}, timeouts ${n(e.timeouts)}, 5xx ${n(e.server5xx)}, unexpected 4xx ${n(e.unexpected4xx)})${
      Object.keys(e.byCode).length > 0 ? `: ${JSON.stringify(e.byCode)}` : ''
    }`,
    '',
    `${'kind'.padEnd(13)}${'requests'.padStart(10)}${'p50 ms'.padStart(9)}${'p90 ms'.padStart(9)}${'p99 ms'.padStart(9)}  non-2xx`,
  ];
  for (const [kind, s] of Object.entries(r.byKind)) {
    if (s.requests === 0) continue;
    const non2xx = Object.entries(s.statuses)
      .filter(([status]) => !status.startsWith('2'))
      .map(([status, c]) => `${status}: ${n(c)}`)
      .join(', ');
    lines.push(
      `${kind.padEnd(13)}${n(s.requests).padStart(10)}${s.latency.p50.toFixed(1).padStart(9)}${s.latency.p90.toFixed(1).padStart(9)}${s.latency.p99.toFixed(1).padStart(9)}  ${non2xx || '-'}`,
    );
  }
  lines.push('');
  const c = r.consistency;
  if (c) {
    const counts = `negative ${n(c.negative)}, above total ${n(c.overTotal)}, mismatched ${n(c.mismatched)}`;
    lines.push(
      c.ok
        ? `inventory  consistent: ${n(c.inventoryRows)} nights checked in ${(c.durationMs / 1000).toFixed(1)} s (${counts})`
        : `inventory  INCONSISTENT: ${counts} of ${n(c.inventoryRows)} nights; first: ${JSON.stringify(c.samples)}`,
    );
    if (c.ok && c.inventoryRows === 0)
      lines.push('           (room_inventory is empty: the check proved nothing)');
  } else if (r.consistencyError) {
    lines.push(`inventory  check FAILED to run: ${r.consistencyError}`);
  } else {
    lines.push(`inventory  check SKIPPED: ${r.consistencySkipped ?? 'no database'}`);
  }
  lines.push(...staleLines(r), ...cacheLines(r), ...memoryLines(r));
  lines.push(`result     ${r.ok ? 'OK' : 'FAILED'}`);
  return lines.join('\n');
}

function staleLines(r: LoadTestResult): string[] {
  const s = r.staleReads;
  if (!s) return [`stale      check SKIPPED: ${r.staleReadsSkipped ?? 'no database'}`];
  const n = (x: number) => x.toLocaleString('en-US');
  const head =
    s.stale === 0
      ? `stale      none: ${n(s.reads)} availability answers (${n(s.informative)} covering a booking of this run) agree with ${n(s.bookings)} bookings, ${n(s.cancelled)} cancels`
      : `stale      ${n(s.stale)} STALE availability answers of ${n(s.reads)}; first: ${JSON.stringify(s.samples.slice(0, 3))}`;
  return [head];
}

function cacheLines(r: LoadTestResult): string[] {
  const c = r.cache;
  if (!c) return [`cache      stats SKIPPED: ${r.cacheSkipped ?? 'not read'}`];
  const pct = (v: number | null) => (v === null ? '-' : `${(v * 100).toFixed(1)}%`);
  const n = (x: number) => x.toLocaleString('en-US');
  const lines = [
    `cache      ${c.tiers} (redis ${c.redis}): hit rate ${pct(c.total.hitRate)} over the measured pass (${n(c.total.hits)} hits: ${n(c.total.hitsL1)} L1, ${n(c.total.hitsL2)} L2, ${n(c.total.coalesced)} coalesced; ${n(c.total.misses)} misses); ` +
      `memory tier ${(c.memory.bytes / 2 ** 20).toFixed(1)} of ${(c.memory.maxBytes / 2 ** 20).toFixed(0)} MiB, ${n(c.memory.entries)} entries, ${n(c.total.evictions)} evictions`,
  ];
  for (const ns of c.namespaces) {
    lines.push(
      `           ${ns.namespace.padEnd(13)}${pct(ns.hitRate).padStart(7)}  ${n(ns.hits)} hits, ${n(ns.misses)} misses${ns.bypassed ? `, ${n(ns.bypassed)} bypassed` : ''}${ns.evictions ? `, ${n(ns.evictions)} evicted` : ''}`,
    );
  }
  return lines;
}

function memoryLines(r: LoadTestResult): string[] {
  const m = r.memory;
  const mib = (b: number) => `${(b / 2 ** 20).toFixed(1)} MiB`;
  const parts: string[] = [];
  if (m.rss) parts.push(`server RSS ${mib(m.rss.first)} -> peak ${mib(m.rss.peak)}, end ${mib(m.rss.last)}`);
  if (m.l1)
    parts.push(
      `memory tier peak ${mib(m.l1.peakBytes)} of ${mib(m.l1.maxBytes)} (${m.l1.withinBounds ? 'within bounds' : 'OVER ITS BOUND'})`,
    );
  return parts.length > 0 ? [`memory     ${parts.join('; ')} (${m.samples} samples)`] : [];
}

function errorCode(body: string): string | undefined {
  try {
    const code = (JSON.parse(body) as { code?: unknown }).code;
    return typeof code === 'string' ? code : undefined;
  } catch {
    return undefined;
  }
}

function bump(counts: Record<string, number>, key: string): void {
  counts[key] = (counts[key] ?? 0) + 1;
}

function round(x: number): number {
  return Math.round(x * 10) / 10;
}
