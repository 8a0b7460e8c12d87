// `npm run bench:tracing`: what tracing costs. Two Innkeep servers on the same dataset (small, seed 42,
// the bench's template), each in its own process: tracing off (no OTEL_ variable, so no OpenTelemetry
// module is loaded) and tracing on, exporting every span (batched, OTLP/HTTP JSON) to a local
// OTLP sink that counts and discards them. For each operation and round, alternating which server
// goes first: latency (one request at a time) then throughput (autocannon, N connections, the same
// fixed number of requests for both). Reported: each round's on ÷ off ratio, their median and range.
// Only ratios within one run mean anything; absolute times depend on the machine and what else runs.
//
//   npm run bench:tracing                                  8 rounds, about 2 minutes (+ seeding once a day)
//   npm run bench:tracing -- --rounds 12 --connections 16 --phase-ms 2000
//
// BENCH_DATABASE_URL: the server to keep the template on (as for npm run bench); default an embedded
// PostgreSQL under .innkeep/bench. Writes bench/results/tracing-overhead.md and .json (--out DIR).
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

interface Variant {
  readonly name: 'off' | 'on';
  readonly target: Target;
  readonly url: string;
  latency: Sample[];
  completed: number;
  elapsedMs: number;
  loadedP50: number[];
  /** Per round: requests/s of the throughput phase, p50 of the latency phase. */
  roundRps: number[];
  roundP50: number[];
  /** Per round: the server process's CPU time (all its threads) per request of the throughput phase. */
  roundCpuUs: number[];
  readonly pid: number;
}

const log = (message: string) => console.error(`[tracing bench] ${message}`);
const logger = pino({ level: 'warn' });
const cluster = await openBenchCluster(process.env.BENCH_DATABASE_URL, join(ROOT, '.innkeep/bench'), logger);
const scratch = await mkdtemp(join(os.tmpdir(), 'innkeep-tracing-bench-'));
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
    // Production's level: the access log line is written, with the trace ids when tracing is on.
    LOG_LEVEL: 'info',
    DATABASE_URL: databaseUrl,
    DB_MIGRATE_ON_START: 'false',
    DB_SEED_ON_EMPTY: 'none',
    JWT_SECRET: jwtSecret,
    INNKEEP_DATA_DIR: scratch,
  };
  const start = (name: 'off' | 'on', extra: Record<string, string>) =>
    startServer({
      name: `innkeep-tracing-${name}`,
      script: 'src/main.ts',
      args: ['start'],
      env: { ...env, ...extra },
      readyPath: '/ready',
    });
  const [off, on] = await Promise.all([
    start('off', {}),
    start('on', { OTEL_EXPORTER_OTLP_ENDPOINT: sink.url, OTEL_SERVICE_NAME: 'innkeep-bench' }),
  ]);
  servers.push(off, on);

  const fixture = await loadFixture(databaseUrl);
  const ops = operations(fixture, jwtSecret, 'tracing').filter((o) => OPS.includes(o.id));
  const results = [];
  for (const op of ops) results.push(await measure(op, off, on));
  const report = {
    startedAt: new Date().toISOString(),
    commit: gitCommit(),
    machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model, node: process.version },
    settings: { rounds, connections, phaseMs, dataset: 'small, seed 42' },
    results,
  };
  const md = markdown(report);
  await mkdir(values.out, { recursive: true });
  await writeFile(join(values.out, 'tracing-overhead.json'), `${JSON.stringify(report, null, 2)}\n`);
  await writeFile(join(values.out, 'tracing-overhead.md'), md);
  console.log(md);
} finally {
  await cleanup();
}

async function measure(op: Operation, off: ServerProcess, on: ServerProcess) {
  const variant = (name: 'off' | 'on', server: ServerProcess): Variant => ({
    name,
    url: server.url,
    target: new Target(name, server.url, 512),
    latency: [],
    completed: 0,
    elapsedMs: 0,
    loadedP50: [],
    roundRps: [],
    roundP50: [],
    roundCpuUs: [],
    pid: server.pid,
  });
  const sides = [variant('off', off), variant('on', on)] as const;
  // Warm both (plans, connections, JIT), and size the phases from the untraced side's pace.
  for (const s of sides) await runPhase(s.target, op.request, 0, sequential(op.period * 3));
  const warm = await runLoad(sides[0], op.request, { connections, amount: 2000 });
  await runLoad(sides[1], op.request, { connections, amount: 2000 });
  const perSecond = (warm.completed * 1000) / warm.elapsedMs;
  const amount = Math.max(connections * 20, Math.round((perSecond * phaseMs) / 1000));
  const sequentialCount = Math.max(50, Math.round((perSecond / connections) * (phaseMs / 1000)));
  // The warm-up's last spans leave within the processor's 5 s delay; they are not counted below.
  await sleep(5500);
  const spansBefore = sink.spanCount();
  let tracedRequests = 0;
  for (let r = 0; r < rounds; r++) {
    const order = r % 2 === 0 ? sides : ([sides[1], sides[0]] as const);
    for (const s of order) {
      const res = await runPhase(s.target, op.request, r * sequentialCount, sequential(sequentialCount));
      s.latency.push(...res.samples);
      s.roundP50.push(
        percentile(
          res.samples.map((x) => x.ms),
          0.5,
        ),
      );
      if (s.name === 'on') tracedRequests += res.samples.length;
    }
    for (const s of order) {
      const cpuBefore = await cpuMs(s.pid);
      const res: LoadResult = await runLoad(s, (j) => op.request(r * amount + j), { connections, amount });
      s.roundCpuUs.push((((await cpuMs(s.pid)) - cpuBefore) * 1000) / res.completed);
      s.completed += res.completed;
      s.elapsedMs += res.elapsedMs;
      s.loadedP50.push(res.p50);
      s.roundRps.push((res.completed * 1000) / res.elapsedMs);
      if (s.name === 'on') tracedRequests += res.completed;
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
      loadedP50: percentile(s.loadedP50, 0.5),
    };
  };
  const [o, t] = [stats(sides[0]), stats(sides[1])];
  // Other work on the machine drifts over a run; the two sides of one round ran next to each other, so
  // each round's ratio is the comparison, and their median the result (the range shows the spread).
  const perRound = (of: (s: Variant) => number[]) => {
    const ratios = of(sides[1]).map((v, i) => v / (of(sides[0])[i] as number));
    return { median: percentile(ratios, 0.5), min: Math.min(...ratios), max: Math.max(...ratios) };
  };
  const result = {
    id: op.id,
    title: op.title,
    off: o,
    on: t,
    spansPerRequest: (sink.spanCount() - spansBefore) / tracedRequests,
    throughputRatio: perRound((s) => s.roundRps),
    cpuUsPerRequest: { off: percentile(sides[0].roundCpuUs, 0.5), on: percentile(sides[1].roundCpuUs, 0.5) },
    cpuRatio: perRound((s) => s.roundCpuUs),
    p50Ratio: perRound((s) => s.roundP50),
  };
  log(
    `${op.id}: ${o.rps.toFixed(0)} → ${t.rps.toFixed(0)} req/s (×${result.throughputRatio.median.toFixed(3)}), ` +
      `p50 ${o.p50.toFixed(2)} → ${t.p50.toFixed(2)} ms (×${result.p50Ratio.median.toFixed(3)}), ` +
      `CPU ${result.cpuUsPerRequest.off.toFixed(0)} → ${result.cpuUsPerRequest.on.toFixed(0)} µs/request (×${result.cpuRatio.median.toFixed(3)}), ` +
      `${result.spansPerRequest.toFixed(1)} spans/request`,
  );
  return result;
}

function gitCommit(): string {
  try {
    return execFileSync('git', ['rev-parse', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim();
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
  machine: { cpus: number; model: string | undefined; node: string };
  settings: { rounds: number; connections: number; phaseMs: number; dataset: string };
  results: Awaited<ReturnType<typeof measure>>[];
}): string {
  const f = (v: number, d = 2) => v.toFixed(d);
  const ratio = (x: { median: number; min: number; max: number }) =>
    `**${f(x.median)}×** (${f(x.min)}–${f(x.max)})`;
  const rows = r.results.map(
    (x) =>
      `| ${x.title} | ${f(x.spansPerRequest, 1)} | ${f(x.off.p50)} / ${f(x.on.p50)} | ${ratio(x.p50Ratio)} | ` +
      `${f(x.off.p95)} / ${f(x.on.p95)} | ${f(x.off.rps, 0)} / ${f(x.on.rps, 0)} | ${ratio(x.throughputRatio)} | ` +
      `${f(x.cpuUsPerRequest.off, 0)} / ${f(x.cpuUsPerRequest.on, 0)} | ${ratio(x.cpuRatio)} |`,
  );
  return [
    `Tracing overhead: ${r.machine.cpus} CPUs (${r.machine.model ?? 'unknown'}), Node ${r.machine.node}, ` +
      `dataset ${r.settings.dataset}, ${r.settings.rounds} alternating rounds, ${r.settings.connections} connections, ` +
      `${r.settings.phaseMs} ms phases.`,
    '',
    '| Operation | Spans per request | p50 ms off / on | p50 on ÷ off | p95 ms off / on | req/s off / on | Throughput on ÷ off | Server CPU µs per request off / on | CPU on ÷ off |',
    '|---|---|---|---|---|---|---|---|---|',
    ...rows,
    '',
    'Ratios: the median of the rounds’ on ÷ off (their range in brackets).',
    '',
  ].join('\n');
}
