// `innkeep queues stats|retry|clean`: they ask the running app on its internal listener, like
// `innkeep cache ...`, so they work the same on either driver and with the embedded PostgreSQL.
import type { Config } from '../platform/config/index.ts';
import { formatCount, textTable } from '../platform/ops/index.ts';
import type { QueueStats } from '../platform/queue/index.ts';
import { call, fail } from './cache.ts';

/** `innkeep queues stats [--json]`: every queue's counts, oldest waiting job and throughput. */
export async function queueStatsCommand(config: Config, json: boolean): Promise<number> {
  const answer = await call(config, 'GET', '/api/admin/queues');
  if (typeof answer === 'string') return fail(answer);
  if (json) {
    console.log(JSON.stringify(answer, null, 2));
    return 0;
  }
  const { driver, queues } = answer as { driver: string; queues: QueueStats[] };
  const right = { align: 'right' } as const;
  console.log(`job queue: ${driver}\n`);
  console.log(
    textTable(
      [
        { header: 'queue' },
        { header: 'waiting', ...right },
        { header: 'active', ...right },
        { header: 'delayed', ...right },
        { header: 'completed', ...right },
        { header: 'failed', ...right },
        { header: 'dead', ...right },
        { header: 'oldest', ...right },
        { header: 'per min', ...right },
      ],
      queues.map((q) => [
        q.name,
        formatCount(q.waiting),
        formatCount(q.active),
        formatCount(q.delayed),
        formatCount(q.completed),
        formatCount(q.failed),
        formatCount(q.dead),
        `${q.oldestWaitingS.toFixed(1)} s`,
        q.completedPerMinute.toFixed(1),
      ]),
    ),
  );
  return 0;
}

/** `innkeep queues retry <queue>`: failed jobs back to waiting. */
export async function queueRetryCommand(config: Config, queue: string | undefined): Promise<number> {
  if (!queue) return fail('Name the queue: innkeep queues retry <queue>', 2);
  const answer = await call(config, 'POST', `/api/admin/queues/${encodeURIComponent(queue)}/retry`);
  if (typeof answer === 'string') return fail(answer);
  console.log(`Retried ${(answer as { retried: number }).retried} failed job(s) of ${queue}`);
  return 0;
}

/** `innkeep queues clean <queue> [--older-than-s S]`: deletes finished jobs. */
export async function queueCleanCommand(
  config: Config,
  queue: string | undefined,
  olderThanS: string | undefined,
): Promise<number> {
  if (!queue) return fail('Name the queue: innkeep queues clean <queue> [--older-than-s S]', 2);
  const seconds = olderThanS === undefined ? 3600 : Number(olderThanS);
  if (!Number.isInteger(seconds) || seconds < 0) return fail('--older-than-s must be a whole number', 2);
  const answer = await call(config, 'POST', `/api/admin/queues/${encodeURIComponent(queue)}/clean`, {
    olderThanS: seconds,
  });
  if (typeof answer === 'string') return fail(answer);
  console.log(`Deleted ${(answer as { deleted: number }).deleted} finished job(s) of ${queue}`);
  return 0;
}
