import pg from 'pg';
import { type Db as IDatabase, type JobWithMetadata, PgBoss, type SendOptions } from 'pg-boss';
import type { Queryable, Transaction } from '../db/index.ts';
import type { Logger } from '../observability/index.ts';
import type { DriverQueueCounts, JobRunner, JobSummary, OutgoingJob, QueueDriver } from './driver.ts';
import type { QueueSettings } from './job.ts';
import type { QueueStore } from './queue-store.ts';

export interface PgBossDriverOptions {
  /** The app's PostgreSQL (pg-boss keeps its own small pool on it). */
  readonly url: string;
  readonly schema: string;
  readonly pollIntervalMs: number;
  readonly stalledAfterS: number;
  readonly keepCompletedHours: number;
  /** Worker processes run pg-boss's maintenance and cron; API processes only produce. */
  readonly worker: boolean;
  readonly store: QueueStore;
  readonly log: Logger;
}

/** What a pg-boss job's data holds: the job name travels with its payload (a queue has many). */
interface Envelope {
  readonly name: string;
  readonly payload: unknown;
}

const seconds = (ms: number) => Math.ceil(ms / 1000);

/** pg-boss statements run through the caller's transaction. */
function onTransaction(tx: Queryable): IDatabase {
  return { executeSql: (text, values) => tx.query(text, values as unknown[]) };
}

/**
 * The default driver: pg-boss on the app's own PostgreSQL. Enqueueing inside a business
 * transaction is a plain INSERT on that transaction's connection, so the job commits or rolls back
 * with the write. A killed worker's job is retried once its heartbeat is older than
 * QUEUE_STALLED_AFTER_S (pg-boss's supervisor, run by every worker process).
 */
export class PgBossDriver implements QueueDriver {
  readonly kind = 'pgboss';
  readonly #options: PgBossDriverOptions;
  readonly #boss: PgBoss;
  readonly #pool: pg.Pool;
  readonly #working = new Set<string>();

  constructor(options: PgBossDriverOptions) {
    this.#options = options;
    // Its own pool, outside the app's statement timeout and request accounting.
    this.#pool = new pg.Pool({
      connectionString: options.url,
      max: options.worker ? 6 : 3,
      application_name: 'innkeep-queue',
    });
    this.#pool.on('error', (err) => options.log.warn({ err }, 'a job queue connection failed'));
    const stalled = Math.max(10, options.stalledAfterS);
    this.#boss = new PgBoss({
      db: {
        executeSql: (text, values) => this.#pool.query(text, values as unknown[]),
      },
      schema: options.schema,
      supervise: options.worker,
      schedule: options.worker,
      migrate: true,
      // A silent worker's jobs are failed (and retried) by the monitor pass: at most every half
      // QUEUE_STALLED_AFTER_S, so a killed worker's job runs again within about 1.5x that.
      superviseIntervalSeconds: Math.max(1, Math.min(60, Math.floor(stalled / 2))),
      // The monitor also counts each queue's ready jobs, which the workers' burst mode reads (below):
      // a backlog is seen within seconds.
      monitorIntervalSeconds: Math.max(1, Math.min(5, Math.floor(stalled / 2))),
      queueCacheIntervalSeconds: 2,
      // Recurring jobs are checked as often as workers poll (seconds in cron expressions work).
      cronMonitorIntervalSeconds: Math.max(1, Math.min(45, Math.round(options.pollIntervalMs / 1000))),
      cronWorkerIntervalSeconds: Math.max(1, Math.min(45, Math.round(options.pollIntervalMs / 1000))),
      registerInstance: false,
      openTelemetry: { enabled: false },
    });
    this.#boss.on('error', (err) => options.log.error({ err }, 'pg-boss reported an error'));
  }

  async start(queues: Readonly<Record<string, QueueSettings>>): Promise<void> {
    await this.#boss.start();
    for (const [name, settings] of Object.entries(queues)) {
      const options = this.#queueOptions(settings);
      const existing = await this.#boss.getQueue(name);
      if (existing) await this.#boss.updateQueue(name, options);
      else await this.#boss.createQueue(name, options);
    }
  }

  #queueOptions(settings: QueueSettings) {
    return {
      retryLimit: settings.attempts - 1,
      retryDelay: seconds(settings.backoffMs),
      retryBackoff: settings.backoff === 'exponential',
      expireInSeconds: seconds(settings.timeoutMs) + 30,
      heartbeatSeconds: Math.max(10, this.#options.stalledAfterS),
      deleteAfterSeconds: this.#options.keepCompletedHours * 3600,
    };
  }

  #sendOptions(job: OutgoingJob, db?: IDatabase): SendOptions {
    return {
      id: job.id,
      priority: job.priority,
      retryLimit: job.attempts - 1,
      retryDelay: seconds(job.backoff.delayMs),
      retryBackoff: job.backoff.type === 'exponential',
      expireInSeconds: seconds(job.timeoutMs) + 30,
      ...(job.delayMs > 0 ? { startAfter: new Date(Date.now() + job.delayMs) } : {}),
      ...(job.dedupKey ? { singletonKey: job.dedupKey } : {}),
      ...(db ? { db } : {}),
    };
  }

  async send(job: OutgoingJob): Promise<boolean> {
    if (!job.dedupKey) {
      const id = await this.#boss.send(job.queue, envelope(job), this.#sendOptions(job));
      return id !== null;
    }
    // A dedup key: checked and inserted under a lock on the key, in one short transaction.
    const client = await this.#pool.connect();
    try {
      await client.query('BEGIN');
      const sent = await this.#sendDeduplicated(client, job);
      await client.query('COMMIT');
      return sent;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => {});
      throw err;
    } finally {
      client.release();
    }
  }

  async sendIn(tx: Transaction, job: OutgoingJob): Promise<void> {
    if (job.dedupKey) await this.#sendDeduplicated(tx, job);
    else await this.#boss.send(job.queue, envelope(job), this.#sendOptions(job, onTransaction(tx)));
  }

  /** One multi-row insert (pg-boss's insert) on the transaction; jobs with a dedup key one by one. */
  async sendManyIn(tx: Transaction, jobs: readonly OutgoingJob[]): Promise<void> {
    const plain = jobs.filter((j) => !j.dedupKey);
    for (const job of jobs) if (job.dedupKey) await this.#sendDeduplicated(tx, job);
    const queues = new Set(plain.map((j) => j.queue));
    for (const queue of queues) {
      const batch = plain.filter((j) => j.queue === queue);
      await this.#boss.insert(
        queue,
        batch.map((job) => ({ ...this.#sendOptions(job), data: envelope(job) })),
        { db: onTransaction(tx) },
      );
    }
  }

  /** pg-boss's standard queues do not deduplicate by key alone: a waiting or running job with it wins. */
  async #sendDeduplicated(tx: Queryable, job: OutgoingJob): Promise<boolean> {
    await tx.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`${job.queue}:${job.dedupKey}`]);
    const { rows } = await tx.query(
      `SELECT 1 FROM "${this.#options.schema}".job
       WHERE name = $1 AND singleton_key = $2 AND state IN ('created', 'retry', 'active') LIMIT 1`,
      [job.queue, job.dedupKey],
    );
    if (rows.length > 0) return false;
    const id = await this.#boss.send(job.queue, envelope(job), this.#sendOptions(job, onTransaction(tx)));
    return id !== null;
  }

  async work(queue: string, settings: QueueSettings, run: JobRunner): Promise<void> {
    const { store, pollIntervalMs } = this.#options;
    this.#working.add(queue);
    await this.#boss.work(
      queue,
      {
        batchSize: 1,
        localConcurrency: settings.concurrency,
        includeMetadata: true,
        perJobResults: true,
        pollingIntervalSeconds: Math.max(0.5, pollIntervalMs / 1000),
        // Each loop waits out its poll interval after every fetch: one job per loop per interval
        // (5 jobs/s with 5 loops and 1 s) however long the queue. While the monitor counts more than
        // one ready job, a loop that got a job fetches again at once.
        burstWhenReadyExceeds: 1,
      } as const,
      async (jobs: JobWithMetadata<Envelope>[]) => {
        const results = [];
        for (const job of jobs) {
          if (settings.ratePerSecond > 0) {
            const waitMs = await store.takeRateSlot(queue, settings.ratePerSecond);
            if (waitMs > 0) await new Promise((resolve) => setTimeout(resolve, waitMs));
          }
          const outcome = await run({
            id: job.id,
            queue,
            name: job.data?.name ?? '(none)',
            payload: job.data?.payload,
            attempt: job.retryCount + 1,
            maxAttempts: job.retryLimit + 1,
            signal: job.signal,
            progress: async (percent) => {
              await this.#pool.query(
                `UPDATE "${this.#options.schema}".job SET output = jsonb_build_object('progress', $3::int)
                 WHERE name = $1 AND id = $2 AND state = 'active'`,
                [queue, job.id, percent],
              );
            },
          });
          if (outcome.status === 'completed') results.push({ id: job.id, status: 'completed' as const });
          else {
            const output = { message: outcome.error.message };
            results.push({
              id: job.id,
              status: outcome.status === 'dead' ? ('deadletter' as const) : ('failed' as const),
              output,
            });
          }
        }
        return results;
      },
    );
  }

  async schedule(key: string, cron: string, tz: string, job: OutgoingJob): Promise<void> {
    await this.#boss.schedule(job.queue, cron, envelope(job), {
      tz,
      key,
      retryLimit: job.attempts - 1,
      retryDelay: seconds(job.backoff.delayMs),
      retryBackoff: job.backoff.type === 'exponential',
      expireInSeconds: seconds(job.timeoutMs) + 30,
    });
  }

  async pruneSchedules(keep: ReadonlySet<string>): Promise<void> {
    for (const schedule of await this.#boss.getSchedules()) {
      if (!keep.has(schedule.key)) await this.#boss.unschedule(schedule.name, schedule.key);
    }
  }

  async counts(queue: string): Promise<DriverQueueCounts> {
    const { rows } = await this.#pool.query<DriverQueueCounts>(
      `
SELECT count(*) FILTER (WHERE state IN ('created', 'retry') AND start_after <= now())::int AS waiting,
       count(*) FILTER (WHERE state = 'active')::int AS active,
       count(*) FILTER (WHERE state IN ('created', 'retry') AND start_after > now())::int AS delayed,
       count(*) FILTER (WHERE state = 'completed')::int AS completed,
       count(*) FILTER (WHERE state = 'failed')::int AS failed,
       COALESCE(EXTRACT(EPOCH FROM now() - min(created_on)
                FILTER (WHERE state IN ('created', 'retry') AND start_after <= now())), 0)::float AS "oldestWaitingS",
       (count(*) FILTER (WHERE state = 'completed' AND completed_on > now() - interval '5 minutes') / 5.0)::float
         AS "completedPerMinute"
FROM "${this.#options.schema}".job WHERE name = $1`,
      [queue],
    );
    return rows[0] as DriverQueueCounts;
  }

  async retryFailed(queue: string): Promise<number> {
    const { rows } = await this.#pool.query<{ id: string }>(
      `SELECT id FROM "${this.#options.schema}".job WHERE name = $1 AND state = 'failed'`,
      [queue],
    );
    if (rows.length === 0) return 0;
    await this.#boss.retry(
      queue,
      rows.map((r) => r.id),
    );
    return rows.length;
  }

  async clean(queue: string, olderThanMs: number): Promise<number> {
    const { rowCount } = await this.#pool.query(
      `DELETE FROM "${this.#options.schema}".job
       WHERE name = $1 AND state IN ('completed', 'failed', 'cancelled')
         AND COALESCE(completed_on, created_on) < now() - make_interval(secs => $2::float / 1000)`,
      [queue, olderThanMs],
    );
    return rowCount ?? 0;
  }

  async find(queue: string, id: string): Promise<JobSummary | undefined> {
    if (!/^[0-9a-f-]{36}$/i.test(id)) return undefined;
    const job = await this.#boss.getJobById<Envelope>(queue, id);
    if (!job) return undefined;
    const output = job.output as { progress?: number } | null;
    return {
      id: job.id,
      name: job.data?.name ?? '(none)',
      state: job.state,
      attempt: job.retryCount + 1,
      progress: output?.progress,
      createdAt: job.createdOn.toISOString(),
    };
  }

  async stopWorking(_timeoutMs: number): Promise<void> {
    // offWork waits for the running handlers; the runner aborts them when the drain time is up, so
    // the bound is kept without a timer here.
    await Promise.all([...this.#working].map((queue) => this.#boss.offWork(queue, { wait: true })));
    this.#working.clear();
  }

  async close(): Promise<void> {
    await this.#boss.stop({ graceful: false, close: false, timeout: 1000 }).catch(() => {});
    await this.#pool.end().catch(() => {});
  }
}

function envelope(job: OutgoingJob): Envelope {
  return { name: job.name, payload: job.payload };
}
