// `npm run bench`: naive code on a keys-only schema ("before") against Innkeep on the real schema
// ("after"), same dataset, through HTTP, alternating in one run. See README "Benchmarks".
//
//   npm run bench                     medium dataset + scaling curve (small/medium/large), < 20 min
//   npm run bench -- --quick          small dataset, fewer rounds, no scaling curve, < 3 min
//   npm run bench -- --only search,detail --rounds 5 --concurrency 16 --name my-run
//   npm run bench -- --cache none     without the cache rows (bench/lib/cache-phase.ts; alone: npm run bench:cache)
//
// BENCH_DATABASE_URL: run on that PostgreSQL server (its role must be allowed to CREATE DATABASE)
// instead of an embedded one kept under .innkeep/bench (seeded templates are reused the same day).
//
// The steps live in bench/lib: options, run-context (server, cleanup), prepare (datasets),
// bench-servers, phases (ceiling), compare (one operation), cache-phase (the cache rows, written to
// <name>-cache.md, or cache.md for the default run), scaling, results (report files). A new row of the
// table is a new operation in bench/lib/ops.ts.
import { join } from 'node:path';
import { startComparedServers } from './lib/bench-servers.ts';
import { runCacheRows } from './lib/cache-phase.ts';
import type { CacheReport } from './lib/cache-report.ts';
import { cacheFailures } from './lib/cache-report.ts';
import { measureOperation } from './lib/compare.ts';
import { loadFixture, operations } from './lib/ops.ts';
import { parseBenchArgs } from './lib/options.ts';
import { measureCeilings } from './lib/phases.ts';
import { prepareDatasets } from './lib/prepare.ts';
import type { OpResult } from './lib/report.ts';
import { buildReport, findings, writeReport } from './lib/results.ts';
import { type BenchRun, closeRun, openRun } from './lib/run-context.ts';
import { measureScaling } from './lib/scaling.ts';

/** Runs every phase; the exit code: 1 when an operation failed or the two sides answered differently. */
async function bench(run: BenchRun): Promise<number> {
  const { options, log } = run;
  log(`database server: ${run.cluster.target}`);
  const prepared = await prepareDatasets(run);
  const servers = await startComparedServers(run, prepared);

  const fixture = await loadFixture(prepared.afterUrl);
  let ops = operations(fixture, run.jwtSecret, run.runId);
  if (options.only) ops = ops.filter((o) => options.only!.includes(o.id));

  const ceilings = await measureCeilings(
    servers.hello,
    {
      connections: [options.concurrency, options.reportConcurrency],
      rounds: options.rounds,
      timing: options.timing,
    },
    log,
  );

  const results: OpResult[] = [];
  for (const op of ops) {
    const last = await measureOperation(op, servers.naive, servers.innkeep, ceilings, options);
    results.push(last);
    log(
      `${op.id}: p50 ${last.naive.p50.toFixed(1)} → ${last.innkeep.p50.toFixed(1)} ms (${last.speedup.toFixed(1)}×), ` +
        `${last.naive.rps.toFixed(0)} → ${last.innkeep.rps.toFixed(0)} req/s, SQL ${last.naive.queries} → ${last.innkeep.queries}`,
    );
  }

  // After every operation (the load tests book rooms in the "after" copy), before the scaling curve.
  let cache: CacheReport | undefined;
  if (options.cache) {
    cache = await runCacheRows(
      run,
      { info: prepared.dataset, afterUrl: prepared.afterUrl },
      { afterUrl: prepared.afterUrl, fixture, uncached: servers.innkeep, hello: servers.hello, ceilings },
    );
  }

  const scalingScales = options.scalingScales;
  const scaling = scalingScales.length > 0 ? await measureScaling(run, scalingScales) : [];
  const { notes, failed, mismatched } = findings(results, scalingScales.length === 0);
  const report = await buildReport(run, prepared, { ceilings, operations: results, scaling, notes, cache });
  const text = await writeReport(options.outDir, report);
  console.log(text);
  log(`wrote ${join(options.outDir, options.name)}.md and .json`);
  const cacheFailed = cache ? cacheFailures(cache) : [];
  for (const failure of cacheFailed) log(`cache: ${failure}`);
  return mismatched.length > 0 || failed.length > 0 || cacheFailed.length > 0 ? 1 : 0;
}

const options = parseBenchArgs(process.argv.slice(2));
const run = await openRun(options);
let exitCode = 1;
try {
  exitCode = await bench(run);
} catch (err) {
  console.error(err);
  exitCode = 1;
} finally {
  await closeRun(run);
}
process.exit(exitCode);
