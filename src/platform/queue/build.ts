import type { Config } from '../config/index.ts';
import type { Database } from '../db/index.ts';
import type { Logger, Metrics } from '../observability/index.ts';
import { BullMqDriver } from './bullmq-driver.ts';
import { JobQueue, type QueueStats } from './job-queue.ts';
import { PgBossDriver } from './pgboss-driver.ts';
import { QueueStore } from './queue-store.ts';

const DURATION_BUCKETS = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];

/**
 * The configured job queue on the app's database: pg-boss by default, BullMQ on REDIS_URL with
 * QUEUE_DRIVER=bullmq. Exports the reserved queue metrics when a registry is given. Not started.
 *
 * @example
 * const jobs = buildJobQueue(config, db, log, metrics);
 * jobs.register(sendNotification);
 * await jobs.start({ work: config.role !== 'api' });
 */
export function buildJobQueue(config: Config, db: Database, log: Logger, metrics?: Metrics): JobQueue {
  const queueLog = log.child({ component: 'queue' });
  const { queue } = config;
  const store = new QueueStore(db, queue.namespace);
  let driver: PgBossDriver | BullMqDriver;
  if (queue.driver === 'bullmq') {
    if (!config.redis.url) throw new Error('QUEUE_DRIVER=bullmq needs REDIS_URL');
    driver = new BullMqDriver({
      redisUrl: config.redis.url,
      prefix: queue.namespace,
      stalledAfterS: queue.stalledAfterS,
      keepCompletedHours: queue.keepCompletedHours,
      db,
      store,
      log: queueLog,
    });
  } else {
    driver = new PgBossDriver({
      url: db.url,
      schema: queue.namespace,
      pollIntervalMs: queue.pollIntervalMs,
      stalledAfterS: queue.stalledAfterS,
      keepCompletedHours: queue.keepCompletedHours,
      worker: config.role !== 'api',
      store,
      log: queueLog,
    });
  }
  const processed = metrics?.counter('innkeep_jobs_processed_total', 'Job runs finished, by outcome', [
    'queue',
    'outcome',
  ]);
  const failed = metrics?.counter(
    'innkeep_jobs_failed_total',
    'Job runs that failed (retried or dead-lettered)',
    ['queue'],
  );
  const duration = metrics?.histogram(
    'innkeep_job_duration_seconds',
    'How long job runs took',
    ['queue'],
    DURATION_BUCKETS,
  );
  const jobs = new JobQueue({
    driver,
    store,
    queues: queue.queues,
    log: queueLog,
    timeZone: queue.timeZone,
    shutdownTimeoutMs: queue.shutdownTimeoutMs,
    onRun: metrics
      ? (job, outcome, seconds) => {
          processed?.inc({ queue: job.queue, outcome });
          if (outcome !== 'completed') failed?.inc({ queue: job.queue });
          duration?.observe({ queue: job.queue }, seconds);
        }
      : undefined,
  });
  if (metrics) exportQueueGauges(metrics, jobs, queueLog);
  return jobs;
}

/** Queue depth and oldest age, refreshed every 15 s (the gauges are read synchronously at scrape). */
function exportQueueGauges(metrics: Metrics, jobs: JobQueue, log: Logger): void {
  let latest: QueueStats[] = [];
  let refreshing = false;
  const refresh = () => {
    if (refreshing) return;
    refreshing = true;
    jobs
      .stats()
      .then((stats) => {
        latest = stats;
      })
      .catch((err: unknown) => log.debug({ err }, 'queue statistics unavailable'))
      .finally(() => {
        refreshing = false;
      });
  };
  const timer = setInterval(refresh, 15_000);
  timer.unref();
  metrics.sampledGauge('innkeep_queue_depth', 'Jobs waiting to run (ready, delayed or held)', ['queue'], () =>
    latest.map((s) => ({ labels: { queue: s.name }, value: s.waiting + s.delayed })),
  );
  metrics.sampledGauge(
    'innkeep_queue_oldest_age_seconds',
    'Age of the oldest job ready to run',
    ['queue'],
    () => latest.map((s) => ({ labels: { queue: s.name }, value: s.oldestWaitingS })),
  );
  jobs.onStarted(refresh);
  jobs.onClose(() => clearInterval(timer));
}
