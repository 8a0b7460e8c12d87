import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Eta } from 'eta/core';
import type { FastifyInstance, FastifyReply, onRequestHookHandler } from 'fastify';
import Type from 'typebox';
import type { Database } from '../db/index.ts';
import { appError } from '../errors/index.ts';
import { registerFormBodyParser } from '../http/index.ts';
import type { JobQueue } from '../queue/index.ts';

export interface QueueDashboardOptions {
  readonly jobs: JobQueue;
  readonly db: Database;
  /** onRequest hook of every dashboard route (the admin check on the API); none on the internal listener. */
  readonly guard?: onRequestHookHandler;
  /** Where the page's "Log out" button posts; no button without it. */
  readonly logoutPath?: string;
  /** Default `/admin/queues`. */
  readonly basePath?: string;
  /** Seconds between the Innkeep page's automatic reloads (0: none). Default 15. */
  readonly refreshS?: number;
}

const eta = new Eta({ autoEscape: true, autoTrim: [false, 'nl'], cache: true });
eta.loadTemplate('@queues', readFileSync(join(import.meta.dirname, 'queue-page.eta'), 'utf8'));

const DEAD_SHOWN = 20;
const PAYLOAD_SHOWN = 600;
const Name = Type.String({ pattern: '^[a-z][a-z0-9_-]{0,62}$' });
const Done = Type.Union(['retried', 'cleaned', 'redriven', 'deleted'].map((d) => Type.Literal(d)));
const PageQuery = Type.Object({
  done: Type.Optional(Done),
  queue: Type.Optional(Name),
  count: Type.Optional(Type.Integer({ minimum: 0 })),
});
type PageQuery = { done?: 'retried' | 'cleaned' | 'redriven' | 'deleted'; queue?: string; count?: number };

/**
 * The queue dashboard at `/admin/queues`: bull-board with the BullMQ driver (its queues attached
 * once the job queue has started), and with pg-boss Innkeep's own page (no script: a table per
 * queue from {@link JobQueue.stats}, the newest dead letters, and forms that retry, clean, redrive
 * and delete, each answering with a redirect back to the page). Every route is hidden from the
 * OpenAPI document and runs `guard` first.
 *
 * @example
 * await app.register(queueDashboard, { jobs, db, guard: adminPageGuard, logoutPath: '/admin/logout' });
 */
export async function queueDashboard(app: FastifyInstance, options: QueueDashboardOptions): Promise<void> {
  const { jobs, guard } = options;
  const basePath = options.basePath ?? '/admin/queues';
  if (guard) app.addHook('onRequest', guard);
  if (jobs.driver === 'bullmq') {
    await mountBullBoard(app, jobs, basePath);
    return;
  }
  registerFormBodyParser(app);
  const hide = { hide: true };
  const back = (reply: FastifyReply, query: Required<PageQuery>) => {
    const search = new URLSearchParams({ done: query.done, queue: query.queue, count: String(query.count) });
    return reply.redirect(`${basePath}?${search}`, 303);
  };

  app.get(basePath, { schema: { ...hide, querystring: PageQuery } }, async (request, reply) => {
    const query = request.query as PageQuery;
    const queues = await jobs.stats();
    const dead = [];
    for (const q of queues) {
      if (q.dead === 0) continue;
      const letters = await jobs.deadLetters(q.name, DEAD_SHOWN);
      dead.push({
        queue: q.name,
        letters: letters.map((l) => ({
          ...l,
          payload: truncate(JSON.stringify(l.payload)),
          deadAt: new Date(l.deadAt).toISOString(),
        })),
      });
    }
    const html = eta.render('@queues', {
      driver: jobs.driver,
      generatedAt: new Date().toISOString(),
      refreshS: options.refreshS ?? 15,
      logoutPath: options.logoutPath,
      basePath,
      notice: notice(query),
      queues,
      dead,
    });
    return reply.header('cache-control', 'no-store').type('text/html; charset=utf-8').send(html);
  });

  const QueueParams = Type.Object({ name: Name });
  const DeadParams = Type.Object({ name: Name, id: Type.Integer({ minimum: 1 }) });
  app.post(
    `${basePath}/:name/retry`,
    { schema: { ...hide, params: QueueParams } },
    async (request, reply) => {
      const { name } = request.params as { name: string };
      return back(reply, { done: 'retried', queue: name, count: await jobs.retryFailed(name) });
    },
  );
  app.post(
    `${basePath}/:name/clean`,
    { schema: { ...hide, params: QueueParams } },
    async (request, reply) => {
      const { name } = request.params as { name: string };
      return back(reply, { done: 'cleaned', queue: name, count: await jobs.clean(name, 3_600_000) });
    },
  );
  app.post(
    `${basePath}/:name/dead/:id/redrive`,
    { schema: { ...hide, params: DeadParams } },
    async (request, reply) => {
      const { name, id } = request.params as { name: string; id: number };
      const redriven = await jobs.redrive(options.db, name, [id]);
      if (redriven.length === 0) throw appError('NOT_FOUND', `dead letter ${id} is not in queue ${name}`);
      return back(reply, { done: 'redriven', queue: name, count: redriven.length });
    },
  );
  app.post(
    `${basePath}/:name/dead/:id/delete`,
    { schema: { ...hide, params: DeadParams } },
    async (request, reply) => {
      const { name, id } = request.params as { name: string; id: number };
      if (!(await jobs.deleteDeadLetter(name, id))) {
        throw appError('NOT_FOUND', `dead letter ${id} is not in queue ${name}`);
      }
      return back(reply, { done: 'deleted', queue: name, count: 1 });
    },
  );
}

/** bull-board's Fastify adapter under `basePath`; its queues are attached when the job queue starts. */
async function mountBullBoard(app: FastifyInstance, jobs: JobQueue, basePath: string): Promise<void> {
  const [{ createBullBoard }, { BullMQAdapter }, { FastifyAdapter }] = await Promise.all([
    import('@bull-board/api'),
    import('@bull-board/api/bullMQAdapter'),
    import('@bull-board/fastify'),
  ]);
  const serverAdapter = new FastifyAdapter();
  serverAdapter.setBasePath(basePath);
  const board = createBullBoard({
    queues: [],
    serverAdapter,
    options: { uiConfig: { boardTitle: 'Innkeep queues' } },
  });
  jobs.onStarted(() => board.setQueues(jobs.bullmqQueues().map((q) => new BullMQAdapter(q))));
  await app.register(serverAdapter.registerPlugin(), { prefix: basePath });
}

function notice(query: PageQuery): string | undefined {
  if (!query.done || !query.queue) return undefined;
  const n = query.count ?? 0;
  const jobsWord = n === 1 ? 'job' : 'jobs';
  switch (query.done) {
    case 'retried':
      return `${query.queue}: ${n} failed ${jobsWord} put back to waiting.`;
    case 'cleaned':
      return `${query.queue}: ${n} finished ${jobsWord} older than one hour deleted.`;
    case 'redriven':
      return `${query.queue}: dead letter enqueued again as a new job.`;
    case 'deleted':
      return `${query.queue}: dead letter deleted.`;
  }
}

function truncate(text: string | undefined): string {
  if (text === undefined) return '';
  return text.length > PAYLOAD_SHOWN ? `${text.slice(0, PAYLOAD_SHOWN)}…` : text;
}
