import { randomUUID } from 'node:crypto';
import type { Queue } from 'bullmq';
import type { Static, TSchema } from 'typebox';
import type { Transaction } from '../db/index.ts';
import { AppError, ErrorCodes } from '../errors/index.ts';
import type { Logger } from '../observability/index.ts';
import type { DriverQueueCounts, JobSummary, OutgoingJob, QueueDriver } from './driver.ts';
import {
  assertPayload,
  type EnqueueOptions,
  effectiveRules,
  type JobDefinition,
  type QueueSettings,
} from './job.ts';
import type { DeadLetter, QueueStore } from './queue-store.ts';
import { createRunner, type RunObserver } from './runner.ts';

export interface JobQueueOptions {
  readonly driver: QueueDriver;
  readonly store: QueueStore;
  readonly queues: Readonly<Record<string, QueueSettings>>;
  readonly log: Logger;
  /** Time zone of the recurring jobs' cron expressions. */
  readonly timeZone: string;
  /** How long a draining worker waits for running jobs before aborting them. */
  readonly shutdownTimeoutMs: number;
  readonly onRun?: RunObserver | undefined;
}

/** One queue's figures for GET /api/admin/queues. */
export interface QueueStats extends DriverQueueCounts {
  readonly name: string;
  readonly dead: number;
  readonly concurrency: number;
  readonly ratePerSecond: number;
}

/** An admin operation on a queue that does not exist: 404 E_NOT_FOUND in the standard format. */
export class UnknownQueueError extends AppError {
  constructor(queue: string) {
    super(
      ErrorCodes.NOT_FOUND.code,
      ErrorCodes.NOT_FOUND.status,
      `there is no queue named ${JSON.stringify(queue)}`,
    );
    this.name = 'UnknownQueueError';
  }
}

interface Recurring {
  readonly definition: JobDefinition;
  readonly cron: string;
  readonly payload: unknown;
}

/**
 * The app's one job API over either driver: job types are registered once, enqueued with a
 * validated payload (now, or inside a business transaction), run by worker processes with the
 * queue's concurrency, rate limit, timeout and retries, and dead-lettered when they cannot succeed.
 *
 * @example
 * const jobs = new JobQueue({ driver, store, queues: config.queue.queues, log, timeZone: 'UTC', shutdownTimeoutMs: 25_000 });
 * jobs.register(sendNotification);
 * jobs.recurring(purgeExpired, '17 3 * * *');
 * await jobs.start({ work: config.role !== 'api' });
 * await db.transaction(async (tx) => {
 *   const id = await insertBooking(tx);
 *   await jobs.enqueueIn(tx, sendNotification, { notificationId: id });
 * });
 */
export class JobQueue {
  readonly #options: JobQueueOptions;
  readonly #definitions = new Map<string, JobDefinition>();
  readonly #recurring = new Map<string, Recurring>();
  readonly #drain = new AbortController();
  readonly #startedHooks: (() => void)[] = [];
  readonly #closeHooks: (() => void)[] = [];
  #started = false;
  #working = false;

  constructor(options: JobQueueOptions) {
    this.#options = options;
  }

  get driver(): QueueDriver['kind'] {
    return this.#options.driver.kind;
  }

  /** With the BullMQ driver, its Queue objects once started (what bull-board shows); else none. */
  bullmqQueues(): Queue[] {
    const driver = this.#options.driver as QueueDriver & { queues?: () => Queue[] };
    return driver.kind === 'bullmq' && driver.queues ? driver.queues() : [];
  }

  get queueNames(): string[] {
    return Object.keys(this.#options.queues);
  }

  /** Whether this process runs jobs (ROLE worker or all). */
  get working(): boolean {
    return this.#working;
  }

  register(...definitions: JobDefinition[]): this {
    for (const definition of definitions) {
      if (!(definition.queue in this.#options.queues)) {
        throw new Error(`job ${definition.name} names queue ${definition.queue}, which is not configured`);
      }
      const existing = this.#definitions.get(definition.name);
      if (existing && existing !== definition) throw new Error(`job ${definition.name} is registered twice`);
      this.#definitions.set(definition.name, definition);
    }
    return this;
  }

  /** The registered job type of that name. */
  definition(name: string): JobDefinition | undefined {
    return this.#definitions.get(name);
  }

  /** Registers `definition` to be enqueued on `cron` (in QUEUE_TIME_ZONE), once per tick across workers. */
  recurring<S extends TSchema>(definition: JobDefinition<S>, cron: string, payload: Static<S>): this {
    this.register(definition as unknown as JobDefinition);
    assertPayload(definition as unknown as JobDefinition, payload);
    this.#recurring.set(definition.name, {
      definition: definition as unknown as JobDefinition,
      cron,
      payload,
    });
    return this;
  }

  /** Connects; with `work`, starts the workers and (re)creates the recurring jobs. */
  async start(options: { work: boolean }): Promise<void> {
    const { driver, store, queues, log } = this.#options;
    // The store's tables first: the BullMQ driver's outbox relay makes its first pass as it starts.
    await store.install();
    await driver.start(queues);
    this.#started = true;
    for (const hook of this.#startedHooks) hook();
    if (!options.work) return;
    const run = createRunner({
      definitions: this.#definitions,
      store,
      log,
      drain: this.#drain.signal,
      timeoutMsOf: (definition) => effectiveRules(definition, this.#settings(definition.queue)).timeoutMs,
      onRun: this.#options.onRun,
    });
    for (const [name, settings] of Object.entries(queues)) {
      if ([...this.#definitions.values()].some((d) => d.queue === name))
        await driver.work(name, settings, run);
    }
    for (const [key, recurring] of this.#recurring) {
      await driver.schedule(
        key,
        recurring.cron,
        this.#options.timeZone,
        this.#outgoing(recurring.definition, recurring.payload, {}),
      );
    }
    await driver.pruneSchedules(new Set(this.#recurring.keys()));
    this.#working = true;
    log.info(
      { driver: driver.kind, queues: Object.keys(queues), recurring: [...this.#recurring.keys()] },
      'job workers started',
    );
  }

  #settings(queue: string): QueueSettings {
    const settings = this.#options.queues[queue];
    if (!settings) throw new UnknownQueueError(queue);
    return settings;
  }

  #outgoing(definition: JobDefinition, payload: unknown, options: EnqueueOptions): OutgoingJob {
    const rules = effectiveRules(definition, this.#settings(definition.queue));
    const dedupKey = options.dedupKey ?? definition.dedupKey?.(payload as never);
    return {
      id: options.jobId ?? randomUUID(),
      queue: definition.queue,
      name: definition.name,
      payload,
      attempts: rules.attempts,
      backoff: rules.backoff,
      timeoutMs: rules.timeoutMs,
      priority: options.priority ?? rules.priority,
      delayMs: options.delayMs ?? 0,
      dedupKey,
    };
  }

  #prepare<S extends TSchema>(definition: JobDefinition<S>, payload: Static<S>, options: EnqueueOptions) {
    const def = definition as unknown as JobDefinition;
    if (!this.#started) throw new Error('the job queue is not started');
    if (!this.#definitions.has(def.name)) this.register(def);
    assertPayload(def, payload);
    return this.#outgoing(def, payload, options);
  }

  /**
   * Enqueues now. Resolves with the job id, and `queued: false` when a job with the same dedup key
   * was already waiting or running. Throws InvalidJobPayloadError (nothing queued) for a bad payload.
   */
  async enqueue<S extends TSchema>(
    definition: JobDefinition<S>,
    payload: Static<S>,
    options: EnqueueOptions = {},
  ): Promise<{ id: string; queued: boolean }> {
    const job = this.#prepare(definition, payload, options);
    const queued = await this.#options.driver.send(job);
    return { id: job.id, queued };
  }

  /**
   * Enqueues inside `tx`: the job exists if and only if the transaction commits (pg-boss: the same
   * transaction; BullMQ: an outbox row relayed after COMMIT, at least once, deduplicated by id).
   */
  async enqueueIn<S extends TSchema>(
    tx: Transaction,
    definition: JobDefinition<S>,
    payload: Static<S>,
    options: EnqueueOptions = {},
  ): Promise<{ id: string }> {
    const job = this.#prepare(definition, payload, options);
    await this.#options.driver.sendIn(tx, job);
    return { id: job.id };
  }

  /**
   * Several jobs of one type inside `tx`, like {@link enqueueIn} (each payload checked first, nothing
   * sent if one is bad), in one statement on both drivers (jobs with a dedup key one by one).
   */
  async enqueueManyIn<S extends TSchema>(
    tx: Transaction,
    definition: JobDefinition<S>,
    items: readonly { payload: Static<S>; options?: EnqueueOptions }[],
  ): Promise<{ ids: string[] }> {
    const jobs = items.map((item) => this.#prepare(definition, item.payload, item.options ?? {}));
    if (jobs.length === 1) await this.#options.driver.sendIn(tx, jobs[0] as OutgoingJob);
    else if (jobs.length > 1) await this.#options.driver.sendManyIn(tx, jobs);
    return { ids: jobs.map((j) => j.id) };
  }

  async stats(): Promise<QueueStats[]> {
    const dead = await this.#options.store.countDeadLetters();
    return Promise.all(
      Object.entries(this.#options.queues).map(async ([name, settings]) => ({
        name,
        ...(await this.#options.driver.counts(name)),
        dead: dead.get(name) ?? 0,
        concurrency: settings.concurrency,
        ratePerSecond: settings.ratePerSecond,
      })),
    );
  }

  async find(queue: string, id: string): Promise<JobSummary | undefined> {
    this.#settings(queue);
    return this.#options.driver.find(queue, id);
  }

  /** Failed jobs back to waiting (not the dead letters: see redrive). */
  async retryFailed(queue: string): Promise<number> {
    this.#settings(queue);
    return this.#options.driver.retryFailed(queue);
  }

  async clean(queue: string, olderThanMs: number): Promise<number> {
    this.#settings(queue);
    return this.#options.driver.clean(queue, olderThanMs);
  }

  async deadLetters(queue: string, limit = 50, beforeId?: number): Promise<DeadLetter[]> {
    this.#settings(queue);
    return this.#options.store.listDeadLetters(queue, limit, beforeId);
  }

  /**
   * Re-enqueues dead letters (all of the queue's, or those ids) as new jobs with fresh attempts, in
   * one transaction with their removal. Resolves with the new job ids.
   */
  async redrive(
    db: { transaction: <T>(fn: (tx: Transaction) => Promise<T>) => Promise<T> },
    queue: string,
    ids?: readonly number[],
  ) {
    this.#settings(queue);
    return db.transaction(async (tx) => {
      const taken = await this.#options.store.takeDeadLetters(tx, queue, ids);
      const jobs: { deadLetterId: number; jobId: string }[] = [];
      for (const letter of taken) {
        const definition = this.#definitions.get(letter.name);
        if (!definition) throw new Error(`no job named ${letter.name} is registered`);
        const job = this.#outgoing(definition, letter.payload, {});
        await this.#options.driver.sendIn(tx, job);
        jobs.push({ deadLetterId: letter.id, jobId: job.id });
      }
      return jobs;
    });
  }

  async deleteDeadLetter(queue: string, id: number): Promise<boolean> {
    this.#settings(queue);
    return this.#options.store.deleteDeadLetter(queue, id);
  }

  /**
   * Stops taking jobs; running ones get QUEUE shutdown time to finish, then are aborted (they fail
   * this attempt and go back to the queue). Producing keeps working until close().
   */
  async drain(): Promise<void> {
    if (!this.#working) return;
    this.#working = false;
    const { shutdownTimeoutMs, driver, log } = this.#options;
    const timer = setTimeout(() => {
      log.warn({ timeoutMs: shutdownTimeoutMs }, 'jobs still running at the drain bound: aborting them');
      this.#drain.abort();
    }, shutdownTimeoutMs);
    try {
      await driver.stopWorking(shutdownTimeoutMs);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Runs `hook` once the queue has started (metrics refresh). */
  onStarted(hook: () => void): void {
    this.#startedHooks.push(hook);
  }

  /** Runs `hook` when the queue closes. */
  onClose(hook: () => void): void {
    this.#closeHooks.push(hook);
  }

  async close(): Promise<void> {
    for (const hook of this.#closeHooks) hook();
    await this.drain();
    await this.#options.driver.close();
  }
}
