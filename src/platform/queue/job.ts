import type { Static, TSchema } from 'typebox';
import { Compile } from 'typebox/compile';

/** How long to wait before attempt n+1: the same delay each time, or doubling (with jitter). */
export interface Backoff {
  readonly type: 'fixed' | 'exponential';
  readonly delayMs: number;
}

/** One queue's processing rules (QUEUE_<NAME>_* settings); every job of the queue inherits them. */
export interface QueueSettings {
  /** Jobs of this queue one worker process runs at once. */
  readonly concurrency: number;
  /** Runs of a job before it is dead-lettered (the first included). */
  readonly attempts: number;
  readonly backoff: Backoff['type'];
  readonly backoffMs: number;
  /** A run longer than this is aborted (its signal fires) and counts as a failed attempt. */
  readonly timeoutMs: number;
  /** Jobs started per second across every worker; 0 for no limit. */
  readonly ratePerSecond: number;
}

/** What a handler gets beside its payload. */
export interface JobContext {
  /** The driver's job id (stable across attempts). */
  readonly id: string;
  readonly queue: string;
  readonly name: string;
  /** 1 for the first run. */
  readonly attempt: number;
  readonly maxAttempts: number;
  /** Fires at the job's timeout and when the worker's drain time is up; handlers pass it on. */
  readonly signal: AbortSignal;
  /** Records progress (0..100) where the queue administration can read it. */
  progress(percent: number): Promise<void>;
}

/**
 * A job type: its payload schema (checked when it is enqueued and again when a worker receives it),
 * its handler and its retry rules (the queue's unless given).
 */
export interface JobDefinition<S extends TSchema = TSchema> {
  /** Unique across the app, e.g. `send-notification`. */
  readonly name: string;
  /** One of the configured queues (`email`, `processing`, `scheduled`). */
  readonly queue: string;
  readonly payload: S;
  readonly handler: (payload: Static<S>, ctx: JobContext) => Promise<unknown>;
  readonly attempts?: number;
  readonly backoff?: Backoff;
  readonly timeoutMs?: number;
  /** Higher runs first (0 default). */
  readonly priority?: number;
  /**
   * A key of the payload: while a job with the same key waits, enqueuing another is a no-op
   * (e.g. one export per user, one price-drop scan).
   */
  readonly dedupKey?: (payload: Static<S>) => string;
}

/** Per-enqueue options. */
export interface EnqueueOptions {
  /** Start no earlier than this many ms from now. */
  readonly delayMs?: number;
  readonly priority?: number;
  /**
   * The job's id: a second enqueue with the same id is a no-op while the first is kept
   * (QUEUE_KEEP_COMPLETED_HOURS), which makes a relayed or retried enqueue safe. Default: random.
   */
  readonly jobId?: string;
  /** Overrides the definition's dedup key. */
  readonly dedupKey?: string;
}

/**
 * Thrown by a handler (or raised for an invalid payload or template) for a failure no retry can fix:
 * the job goes to the dead letters at once, with this error.
 */
export class UnrecoverableJobError extends Error {
  readonly permanent = true;
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'UnrecoverableJobError';
  }
}

/** An enqueue with a payload its schema refuses; nothing was queued. */
export class InvalidJobPayloadError extends Error {
  readonly code = 'E_INVALID_JOB_PAYLOAD';
  readonly job: string;
  readonly problems: readonly string[];
  constructor(job: string, problems: readonly string[]) {
    super(`invalid payload for job ${job}: ${problems.join('; ')}`);
    this.name = 'InvalidJobPayloadError';
    this.job = job;
    this.problems = problems;
  }
}

/** True for errors that must not be retried: ours, and any error carrying `permanent: true`. */
export function isUnrecoverable(err: unknown): boolean {
  return (err as { permanent?: unknown } | null)?.permanent === true;
}

/**
 * Declares a job type. The payload schema is compiled once.
 *
 * @example
 * export const sendNotification = defineJob({
 *   name: 'send-notification',
 *   queue: 'email',
 *   payload: Type.Object({ notificationId: Type.Integer({ minimum: 1 }) }),
 *   handler: async ({ notificationId }, ctx) => sender.send(notificationId, ctx.signal),
 * });
 */
export function defineJob<S extends TSchema>(definition: JobDefinition<S>): JobDefinition<S> {
  if (!/^[a-z][a-z0-9-]{0,62}$/.test(definition.name)) {
    throw new Error(`job name ${JSON.stringify(definition.name)} must be kebab-case`);
  }
  return definition;
}

const compiled = new WeakMap<TSchema, ReturnType<typeof Compile>>();

/** The payload's problems against the definition's schema (empty when it is valid). */
export function payloadProblems(definition: JobDefinition, payload: unknown): string[] {
  let check = compiled.get(definition.payload);
  if (!check) {
    check = Compile(definition.payload);
    compiled.set(definition.payload, check);
  }
  if (check.Check(payload)) return [];
  return [...check.Errors(payload)]
    .filter((e) => e.keyword !== 'boolean')
    .slice(0, 5)
    .map((e) => `${e.instancePath || '/'} ${e.message}`);
}

/** Throws InvalidJobPayloadError unless the payload matches the definition's schema. */
export function assertPayload(definition: JobDefinition, payload: unknown): void {
  const problems = payloadProblems(definition, payload);
  if (problems.length > 0) throw new InvalidJobPayloadError(definition.name, problems);
}

/** The definition's retry rules with the queue's filled in. */
export function effectiveRules(definition: JobDefinition, queue: QueueSettings) {
  return {
    attempts: definition.attempts ?? queue.attempts,
    backoff: definition.backoff ?? { type: queue.backoff, delayMs: queue.backoffMs },
    timeoutMs: definition.timeoutMs ?? queue.timeoutMs,
    priority: definition.priority ?? 0,
  };
}
