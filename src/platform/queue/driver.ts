import type { Transaction } from '../db/index.ts';
import type { Backoff, QueueSettings } from './job.ts';

/** A job on its way into a driver: the definition's rules already resolved. */
export interface OutgoingJob {
  readonly id: string;
  readonly queue: string;
  readonly name: string;
  readonly payload: unknown;
  readonly attempts: number;
  readonly backoff: Backoff;
  readonly timeoutMs: number;
  readonly priority: number;
  readonly delayMs: number;
  readonly dedupKey?: string | undefined;
}

/** A job a driver hands to the runner. */
export interface IncomingJob {
  readonly id: string;
  readonly queue: string;
  readonly name: string;
  readonly payload: unknown;
  /** 1 for the first run. */
  readonly attempt: number;
  readonly maxAttempts: number;
  /** The driver's own abort signal (pg-boss aborts a job it has expired), when it has one. */
  readonly signal?: AbortSignal | undefined;
  progress(percent: number): Promise<void>;
}

/**
 * What the runner decided: `completed`; `failed` (the driver retries it if attempts remain, else
 * fails it for good; the runner has recorded the dead letter); `dead` (fail now, no retry).
 */
export type RunOutcome =
  | { readonly status: 'completed' }
  | { readonly status: 'failed' | 'dead'; readonly error: Error };

export type JobRunner = (job: IncomingJob) => Promise<RunOutcome>;

/** Counts per queue, in the shape GET /api/admin/queues reports. */
export interface DriverQueueCounts {
  readonly waiting: number;
  readonly active: number;
  readonly delayed: number;
  readonly completed: number;
  readonly failed: number;
  /** Age in seconds of the oldest job ready to run (0 when none waits). */
  readonly oldestWaitingS: number;
  /** Jobs completed in the last 5 minutes, per minute. */
  readonly completedPerMinute: number;
}

/** A job as the queue administration lists it. */
export interface JobSummary {
  readonly id: string;
  readonly name: string;
  readonly state: string;
  readonly attempt: number;
  readonly progress?: number | undefined;
  readonly createdAt: string;
}

/**
 * The engine behind JobQueue. Both drivers pass test/platform/queue-contract.test.ts; everything
 * that is not engine-specific (validation, timeouts, dead letters, metrics) lives in the runner.
 */
export interface QueueDriver {
  readonly kind: 'pgboss' | 'bullmq';
  /** Connects and creates the queues; producing works from here on. */
  start(queues: Readonly<Record<string, QueueSettings>>): Promise<void>;
  /**
   * Enqueues now; resolves with false when the dedup key matched a waiting or running job. Sending
   * an id again is a no-op while the first job is kept (either answer).
   */
  send(job: OutgoingJob): Promise<boolean>;
  /** Enqueues inside the caller's transaction: the job exists if and only if it commits. */
  sendIn(tx: Transaction, job: OutgoingJob): Promise<void>;
  /** Like sendIn for several jobs of one queue, in one statement where the engine allows it. */
  sendManyIn(tx: Transaction, jobs: readonly OutgoingJob[]): Promise<void>;
  /** Starts taking jobs of `queue` (its concurrency and rate limit) and giving them to `run`. */
  work(queue: string, settings: QueueSettings, run: JobRunner): Promise<void>;
  /** Creates or replaces the recurring job `key` (cron in `tz`); runs once per tick across workers. */
  schedule(key: string, cron: string, tz: string, job: OutgoingJob): Promise<void>;
  /** Removes recurring jobs whose key is not in `keep` (a job dropped from the code). */
  pruneSchedules(keep: ReadonlySet<string>): Promise<void>;
  counts(queue: string): Promise<DriverQueueCounts>;
  /** Puts the queue's failed jobs back to waiting; resolves with how many. */
  retryFailed(queue: string): Promise<number>;
  /** Deletes finished jobs (completed and failed) older than `olderThanMs`; resolves with how many. */
  clean(queue: string, olderThanMs: number): Promise<number>;
  /** A job by id, or undefined. */
  find(queue: string, id: string): Promise<JobSummary | undefined>;
  /** Stops taking jobs and waits up to `timeoutMs` for running ones (the runner aborts the rest). */
  stopWorking(timeoutMs: number): Promise<void>;
  close(): Promise<void>;
}
