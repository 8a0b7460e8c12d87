// `npm run bench:report`: the admin bookings report over the last 365 days read live (every booking
// of the range aggregated per request) vs from booking_daily_stats (the closed days the nightly
// `aggregate-booking-stats` job wrote, the open days live), on a copy of the bench's dataset.
//
//   npm run bench:report                       medium dataset (seeds it the first run of a day), 3 rounds
//   npm run bench:report -- --scale small --rounds 2
//
// Per round and groupBy (day, hotel, city) the two sides alternate: "live" empties the statistics
// tables, "stats" backfills them with the job's own function (its duration is reported too); each
// side then answers the same request `--requests N` times in a row (default 5) through the real route
// (app.inject: no network). The answers of both sides must be identical. Writes
// `<out>/report-stats.md` and `.json` (default bench/results).

import { mkdir, writeFile } from 'node:fs/promises';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { ACCESS_TOKEN_ISSUER } from '../src/app/auth/auth-service.ts';
import { buildApp } from '../src/app/build-app.ts';
import { aggregateDailyBookingStats } from '../src/app/maintenance/booking-daily-stats.ts';
import { loadConfig } from '../src/platform/config/index.ts';
import { JwtSigner } from '../src/platform/security/index.ts';
import { cloneDatabase, DB_PREFIX, dropDatabase, ensureTemplate, templateName } from './lib/datasets.ts';
import { parseBenchArgs } from './lib/options.ts';
import { closeRun, openRun } from './lib/run-context.ts';

const GROUPS = ['day', 'hotel', 'city'] as const;
const REPORT_DB = `${DB_PREFIX}_report`;

const argv = process.argv.slice(2);
const requestsAt = argv.indexOf('--requests');
const REQUESTS = requestsAt >= 0 ? Number(argv.splice(requestsAt, 2)[1]) : 5;
if (!Number.isInteger(REQUESTS) || REQUESTS < 1) throw new Error('--requests takes a positive integer');
const options = parseBenchArgs(argv);

const sorted = (xs: readonly number[]) => [...xs].sort((a, b) => a - b);
const pct = (xs: readonly number[], p: number) => {
  const s = sorted(xs);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)] ?? Number.NaN;
};
const addDays = (day: string, n: number) => {
  const d = new Date(`${day}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + n);
  return d.toISOString().slice(0, 10);
};

const run = await openRun(options);
let exitCode = 0;
try {
  const { log } = run;
  log(`database server: ${run.cluster.target}`);
  const info = await ensureTemplate(run.cluster, {
    scale: options.scale,
    seed: options.seed,
    today: run.today,
    fresh: options.fresh,
    logger: run.logger,
  });
  log(
    `dataset ${options.scale}: ${info.reused ? 'reused today’s template' : `seeded in ${(info.seedMs / 1000).toFixed(0)} s`}`,
  );
  await cloneDatabase(run.cluster, templateName(options.scale, options.seed), REPORT_DB);
  const config = loadConfig({
    env: {
      NODE_ENV: 'production',
      LOG_LEVEL: 'silent',
      DATABASE_URL: run.cluster.urlFor(REPORT_DB),
      JWT_SECRET: run.jwtSecret,
      INNKEEP_DATA_DIR: run.scratch,
      DB_SEED_ON_EMPTY: 'none',
      CACHE_ENABLED: 'false',
      RATE_LIMIT_ENABLED: 'false',
      ROLE: 'api',
      METRICS_ENABLED: 'false',
    },
    envFile: false,
  });
  const app = await buildApp(config);
  try {
    const db = app.innkeep.db;
    const admin = await db.pool.query<{ id: number }>(`SELECT min(id) AS id FROM users WHERE role = 'admin'`);
    const token = new JwtSigner(run.jwtSecret, { issuer: ACCESS_TOKEN_ISSUER }).sign(
      { sub: String(admin.rows[0]!.id), role: 'admin' },
      3600,
    );
    const { rows: counted } = await db.pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM bookings WHERE start_date BETWEEN current_date - 365 AND current_date`,
    );
    log(`bookings starting in the range: ${counted[0]!.n}`);
    const from = addDays(run.today, -365);
    const url = (groupBy: string) =>
      `/api/admin/reports/bookings?from=${from}&to=${run.today}&groupBy=${groupBy}`;
    const ask = async (groupBy: string) => {
      const t = performance.now();
      const res = await app.inject({ url: url(groupBy), headers: { authorization: `Bearer ${token}` } });
      const ms = performance.now() - t;
      if (res.statusCode !== 200) throw new Error(`${url(groupBy)}: ${res.statusCode} ${res.body}`);
      return { ms, body: res.body };
    };
    const live = async () => {
      await db.pool.query('DELETE FROM booking_stats_days');
      await db.pool.query('DELETE FROM booking_daily_stats');
    };
    const aggregateMs: number[] = [];
    const stats = async () => {
      await live();
      const t = performance.now();
      await aggregateDailyBookingStats(db, { days: 400 });
      aggregateMs.push(performance.now() - t);
      await db.pool.query('ANALYZE booking_daily_stats');
    };
    const samples: Record<string, { live: number[]; stats: number[] }> = {};
    const mismatches: string[] = [];
    for (const g of GROUPS) samples[g] = { live: [], stats: [] };
    for (let round = 0; round < options.rounds; round++) {
      const order = round % 2 === 0 ? (['live', 'stats'] as const) : (['stats', 'live'] as const);
      const bodies: Record<string, Record<string, string>> = { live: {}, stats: {} };
      for (const side of order) {
        await (side === 'live' ? live() : stats());
        for (const g of GROUPS) {
          await ask(g); // the first answer warms the plan and the pages; not counted
          for (let i = 0; i < REQUESTS; i++) {
            const { ms, body } = await ask(g);
            samples[g]![side].push(ms);
            bodies[side]![g] = body;
          }
        }
      }
      for (const g of GROUPS)
        if (bodies.live![g] !== bodies.stats![g]) mismatches.push(`round ${round} ${g}`);
      log(`round ${round + 1}/${options.rounds} done`);
    }
    const rows = GROUPS.map((g) => {
      const s = samples[g]!;
      const liveP50 = pct(s.live, 50);
      const statsP50 = pct(s.stats, 50);
      return {
        groupBy: g,
        samples: s.live.length,
        live: { p50: liveP50, p95: pct(s.live, 95) },
        stats: { p50: statsP50, p95: pct(s.stats, 95) },
        ratio: liveP50 / statsP50,
      };
    });
    const result = {
      name: 'report-stats',
      startedAt: run.startedAt.toISOString(),
      git: run.git,
      machine: { cpus: cpus().length, memGiB: Math.round(totalmem() / 2 ** 30), loadavg: loadavg() },
      database: run.cluster.target,
      dataset: {
        scale: options.scale,
        seed: options.seed,
        counts: info.counts,
        bookingsInRange: counted[0]!.n,
      },
      rounds: options.rounds,
      requestsPerSide: REQUESTS,
      aggregateMs: { p50: pct(aggregateMs, 50), max: Math.max(...aggregateMs) },
      rows,
      mismatches,
    };
    const md = [
      '# Bookings report: live vs booking_daily_stats',
      '',
      `\`npm run bench:report -- --scale ${options.scale} --rounds ${options.rounds}\` at ${result.startedAt}, commit ${run.git.commit.slice(0, 10)}${run.git.dirty ? ' (dirty)' : ''}; ${result.machine.cpus} CPUs, load average ${loadavg()
        .map((l) => l.toFixed(1))
        .join(' ')}; ${run.cluster.target}.`,
      '',
      `\`GET /api/admin/reports/bookings\` over the last 365 days (${counted[0]!.n.toLocaleString('en')} bookings start in it), ${REQUESTS} requests per side, group and round, sides alternated per round; every answer identical on both sides: ${mismatches.length === 0 ? 'yes' : `NO (${mismatches.join(', ')})`}.`,
      '',
      '| groupBy | live p50 | live p95 | from the statistics p50 | p95 | live / statistics (p50) |',
      '|---|---|---|---|---|---|',
      ...rows.map(
        (r) =>
          `| ${r.groupBy} | ${r.live.p50.toFixed(1)} ms | ${r.live.p95.toFixed(1)} ms | ${r.stats.p50.toFixed(1)} ms | ${r.stats.p95.toFixed(1)} ms | ${r.ratio.toFixed(1)}× |`,
      ),
      '',
      `The job's backfill of 400 days (what \`aggregate-booking-stats\` does for 2 days each night): p50 ${(result.aggregateMs.p50 / 1000).toFixed(2)} s.`,
      '',
    ].join('\n');
    await mkdir(options.outDir, { recursive: true });
    await writeFile(join(options.outDir, 'report-stats.json'), `${JSON.stringify(result, null, 2)}\n`);
    await writeFile(join(options.outDir, 'report-stats.md'), md);
    process.stdout.write(md);
    if (mismatches.length > 0) exitCode = 1;
  } finally {
    await app.close();
  }
  if (!options.keep) await dropDatabase(run.cluster, REPORT_DB);
} finally {
  await closeRun(run);
}
process.exitCode = exitCode;
