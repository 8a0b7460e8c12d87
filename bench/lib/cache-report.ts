// The cache rows of `npm run bench`: what bench/lib/cache-phase.ts measured, and the markdown of
// bench/results/cache.md (every figure is in the .json as well).

import type { ProfileSummary } from './cpu-profile.ts';
import type { LoadTestResult } from './load-report.ts';

/** The goals of the issue, beside which every figure is printed. */
export const CACHE_GOALS = {
  /** Uncached p50 / cached p50, one request at a time (the write-ups' 240 ms → 12 ms). */
  speedup: 20,
  /** Cached reads' req/s over the hello world's at 8 connections, identity and Brotli. */
  identityShare: 0.8,
  brShare: 0.75,
  /** Hit rate over the load test's measured pass. */
  hitRate: 0.95,
  staleReads: 0,
} as const;

export interface LatencyStats {
  readonly samples: number;
  readonly p50: number;
  readonly p95: number;
  readonly p99: number;
}

/** Row 1: one operation, uncached (CACHE_ENABLED=false) against cached, one request at a time. */
export interface CachedLatencyRow {
  readonly id: string;
  readonly title: string;
  /** Distinct inputs, each answered once by every side first (that fills the caches). */
  readonly inputs: number;
  /** Every input got the same status and bytes from the cached servers as from the uncached one. */
  readonly sameAnswer: boolean;
  readonly off: LatencyStats;
  readonly l1: LatencyStats;
  /** Absent without Redis. */
  readonly l2?: LatencyStats;
  /** off p50 / cached p50. */
  readonly speedupL1: number;
  readonly speedupL2?: number;
  /** Hello world, one request at a time, in the same rounds: what a round trip costs at least. */
  readonly floor: LatencyStats;
  /** off p50 / floor p50: the most any cache could gain here. */
  readonly bestPossible: number;
}

/** One server and encoding of row 2. */
export interface ThroughputVariant {
  readonly id: string;
  readonly label: string;
  readonly encoding: 'identity' | 'br';
  /** Body bytes on the wire per answer. */
  readonly bytes: number;
  readonly rps: number;
  /** req/s over the hello world's in the same round: median of the rounds, and their range. */
  readonly share: number;
  readonly shareMin: number;
  readonly shareMax: number;
  /** The server process's CPU time per request (median of the slices). */
  readonly cpuUsPerRequest: number;
  /**
   * The hello world's server CPU per request over this one's: the share the server's own work
   * allows, whatever else runs on the machine (the client's work, which the req/s share includes, aside).
   */
  readonly cpuShare: number;
  /** Goal for this variant's share, when it is one of the issue's rows. */
  readonly goal?: number;
}

/** Row 2: cached reads of one ~2 KB answer at N connections, as a share of the hello world. */
export interface ThroughputRow {
  readonly path: string;
  readonly title: string;
  readonly identityBytes: number;
  readonly brBytes: number;
  readonly connections: number;
  readonly rounds: number;
  /** Phases per variant (rounds × slices), each compared with the hello world's of the same slice. */
  readonly slices: number;
  readonly hello: { readonly rps: number; readonly cpuUsPerRequest: number };
  /** The run's hello-world ceiling at the same connections (measureCeilings, before the operations). */
  readonly runCeiling: number;
  readonly variants: ThroughputVariant[];
}

/** Rows 3 and 4: `npm run loadtest` against one server. */
export interface LoadRun {
  readonly id: string;
  readonly label: string;
  readonly env: Record<string, string>;
  readonly result: LoadTestResult;
}

/** Row 5: the Redis tier's memory for the same warm pass, L2 compression on and off. */
export interface RedisMemoryRow {
  readonly requests: number;
  readonly distinctPaths: number;
  readonly compressed: RedisMemory;
  readonly plain: RedisMemory;
  /** plain bytes / compressed bytes. */
  readonly ratio: number;
}

export interface RedisMemory {
  readonly prefix: string;
  readonly compressMinBytes: number;
  readonly keys: number;
  /** Sum of `MEMORY USAGE` over the prefix's keys (SCAN). */
  readonly bytes: number;
  /** Sum of `STRLEN`: the stored values alone. */
  readonly valueBytes: number;
  /** By namespace (the key's part after the prefix). */
  readonly byNamespace: Record<string, { keys: number; bytes: number }>;
}

/** What bench/lib/cache-phase.ts measured (the report adds the run's header). */
export interface CacheMeasurements {
  readonly redis: {
    url: string | null;
    reachable: boolean;
    reason?: string;
    version: string;
    prefixes: string[];
  };
  readonly latency: CachedLatencyRow[];
  readonly throughput: ThroughputRow | null;
  readonly profile?: CacheProfile;
  readonly load: LoadRun[];
  readonly redisMemory: RedisMemoryRow | null;
  readonly notes: string[];
}

export type CacheProfile = ProfileSummary & { readonly requests: number; readonly rps: number };

export interface CacheReport {
  readonly name: string;
  readonly startedAt: string;
  readonly durationS: number;
  readonly command: string;
  readonly machine: Record<string, string | number>;
  /** os.loadavg() when the phase started and ended: other work on the machine. */
  readonly loadAverage: { readonly start: number[]; readonly end: number[] };
  readonly versions: Record<string, string>;
  readonly git: { readonly commit: string; readonly dirty: boolean };
  readonly dataset: Record<string, unknown>;
  readonly settings: Record<string, unknown>;
  readonly redis: {
    readonly url: string | null;
    readonly reachable: boolean;
    readonly reason?: string;
    /** CACHE_PREFIX of each L1+L2 server (their keys are deleted at the end). */
    readonly prefixes: string[];
  };
  readonly latency: CachedLatencyRow[];
  readonly throughput: ThroughputRow | null;
  /** V8 profile of the L1 server during an extra identity throughput phase (`--cache-profile`). */
  readonly profile?: CacheProfile | undefined;
  readonly load: LoadRun[];
  readonly redisMemory: RedisMemoryRow | null;
  readonly notes: string[];
}

const ms = (v: number) => (v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2));
const x = (v: number) => (v >= 100 ? `${v.toFixed(0)}×` : v >= 10 ? `${v.toFixed(1)}×` : `${v.toFixed(2)}×`);
const pct = (v: number | null | undefined) =>
  v === null || v === undefined ? '—' : `${(v * 100).toFixed(1)}%`;
const mib = (b: number) => `${(b / 2 ** 20).toFixed(1)} MiB`;
const int = (v: number) => v.toLocaleString('en-US');
const verdict = (met: boolean) => (met ? 'met' : '**short**');

/** The summary the main report's "Cached response" row shows: the best and worst of row 1. */
export function cachedResponseCell(report: CacheReport): string {
  const rows = report.latency;
  if (rows.length === 0) return 'not measured';
  const worst = Math.min(
    ...rows.flatMap((r) => [r.speedupL1, ...(r.speedupL2 === undefined ? [] : [r.speedupL2])]),
  );
  return `${rows.map((r) => `${r.id} ${ms(r.off.p50)} → ${ms(r.l1.p50)} ms (${x(r.speedupL1)})`).join(', ')}: ${verdict(worst >= CACHE_GOALS.speedup)} (see ${report.name}.md)`;
}

/** bench/results/<name>.md. */
export function cacheMarkdown(r: CacheReport): string {
  const lines: string[] = [];
  const push = (...l: string[]) => lines.push(...l);
  const d = r.dataset as { scale?: string; seed?: number; counts?: Record<string, number> };
  push(`# Innkeep cache benchmark: ${r.name}`, '');
  push(
    `${r.startedAt} · \`${r.command}\` · ${r.durationS.toFixed(0)} s · commit ${r.git.commit.slice(0, 10)}${r.git.dirty ? ' (uncommitted changes)' : ''}`,
    '',
  );
  push(
    `Machine: ${r.machine.cpus} × ${r.machine.cpuModel}, ${r.machine.memoryGiB} GiB, ${r.machine.os}; load average ${r.loadAverage.start.map((v) => v.toFixed(2)).join(' ')} at the start, ${r.loadAverage.end.map((v) => v.toFixed(2)).join(' ')} at the end. ` +
      `Node ${r.versions.node}, Fastify ${r.versions.fastify}, bentocache ${r.versions.bentocache}, ioredis ${r.versions.ioredis}, Redis ${r.versions.redis}, PostgreSQL ${r.versions.postgres}. ` +
      'Load generator, servers, Redis and PostgreSQL share the machine; only ratios within this run mean anything.',
    '',
  );
  push(
    `Dataset \`${d.scale ?? '?'}\` (seed ${d.seed ?? '?'}): ${int(d.counts?.hotels ?? 0)} hotels, ${int(d.counts?.bookings ?? 0)} bookings. ` +
      `**off**: Innkeep with CACHE_ENABLED=false; **L1**: CACHE_ENABLED=true, memory only; **L1+L2**: plus Redis (${r.redis.url ?? 'none'}, a prefix of its own per server). ` +
      `CACHE_WARMUP=false everywhere: the bench fills the caches itself. ${r.redis.reachable ? '' : `**Redis not reachable (${r.redis.reason ?? '?'}): the L1+L2 rows are missing.**`}`,
    '',
  );

  push('## 1. Cached vs uncached, one request at a time', '');
  push(
    '| Operation | Uncached p50 / p95 / p99 ms | L1 p50 / p95 / p99 ms | L1+L2 p50 / p95 / p99 ms | Speed-up p50 (L1 / L1+L2) | Hello-world floor p50 ms (best possible) | Same answer | Goal ≥ 20× |',
    '|---|---|---|---|---|---|---|---|',
  );
  const lat = (s: LatencyStats | undefined) => (s ? `${ms(s.p50)} / ${ms(s.p95)} / ${ms(s.p99)}` : '—');
  for (const row of r.latency) {
    const worst = Math.min(row.speedupL1, row.speedupL2 ?? Number.POSITIVE_INFINITY);
    push(
      `| ${row.title} | ${lat(row.off)} | ${lat(row.l1)} | ${lat(row.l2)} | **${x(row.speedupL1)}** / ${row.speedupL2 === undefined ? '—' : `**${x(row.speedupL2)}**`} | ${ms(row.floor.p50)} (${x(row.bestPossible)}) | ${row.sameAnswer ? 'yes' : '**no**'} | ${verdict(worst >= CACHE_GOALS.speedup)} |`,
    );
  }
  if (r.latency.length > 0) {
    push(
      '',
      `Samples per side: ${r.latency.map((row) => `${row.id} ${row.off.samples}`).join(', ')} (same inputs on every side, ${r.latency.map((row) => `${row.inputs} ${row.id}`).join(' / ')} distinct, each answered once by every side before the rounds, which fills the caches).`,
    );
  }

  const t = r.throughput;
  if (t) {
    push('', `## 2. Cached reads at ${t.connections} connections, share of the hello world`, '');
    push(
      `Body: \`GET ${t.path}\` (${t.title}), ${int(t.identityBytes)} bytes identity, ${int(t.brBytes)} bytes Brotli. ` +
        `Hello world in the same rounds: ${t.hello.rps.toFixed(0)} req/s (${t.hello.cpuUsPerRequest.toFixed(0)} µs of server CPU per request); the run's ceiling measured before the operations: ${t.runCeiling.toFixed(0)} req/s. ${t.rounds} rounds of ${t.slices / t.rounds} slices, the servers taking turns slice by slice (the order rotating); each share is a variant's req/s over the hello world's in the same slice, the median of ${t.slices}.`,
      '',
    );
    push(
      '| Server | Encoding | Body bytes | req/s | Share of hello world (range) | Server CPU µs / request | Hello CPU ÷ this CPU | Goal |',
      '|---|---|---|---|---|---|---|---|',
    );
    for (const v of t.variants) {
      push(
        `| ${v.label} | ${v.encoding} | ${int(v.bytes)} | ${v.rps.toFixed(0)} | **${pct(v.share)}** (${pct(v.shareMin)}–${pct(v.shareMax)}) | ${v.cpuUsPerRequest.toFixed(0)} | ${pct(v.cpuShare)} | ${v.goal === undefined ? '—' : `≥ ${pct(v.goal)}: ${verdict(v.share >= v.goal)}`} |`,
      );
    }
  }
  if (r.profile) {
    const p = r.profile;
    push(
      '',
      `### Where a cached read's time goes (V8 profile of the L1 server, identity, ${int(p.requests)} requests at ${p.rps.toFixed(0)} req/s under the profiler)`,
      '',
      `Self time by category, as a share of the server's non-idle samples (${(p.idleShare * 100).toFixed(0)}% idle). "socket writes" is wall time inside writev: the kernel's loopback send, and the load generator running on the core it just woke.`,
      '',
      '| Category | Share | µs per request |',
      '|---|---|---|',
      ...p.categories
        .slice(0, 18)
        .map((c) => `| ${c.name} | ${pct(c.share)} | ${((c.ms * 1000) / p.requests).toFixed(1)} |`),
      '',
      'Heaviest functions (self): ' +
        p.functions
          .slice(0, 12)
          .map((f) => `\`${f.name}\` ${pct(f.share)}`)
          .join(', ') +
        '.',
    );
  }

  if (r.load.length > 0) {
    push('', '## 3–4. Load test (Zipf mix with bookings and cancels): hit rate, stale reads, memory', '');
    const first = r.load[0]!.result;
    push(
      `\`npm run loadtest\` against each server in turn: ${first.options.warmupS} s of warm-up, then ${first.options.durationS} s measured, ${first.options.connections} connections, ${first.options.users} users, seed ${first.options.seed}. ` +
        "Hit rate: the server's own counters (`GET /api/admin/cache/stats`) read after the warm-up and after the measured pass. Stale reads: every availability answer (the mix's and one read of each stay right after its booking's 201) against the bookings the load test knows of (bench/lib/stale-reads.ts).",
      '',
    );
    push(
      '| Server | req/s | p50 / p99 ms | Hit rate (goal ≥ 95%) | Hit rate without availability | Stale strict reads (goal 0) | Bookings / cancels | RSS start → peak MiB | Memory tier peak / bound | Evictions | Errors |',
      '|---|---|---|---|---|---|---|---|---|---|---|',
    );
    for (const run of r.load) {
      const res = run.result;
      const c = res.cache;
      const noAvail = c ? hitRateWithout(c.namespaces, ['availability']) : null;
      const s = res.staleReads;
      push(
        `| ${run.label} | ${int(res.requestsPerSecond)} | ${res.latency.p50} / ${res.latency.p99} | ${c ? `**${pct(c.total.hitRate)}**: ${verdict((c.total.hitRate ?? 0) >= CACHE_GOALS.hitRate)}` : '—'} | ${pct(noAvail)} | ${s ? `**${int(s.stale)}** of ${int(s.reads)} (${int(s.informative)} covering a known booking): ${verdict(s.stale === 0)}` : '—'} | ${int(res.bookings.created)} / ${int(res.bookings.cancelled)} | ${res.memory.rss ? `${(res.memory.rss.first / 2 ** 20).toFixed(0)} → ${(res.memory.rss.peak / 2 ** 20).toFixed(0)}` : '—'} | ${res.memory.l1 ? `${mib(res.memory.l1.peakBytes)} / ${mib(res.memory.l1.maxBytes)} (${res.memory.l1.withinBounds ? 'within' : '**over**'})` : '—'} | ${c ? int(c.total.evictions) : '—'} | ${int(res.errors.total)} |`,
      );
    }
    const withCache = r.load.filter((run) => run.result.cache);
    if (withCache.length > 0) {
      push(
        '',
        'Per namespace over the measured pass (hit rate, lookups; "new inputs": GETs of the kind that asked for something no earlier request of the run had, a miss no cache avoids):',
        '',
      );
      const names = [
        ...new Set(withCache.flatMap((run) => run.result.cache!.namespaces.map((n) => n.namespace))),
      ];
      push(
        `| Namespace | ${withCache.map((run) => run.label).join(' | ')} |`,
        `|---|${withCache.map(() => '---').join('|')}|`,
      );
      for (const name of names) {
        push(
          `| ${name} | ${withCache
            .map((run) => {
              const ns = run.result.cache!.namespaces.find((n) => n.namespace === name);
              return ns
                ? `${pct(ns.hitRate)} of ${int(ns.hits + ns.misses)}${ns.evictions ? `, ${int(ns.evictions)} evicted` : ''}`
                : '—';
            })
            .join(' | ')} |`,
        );
      }
      const inputs = withCache[0]!.result.cache!.inputs;
      push(
        '',
        `New inputs in the measured pass (${withCache[0]!.label}): ${Object.entries(inputs)
          .map(
            ([kind, v]) =>
              `${kind} ${int(v!.firstSeen)} of ${int(v!.requests)} (${pct(v!.firstSeen / Math.max(1, v!.requests))})`,
          )
          .join(', ')}.`,
      );
    }
  }

  const m = r.redisMemory;
  if (m) {
    push('', '## 5. Redis memory of the hot set, L2 compression on and off', '');
    push(
      `The same warm pass (${int(m.requests)} reads, ${int(m.distinctPaths)} distinct, from the load test's mix: search, hotel, availability, reviews) against two L1+L2 servers, then \`MEMORY USAGE\` summed over each one's keys (SCAN of its prefix).`,
      '',
      '| L2 values | CACHE_COMPRESS_MIN_BYTES | Keys | MEMORY USAGE | Stored values (STRLEN) |',
      '|---|---|---|---|---|',
      `| Brotli when ≥ 1 KiB | ${m.compressed.compressMinBytes} | ${int(m.compressed.keys)} | **${mib(m.compressed.bytes)}** | ${mib(m.compressed.valueBytes)} |`,
      `| plain JSON | ${m.plain.compressMinBytes} | ${int(m.plain.keys)} | **${mib(m.plain.bytes)}** | ${mib(m.plain.valueBytes)} |`,
      '',
      `Compression saves **${x(m.ratio)}** (plain ÷ compressed). By namespace (compressed / plain): ${Object.keys(
        m.plain.byNamespace,
      )
        .map(
          (ns) =>
            `${ns} ${mib(m.compressed.byNamespace[ns]?.bytes ?? 0)} / ${mib(m.plain.byNamespace[ns]?.bytes ?? 0)}`,
        )
        .join(', ')}.`,
    );
  }
  if (r.notes.length > 0) {
    push('');
    for (const note of r.notes) push(`- ${note}`);
  }
  push('');
  return lines.join('\n');
}

/**
 * What fails the run (exit code 1): a cached answer that differs from the uncached one, a stale strict
 * read, a load test with errors or an inconsistent inventory, the memory tier over its bound. Goals
 * missed are reported, not failures.
 */
export function cacheFailures(r: Pick<CacheReport, 'latency' | 'load'>): string[] {
  const failures: string[] = [];
  for (const row of r.latency)
    if (!row.sameAnswer) failures.push(`${row.title}: cached and uncached answers differ`);
  for (const run of r.load) {
    if (!run.result.ok) failures.push(`the load test on ${run.label} failed`);
    if (run.result.memory.l1 && !run.result.memory.l1.withinBounds)
      failures.push(`${run.label}: the memory tier went over its bound`);
  }
  return failures;
}

/** The hit rate of the namespaces other than `excluded`. */
export function hitRateWithout(
  namespaces: ReadonlyArray<{ namespace: string; hits: number; misses: number }>,
  excluded: readonly string[],
): number | null {
  const kept = namespaces.filter((n) => !excluded.includes(n.namespace));
  const hits = kept.reduce((s, n) => s + n.hits, 0);
  const lookups = hits + kept.reduce((s, n) => s + n.misses, 0);
  return lookups === 0 ? null : hits / lookups;
}
