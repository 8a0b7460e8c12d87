import { median, percentile, type Sample } from './measure.ts';
import type { Claim } from './ops.ts';

/** One side (naive on "before", or Innkeep on "after") of one operation. */
export interface SideStats {
  readonly requests: number;
  /** Requests sent one at a time: the sample the percentiles come from. */
  readonly latencySamples: number;
  readonly p50: number;
  readonly p95: number;
  readonly p99: number;
  /** Requests per second at the throughput phase's concurrency. */
  readonly rps: number;
  /** Median latency while under that concurrency. */
  readonly loadedP50: number;
  /** Median SQL statements per request (Server-Timing). */
  readonly queries: number;
  readonly statuses: Record<string, number>;
}

export interface OpResult {
  readonly id: string;
  readonly title: string;
  readonly claim?: Claim;
  readonly concurrency: number;
  readonly naive: SideStats;
  readonly innkeep: SideStats;
  /** naive p50 / Innkeep p50. */
  readonly speedup: number;
  /** Innkeep req/s / naive req/s. */
  readonly throughputGain: number;
  /** Innkeep req/s / hello-world req/s. */
  readonly ceilingShare: number;
  /** Whether both sides answered the operation's first request identically (ids aside for writes). */
  readonly sameAnswer: boolean;
  /** Distinct inputs whose answers (status and body) were compared. */
  readonly inputs: number;
  /** The first pair of answers that differ, with the request number. */
  readonly answers?: { readonly naive: string; readonly innkeep: string; readonly request: number };
  readonly claimMet?: boolean;
}

export interface ScalingPoint {
  readonly scale: string;
  readonly op: string;
  readonly rows: Record<string, number>;
  readonly p50: number;
  readonly p95: number;
  readonly p99: number;
  readonly queries: number;
}

export interface BenchReport {
  readonly name: string;
  readonly startedAt: string;
  readonly durationS: number;
  readonly command: string;
  readonly machine: Record<string, string | number>;
  readonly versions: Record<string, string>;
  readonly git: { commit: string; dirty: boolean };
  readonly dataset: Record<string, unknown>;
  readonly settings: Record<string, unknown>;
  readonly ceiling: { rps: number; byConnections: Record<string, number>; concurrency: number };
  readonly operations: OpResult[];
  readonly scaling: ScalingPoint[];
  /** The cache rows' summary; they are written to `<name>.md` (bench/lib/cache-report.ts). */
  readonly cache?: { readonly name: string; readonly cell: string };
  readonly notes: string[];
}

/** Throughput phases of one side, summed over the rounds. */
export interface LoadTotals {
  completed: number;
  elapsedMs: number;
  p50s: number[];
  statuses: Record<string, number>;
}

export function sideStats(latency: Sample[], load: LoadTotals): SideStats {
  const statuses: Record<string, number> = { ...load.statuses };
  for (const s of latency) statuses[s.status] = (statuses[s.status] ?? 0) + 1;
  const ms = latency.map((s) => s.ms);
  return {
    requests: latency.length + load.completed,
    latencySamples: latency.length,
    p50: percentile(ms, 0.5),
    p95: percentile(ms, 0.95),
    p99: percentile(ms, 0.99),
    rps: load.elapsedMs > 0 ? (load.completed * 1000) / load.elapsedMs : 0,
    loadedP50: median(load.p50s),
    queries: median(latency.map((s) => s.queries)),
    statuses,
  };
}

const ms = (v: number) => (v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2));
const ratio = (v: number) =>
  v >= 100 ? `${v.toFixed(0)}×` : v >= 10 ? `${v.toFixed(1)}×` : `${v.toFixed(2)}×`;
const rps = (v: number) => (v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2));
const pct = (v: number) => `${(v * 100).toFixed(v < 0.001 ? 2 : v < 0.1 ? 1 : 0)}%`;

export function claimRatio(claim: Claim): number {
  return claim.beforeMs / claim.afterMs;
}

function claimCell(op: OpResult): string {
  if (!op.claim) return '—';
  const c = op.claim;
  const verdict = op.claimMet ? 'met' : '**short**';
  const fmt = (v: number) => (v >= 1000 ? `${v / 1000} s` : `${v} ms`);
  return `${fmt(c.beforeMs)} → ${fmt(c.afterMs)} (${ratio(claimRatio(c))}): ${verdict}`;
}

/** The markdown the bench prints and writes to bench/results/<name>.md. */
export function markdown(r: BenchReport): string {
  const lines: string[] = [];
  const d = r.dataset as { scale: string; counts: Record<string, number>; today: string; seed: number };
  lines.push(`# Innkeep benchmark: ${r.name}`);
  lines.push('');
  lines.push(
    `${r.startedAt} · \`${r.command}\` · ${r.durationS.toFixed(0)} s · commit ${r.git.commit.slice(0, 10)}${r.git.dirty ? ' (uncommitted changes)' : ''}`,
  );
  lines.push('');
  lines.push(
    `Machine: ${r.machine.cpus} × ${r.machine.cpuModel}, ${r.machine.memoryGiB} GiB, ${r.machine.os}. ` +
      `Node ${r.versions.node}, Fastify ${r.versions.fastify}, PostgreSQL ${r.versions.postgres} (${r.settings.database}). ` +
      'Load generator, servers and database share the machine.',
  );
  lines.push('');
  const c = d.counts;
  lines.push(
    `Dataset \`${d.scale}\` (seed ${d.seed}, first night ${d.today}): ${fmtInt(c.hotels)} hotels, ${fmtInt(c.room_types)} room types, ` +
      `${fmtInt(c.room_inventory)} inventory rows, ${fmtInt(c.bookings)} bookings, ${fmtInt(c.reviews)} reviews, ${fmtInt(c.users)} users.`,
  );
  lines.push('');
  lines.push(
    `**Before**: the naive code (N+1 loops, JavaScript aggregation; \`bench/naive/\`) on a copy with primary and foreign keys only. ` +
      `**After**: Innkeep's own endpoints on a copy with every index. Same data, same HTTP stack, one process each, measured alternately (${r.settings.rounds} rounds). ` +
      `Latency: one request at a time. Throughput: ${r.settings.concurrency} connections (reports: ${r.settings.reportConcurrency}). ` +
      `Ceiling: Fastify hello world, ${rps(r.ceiling.rps)} req/s at ${r.ceiling.concurrency} connections.`,
  );
  lines.push('');
  lines.push(
    '| Operation | Before p50 / p95 / p99 ms | After p50 / p95 / p99 ms | SQL per request (before → after) | Speed-up (p50) | Before → after req/s | After, share of ceiling | Same answer | Write-ups claim |',
  );
  lines.push('|---|---|---|---|---|---|---|---|---|');
  for (const op of r.operations) {
    const n = op.naive;
    const a = op.innkeep;
    lines.push(
      `| ${op.title} | ${ms(n.p50)} / ${ms(n.p95)} / ${ms(n.p99)} | ${ms(a.p50)} / ${ms(a.p95)} / ${ms(a.p99)} | ${n.queries} → ${a.queries} | **${ratio(op.speedup)}** | ${rps(n.rps)} → ${rps(a.rps)} (${ratio(op.throughputGain)}) | ${pct(op.ceilingShare)} | ${op.sameAnswer ? 'yes' : '**no**'} | ${claimCell(op)} |`,
    );
  }
  lines.push(
    r.cache
      ? `| Cached response (uncached → cached p50, one at a time) | — | — | — | — | — | — | — | 240 ms → 12 ms (20×): ${r.cache.cell} |`
      : '| Cached response | — | — | — | — | — | — | — | 240 ms → 12 ms (20×): **not measured** (`--cache none`) |',
  );
  const fewest = Math.min(
    ...r.operations.map((op) => Math.min(op.naive.latencySamples, op.innkeep.latencySamples)),
  );
  if (Number.isFinite(fewest)) {
    lines.push('');
    lines.push(
      `Latency percentiles come from ${fewest} to ${Math.max(...r.operations.map((op) => Math.max(op.naive.latencySamples, op.innkeep.latencySamples)))} ` +
        `sequential requests per side (every side runs at least ${r.settings.minLatency} per round, on the same inputs as the other side); ` +
        'with fewer than 100, p99 is the slowest request, and with fewer than 20, so is p95.',
    );
  }
  if (r.scaling.length > 0) {
    lines.push('');
    lines.push(
      '## Scaling: Innkeep latency by dataset size (one request at a time, alternating between sizes)',
    );
    lines.push('');
    const scales = [...new Set(r.scaling.map((p) => p.scale))];
    const ops = [...new Set(r.scaling.map((p) => p.op))];
    lines.push(
      `| Operation | ${scales.map((s) => `${s} p50 / p95 ms`).join(' | ')} | largest / smallest p50 |`,
    );
    lines.push(`|---|${scales.map(() => '---').join('|')}|---|`);
    for (const op of ops) {
      const points = scales.map((s) => r.scaling.find((p) => p.scale === s && p.op === op));
      const first = points[0];
      const last = points.at(-1);
      lines.push(
        `| ${op} | ${points.map((p) => (p ? `${ms(p.p50)} / ${ms(p.p95)}` : '—')).join(' | ')} | ${first && last ? ratio(last.p50 / first.p50) : '—'} |`,
      );
    }
    lines.push(
      `| rows (hotels / bookings) | ${scales
        .map((s) => {
          const p = r.scaling.find((x) => x.scale === s);
          return p ? `${fmtInt(p.rows.hotels)} / ${fmtInt(p.rows.bookings)}` : '—';
        })
        .join(' | ')} | |`,
    );
  }
  if (r.notes.length > 0) {
    lines.push('');
    for (const note of r.notes) lines.push(`- ${note}`);
  }
  lines.push('');
  return lines.join('\n');
}

function fmtInt(v: number | undefined): string {
  return v === undefined ? '?' : v.toLocaleString('en-US');
}
