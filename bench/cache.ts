// `npm run bench:cache`: the cache rows of `npm run bench` alone (bench/lib/cache-phase.ts), on a copy
// of the same dataset, against the same uncached Innkeep and hello world. See README "Benchmarks".
//
//   npm run bench:cache                      medium dataset, 3 rounds, 10 + 30 s load tests (~6 min)
//   npm run bench:cache -- --quick           small dataset, 2 short rounds, 5 + 10 s load tests (~2 min)
//   npm run bench:cache -- --redis none      memory only (no L1+L2 rows, no Redis memory row)
//   npm run bench:cache -- --cache-profile   also a V8 profile of a cached read
//
// Takes `npm run bench`'s options (--scale, --rounds, --phase-ms, --out, --name, --redis, --load-s,
// --load-warmup-s); writes <out>/cache.md and .json (<name>-cache with --quick or --name).

import type { Endpoint } from './lib/bench-servers.ts';
import { runCacheRows } from './lib/cache-phase.ts';
import { cacheFailures, cacheMarkdown } from './lib/cache-report.ts';
import { AFTER_DB, cloneDatabase, ensureTemplate, templateName } from './lib/datasets.ts';
import { Target } from './lib/measure.ts';
import { loadFixture } from './lib/ops.ts';
import { parseBenchArgs } from './lib/options.ts';
import { measureCeilings } from './lib/phases.ts';
import { type BenchRun, closeRun, openRun } from './lib/run-context.ts';
import { startServer } from './lib/servers.ts';

async function benchCache(run: BenchRun): Promise<number> {
  const { options, log } = run;
  if (!options.cache) throw new Error('bench:cache with --cache none measures nothing');
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
  // The load tests book rooms: a copy, as `npm run bench`'s "after".
  await cloneDatabase(run.cluster, templateName(options.scale, options.seed), AFTER_DB);
  const afterUrl = run.cluster.urlFor(AFTER_DB);
  const [hello, innkeep] = await Promise.all([
    startServer({ name: 'hello', script: 'bench/hello-server.ts', env: {}, readyPath: '/healthz' }),
    startServer({
      name: 'innkeep',
      script: 'src/main.ts',
      args: ['start'],
      env: {
        NODE_ENV: 'production',
        LOG_LEVEL: 'warn',
        DATABASE_URL: afterUrl,
        JWT_SECRET: run.jwtSecret,
        // One load generator is one client address (the limiter's cost: bench/lib/rate-limit-phase.ts).
        RATE_LIMIT_ENABLED: 'false',
        INNKEEP_DATA_DIR: run.scratch,
        DB_SEED_ON_EMPTY: 'none',
        CACHE_ENABLED: 'false',
      },
      readyPath: '/ready',
    }),
  ]);
  run.servers.push(hello, innkeep);
  const endpoint = (s: { name: string; url: string; pid: number }): Endpoint => {
    const target = new Target(s.name, s.url, 512);
    run.targets.push(target);
    return { name: s.name, url: s.url, target, pid: s.pid };
  };
  const helloEndpoint = endpoint(hello);
  const ceilings = await measureCeilings(
    helloEndpoint,
    { connections: [options.concurrency], rounds: options.rounds, timing: options.timing },
    log,
  );
  const fixture = await loadFixture(afterUrl);
  const report = await runCacheRows(
    run,
    { info, afterUrl },
    { afterUrl, fixture, uncached: endpoint(innkeep), hello: helloEndpoint, ceilings },
  );
  console.log(cacheMarkdown(report));
  const failures = cacheFailures(report);
  for (const failure of failures) log(`cache: ${failure}`);
  return failures.length > 0 ? 1 : 0;
}

const options = parseBenchArgs(process.argv.slice(2));
const run = await openRun(options);
let exitCode = 1;
try {
  exitCode = await benchCache(run);
} catch (err) {
  console.error(err);
  exitCode = 1;
} finally {
  await closeRun(run);
}
process.exit(exitCode);
