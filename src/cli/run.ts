// The CLI's commands (`innkeep start`, `db migrate`, ...), run by src/main.ts once tracing is set up.
import { buildApp, listenInternal, MIGRATIONS_DIR } from '../app/build-app.ts';
import { isDatabaseEmpty, resetDemoData, seedDatabase } from '../app/seed/seed.ts';
import {
  type Config,
  ConfigError,
  configMarkdownTable,
  loadConfig,
  SEED_SCALES,
  type SeedScale,
} from '../platform/config/index.ts';
import { openDatabase, runMigrations } from '../platform/db/index.ts';
import { installSignalHandlers, watchParentExit } from '../platform/http/index.ts';
import type { Tracing } from '../platform/observability/index.ts';
import { cacheClearCommand, cacheStatsCommand } from './cache.ts';
import { parseCommandLine } from './command-line.ts';
import { cliLogger } from './logger.ts';
import { analyzeQueriesCommand, checkIndexesCommand, planFlagOptions } from './perf.ts';
import { progressReporter } from './progress.ts';
import { queueCleanCommand, queueRetryCommand, queueStatsCommand } from './queues.ts';
import { createAdminCommand, createAdminInput } from './users.ts';

const USAGE = `Usage: innkeep <command> [options]

Commands:
  start                         Start the API (default). Migrates, seeds demo data into an empty database.
                                With ROLE=all (the default) it also runs the background jobs.
  worker                        Run background jobs only (ROLE=worker): no public listener, the
                                internal one (health, metrics) only. SIGTERM drains running jobs.
  db migrate                    Apply pending migrations and exit.
  db seed [--scale S] [--seed N] [--reset]
                                Load demo data: S = small (default) | medium | large. --reset empties
                                the domain tables first (destroys data).
  users create-admin --email E [--name N] [--password P | --password-stdin]
                                Create an admin account, or promote an existing one (N is for new
                                accounts; the password is kept unless given, and replacing it signs
                                the account's sessions out). A new account without a password gets
                                a generated one, printed once. Prefer --password-stdin: a --password
                                argument is visible in the process list and shell history.
  perf analyze-queries [--json] [--seq-scan-rows N] [--estimate-factor F]
                                EXPLAIN ANALYZE every named statement with parameters from the data
                                (writes in transactions that are rolled back); flags sequential scans
                                of tables with >= N rows (10000) and row estimates off by > F x (10).
  perf check-indexes [--json]   Index sizes and scans, unused and duplicate indexes, unindexed foreign
                                keys, and whether each named statement's plan uses its expected
                                indexes. Exit 1 on a regression, a missing or duplicate index or an
                                unaccepted unindexed foreign key.
  cache stats [--json]          The running app's cache figures per namespace: hit rate, L1/L2 hits,
                                misses, stale answers, coalesced, errors, evictions, entries, bytes.
  cache clear [--tag T | --namespace N]
                                Invalidate entries tagged T (e.g. hotel:42), or one namespace, or
                                (neither) everything, on every instance. Both ask the running app on
                                its internal listener (METRICS_HOST:METRICS_PORT).
  queues stats [--json]         Every job queue's waiting, running, delayed, completed, failed and dead
                                jobs, oldest waiting job and throughput (asks the running app).
  queues retry <queue>          Put a queue's failed jobs back to waiting.
  queues clean <queue> [--older-than-s S]
                                Delete a queue's finished jobs older than S seconds (3600).
  config [--markdown]           Print the configuration variables.
  help                          Show this text.

Configuration comes from environment variables (and ./.env); see README.md.`;

/**
 * Started by an npm script (`npm start`): npm sets npm_lifecycle_event for the scripts it runs. Not
 * a setting, so not in the config: how this process was launched.
 */
const runByNpm = process.env.npm_lifecycle_event !== undefined;

export interface CliContext {
  /** Tracing, when src/main.ts started it (only for `start`, with an OTLP endpoint configured). */
  readonly tracing?: Tracing | undefined;
}

async function main(argv: string[], cli: CliContext): Promise<number> {
  let parsed: ReturnType<typeof parseCommandLine>;
  try {
    parsed = parseCommandLine(argv);
  } catch (err) {
    // An unknown option or a missing value is a usage error (exit 2), not a crash. Never echo a value.
    const code = (err as { code?: string }).code ?? '';
    if (code.startsWith('ERR_PARSE_ARGS')) return usageError((err as Error).message);
    throw err;
  }
  const { positionals, values } = parsed;
  const [command = 'start', sub] = positionals;
  if (values.help || command === 'help') {
    console.log(USAGE);
    return 0;
  }
  if (command === 'config') {
    console.log(values.markdown ? configMarkdownTable() : USAGE);
    return 0;
  }
  const config = loadConfig();
  if (command === 'start') return start(config, cli.tracing);
  if (command === 'worker') return start({ ...config, role: 'worker' }, cli.tracing);
  if (command === 'db' && sub === 'migrate') return migrate(config);
  if (command === 'db' && sub === 'seed') {
    const scale = values.scale as SeedScale;
    const seed = Number(values.seed);
    if (!SEED_SCALES.includes(scale)) return usageError(`--scale must be one of ${SEED_SCALES.join(', ')}`);
    if (!Number.isInteger(seed) || seed < 0 || seed > 2 ** 31 - 1)
      return usageError('--seed must be a whole number');
    return seedCommand(config, scale, seed, values.reset);
  }
  if (command === 'users' && sub === 'create-admin') {
    const input = await createAdminInput({
      email: values.email,
      name: values.name,
      password: values.password,
      passwordStdin: values['password-stdin'],
    });
    if (typeof input === 'string') return usageError(input);
    if (values.password !== undefined) {
      console.error(
        'warning: --password is visible in the process list and shell history; prefer --password-stdin',
      );
    }
    return createAdminCommand(config, input);
  }
  if (command === 'perf' && sub === 'analyze-queries') {
    const options = planFlagOptions({
      seqScanRows: values['seq-scan-rows'],
      estimateFactor: values['estimate-factor'],
    });
    if (typeof options === 'string') return usageError(options);
    return analyzeQueriesCommand(config, options, values.json);
  }
  if (command === 'perf' && sub === 'check-indexes') return checkIndexesCommand(config, values.json);
  if (command === 'cache' && sub === 'stats') return cacheStatsCommand(config, values.json);
  if (command === 'cache' && sub === 'clear') return cacheClearCommand(config, values.tag, values.namespace);
  const queueName = positionals[2];
  if (command === 'queues' && sub === 'stats') return queueStatsCommand(config, values.json);
  if (command === 'queues' && sub === 'retry') return queueRetryCommand(config, queueName);
  if (command === 'queues' && sub === 'clean')
    return queueCleanCommand(config, queueName, values['older-than-s']);
  return usageError(`Unknown command: ${positionals.join(' ')}`);
}

async function start(config: Config, tracing: Tracing | undefined): Promise<number> {
  const logger = cliLogger(config);
  const app = await buildApp(config, { logger, deferReady: true, ...(tracing ? { tracing } : {}) });
  const requestShutdown = installSignalHandlers(app, app.innkeep.lifecycle, {
    drainDelayMs: config.http.shutdownDrainDelayMs,
    // A worker's drain (WORKER_SHUTDOWN_TIMEOUT_MS) must fit inside the shutdown bound.
    timeoutMs:
      config.role === 'api'
        ? config.http.shutdownTimeoutMs
        : Math.max(config.http.shutdownTimeoutMs, config.queue.shutdownTimeoutMs + 5_000),
  });
  if (runByNpm) {
    // With a process-group signal (systemd, Ctrl-C) npm's shell dies beside us while we already
    // drain: the trigger then does nothing, so the drain is not cut short.
    watchParentExit(() => {
      logger.warn('npm, which started Innkeep, exited: shutting down (if no signal did already)');
      requestShutdown('npm exited');
    });
  }
  const { db } = app.innkeep;
  const workerOnly = config.role === 'worker';
  if (!workerOnly && config.db.seedOnEmpty !== 'none' && (await isDatabaseEmpty(db.pool))) {
    logger.info({ scale: config.db.seedOnEmpty }, 'empty database: loading demo data');
    await seed(db.pool, config.db.seedOnEmpty, 42);
  }
  let internalAddress: string;
  let address: string;
  let listening = 'METRICS_PORT';
  try {
    internalAddress = await listenInternal(app);
    listening = 'PORT';
    address = workerOnly
      ? internalAddress
      : await app.listen({ host: config.http.host, port: config.http.port });
  } catch (err) {
    // Stops the embedded PostgreSQL too, or its child process would keep this one alive.
    await app.close();
    if ((err as { code?: string }).code === 'EADDRINUSE') {
      const port = listening === 'PORT' ? config.http.port : config.metrics.port;
      throw new ConfigError([
        {
          variable: listening,
          value: String(port),
          message: 'the port is in use; pick another (0 picks a free one)',
        },
      ]);
    }
    throw err;
  }
  app.innkeep.lifecycle.markReady();
  if (workerOnly) {
    logger.info(
      { internal: internalAddress, database: db.target, driver: app.innkeep.jobs.driver },
      'Innkeep worker is running',
    );
    return -1;
  }
  app.innkeep.startWarmup();
  const url = address.replace('://[::1]', '://localhost').replace('://127.0.0.1', '://localhost');
  logger.info(
    { url, internal: internalAddress, database: db.target, embedded: db.embedded },
    'Innkeep is listening',
  );
  console.log(`\nInnkeep is ready at ${url}  (try ${url}/api/hotels/search?city=paris)\n`);
  return -1; // keep running; the signal handler exits
}

async function migrate(config: Config): Promise<number> {
  const logger = cliLogger(config);
  const db = await openDatabase(config.db, logger);
  try {
    const status = await runMigrations(db.pool, MIGRATIONS_DIR, logger);
    console.log(`migrations: ${status.applied}/${status.total} applied on ${db.target}`);
    return 0;
  } finally {
    await db.close();
  }
}

async function seedCommand(
  config: Config,
  scale: SeedScale,
  seedNumber: number,
  reset: boolean,
): Promise<number> {
  const logger = cliLogger(config);
  const db = await openDatabase(config.db, logger);
  try {
    await runMigrations(db.pool, MIGRATIONS_DIR, logger);
    if (!(await isDatabaseEmpty(db.pool))) {
      if (!reset) {
        console.error(
          'The database already has data. Re-run with --reset to replace it (this deletes all domain data).',
        );
        return 1;
      }
      await resetDemoData(db.pool);
    }
    const result = await seed(db.pool, scale, seedNumber);
    console.log(JSON.stringify(result, null, 2));
    return 0;
  } finally {
    await db.close();
  }
}

async function seed(pool: Parameters<typeof seedDatabase>[0], scale: SeedScale, seedNumber: number) {
  const progress = progressReporter(`seed ${scale}`);
  try {
    return await seedDatabase(pool, {
      scale,
      seed: seedNumber,
      onProgress: (p) => progress.update(p.step, p.done, p.total),
    });
  } finally {
    progress.stop();
  }
}

function usageError(message: string): number {
  console.error(`${message}\n\n${USAGE}`);
  return 2;
}

/**
 * Runs one CLI command and sets the exit code; `start` keeps the process running until a signal.
 *
 * @example
 * await runCli(['db', 'migrate'], {}); // process.exitCode is 0 once migrated
 */
export function runCli(argv: string[], cli: CliContext): Promise<void> {
  return main(argv, cli).then(
    (code) => {
      if (code >= 0) process.exitCode = code;
    },
    (err: unknown) => {
      if (err instanceof ConfigError) {
        console.error(err.message);
        process.exitCode = 2;
        return;
      }
      console.error(err);
      process.exitCode = 1;
    },
  );
}
