import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { type Database, openDatabase } from '../../src/platform/db/index.ts';
import { buildJobQueue, type JobDefinition, type JobQueue } from '../../src/platform/queue/index.ts';
import { testConfig } from './app.ts';
import { ci, redisUnreachable } from './redis-server.ts';
import { recordingLogger } from './silent-logger.ts';

export const REDIS = 'redis://127.0.0.1:6379';
export const DRIVERS = ['pgboss', 'bullmq'] as const;
export type DriverKind = (typeof DRIVERS)[number];

/** A namespace (pg-boss schema, BullMQ prefix) no other test file uses. */
export function uniqueNamespace(): string {
  return `q_${process.pid}_${randomBytes(3).toString('hex')}`;
}

/** Fails under CI=true when Redis is away; elsewhere says why the BullMQ runs are skipped. */
export async function bullmqSkipReason(): Promise<string | undefined> {
  const reason = await redisUnreachable(REDIS);
  if (reason && ci) throw new Error(`CI needs Redis at ${REDIS}: ${reason}`);
  return reason ? `Redis is not reachable at ${REDIS}: ${reason}` : undefined;
}

/** Fast retries and polling, so the suites do not wait for production back-offs. */
export const FAST_QUEUE_ENV = {
  QUEUE_POLL_INTERVAL_MS: '500',
  QUEUE_STALLED_AFTER_S: '10',
  QUEUE_EMAIL_BACKOFF: 'fixed',
  QUEUE_EMAIL_BACKOFF_MS: '0',
  QUEUE_EMAIL_RATE_PER_S: '0',
  QUEUE_PROCESSING_BACKOFF: 'fixed',
  QUEUE_PROCESSING_BACKOFF_MS: '0',
  QUEUE_SCHEDULED_BACKOFF: 'fixed',
  QUEUE_SCHEDULED_BACKOFF_MS: '0',
  WORKER_SHUTDOWN_TIMEOUT_MS: '2000',
};

export interface TestQueue {
  readonly jobs: JobQueue;
  readonly db: Database;
  close(): Promise<void>;
}

/** A JobQueue of `driver` on the database at `url`, with the definitions registered and started. */
export async function startTestQueue(options: {
  driver: DriverKind;
  url: string;
  namespace: string;
  definitions?: JobDefinition[];
  /** Recurring jobs to register (cron with seconds works on both drivers). */
  recurring?: { job: JobDefinition; cron: string }[];
  work?: boolean;
  env?: Record<string, string>;
}): Promise<TestQueue> {
  const config = testConfig({
    DATABASE_URL: options.url,
    QUEUE_DRIVER: options.driver,
    QUEUE_NAMESPACE: options.namespace,
    REDIS_URL: REDIS,
    ROLE: options.work === false ? 'api' : 'worker',
    ...FAST_QUEUE_ENV,
    ...options.env,
  });
  const log = recordingLogger();
  const db = await openDatabase(config.db, log);
  const jobs = buildJobQueue(config, db, log);
  jobs.register(...(options.definitions ?? []));
  for (const { job, cron } of options.recurring ?? []) jobs.recurring(job, cron, {} as never);
  await jobs.start({ work: options.work !== false });
  return {
    jobs,
    db,
    async close() {
      await jobs.close();
      await db.close();
    },
  };
}

/** Polls `check` every 50 ms until it holds; fails after `timeoutMs`. */
export async function eventually<T>(
  what: string,
  check: () => T | undefined | false | Promise<T | undefined | false>,
  timeoutMs = 15_000,
): Promise<T> {
  const start = performance.now();
  for (;;) {
    const value = await check();
    if (value) return value;
    if (performance.now() - start > timeoutMs) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await sleep(50);
  }
}
