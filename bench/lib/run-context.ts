// What one `npm run bench` holds from start to end: its options, the database server, the servers and
// clients it started (stopped at the end, also on Ctrl-C), and the run's identity (secret, run id, day).
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import type { Logger } from '../../src/platform/observability/logger.ts';
import { AFTER_DB, BEFORE_DB, type BenchCluster, dropDatabase, openBenchCluster } from './datasets.ts';
import type { Target } from './measure.ts';
import type { BenchOptions } from './options.ts';
import type { ServerProcess } from './servers.ts';

const ROOT = join(import.meta.dirname, '../..');

export interface BenchRun {
  readonly options: BenchOptions;
  readonly cluster: BenchCluster;
  /** INNKEEP_DATA_DIR of the servers the run starts (they keep their generated files there). */
  readonly scratch: string;
  /** Shared by the servers, so that the bench's own tokens are valid on every side. */
  readonly jwtSecret: string;
  /** Makes this run's booking idempotency keys and e-mails unique. */
  readonly runId: string;
  readonly startedAt: Date;
  /** 'YYYY-MM-DD' of the start: the datasets' first inventory night. */
  readonly today: string;
  /** The commit measured, taken before anything runs: the code measured is the code loaded now. */
  readonly git: { readonly commit: string; readonly dirty: boolean };
  readonly logger: Logger;
  /** Whoever starts a server or opens a client adds it here, so that the end of the run stops it. */
  readonly servers: ServerProcess[];
  readonly targets: Target[];
  /** Progress on stderr, prefixed with the seconds since the start. */
  log(message: string): void;
  /** Seconds since the start. */
  elapsedS(): number;
}

/** Opens the database server and a scratch directory; Ctrl-C or SIGTERM from here on cleans up. */
export async function openRun(options: BenchOptions): Promise<BenchRun> {
  const logger = pino({ level: 'warn' });
  const startedAt = new Date();
  const t0 = performance.now();
  const elapsedS = () => (performance.now() - t0) / 1000;
  const git = gitState();
  const cluster = await openBenchCluster(
    process.env.BENCH_DATABASE_URL,
    join(ROOT, '.innkeep/bench'),
    logger,
  );
  const scratch = await mkdtemp(join(os.tmpdir(), 'innkeep-bench-'));
  const run: BenchRun = {
    options,
    cluster,
    scratch,
    jwtSecret: randomBytes(32).toString('base64url'),
    runId: `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`,
    startedAt,
    today: startedAt.toISOString().slice(0, 10),
    git,
    logger,
    servers: [],
    targets: [],
    log: (message) => console.error(`[bench ${elapsedS().toFixed(0)}s] ${message}`),
    elapsedS,
  };
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      console.error(`[bench] ${signal}: stopping the servers and dropping the copies`);
      closeRun(run).finally(() => process.exit(130));
    });
  }
  return run;
}

const closing = new WeakMap<BenchRun, Promise<void>>();

/** Stops the servers, drops the copies (unless --keep) and stops the embedded server; once per run. */
export function closeRun(run: BenchRun): Promise<void> {
  let done = closing.get(run);
  if (!done) {
    done = (async () => {
      for (const t of run.targets) t.close();
      await Promise.all(run.servers.map((s) => s.stop()));
      if (!run.options.keep) {
        await dropDatabase(run.cluster, BEFORE_DB).catch(() => undefined);
        await dropDatabase(run.cluster, AFTER_DB).catch(() => undefined);
      }
      await run.cluster.stop();
      await rm(run.scratch, { recursive: true, force: true });
    })();
    closing.set(run, done);
  }
  return done;
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
