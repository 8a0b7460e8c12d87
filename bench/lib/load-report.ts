// Counting and printing for `npm run loadtest`: what each answer means, and the human summary.
import type { ConsistencyReport } from './consistency.ts';
import { REQUEST_KINDS, type RequestKind } from './load-mix.ts';

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
  /** No connection error, timeout or 5xx, and the inventory check (unless skipped) found nothing. */
  readonly ok: boolean;
  readonly options: {
    readonly url: string;
    readonly durationS: number;
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
    `Innkeep load test: ${r.options.url}, ${r.options.durationS} s, ${r.options.connections} connections, ${r.options.users} users, seed ${r.options.seed}`,
    `setup      ${r.setup.users} users logged in; ${n(r.setup.hotels)} hotels / ${n(r.setup.roomTypes)} room types in ${r.setup.cities} cities; stays ${r.setup.firstNight} .. ${r.setup.lastNight} (${(r.setup.durationMs / 1000).toFixed(1)} s)`,
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
  lines.push(`result     ${r.ok ? 'OK' : 'FAILED'}`);
  return lines.join('\n');
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
