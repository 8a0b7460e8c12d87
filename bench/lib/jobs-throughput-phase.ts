// Row 3 of `npm run bench:jobs`: jobs per second through each driver, with a no-op job on the
// `processing` queue (production's settings: 5 at once per worker, no rate limit; pg-boss polls every
// QUEUE_POLL_INTERVAL_MS, 1 s). Per driver:
//   enqueue only   --jobs jobs.enqueue calls from --producers concurrent loops, no worker running
//   backlog        a worker started on those jobs: from its first job's start to the last completion
//   end to end     on a fresh namespace, the worker running and idle, --jobs more enqueued as above:
//                  from the first enqueue to the last completion (an idle worker's pick-up included)
// A processing measurement stops at --process-s if the jobs are not all done by then: its rate is the
// completions so far over the time so far, and the row says how many of the jobs that was.
// Producer and worker are two JobQueues in this process (two processes' worth of connections).
import Type from 'typebox';
import { type Database, openDatabase } from '../../src/platform/db/index.ts';
import { defineJob, type JobQueue } from '../../src/platform/queue/index.ts';
import {
  type DriverKind,
  dropBullmqKeys,
  type JobsContext,
  type JobsPhase,
  queueConfig,
  startQueue,
} from './jobs-context.ts';
import type { JobsRow } from './jobs-report.ts';

/** Jobs enqueued (and run) before anything is timed: statements prepared, connections open. */
const WARM_UP = 10;

/** What the worker saw of one batch: when its first job started and its last finished. */
class Batch {
  done = 0;
  firstStartAt: number | undefined;
  lastDoneAt = 0;
  readonly #target: number;
  readonly #finished: Promise<void>;
  #resolve!: () => void;

  constructor(target: number) {
    this.#target = target;
    this.#finished = new Promise((resolve) => {
      this.#resolve = resolve;
    });
  }

  ran(): void {
    this.firstStartAt ??= performance.now();
    this.done++;
    this.lastDoneAt = performance.now();
    if (this.done === this.#target) this.#resolve();
  }

  /** Resolves when every job has run, or after `capMs` (then `done` says how many had). */
  async finished(capMs: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.#finished, new Promise<void>((r) => (timer = setTimeout(r, capMs)))]);
    clearTimeout(timer);
  }
}

export const throughputPhase: JobsPhase = async (ctx: JobsContext) => {
  const rows: JobsRow[] = [];
  for (const driver of ctx.options.drivers) rows.push(await measureDriver(ctx, driver));
  return rows;
};

async function measureDriver(ctx: JobsContext, driver: DriverKind): Promise<JobsRow> {
  const { jobs: n, producers, processS } = ctx.options;
  const capMs = processS * 1000;
  let batch = new Batch(0);
  const noop = defineJob({
    name: 'bench-noop',
    queue: 'processing',
    payload: Type.Object({ i: Type.Integer({ minimum: 0 }) }, { additionalProperties: false }),
    handler: async () => batch.ran(),
  });
  const enqueueAll = async (jobs: JobQueue, count: number) => {
    let next = 0;
    const loop = async () => {
      while (next < count) await jobs.enqueue(noop, { i: next++ });
    };
    await Promise.all(Array.from({ length: producers }, loop));
  };
  const queues: JobQueue[] = [];
  const prefixes: string[] = [];
  const pair = async (label: string, db: Database) => {
    const namespace = ctx.namespace(`${label}_${driver}`);
    if (driver === 'bullmq') prefixes.push(namespace);
    const producer = await startQueue(queueConfig(ctx, { driver, namespace, work: false }), db, ctx.logger, [
      noop,
    ]);
    queues.push(producer);
    const workerConfig = queueConfig(ctx, { driver, namespace, work: true });
    const startWorker = async () => {
      const worker = await startQueue(workerConfig, db, ctx.logger, [noop]);
      queues.push(worker);
      return worker;
    };
    return { producer, workerConfig, startWorker };
  };
  const base = queueConfig(ctx, { driver, namespace: 'unused', work: false });
  const db = await openDatabase(base.db, ctx.logger);
  try {
    // Enqueue only, then the backlog: the warm-up jobs and the timed ones wait for a worker.
    const a = await pair('backlog', db);
    for (let i = 0; i < WARM_UP; i++) await a.producer.enqueue(noop, { i });
    batch = new Batch(n + WARM_UP);
    const backlog = batch;
    const e0 = performance.now();
    await enqueueAll(a.producer, n);
    const enqueueMs = performance.now() - e0;
    await a.startWorker();
    await backlog.finished(capMs);
    const backlogMs = backlog.lastDoneAt - (backlog.firstStartAt ?? backlog.lastDoneAt);
    // What is left of the backlog must not run into the next batch's count.
    for (const q of queues.splice(0).reverse()) await q.close();

    // End to end on a fresh namespace: a warmed, idle worker, then the batch.
    const b = await pair('e2e', db);
    await b.startWorker();
    batch = new Batch(WARM_UP);
    const warm = batch;
    for (let i = 0; i < WARM_UP; i++) await b.producer.enqueue(noop, { i });
    await warm.finished(capMs);
    // Its fetch loops back to idle polling.
    await new Promise((r) => setTimeout(r, 1500));
    batch = new Batch(n);
    const e2e = batch;
    const t0 = performance.now();
    await enqueueAll(b.producer, n);
    const e2eEnqueuedMs = performance.now() - t0;
    await e2e.finished(capMs);
    const e2eMs = e2e.lastDoneAt - t0;
    const pickUpMs = (e2e.firstStartAt ?? Number.NaN) - t0;

    const perS = (count: number, ms: number) => (count * 1000) / ms;
    const cut = (x: Batch, of: number) =>
      x.done < of ? ` (stopped at --process-s ${processS}: ${x.done} of ${of} done)` : '';
    ctx.log(
      `${driver}: enqueue ${perS(n, enqueueMs).toFixed(0)}/s, backlog ${perS(backlog.done, backlogMs).toFixed(1)}/s, end to end ${perS(e2e.done, e2eMs).toFixed(1)}/s`,
    );
    const concurrency = a.workerConfig.queue.queues.processing?.concurrency ?? 0;
    const pollMs = a.workerConfig.queue.pollIntervalMs;
    return {
      id: `throughput-${driver}`,
      title: `Jobs per second, ${driver === 'pgboss' ? 'pg-boss on PostgreSQL' : 'BullMQ on Redis'} (no-op job, ${n} jobs, one worker of concurrency ${concurrency})`,
      figures: [
        { label: 'end to end', value: perS(e2e.done, e2eMs), unit: '/s' },
        { label: 'enqueue only', value: perS(n, enqueueMs), unit: '/s' },
        { label: 'backlog drained', value: perS(backlog.done, backlogMs), unit: '/s' },
        { label: 'jobs run end to end', value: e2e.done, unit: 'count' },
        { label: 'first picked up after', value: pickUpMs, unit: 'ms' },
      ],
      notes:
        `${producers} concurrent producer loops calling jobs.enqueue (one job per call); one worker JobQueue (ROLE=worker) in the same process. ` +
        `End to end: from the first enqueue to the last completion${cut(e2e, n)}; enqueueing the ${n} took ${e2eEnqueuedMs.toFixed(0)} ms meanwhile. ` +
        `Backlog: ${n + WARM_UP} jobs waiting when the worker started, from its first job's start to its last completion${cut(backlog, n + WARM_UP)}.` +
        (driver === 'pgboss'
          ? ` pg-boss 12 runs each of the ${concurrency} fetch loops (batchSize 1, localConcurrency ${concurrency}) once per poll: after a fetch it waits the rest of pollingIntervalSeconds (QUEUE_POLL_INTERVAL_MS, ${pollMs} ms) unless a burst option or NOTIFY is on, neither of which the driver sets, so a worker runs at most ${concurrency} jobs per ${pollMs} ms whatever is waiting.`
          : ''),
    };
  } finally {
    for (const q of queues.reverse()) await q.close().catch(() => {});
    await db.close();
    for (const prefix of prefixes) await dropBullmqKeys(ctx.redisUrl, prefix);
  }
}
