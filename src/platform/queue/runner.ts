import type { Logger } from '../observability/index.ts';
import type { IncomingJob, JobRunner, RunOutcome } from './driver.ts';
import { isUnrecoverable, type JobDefinition, payloadProblems } from './job.ts';
import type { QueueStore } from './queue-store.ts';

/** Told about every finished run (metrics). */
export type RunObserver = (
  job: { queue: string; name: string },
  outcome: RunOutcome['status'],
  seconds: number,
) => void;

export interface RunnerOptions {
  readonly definitions: ReadonlyMap<string, JobDefinition>;
  readonly store: QueueStore;
  readonly log: Logger;
  /** Aborted when the worker's drain time is up: running handlers are told to stop. */
  readonly drain: AbortSignal;
  readonly timeoutMsOf: (definition: JobDefinition) => number;
  readonly onRun?: RunObserver | undefined;
}

/** Errors are stored and logged by message, bounded (a provider's 1 MB error body stays out). */
function describe(err: unknown): string {
  const message = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  return message.length > 2000 ? `${message.slice(0, 2000)}…` : message;
}

/**
 * The part of processing both drivers share: the payload checked again on receipt, the timeout,
 * retryable vs unrecoverable errors, the attempt history and the dead letters, metrics and logs.
 * The driver only maps the outcome onto its engine.
 */
export function createRunner(options: RunnerOptions): JobRunner {
  const { definitions, store, log, drain } = options;
  return async (job: IncomingJob): Promise<RunOutcome> => {
    const startedAt = performance.now();
    const finish = (outcome: RunOutcome): RunOutcome => {
      options.onRun?.(job, outcome.status, (performance.now() - startedAt) / 1000);
      return outcome;
    };
    const context = { jobId: job.id, queue: job.queue, job: job.name, attempt: job.attempt };
    const dead = async (reason: 'exhausted' | 'unrecoverable', error: Error): Promise<RunOutcome> => {
      await store.deadLetter({
        jobId: job.id,
        queue: job.queue,
        name: job.name,
        payload: job.payload,
        attempt: job.attempt,
        reason,
        error: describe(error),
      });
      log.error({ ...context, err: error, reason }, 'job moved to the dead letters');
      return finish({ status: reason === 'unrecoverable' ? 'dead' : 'failed', error });
    };

    const definition = definitions.get(job.name);
    if (!definition) {
      return dead('unrecoverable', new Error(`no handler is registered for job "${job.name}"`));
    }
    const problems = payloadProblems(definition, job.payload);
    if (problems.length > 0) {
      return dead('unrecoverable', new Error(`invalid payload: ${problems.join('; ')}`));
    }

    const timeoutMs = options.timeoutMsOf(definition);
    const controller = new AbortController();
    const timer = setTimeout(
      () => controller.abort(new Error(`the job timed out after ${timeoutMs} ms`)),
      timeoutMs,
    );
    const stop = (reason: unknown) => controller.abort(reason);
    const onDrain = () => stop(new Error('the worker is shutting down'));
    const onDriver = () => stop(job.signal?.reason ?? new Error('the queue expired the job'));
    drain.addEventListener('abort', onDrain, { once: true });
    job.signal?.addEventListener('abort', onDriver, { once: true });
    if (drain.aborted) onDrain();
    try {
      const aborted = new Promise<never>((_, reject) => {
        const fail = () => reject(controller.signal.reason);
        if (controller.signal.aborted) fail();
        else controller.signal.addEventListener('abort', fail, { once: true });
      });
      aborted.catch(() => {});
      await Promise.race([
        definition.handler(job.payload as never, {
          id: job.id,
          queue: job.queue,
          name: job.name,
          attempt: job.attempt,
          maxAttempts: job.maxAttempts,
          signal: controller.signal,
          progress: (percent) => job.progress(Math.max(0, Math.min(100, Math.round(percent)))),
        }),
        aborted,
      ]);
      if (job.attempt > 1) await store.clearFailures(job.queue, job.id).catch(() => {});
      log.debug({ ...context, ms: Math.round(performance.now() - startedAt) }, 'job completed');
      return finish({ status: 'completed' });
    } catch (caught) {
      const error = caught instanceof Error ? caught : new Error(String(caught));
      if (isUnrecoverable(error)) return dead('unrecoverable', error);
      // A run cut short by the drain counts as an attempt too: on the last one it is dead-lettered
      // (and can be redriven), never dropped.
      if (job.attempt >= job.maxAttempts) return dead('exhausted', error);
      await store.recordFailure(job.queue, job.id, job.attempt, describe(error)).catch((err: unknown) => {
        log.warn({ ...context, err }, 'could not record the failed attempt');
      });
      log.warn(
        { ...context, err: error, maxAttempts: job.maxAttempts },
        'job attempt failed; it will be retried',
      );
      return finish({ status: 'failed', error });
    } finally {
      clearTimeout(timer);
      drain.removeEventListener('abort', onDrain);
      job.signal?.removeEventListener('abort', onDriver);
    }
  };
}
