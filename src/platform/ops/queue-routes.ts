import type { FastifyInstance, onRequestHookHandler } from 'fastify';
import Type from 'typebox';
import type { Database } from '../db/index.ts';
import { appError } from '../errors/index.ts';
import type { JobQueue } from '../queue/index.ts';

export interface QueueRoutesOptions {
  /** The admin check on the API; none on the internal listener. */
  readonly guard?: onRequestHookHandler;
  readonly security?: readonly Record<string, readonly string[]>[];
  readonly jobs: JobQueue;
  readonly db: Database;
}

const QueueName = Type.Object({
  name: Type.String({ pattern: '^[a-z][a-z0-9_-]{0,62}$', description: 'A configured queue' }),
});
const Counts = Type.Object({
  name: Type.String(),
  waiting: Type.Integer({ description: 'Ready to run' }),
  active: Type.Integer({ description: 'Running now' }),
  delayed: Type.Integer({ description: 'Waiting for their start time or their next attempt' }),
  completed: Type.Integer({ description: 'Finished and still kept (QUEUE_KEEP_COMPLETED_HOURS)' }),
  failed: Type.Integer({ description: 'Failed for good and still kept' }),
  dead: Type.Integer({ description: 'In the dead letters (redrive or delete them)' }),
  oldestWaitingS: Type.Number({ description: 'Age of the oldest ready job, in seconds' }),
  completedPerMinute: Type.Number({ description: 'Throughput over the last 5 minutes' }),
  concurrency: Type.Integer(),
  ratePerSecond: Type.Integer({ description: '0: no limit' }),
});
const Stats = Type.Object({
  generatedAt: Type.String({ format: 'date-time' }),
  driver: Type.String({ description: '`pgboss` or `bullmq`' }),
  queues: Type.Array(Counts),
});
const DeadLetter = Type.Object({
  id: Type.Integer(),
  jobId: Type.String(),
  queue: Type.String(),
  name: Type.String(),
  payload: Type.Unknown(),
  attempts: Type.Integer(),
  reason: Type.Union([Type.Literal('exhausted'), Type.Literal('unrecoverable')]),
  error: Type.String(),
  history: Type.Array(
    Type.Object({ attempt: Type.Integer(), error: Type.String(), failedAt: Type.String() }),
  ),
  deadAt: Type.String({ format: 'date-time' }),
});
const DeadId = Type.Object({ name: QueueName.properties.name, id: Type.Integer({ minimum: 1 }) });

/**
 * Queue administration: statistics per queue, retrying failed jobs, cleaning finished ones, and the
 * dead letters (list, redrive, delete). Behind the admin guard on the API, open on the internal
 * listener (what `innkeep queues ...` talks to).
 */
export async function queueRoutes(app: FastifyInstance, options: QueueRoutesOptions): Promise<void> {
  const { jobs, db, guard } = options;
  const common = {
    ...(guard ? { onRequest: guard } : {}),
  };
  const doc = (summary: string, description: string) => ({
    tags: ['operations'],
    summary,
    description,
    ...(options.security ? { security: options.security } : {}),
  });

  app.get(
    '/api/admin/queues',
    {
      ...common,
      schema: {
        ...doc(
          'Job queues (admin)',
          'Every configured queue: jobs waiting, running, delayed, completed, failed and dead, the age of the oldest waiting job and the throughput of the last 5 minutes.',
        ),
        response: { 200: Stats },
      },
    },
    async () => ({ generatedAt: new Date().toISOString(), driver: jobs.driver, queues: await jobs.stats() }),
  );

  app.post(
    '/api/admin/queues/:name/retry',
    {
      ...common,
      schema: {
        ...doc(
          'Retry failed jobs (admin)',
          'Puts the queue’s failed jobs back to waiting with fresh attempts.',
        ),
        params: QueueName,
        response: { 200: Type.Object({ queue: Type.String(), retried: Type.Integer() }) },
      },
    },
    async (request) => {
      const { name } = request.params as { name: string };
      return { queue: name, retried: await jobs.retryFailed(name) };
    },
  );

  app.post(
    '/api/admin/queues/:name/clean',
    {
      ...common,
      schema: {
        ...doc(
          'Clean finished jobs (admin)',
          'Deletes the queue’s completed and failed jobs older than `olderThanS` seconds (default one hour). Dead letters are kept.',
        ),
        params: QueueName,
        body: Type.Union([
          Type.Object(
            { olderThanS: Type.Optional(Type.Integer({ minimum: 0, maximum: 365 * 86_400 })) },
            { additionalProperties: false },
          ),
          Type.Null(),
        ]),
        response: { 200: Type.Object({ queue: Type.String(), deleted: Type.Integer() }) },
      },
    },
    async (request) => {
      const { name } = request.params as { name: string };
      const olderThanS = (request.body as { olderThanS?: number } | null)?.olderThanS ?? 3600;
      return { queue: name, deleted: await jobs.clean(name, olderThanS * 1000) };
    },
  );

  app.get(
    '/api/admin/queues/:name/dead',
    {
      ...common,
      schema: {
        ...doc(
          'Dead letters (admin)',
          'Jobs that exhausted their attempts or failed unrecoverably, newest first, with their last error and every attempt.',
        ),
        params: QueueName,
        querystring: Type.Object(
          {
            limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 50 })),
            before: Type.Optional(Type.Integer({ minimum: 1, description: 'Page: ids below this one' })),
          },
          { additionalProperties: false },
        ),
        response: { 200: Type.Object({ queue: Type.String(), deadLetters: Type.Array(DeadLetter) }) },
      },
    },
    async (request) => {
      const { name } = request.params as { name: string };
      const { limit, before } = request.query as { limit?: number; before?: number };
      return { queue: name, deadLetters: await jobs.deadLetters(name, limit ?? 50, before) };
    },
  );

  app.post(
    '/api/admin/queues/:name/dead/redrive',
    {
      ...common,
      schema: {
        ...doc(
          'Redrive dead letters (admin)',
          'Enqueues dead letters again as new jobs with fresh attempts (those ids, or all of the queue’s), in one transaction with their removal.',
        ),
        params: QueueName,
        body: Type.Union([
          Type.Object(
            { ids: Type.Optional(Type.Array(Type.Integer({ minimum: 1 }), { minItems: 1, maxItems: 1000 })) },
            { additionalProperties: false },
          ),
          Type.Null(),
        ]),
        response: {
          200: Type.Object({
            queue: Type.String(),
            redriven: Type.Array(Type.Object({ deadLetterId: Type.Integer(), jobId: Type.String() })),
          }),
        },
      },
    },
    async (request) => {
      const { name } = request.params as { name: string };
      const ids = (request.body as { ids?: number[] } | null)?.ids;
      const redriven = await jobs.redrive(db, name, ids);
      if (ids && redriven.length === 0) throw appError('NOT_FOUND', 'none of those dead letters exist');
      return { queue: name, redriven };
    },
  );

  app.delete(
    '/api/admin/queues/:name/dead/:id',
    {
      ...common,
      schema: {
        ...doc('Delete a dead letter (admin)', 'Forgets one dead letter for good.'),
        params: DeadId,
        response: { 204: Type.Null() },
      },
    },
    async (request, reply) => {
      const { name, id } = request.params as { name: string; id: number };
      if (!(await jobs.deleteDeadLetter(name, id))) {
        throw appError('NOT_FOUND', `dead letter ${id} is not in queue ${name}`);
      }
      return reply.code(204).send();
    },
  );
}
