// `npm run bench:observability`: what the observability layer costs. Three Innkeep servers on the same
// dataset (small, seed 42, the bench's template), each in its own process:
//   bare     METRICS_ENABLED=false, no tracing: no request or statement hooks at all
//   metrics  the default: Prometheus metrics, per-route windows, the N+1 detector off (production)
//   traced   metrics, plus tracing exporting every span (batched, OTLP/HTTP JSON) to a local sink
// For each operation and round, rotating which server goes first: latency (one request at a time)
// then throughput (autocannon, N connections, the same fixed number of requests for all). Reported:
// metrics ÷ bare and traced ÷ metrics, each the median of the rounds' ratios with their range, and the
// server's CPU time per request. Then the cost of one `/metrics` scrape on the metrics server once
// every operation of the benchmark has run (its series count is reported beside it).
// Only ratios within one run mean anything; absolute times depend on the machine and what else runs.
//
//   npm run bench:observability                         8 rounds, about 3 minutes (+ seeding once a day)
//   npm run bench:observability -- --rounds 12 --connections 16 --phase-ms 2000
//
// BENCH_DATABASE_URL: the server to keep the template on (as for npm run bench); default an embedded
// PostgreSQL under .innkeep/bench. Writes bench/results/observability.md and .json (--out DIR).
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import pino from 'pino';
import { startOtlpReceiver } from '../test/support/otlp-receiver.ts';
import { ensureTemplate, openBenchCluster, templateName } from './lib/datasets.ts';
import { type LoadResult, percentile, runLoad, runPhase, type Sample, Target } from './lib/measure.ts';
import { loadFixture, type Operation, operations } from './lib/ops.ts';
import { sequential } from './lib/phases.ts';
import { type ServerProcess, startServer } from './lib/servers.ts';

const ROOT = join(import.meta.dirname, '..');
/** USER_HZ, the unit of /proc/<pid>/stat's CPU times: 100 on Linux (getconf CLK_TCK). */
const CLOCK_TICKS = 100;
const OPS = ['search', 'detail'];
const METRICS_TOKEN = randomBytes(24).toString('base64url');
const SCRAPES = 200;

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '8' },
    connections: { type: 'string', default: '8' },
    'phase-ms': { type: 'string', default: '1000' },
    out: { type: 'string', default: join(ROOT, 'bench/results') },
  },
});
const rounds = Number(values.rounds);
const connections = Number(values.connections);
const phaseMs = Number(values['phase-ms']);
for (const [name, v] of [
  ['rounds', rounds],
  ['connections', connections],
  ['phase-ms', phaseMs],
] as const) {
  if (!Number.isInteger(v) || v < 1) throw new Error(`--${name} must be a positive whole number`);
}

type VariantName = 'bare' | 'metrics' | 'traced';

interface Variant {
  readonly name: VariantName;
  readonly target: Target;
  readonly url: string;
  latency: Sample[];
  completed: number;
  elapsedMs: number;
  /** Per round: requests/s of the throughput phase, p50 of the latency phase. */
  roundRps: number[];
  roundP50: number[];
  /** Per round: the server process's CPU time (all its threads) per request of the throughput phase. */
  roundCpuUs: number[];
  readonly pid: number;
}

const log = (message: string) => console.error(`[observability bench] ${message}`);
const logger = pino({ level: 'warn' });
const startedAt = new Date().toISOString();
const commit = gitCommit();
const cluster = await openBenchCluster(process.env.BENCH_DATABASE_URL, join(ROOT, '.innkeep/bench'), logger);
const scratch = await mkdtemp(join(os.tmpdir(), 'innkeep-observability-bench-'));
const sink = await startOtlpReceiver({ keepSpans: false });
const servers: ServerProcess[] = [];
const cleanup = async () => {
  await Promise.all(servers.map((s) => s.stop()));
  await sink.close();
  await cluster.stop();
  await rm(scratch, { recursive: true, force: true });
};
process.once('SIGINT', () => void cleanup().finally(() => process.exit(130)));

try {
  const today = new Date().toISOString().slice(0, 10);
  const dataset = await ensureTemplate(cluster, { scale: 'small', seed: 42, today, fresh: false, logger });
  log(`dataset small: ${dataset.reused ? 'reused today’s template' : 'seeded'}`);
  const databaseUrl = cluster.urlFor(templateName('small', 42));
  const jwtSecret = randomBytes(32).toString('base64url');
  const env = {
    NODE_ENV: 'production',
    // Production's level: the access line is written (with trace ids when tracing is on).
    LOG_LEVEL: 'info',
    DATABASE_URL: databaseUrl,
    DB_MIGRATE_ON_START: 'false',
    DB_SEED_ON_EMPTY: 'none',
    JWT_SECRET: jwtSecret,
    INNKEEP_DATA_DIR: scratch,
    // One load generator is one client address (the limiter's cost: bench/lib/rate-limit-phase.ts).
    RATE_LIMIT_ENABLED: 'false',
  };
  const start = (name: VariantName, extra: Record<string, string>) =>
    startServer({
      name: `innkeep-${name}`,
      script: 'src/main.ts',
      args: ['start'],
      env: { ...env, ...extra },
      readyPath: '/ready',
    });
  const traced = { OTEL_EXPORTER_OTLP_ENDPOINT: sink.url, OTEL_SERVICE_NAME: 'innkeep-bench' };
  const started = await Promise.all([
    start('bare', { METRICS_ENABLED: 'false' }),
    start('metrics', { METRICS_TOKEN }),
    start('traced', { METRICS_TOKEN, ...traced }),
  ]);
  servers.push(...started);
  const [bare, metrics, tracedServer] = started as [ServerProcess, ServerProcess, ServerProcess];

  const fixture = await loadFixture(databaseUrl);
  const all = operations(fixture, jwtSecret, 'observability');
  const results = [];
  for (const op of all.filter((o) => OPS.includes(o.id))) {
    results.push(await measure(op, { bare, metrics, traced: tracedServer }));
  }
  const scrape = await measureScrape(metrics, all);
  const report = {
    startedAt,
    commit,
    machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model, node: process.version },
    settings: { rounds, connections, phaseMs, dataset: 'small, seed 42' },
    results,
    scrape,
  };
  const md = markdown(report);
  await mkdir(values.out, { recursive: true });
  await writeFile(join(values.out, 'observability.json'), `${JSON.stringify(report, null, 2)}\n`);
  await writeFile(join(values.out, 'observability.md'), md);
  console.log(md);
} finally {
  await cleanup();
}

async function measure(op: Operation, servers: Record<VariantName, ServerProcess>) {
  const variant = (name: VariantName): Variant => ({
    name,
    url: servers[name].url,
    target: new Target(name, servers[name].url, 512),
    latency: [],
    completed: 0,
    elapsedMs: 0,
    roundRps: [],
    roundP50: [],
    roundCpuUs: [],
    pid: servers[name].pid,
  });
  const sides = [variant('bare'), variant('metrics'), variant('traced')];
  // Warm all (plans, connections, JIT), and size the phases from the bare side's pace.
  for (const s of sides) await runPhase(s.target, op.request, 0, sequential(op.period * 3));
  let perSecond = 0;
  for (const s of sides) {
    const warm = await runLoad(s, op.request, { connections, amount: 2000 });
    if (s.name === 'bare') perSecond = (warm.completed * 1000) / warm.elapsedMs;
  }
  const amount = Math.max(connections * 20, Math.round((perSecond * phaseMs) / 1000));
  const sequentialCount = Math.max(50, Math.round((perSecond / connections) * (phaseMs / 1000)));
  // The warm-up's last spans leave within the batch processor's 5 s delay; they are not counted below.
  await sleep(5500);
  const spansBefore = sink.spanCount();
  let tracedRequests = 0;
  for (let r = 0; r < rounds; r++) {
    // Each side goes first, second and third equally often.
    const order = sides.map((_, i) => sides[(i + r) % sides.length] as Variant);
    for (const s of order) {
      const res = await runPhase(s.target, op.request, r * sequentialCount, sequential(sequentialCount));
      s.latency.push(...res.samples);
      s.roundP50.push(
        percentile(
          res.samples.map((x) => x.ms),
          0.5,
        ),
      );
      if (s.name === 'traced') tracedRequests += res.samples.length;
    }
    for (const s of order) {
      const cpuBefore = await cpuMs(s.pid);
      const res: LoadResult = await runLoad(s, (j) => op.request(r * amount + j), { connections, amount });
      s.roundCpuUs.push((((await cpuMs(s.pid)) - cpuBefore) * 1000) / res.completed);
      s.completed += res.completed;
      s.elapsedMs += res.elapsedMs;
      s.roundRps.push((res.completed * 1000) / res.elapsedMs);
      if (s.name === 'traced') tracedRequests += res.completed;
    }
  }
  await sleep(5500);
  for (const s of sides) s.target.close();
  const stats = (s: Variant) => {
    const ms = s.latency.map((x) => x.ms);
    return {
      requests: s.latency.length + s.completed,
      p50: percentile(ms, 0.5),
      p95: percentile(ms, 0.95),
      rps: (s.completed * 1000) / s.elapsedMs,
      cpuUsPerRequest: percentile(s.roundCpuUs, 0.5),
    };
  };
  const [b, m, t] = sides as [Variant, Variant, Variant];
  // Other work on the machine drifts over a run; the sides of one round ran next to each other, so
  // each round's ratio is the comparison, and their median the result (the range shows the spread).
  const perRound = (of: (s: Variant) => number[], num: Variant, den: Variant) => {
    const ratios = of(num).map((v, i) => v / (of(den)[i] as number));
    return { median: percentile(ratios, 0.5), min: Math.min(...ratios), max: Math.max(...ratios) };
  };
  const compare = (num: Variant, den: Variant) => ({
    throughput: perRound((s) => s.roundRps, num, den),
    p50: perRound((s) => s.roundP50, num, den),
    cpu: perRound((s) => s.roundCpuUs, num, den),
  });
  const result = {
    id: op.id,
    title: op.title,
    bare: stats(b),
    metrics: stats(m),
    traced: stats(t),
    spansPerRequest: (sink.spanCount() - spansBefore) / tracedRequests,
    metricsVsBare: compare(m, b),
    tracedVsMetrics: compare(t, m),
  };
  log(
    `${op.id}: req/s ${result.bare.rps.toFixed(0)} / ${result.metrics.rps.toFixed(0)} / ${result.traced.rps.toFixed(0)}; ` +
      `metrics ÷ bare ×${result.metricsVsBare.throughput.median.toFixed(3)}, ` +
      `traced ÷ metrics ×${result.tracedVsMetrics.throughput.median.toFixed(3)}`,
  );
  return result;
}

/**
 * One `/metrics` scrape on the metrics server after every benchmarked read has run once per
 * distinct input (so routes, statements and status classes have their series): series count, bytes,
 * and the latency and server CPU time of `SCRAPES` scrapes one after another.
 */
async function measureScrape(server: ServerProcess, ops: readonly Operation[]) {
  const target = new Target('scrape', server.url, 4);
  const headers = { authorization: `Bearer ${METRICS_TOKEN}` };
  try {
    // Reads only: the servers run on the template database itself, which later runs reuse.
    for (const op of ops.filter((o) => !o.writes)) {
      for (let i = 0; i < op.period; i++) await target.send(op.request(1_000_000 + i));
    }
    const first = await target.send({ method: 'GET', path: '/metrics', headers });
    if (first.status !== 200) throw new Error(`/metrics answered ${first.status}`);
    const lines = first.body.split('\n').filter((l) => l !== '' && !l.startsWith('#'));
    const samples: number[] = [];
    const cpuBefore = await cpuMs(server.pid);
    for (let i = 0; i < SCRAPES; i++) {
      const res = await target.send({ method: 'GET', path: '/metrics', headers });
      samples.push(res.ms);
    }
    const cpuUs = (((await cpuMs(server.pid)) - cpuBefore) * 1000) / SCRAPES;
    const result = {
      series: lines.length,
      innkeepSeries: lines.filter((l) => l.startsWith('innkeep_')).length,
      bytes: Buffer.byteLength(first.body),
      p50Ms: percentile(samples, 0.5),
      p95Ms: percentile(samples, 0.95),
      cpuUsPerScrape: cpuUs,
    };
    log(
      `scrape: ${result.series} series, ${result.bytes} bytes, p50 ${result.p50Ms.toFixed(2)} ms, ${cpuUs.toFixed(0)} µs CPU`,
    );
    return result;
  } finally {
    target.close();
  }
}

function gitCommit(): string {
  try {
    const head = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim();
    const dirty =
      execFileSync('git', ['status', '--porcelain'], { cwd: ROOT, encoding: 'utf8' }).trim() !== '';
    return dirty ? `${head} (dirty)` : head;
  } catch {
    return 'unknown';
  }
}

/**
 * CPU time (user + system, every thread) the process has used, in ms, from /proc (Linux). It counts
 * only the server's own work, so it moves much less than wall-clock figures when other programs share
 * the machine; 10 ms ticks, summed over a phase of thousands of requests.
 */
async function cpuMs(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may contain spaces): utime and stime are the 12th and 13th.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
}

function markdown(r: {
  commit: string;
  machine: { cpus: number; model: string | undefined; node: string };
  settings: { rounds: number; connections: number; phaseMs: number; dataset: string };
  results: Awaited<ReturnType<typeof measure>>[];
  scrape: Awaited<ReturnType<typeof measureScrape>>;
}): string {
  const f = (v: number, d = 2) => v.toFixed(d);
  const ratio = (x: { median: number; min: number; max: number }) =>
    `**${f(x.median, 3)}×** (${f(x.min)}–${f(x.max)})`;
  const rows = r.results.map(
    (x) =>
      `| ${x.title} | ${f(x.bare.rps, 0)} / ${f(x.metrics.rps, 0)} / ${f(x.traced.rps, 0)} | ` +
      `${ratio(x.metricsVsBare.throughput)} | ${ratio(x.tracedVsMetrics.throughput)} | ` +
      `${f(x.bare.p50)} / ${f(x.metrics.p50)} / ${f(x.traced.p50)} | ${ratio(x.metricsVsBare.p50)} | ${ratio(x.tracedVsMetrics.p50)} | ` +
      `${f(x.bare.cpuUsPerRequest, 0)} / ${f(x.metrics.cpuUsPerRequest, 0)} / ${f(x.traced.cpuUsPerRequest, 0)} | ${f(x.spansPerRequest, 1)} |`,
  );
  const s = r.scrape;
  return [
    `Observability overhead: ${r.machine.cpus} CPUs (${r.machine.model ?? 'unknown'}), Node ${r.machine.node}, ` +
      `dataset ${r.settings.dataset}, ${r.settings.rounds} rotating rounds, ${r.settings.connections} connections, ` +
      `${r.settings.phaseMs} ms phases, commit ${r.commit}.`,
    '',
    '| Operation | req/s bare / metrics / traced | Throughput metrics ÷ bare (goal ≥ 0.97) | Throughput traced ÷ metrics | p50 ms bare / metrics / traced | p50 metrics ÷ bare | p50 traced ÷ metrics | Server CPU µs per request | Spans per request |',
    '|---|---|---|---|---|---|---|---|---|',
    ...rows,
    '',
    'Ratios: the median of the rounds’ ratios (their range in brackets). bare: METRICS_ENABLED=false; metrics: the default; traced: metrics plus every span exported.',
    '',
    `\`/metrics\` scrape after every benchmarked operation: ${s.series} series (${s.innkeepSeries} of them innkeep_*), ` +
      `${(s.bytes / 1024).toFixed(1)} KiB; p50 ${f(s.p50Ms)} ms, p95 ${f(s.p95Ms)} ms, ${f(s.cpuUsPerScrape, 0)} µs of server CPU per scrape (${SCRAPES} scrapes one after another).`,
    '',
  ].join('\n');
}
