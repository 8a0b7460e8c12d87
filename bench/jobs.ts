// `npm run bench:jobs`: what the job queue costs and gives (about 2.5 minutes, plus seeding once a day).
// Writes bench/results/jobs.md and .json (or --out DIR, --name NAME for NAME.md and NAME.json).
//
//   1. a booking with its confirmation e-mail sent inside the request vs Innkeep's transactional
//      enqueue, against local SMTP servers answering after --smtp-delay-ms (bench/lib/jobs-email-phase.ts)
//   2. what the enqueue costs inside the booking transaction, per driver (bench/lib/jobs-enqueue-phase.ts)
//   3. jobs per second per driver: enqueue only, a backlog drained, end to end (bench/lib/jobs-throughput-phase.ts)
//   4. the e-mail rate limit as the SMTP server sees it, per driver (bench/lib/jobs-rate-phase.ts)
//
//   npm run bench:jobs
//   npm run bench:jobs -- --rounds 6 --connections 16 --bookings 80 --smtp-delay-ms 2000 --jobs 5000
//   npm run bench:jobs -- --drivers pgboss          (no Redis: BullMQ is skipped, and said so, anyway)
//   npm run bench:jobs -- --only enqueue,rate       (rows: email, enqueue, throughput, rate)
//
// The database: a copy of the bench's small template (seed 42; BENCH_DATABASE_URL or the embedded
// PostgreSQL under .innkeep/bench, as for npm run bench), dropped at the end unless --keep. BullMQ
// runs on REDIS_URL (default redis://127.0.0.1:6379) under prefixes unique to the run, deleted after.
// Exit code 1 when a goal is short. The BullMQ driver logs "relation …innkeep_outbox does not exist"
// once per fresh namespace: its outbox relay's first pass runs before JobQueue.start() has created
// the queue's tables (the next pass, a second later, finds them).
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { redisUnreachable } from '../test/support/redis-server.ts';
import {
  cloneDatabase,
  DB_PREFIX,
  dropDatabase,
  ensureTemplate,
  openBenchCluster,
  templateName,
} from './lib/datasets.ts';
import {
  BookingInputs,
  benchLogger,
  type DriverKind,
  dropBullmqKeys,
  type JobsContext,
  type JobsOptions,
  type JobsPhase,
} from './lib/jobs-context.ts';
import { emailInRequestPhase } from './lib/jobs-email-phase.ts';
import { enqueueCostPhase } from './lib/jobs-enqueue-phase.ts';
import { rateLimitPhase } from './lib/jobs-rate-phase.ts';
import { type JobsReport, type JobsRow, jobsMarkdown } from './lib/jobs-report.ts';
import { throughputPhase } from './lib/jobs-throughput-phase.ts';
import { loadFixture } from './lib/ops.ts';

const ROOT = join(import.meta.dirname, '..');
const WORK_DB = `${DB_PREFIX}_jobs`;
const REDIS = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

const args = process.argv.slice(2);
const { values } = parseArgs({
  args,
  options: {
    rounds: { type: 'string', default: '4' },
    connections: { type: 'string', default: '8' },
    bookings: { type: 'string', default: '40' },
    'smtp-delay-ms': { type: 'string', default: '200' },
    'enqueue-rounds': { type: 'string', default: '12' },
    jobs: { type: 'string', default: '2000' },
    producers: { type: 'string', default: '8' },
    'process-s': { type: 'string', default: '20' },
    burst: { type: 'string', default: '60' },
    drivers: { type: 'string', default: 'pgboss,bullmq' },
    only: { type: 'string', default: 'email,enqueue,throughput,rate' },
    out: { type: 'string', default: join(ROOT, 'bench/results') },
    name: { type: 'string', default: 'jobs' },
    keep: { type: 'boolean', default: false },
  },
});
const whole = (name: string, min: number) => {
  const v = Number(values[name as keyof typeof values]);
  if (!Number.isInteger(v) || v < min) throw new Error(`--${name} must be a whole number ≥ ${min}`);
  return v;
};
const requested = String(values.drivers)
  .split(',')
  .map((d) => d.trim())
  .filter(Boolean);
for (const d of requested)
  if (d !== 'pgboss' && d !== 'bullmq') throw new Error(`--drivers: unknown driver ${d}`);
const PHASES: Record<string, JobsPhase> = {
  email: emailInRequestPhase,
  enqueue: enqueueCostPhase,
  throughput: throughputPhase,
  rate: rateLimitPhase,
};
const only = String(values.only)
  .split(',')
  .map((p) => p.trim())
  .filter(Boolean);
for (const p of only)
  if (!(p in PHASES)) throw new Error(`--only: unknown row ${p} (${Object.keys(PHASES).join(', ')})`);
const skipped: string[] = [];
let drivers = requested as DriverKind[];
if (drivers.includes('bullmq')) {
  const reason = await redisUnreachable(REDIS);
  if (reason) {
    drivers = drivers.filter((d) => d !== 'bullmq');
    skipped.push(`the BullMQ rows: Redis does not answer at ${REDIS} (${reason}).`);
  }
}
const options: JobsOptions = {
  rounds: whole('rounds', 1),
  connections: whole('connections', 1),
  bookings: whole('bookings', 1),
  smtpDelayMs: whole('smtp-delay-ms', 0),
  enqueueRounds: whole('enqueue-rounds', 1),
  jobs: whole('jobs', 1),
  producers: whole('producers', 1),
  processS: whole('process-s', 1),
  burst: whole('burst', 2),
  drivers,
};

const started = Date.now();
const loadAtStart = os.loadavg();
const logger = benchLogger();
const log = (line: string) =>
  console.error(`[bench:jobs ${((Date.now() - started) / 1000).toFixed(0)}s] ${line}`);
const commit = gitCommit();
const runId = `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
const cluster = await openBenchCluster(process.env.BENCH_DATABASE_URL, join(ROOT, '.innkeep/bench'), logger);
const scratch = await mkdtemp(join(os.tmpdir(), 'innkeep-jobs-bench-'));
const namespaces: string[] = [];
let cleaned: Promise<void> | undefined;
const cleanup = () => {
  cleaned ??= (async () => {
    for (const ns of namespaces) await dropBullmqKeys(REDIS, ns).catch(() => undefined);
    if (!values.keep) await dropDatabase(cluster, WORK_DB).catch(() => undefined);
    await cluster.stop();
    await rm(scratch, { recursive: true, force: true });
  })();
  return cleaned;
};
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    console.error(`[bench:jobs] ${signal}: stopping, dropping the work database`);
    void cleanup().finally(() => process.exit(130));
  });
}

const rows: JobsRow[] = [];
try {
  const today = new Date().toISOString().slice(0, 10);
  const dataset = await ensureTemplate(cluster, { scale: 'small', seed: 42, today, fresh: false, logger });
  log(`dataset small: ${dataset.reused ? 'reused today’s template' : 'seeded'}`);
  await cloneDatabase(cluster, templateName('small', 42), WORK_DB);
  const databaseUrl = cluster.urlFor(WORK_DB);
  const jwtSecret = randomBytes(32).toString('base64url');
  const fixture = await loadFixture(databaseUrl);
  const ctx: JobsContext = {
    options,
    databaseUrl,
    redisUrl: REDIS,
    jwtSecret,
    scratch,
    bookings: new BookingInputs(fixture, jwtSecret, runId),
    logger,
    namespace(label) {
      const ns = `bj_${runId}_${label}`
        .toLowerCase()
        .replace(/[^a-z0-9_]/g, '_')
        .slice(0, 41);
      namespaces.push(ns);
      return ns;
    },
    log,
  };
  for (const id of only) rows.push(...(await (PHASES[id] as JobsPhase)(ctx)));
  const cpu = os.cpus();
  const report: JobsReport = {
    startedAt: new Date(started).toISOString(),
    command: `npm run bench:jobs${args.length ? ` -- ${args.join(' ')}` : ''}`,
    commit,
    seconds: (Date.now() - started) / 1000,
    machine: `${cpu.length} × ${cpu[0]?.model.trim() ?? 'cpu'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.versions.node}, PostgreSQL ${cluster.embedded ? 'embedded' : cluster.target}; load average ${loadAtStart.map((l) => l.toFixed(2)).join(' ')} at the start, ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')} at the end`,
    settings: {
      dataset: 'small, seed 42',
      rounds: options.rounds,
      connections: options.connections,
      'bookings per side per round': options.bookings,
      'SMTP delay ms': options.smtpDelayMs,
      'enqueue rounds': options.enqueueRounds,
      jobs: options.jobs,
      producers: options.producers,
      'process cap s': options.processS,
      burst: options.burst,
      drivers: options.drivers.join(' + ') || 'none',
      'bookings made': ctx.bookings.taken,
    },
    rows,
    skipped,
  };
  const markdown = jobsMarkdown(report);
  await mkdir(values.out, { recursive: true });
  await writeFile(join(values.out, `${values.name}.json`), `${JSON.stringify(report, null, 2)}\n`);
  await writeFile(join(values.out, `${values.name}.md`), markdown);
  console.log(markdown);
} finally {
  await cleanup();
}
process.exit(rows.some((r) => r.goal && !r.goal.met) ? 1 : 0);

function gitCommit(): string {
  try {
    const head = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim();
    const dirty =
      execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], {
        cwd: ROOT,
        encoding: 'utf8',
      }).trim() !== '';
    return dirty ? `${head} (dirty)` : head;
  } catch {
    return 'unknown';
  }
}
