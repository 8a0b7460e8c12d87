import { type JobsOptions, Queue, UnrecoverableError, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import type { Database, Transaction } from '../db/index.ts';
import type { Logger } from '../observability/index.ts';
import type { DriverQueueCounts, JobRunner, JobSummary, OutgoingJob, QueueDriver } from './driver.ts';
import type { QueueSettings } from './job.ts';
import { OutboxRelay } from './outbox-relay.ts';
import { type QueueStore, rateSpacingMs } from './queue-store.ts';

export interface BullMqDriverOptions {
  readonly redisUrl: string;
  readonly prefix: string;
  readonly stalledAfterS: number;
  readonly keepCompletedHours: number;
  readonly db: Database;
  readonly store: QueueStore;
  readonly log: Logger;
}

/** BullMQ orders by ascending priority (1 first) and has no "0 = none"; ours is higher first. */
const MAX_PRIORITY = 2_097_152;

/**
 * BullMQ on Redis (`QUEUE_DRIVER=bullmq`). A job enqueued by a business transaction goes through
 * the outbox (OutboxRelay) since Redis cannot join a PostgreSQL transaction; the job id is the
 * outbox row's id, so a relay that repeats itself adds nothing. A killed worker's job is taken
 * back after its lock (QUEUE_STALLED_AFTER_S) lapses: BullMQ's stalled-job check.
 */
export class BullMqDriver implements QueueDriver {
  readonly kind = 'bullmq';
  readonly #options: BullMqDriverOptions;
  readonly #connection: Redis;
  readonly #queues = new Map<string, Queue>();
  readonly #workers: Worker[] = [];
  /** The workers' own connections: BullMQ leaves a connection it was given open when it closes. */
  readonly #workerConnections: Redis[] = [];
  readonly #relay: OutboxRelay;

  constructor(options: BullMqDriverOptions) {
    this.#options = options;
    // Producing fails fast while Redis is away (the outbox keeps the job); workers block and retry.
    this.#connection = new Redis(options.redisUrl, {
      maxRetriesPerRequest: 1,
      enableOfflineQueue: false,
      lazyConnect: true,
    });
    this.#connection.on('error', () => {});
    this.#relay = new OutboxRelay({
      db: options.db,
      store: options.store,
      log: options.log,
      deliver: async (job) => {
        await this.send(job);
      },
    });
  }

  async start(queues: Readonly<Record<string, QueueSettings>>): Promise<void> {
    await this.#connection.connect();
    for (const name of Object.keys(queues)) {
      const queue = new Queue(name, { connection: this.#connection, prefix: this.#options.prefix });
      queue.on('error', (err) => this.#options.log.warn({ err, queue: name }, 'BullMQ queue error'));
      this.#queues.set(name, queue);
    }
    this.#relay.start();
  }

  /** The BullMQ queues (for bull-board); empty before start(). */
  queues(): Queue[] {
    return [...this.#queues.values()];
  }

  #queue(name: string): Queue {
    const queue = this.#queues.get(name);
    if (!queue) throw new Error(`unknown queue ${name}`);
    return queue;
  }

  #jobOptions(job: OutgoingJob): JobsOptions {
    const keepS = this.#options.keepCompletedHours * 3600;
    return {
      jobId: job.id,
      attempts: job.attempts,
      backoff: {
        type: job.backoff.type,
        delay: job.backoff.delayMs,
        ...(job.backoff.type === 'exponential' ? { jitter: 0.5 } : {}),
      },
      ...(job.priority > 0 ? { priority: Math.max(1, MAX_PRIORITY - job.priority) } : {}),
      ...(job.delayMs > 0 ? { delay: job.delayMs } : {}),
      ...(job.dedupKey ? { deduplication: { id: `${job.name}:${job.dedupKey}` } } : {}),
      removeOnComplete: { age: keepS },
      removeOnFail: { age: keepS },
    };
  }

  async send(job: OutgoingJob): Promise<boolean> {
    const queue = this.#queue(job.queue);
    const added = await queue.add(job.name, job.payload, this.#jobOptions(job));
    // A matching dedup key answers with the job already there (another id).
    return added.id === job.id;
  }

  async sendIn(tx: Transaction, job: OutgoingJob): Promise<void> {
    await this.#relay.write(tx, [job]);
  }

  async sendManyIn(tx: Transaction, jobs: readonly OutgoingJob[]): Promise<void> {
    await this.#relay.write(tx, jobs);
  }

  async work(queueName: string, settings: QueueSettings, run: JobRunner): Promise<void> {
    const stalledMs = this.#options.stalledAfterS * 1000;
    const connection = new Redis(this.#options.redisUrl, { maxRetriesPerRequest: null });
    connection.on('error', () => {});
    this.#workerConnections.push(connection);
    const worker = new Worker(
      queueName,
      async (job) => {
        const outcome = await run({
          id: job.id ?? '',
          queue: queueName,
          name: job.name,
          payload: job.data,
          attempt: job.attemptsMade + 1,
          maxAttempts: job.opts.attempts ?? 1,
          progress: (percent) => job.updateProgress(percent),
        });
        if (outcome.status === 'completed') return;
        if (outcome.status === 'dead') throw new UnrecoverableError(outcome.error.message);
        throw outcome.error;
      },
      {
        connection,
        prefix: this.#options.prefix,
        concurrency: settings.concurrency,
        // One start per rateSpacingMs window rather than `ratePerSecond` per second: a fixed
        // one-second window lets two windows' budgets meet at their boundary (twice the rate).
        ...(settings.ratePerSecond > 0
          ? { limiter: { max: 1, duration: rateSpacingMs(settings.ratePerSecond) } }
          : {}),
        lockDuration: stalledMs,
        stalledInterval: Math.max(1000, Math.floor(stalledMs / 2)),
        maxStalledCount: 2,
        metrics: { maxDataPoints: 60 },
      },
    );
    worker.on('error', (err) => this.#options.log.warn({ err, queue: queueName }, 'BullMQ worker error'));
    this.#workers.push(worker);
    await worker.waitUntilReady();
  }

  async schedule(key: string, cron: string, tz: string, job: OutgoingJob): Promise<void> {
    const { jobId: _id, ...opts } = this.#jobOptions(job);
    await this.#queue(job.queue).upsertJobScheduler(
      key,
      { pattern: cron, tz },
      { name: job.name, data: job.payload, opts },
    );
  }

  async pruneSchedules(keep: ReadonlySet<string>): Promise<void> {
    for (const queue of this.#queues.values()) {
      for (const scheduler of await queue.getJobSchedulers()) {
        if (!keep.has(scheduler.key)) await queue.removeJobScheduler(scheduler.key);
      }
    }
  }

  async counts(queueName: string): Promise<DriverQueueCounts> {
    const queue = this.#queue(queueName);
    const c = await queue.getJobCounts('wait', 'prioritized', 'active', 'delayed', 'completed', 'failed');
    const oldest = await queue.getJobs(['wait', 'prioritized'], 0, 0, true);
    const since = oldest.reduce((min, job) => Math.min(min, job.timestamp), Date.now());
    const metrics = await queue.getMetrics('completed', 0, 4);
    const lastFive = metrics.data.slice(0, 5).reduce((sum, n) => sum + Number(n || 0), 0);
    return {
      waiting: (c.wait ?? 0) + (c.prioritized ?? 0),
      active: c.active ?? 0,
      delayed: c.delayed ?? 0,
      completed: c.completed ?? 0,
      failed: c.failed ?? 0,
      oldestWaitingS: Math.max(0, (Date.now() - since) / 1000),
      completedPerMinute: lastFive / 5,
    };
  }

  async retryFailed(queueName: string): Promise<number> {
    const queue = this.#queue(queueName);
    const failed = await queue.getFailedCount();
    if (failed > 0) await queue.retryJobs({ state: 'failed', count: 1000 });
    return failed;
  }

  async clean(queueName: string, olderThanMs: number): Promise<number> {
    const queue = this.#queue(queueName);
    const completed = await queue.clean(olderThanMs, 100_000, 'completed');
    const failed = await queue.clean(olderThanMs, 100_000, 'failed');
    return completed.length + failed.length;
  }

  async find(queueName: string, id: string): Promise<JobSummary | undefined> {
    const job = await this.#queue(queueName).getJob(id);
    if (!job) return undefined;
    return {
      id,
      name: job.name,
      state: await job.getState(),
      attempt: job.attemptsMade + 1,
      progress: typeof job.progress === 'number' ? job.progress : undefined,
      createdAt: new Date(job.timestamp).toISOString(),
    };
  }

  async stopWorking(timeoutMs: number): Promise<void> {
    const closing = Promise.all(this.#workers.map((w) => w.close()));
    const timedOut = await Promise.race([
      closing.then(() => false),
      new Promise<boolean>((resolve) => setTimeout(() => resolve(true), timeoutMs).unref()),
    ]);
    // Past the bound the runner has aborted the handlers; they fail and their jobs go back.
    if (timedOut) await Promise.race([closing, new Promise((r) => setTimeout(r, 2000).unref())]);
    await Promise.all(this.#workers.map((w) => w.close(true).catch(() => {})));
    this.#workers.length = 0;
    this.#closeWorkerConnections();
  }

  #closeWorkerConnections(): void {
    for (const connection of this.#workerConnections.splice(0)) connection.disconnect();
  }

  async close(): Promise<void> {
    await this.#relay.stop();
    await Promise.all(this.#workers.map((w) => w.close(true).catch(() => {})));
    this.#closeWorkerConnections();
    await Promise.all([...this.#queues.values()].map((q) => q.close().catch(() => {})));
    await this.#connection.quit().catch(() => this.#connection.disconnect());
  }

  /** The outbox, for the statistics and tests. */
  get outbox(): OutboxRelay {
    return this.#relay;
  }
}
