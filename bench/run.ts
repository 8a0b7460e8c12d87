// `npm run bench`: naive code on a keys-only schema ("before") against Innkeep on the real schema
// ("after"), same dataset, through HTTP, alternating in one run. See README "Benchmarks".
//
//   npm run bench                     medium dataset + scaling curve (small/medium/large), < 20 min
//   npm run bench -- --quick          small dataset, fewer rounds, no scaling curve, < 3 min
//   npm run bench -- --only search,detail --rounds 5 --concurrency 16 --name my-run
//
// BENCH_DATABASE_URL: run on that PostgreSQL server (its role must be allowed to CREATE DATABASE)
// instead of an embedded one kept under .innkeep/bench (seeded templates are reused the same day).
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { isDeepStrictEqual, parseArgs } from 'node:util';
import pg from 'pg';
import pino from 'pino';
import { SEED_SCALES, type SeedScale } from '../src/platform/config/index.ts';
import {
  cloneDatabase,
  DB_PREFIX,
  dropDatabase,
  ensureTemplate,
  openBenchCluster,
  secondaryIndexCount,
  stripToKeys,
  templateName,
} from './lib/datasets.ts';
import {
  type BenchRequest,
  type LoadResult,
  median,
  type PhaseOptions,
  percentile,
  runLoad,
  runPhase,
  type Sample,
  Target,
} from './lib/measure.ts';
import { loadFixture, OPERATION_IDS, type Operation, operations, SCALING_OPS } from './lib/ops.ts';
import {
  type BenchReport,
  claimRatio,
  type LoadTotals,
  markdown,
  type OpResult,
  type ScalingPoint,
  sideStats,
} from './lib/report.ts';
import { type ServerProcess, startServer } from './lib/servers.ts';

const ROOT = join(import.meta.dirname, '..');
const SCALES: readonly SeedScale[] = SEED_SCALES;

const USAGE = `Usage: npm run bench -- [options]
  --quick               small dataset, 2 short rounds, no scaling curve (< 3 min)
  --scale S             dataset of the before/after table: small | medium (default) | large
  --seed N              dataset seed (default 42)
  --rounds N            alternating A/B rounds per operation (default 3; quick 2)
  --concurrency N       connections in the throughput phase (default 8)
  --only a,b            only these operations (${OPERATION_IDS.join(', ')})
  --scaling a,b         dataset sizes of the scaling curve (default small,medium,large; "none" to skip)
  --fresh               reseed the datasets even if today's templates exist
  --keep                keep the before/after databases afterwards
  --name N              results file name: <out>/<N>.md and .json (default: the scale, or "quick")
  --out DIR             results directory (default bench/results)
  --phase-ms N          length of each measuring phase (default 1500/2000; quick 500/700)
Environment: BENCH_DATABASE_URL (default: embedded PostgreSQL under .innkeep/bench).`;

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    scale: { type: 'string' },
    seed: { type: 'string', default: '42' },
    rounds: { type: 'string' },
    concurrency: { type: 'string', default: '8' },
    only: { type: 'string' },
    scaling: { type: 'string' },
    fresh: { type: 'boolean', default: false },
    keep: { type: 'boolean', default: false },
    name: { type: 'string' },
    out: { type: 'string' },
    'phase-ms': { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}
const usage = (message: string): never => {
  console.error(`${message}\n\n${USAGE}`);
  process.exit(2);
};
const int = (v: string | undefined, name: string, min: number, max: number, fallback: number) => {
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max)
    usage(`--${name} must be a whole number in [${min}, ${max}]`);
  return n;
};
const quick = values.quick;
const scale = (values.scale ?? (quick ? 'small' : 'medium')) as SeedScale;
if (!SCALES.includes(scale)) usage('--scale must be small, medium or large');
const seed = int(values.seed, 'seed', 0, 2 ** 31 - 1, 42);
const rounds = int(values.rounds, 'rounds', 1, 50, quick ? 2 : 3);
const concurrency = int(values.concurrency, 'concurrency', 1, 256, 8);
/** Reports hold hundreds of thousands of rows in the naive server's memory per request. */
const reportConcurrency = Math.min(2, concurrency);
const scalingScales = (values.scaling ?? (quick ? 'none' : SCALES.join(',')))
  .split(',')
  .filter((s) => s && s !== 'none') as SeedScale[];
for (const s of scalingScales) if (!SCALES.includes(s)) usage(`--scaling: unknown size '${s}'`);
const only = values.only?.split(',');
for (const id of only ?? []) {
  if (!OPERATION_IDS.includes(id))
    usage(`--only: unknown operation '${id}' (one of ${OPERATION_IDS.join(', ')})`);
}
const name = values.name ?? (quick ? 'quick' : scale);
if (!/^[\w.-]{1,64}$/.test(name)) usage('--name may use letters, digits, ".", "-" and "_"');
const phaseMs =
  values['phase-ms'] === undefined ? undefined : int(values['phase-ms'], 'phase-ms', 10, 600_000, 0);
const timing = quick
  ? { latencyMs: phaseMs ?? 500, loadMs: phaseMs ?? 700, minLatency: 2, warmup: 3 }
  : { latencyMs: phaseMs ?? 1500, loadMs: phaseMs ?? 2000, minLatency: 3, warmup: 5 };
const outDir = values.out ?? join(ROOT, 'bench/results');

const logger = pino({ level: 'warn' });
const startedAt = new Date();
const today = startedAt.toISOString().slice(0, 10);
const runId = `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
const jwtSecret = randomBytes(32).toString('base64url');
const log = (msg: string) => console.error(`[bench ${((performance.now() - t0) / 1000).toFixed(0)}s] ${msg}`);
const t0 = performance.now();
/** Taken before anything runs: the code measured is the code loaded now. */
const git = gitState();

const servers: ServerProcess[] = [];
const targets: Target[] = [];
const cluster = await openBenchCluster(process.env.BENCH_DATABASE_URL, join(ROOT, '.innkeep/bench'), logger);
const scratch = await mkdtemp(join(os.tmpdir(), 'innkeep-bench-'));
const BEFORE = `${DB_PREFIX}_before`;
const AFTER = `${DB_PREFIX}_after`;
let exitCode = 0;
let cleaning: Promise<void> | undefined;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    console.error(`[bench] ${signal}: stopping the servers and dropping the copies`);
    cleanup().finally(() => process.exit(130));
  });
}
try {
  log(`database server: ${cluster.target}`);
  const dataset = await ensureTemplate(cluster, { scale, seed, today, fresh: values.fresh, logger });
  log(
    `dataset ${scale}: ${dataset.reused ? 'reused today’s template' : `seeded in ${(dataset.seedMs / 1000).toFixed(0)} s`}`,
  );
  const template = templateName(scale, seed);
  await cloneDatabase(cluster, template, AFTER);
  await cloneDatabase(cluster, template, BEFORE);
  const stripped = await stripToKeys(cluster.urlFor(BEFORE));
  log(
    `before: dropped ${stripped.dropped.length} indexes, kept ${stripped.primaryKeys} primary keys and ${stripped.foreignKeys} foreign keys`,
  );
  const afterIndexes = await secondaryIndexCount(cluster.urlFor(AFTER));

  const env = (databaseUrl: string): Record<string, string> => ({
    NODE_ENV: 'production',
    LOG_LEVEL: 'warn',
    DATABASE_URL: databaseUrl,
    JWT_SECRET: jwtSecret,
    INNKEEP_DATA_DIR: scratch,
    DB_SEED_ON_EMPTY: 'none',
    // The naive reports run for seconds; the same limits apply to both sides.
    DB_STATEMENT_TIMEOUT_MS: '120000',
    HTTP_REQUEST_TIMEOUT_MS: '0',
  });
  const [hello, innkeep, naive] = await Promise.all([
    startServer({ name: 'hello', script: 'bench/hello-server.ts', env: {}, readyPath: '/healthz' }),
    startServer({
      name: 'innkeep',
      script: 'src/main.ts',
      args: ['start'],
      env: env(cluster.urlFor(AFTER)),
      readyPath: '/ready',
    }),
    startServer({
      name: 'naive',
      script: 'bench/naive/server.ts',
      env: env(cluster.urlFor(BEFORE)),
      readyPath: '/healthz',
    }),
  ]);
  servers.push(hello, innkeep, naive);
  const tHello = new Target('hello', hello.url, 512);
  const tAfter = new Target('innkeep', innkeep.url, 512);
  const tBefore = new Target('naive', naive.url, 512);
  targets.push(tHello, tAfter, tBefore);

  const fixture = await loadFixture(cluster.urlFor(AFTER));
  let ops = operations(fixture, jwtSecret, runId);
  if (only) ops = ops.filter((o) => only.includes(o.id));

  // The ceiling: hello world through the same client path (autocannon with setupRequest), at every
  // connection count the operations use.
  const helloReq = (): BenchRequest => ({ method: 'GET', path: '/hello' });
  const ceilings = new Map<number, number>();
  for (const connections of new Set([concurrency, reportConcurrency])) {
    const warm = await runLoad(hello, helloReq, { connections, amount: 5000 });
    const amount = Math.max(1000, Math.round((warm.completed / warm.elapsedMs) * timing.loadMs));
    const total: LoadTotals = emptyLoad();
    for (let r = 0; r < rounds; r++) addLoad(total, await runLoad(hello, helloReq, { connections, amount }));
    ceilings.set(connections, (total.completed * 1000) / total.elapsedMs);
    log(`ceiling: hello world ${ceilings.get(connections)!.toFixed(0)} req/s at ${connections} connections`);
  }
  const ceilingRps = ceilings.get(concurrency)!;

  const results: OpResult[] = [];
  const notes: string[] = [];
  for (const op of ops) {
    results.push(await measureOperation(op, tBefore, naive.url, tAfter, innkeep.url, ceilings));
    const last = results.at(-1) as OpResult;
    log(
      `${op.id}: p50 ${last.naive.p50.toFixed(1)} → ${last.innkeep.p50.toFixed(1)} ms (${last.speedup.toFixed(1)}×), ` +
        `${last.naive.rps.toFixed(0)} → ${last.innkeep.rps.toFixed(0)} req/s, SQL ${last.naive.queries} → ${last.innkeep.queries}`,
    );
  }

  const scaling = scalingScales.length > 0 ? await measureScaling(scalingScales) : [];
  if (!scalingScales.length) notes.push('Scaling curve skipped (`--quick` or `--scaling none`).');
  const short = results.filter((r) => r.claim && !r.claimMet);
  for (const r of short) {
    notes.push(
      `${r.title}: ${r.speedup.toFixed(1)}× is short of the write-ups' ${claimRatio(r.claim!).toFixed(1)}× (${r.claim!.label}).`,
    );
  }
  const failed = results.filter((r) =>
    [r.naive, r.innkeep].some((side) => Object.keys(side.statuses).some((code) => !code.startsWith('2'))),
  );
  for (const r of failed) {
    notes.push(
      `${r.title}: not every answer was a success (naive ${JSON.stringify(r.naive.statuses)}, Innkeep ${JSON.stringify(r.innkeep.statuses)}); its figures are not comparable.`,
    );
  }
  const mismatched = results.filter((r) => !r.sameAnswer);
  for (const r of mismatched)
    notes.push(`${r.title}: the naive and Innkeep answers differ; see the JSON for both bodies.`);

  const report: BenchReport = {
    name,
    startedAt: startedAt.toISOString(),
    durationS: (performance.now() - t0) / 1000,
    command: ['npm run bench', ...(process.argv.length > 2 ? ['--', ...process.argv.slice(2)] : [])].join(
      ' ',
    ),
    machine: {
      cpus: os.cpus().length,
      cpuModel: os.cpus()[0]?.model.trim() ?? 'unknown',
      memoryGiB: Math.round(os.totalmem() / 2 ** 30),
      os: `${os.type()} ${os.release()} ${os.arch()}`,
    },
    versions: {
      node: process.versions.node,
      fastify: packageVersion('fastify'),
      pg: packageVersion('pg'),
      postgres: await serverVersion(cluster.urlFor(AFTER)),
    },
    git,
    dataset: {
      ...dataset,
      beforeIndexesDropped: stripped.dropped.length,
      afterSecondaryIndexes: afterIndexes,
    },
    settings: {
      database: cluster.embedded ? 'embedded' : 'BENCH_DATABASE_URL',
      rounds,
      concurrency,
      reportConcurrency,
      ...timing,
    },
    ceiling: {
      rps: ceilingRps,
      byConnections: Object.fromEntries(ceilings),
      concurrency,
    },
    operations: results,
    scaling,
    notes,
  };
  const text = markdown(report);
  await mkdir(outDir, { recursive: true });
  await writeFile(join(outDir, `${name}.md`), text);
  await writeFile(join(outDir, `${name}.json`), `${JSON.stringify(report, null, 2)}\n`);
  console.log(text);
  log(`wrote ${join(outDir, name)}.md and .json`);
  if (mismatched.length > 0 || failed.length > 0) exitCode = 1;
} catch (err) {
  console.error(err);
  exitCode = 1;
} finally {
  await cleanup();
}
process.exit(exitCode);

/** Stops the servers, drops the copies and stops the embedded server; also on Ctrl-C or SIGTERM. */
async function cleanup(): Promise<void> {
  if (cleaning) return cleaning;
  cleaning = (async () => {
    for (const t of targets) t.close();
    await Promise.all(servers.map((s) => s.stop()));
    if (!values.keep) {
      await dropDatabase(cluster, BEFORE).catch(() => undefined);
      await dropDatabase(cluster, AFTER).catch(() => undefined);
    }
    await cluster.stop();
    await rm(scratch, { recursive: true, force: true });
  })();
  return cleaning;
}

function latency(): PhaseOptions {
  return { concurrency: 1, durationMs: timing.latencyMs, minRequests: timing.minLatency, maxRequests: 2000 };
}
function emptyLoad(): LoadTotals {
  return { completed: 0, elapsedMs: 0, p50s: [], statuses: {} };
}

function addLoad(totals: LoadTotals, res: LoadResult): void {
  totals.completed += res.completed;
  totals.elapsedMs += res.elapsedMs;
  totals.p50s.push(res.p50);
  for (const [code, n] of Object.entries(res.statuses))
    totals.statuses[code] = (totals.statuses[code] ?? 0) + n;
}

function clamp(v: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, Math.floor(v)));
}

/**
 * Both sides answer the same inputs in the same proportions. Reads: request 0 .. period-1 (every
 * distinct input) go to both sides first, answers and statuses compared, which also warms them up;
 * then each round sends the same index range to both sides, the slower side once and the faster one
 * repeated so that it too fills the phase. Writes cannot repeat a request (its Idempotency-Key would
 * replay), so each side takes fresh indices. Round r runs naive then Innkeep (odd rounds the other
 * way round): one request at a time for latency, then `connections` at once for throughput, always a
 * fixed number of requests, so nothing from one phase is still running in the next.
 */
async function measureOperation(
  op: Operation,
  before: Target,
  beforeUrl: string,
  after: Target,
  afterUrl: string,
  ceilings: Map<number, number>,
): Promise<OpResult> {
  const sides = [
    {
      target: before,
      url: beforeUrl,
      latency: [] as Sample[],
      load: emptyLoad(),
      warm: [] as number[],
      next: 0,
    },
    {
      target: after,
      url: afterUrl,
      latency: [] as Sample[],
      load: emptyLoad(),
      warm: [] as number[],
      next: 0,
    },
  ];
  const [n, a] = sides as [(typeof sides)[0], (typeof sides)[0]];
  let answers: { naive: string; innkeep: string; request: number } | undefined;
  const checked = op.writes ? 1 : op.period;
  for (let i = 0; i < checked; i++) {
    const rn = await n.target.send(op.request(i));
    const ra = await a.target.send(op.request(i));
    n.warm.push(rn.ms);
    a.warm.push(ra.ms);
    if (!answers && (rn.status !== ra.status || !sameBody(rn.body, ra.body, op.writes === true))) {
      answers = { naive: `${rn.status} ${rn.body}`, innkeep: `${ra.status} ${ra.body}`, request: i };
    }
  }
  for (const side of sides) {
    side.next = checked;
    // A few more, so even a single-input operation has warmed plans and connections.
    const warm = await runPhase(side.target, op.request, side.next, sequential(timing.warmup));
    side.next += op.writes ? warm.sent : 0;
    side.warm.push(...warm.samples.map((x) => x.ms));
  }
  const connections = op.id.endsWith('report') ? reportConcurrency : concurrency;
  const typical = sides.map((side) => median(side.warm));
  const slowest = Math.max(...typical);
  // Requests per round: what the slower side does in a phase, at least minLatency / one per connection.
  const perRound = clamp(timing.latencyMs / slowest, timing.minLatency, 2000);
  const perLoad = clamp((timing.loadMs / slowest) * connections, connections, 20000);
  const base = (r: number, per: number) => (op.writes ? 0 : (r * per) % Math.max(op.period, 1));
  for (let r = 0; r < rounds; r++) {
    const order = r % 2 === 0 ? sides : [...sides].reverse();
    for (const side of order) {
      const t = typical[sides.indexOf(side)]!;
      const repeat = op.writes ? 1 : clamp(timing.latencyMs / (perRound * t), 1, 50);
      const count = perRound * repeat;
      const first = op.writes ? side.next : base(r, perRound);
      const map = (k: number) => (op.writes ? first + k : first + (k % perRound));
      const res = await runPhase(side.target, (k) => op.request(map(k)), 0, sequential(count));
      if (op.writes) side.next += count;
      side.latency.push(...res.samples);
    }
    for (const side of order) {
      const t = typical[sides.indexOf(side)]!;
      // Under load the two cores serve about two requests at a time.
      const repeat = op.writes
        ? 1
        : clamp(timing.loadMs / ((perLoad * t) / Math.min(connections, 2)), 1, 100);
      const amount = perLoad * repeat;
      const first = op.writes ? side.next : base(r, perLoad);
      const map = (k: number) => (op.writes ? first + k : first + (k % perLoad));
      const res = await runLoad({ url: side.url, name: side.target.name }, (k) => op.request(map(k)), {
        connections,
        amount,
      });
      if (op.writes) side.next += amount;
      addLoad(side.load, res);
    }
  }
  const naive = sideStats(n.latency, n.load);
  const innkeep = sideStats(a.latency, a.load);
  const speedup = naive.p50 / innkeep.p50;
  return {
    id: op.id,
    title: op.title,
    ...(op.claim ? { claim: op.claim, claimMet: speedup >= claimRatio(op.claim) } : {}),
    concurrency: connections,
    inputs: checked,
    naive,
    innkeep,
    speedup,
    throughputGain: innkeep.rps / naive.rps,
    ceilingShare: innkeep.rps / (ceilings.get(connections) ?? Number.NaN),
    sameAnswer: answers === undefined,
    ...(answers ? { answers } : {}),
  };
}

function sequential(count: number): PhaseOptions {
  return { concurrency: 1, durationMs: 0, minRequests: count, maxRequests: count };
}

/** Parsed JSON equality; for writes, ids and timestamps (different rows on each side) are ignored. */
function sameBody(a: string, b: string, writes: boolean): boolean {
  try {
    const strip = (v: unknown): unknown => {
      if (Array.isArray(v)) return v.map(strip);
      if (v && typeof v === 'object') {
        return Object.fromEntries(
          Object.entries(v)
            .filter(([k]) => !writes || !(k === 'id' || k.endsWith('Id') || k.endsWith('At')))
            .map(([k, x]) => [k, strip(x)]),
        );
      }
      return v;
    };
    return isDeepStrictEqual(strip(JSON.parse(a)), strip(JSON.parse(b)));
  } catch {
    return false;
  }
}

/**
 * Innkeep's search and user bookings at each dataset size, one server per size, rounds alternating
 * between the sizes. Servers read the templates directly (these operations only read).
 */
async function measureScaling(scales: readonly SeedScale[]): Promise<ScalingPoint[]> {
  const sized: { scale: SeedScale; target: Target; ops: Operation[]; rows: Record<string, number> }[] = [];
  for (const s of scales) {
    const info = await ensureTemplate(cluster, {
      scale: s,
      seed,
      today,
      fresh: values.fresh && s !== scale,
      logger,
    });
    log(`scaling: dataset ${s} ${info.reused ? 'reused' : `seeded in ${(info.seedMs / 1000).toFixed(0)} s`}`);
    const url = cluster.urlFor(templateName(s, seed));
    const server = await startServer({
      name: `innkeep-${s}`,
      script: 'src/main.ts',
      args: ['start'],
      env: {
        NODE_ENV: 'production',
        LOG_LEVEL: 'warn',
        DATABASE_URL: url,
        JWT_SECRET: jwtSecret,
        INNKEEP_DATA_DIR: scratch,
        DB_SEED_ON_EMPTY: 'none',
        DB_MIGRATE_ON_START: 'false',
      },
      readyPath: '/healthz',
    });
    servers.push(server);
    const target = new Target(`innkeep-${s}`, server.url);
    targets.push(target);
    const fixture = await loadFixture(url);
    sized.push({
      scale: s,
      target,
      ops: operations(fixture, jwtSecret, runId).filter((o) =>
        (SCALING_OPS as readonly string[]).includes(o.id),
      ),
      rows: { hotels: info.counts.hotels ?? 0, bookings: info.counts.bookings ?? 0 },
    });
  }
  const points: ScalingPoint[] = [];
  for (const id of SCALING_OPS) {
    const samples = new Map<SeedScale, Sample[]>(sized.map((x) => [x.scale, []]));
    const next = new Map<SeedScale, number>(sized.map((x) => [x.scale, 0]));
    for (const x of sized) {
      const op = x.ops.find((o) => o.id === id)!;
      const warm = await runPhase(x.target, op.request, 0, {
        concurrency: 1,
        durationMs: 0,
        minRequests: 5,
        maxRequests: 5,
      });
      next.set(x.scale, warm.sent);
    }
    for (let r = 0; r < rounds; r++) {
      const order = r % 2 === 0 ? sized : [...sized].reverse();
      for (const x of order) {
        const op = x.ops.find((o) => o.id === id)!;
        const res = await runPhase(x.target, op.request, next.get(x.scale)!, latency());
        next.set(x.scale, next.get(x.scale)! + res.sent);
        samples.get(x.scale)!.push(...res.samples);
      }
    }
    for (const x of sized) {
      const ms = samples.get(x.scale)!.map((s) => s.ms);
      points.push({
        scale: x.scale,
        op: id,
        rows: x.rows,
        p50: percentile(ms, 0.5),
        p95: percentile(ms, 0.95),
        p99: percentile(ms, 0.99),
        queries: percentile(
          samples.get(x.scale)!.map((s) => s.queries),
          0.5,
        ),
      });
    }
    log(
      `scaling ${id}: ${points
        .filter((p) => p.op === id)
        .map((p) => `${p.scale} ${p.p50.toFixed(2)} ms`)
        .join(', ')}`,
    );
  }
  return points;
}

function packageVersion(pkg: string): string {
  try {
    return (
      JSON.parse(readFileSync(join(ROOT, 'node_modules', pkg, 'package.json'), 'utf8')) as { version: string }
    ).version;
  } catch {
    return 'unknown';
  }
}

async function serverVersion(url: string): Promise<string> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (
      (await client.query<{ v: string }>("SELECT current_setting('server_version') AS v")).rows[0]?.v ??
      'unknown'
    );
  } finally {
    await client.end();
  }
}

function gitState(): { commit: string; dirty: boolean } {
  try {
    const commit = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim();
    const status = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], {
      cwd: ROOT,
      encoding: 'utf8',
    });
    return { commit, dirty: status.trim().length > 0 };
  } catch {
    return { commit: 'unknown', dirty: false };
  }
}
