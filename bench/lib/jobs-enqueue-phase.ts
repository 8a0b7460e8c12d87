// Row 2 of `npm run bench:jobs`: what enqueueing the confirmation's job costs the booking. Innkeep's
// booking use case (bench/lib/booking-stack.ts: the claim, the one transaction, the stored answer, as
// POST /api/bookings runs it, without HTTP) one booking at a time, three ways that differ only in the
// NotificationQueue seam: none (the notification row is written, no job), pg-boss (the job inserted
// on the transaction's connection) and BullMQ (an outbox row in the transaction, relayed to Redis
// after COMMIT). The variants take turns in blocks, rotating which goes first; each round's p50
// difference is one comparison, their median the result.
import { openDatabase } from '../../src/platform/db/index.ts';
import type { JobQueue } from '../../src/platform/queue/index.ts';
import { type BookingStack, bookingStack } from './booking-stack.ts';
import {
  type DriverKind,
  dropBullmqKeys,
  type JobsContext,
  type JobsPhase,
  NO_MAIL,
  notificationJobs,
  queueConfig,
  startQueue,
} from './jobs-context.ts';
import { type JobsRow, percentile, sortedCopy, spread } from './jobs-report.ts';

const BLOCK = 25;

interface Variant {
  readonly name: 'none' | DriverKind;
  readonly stack: BookingStack;
  readonly jobs?: JobQueue;
  readonly ms: number[];
  readonly roundP50: number[];
  made: number;
}

export const enqueueCostPhase: JobsPhase = async (ctx: JobsContext) => {
  const { options, log } = ctx;
  const base = queueConfig(ctx, { driver: 'pgboss', namespace: ctx.namespace('enqueue_none'), work: false });
  const db = await openDatabase(base.db, ctx.logger);
  const variants: Variant[] = [];
  const prefixes: string[] = [];
  try {
    variants.push({
      name: 'none',
      stack: bookingStack(base, db, ctx.logger, undefined),
      ms: [],
      roundP50: [],
      made: 0,
    });
    for (const driver of options.drivers) {
      const namespace = ctx.namespace(`enqueue_${driver}`);
      if (driver === 'bullmq') prefixes.push(namespace);
      const config = queueConfig(ctx, { driver, namespace, work: false });
      const jobs = await startQueue(config, db, ctx.logger, []);
      const { job, queue } = notificationJobs(jobs, db, NO_MAIL, config);
      jobs.register(job);
      variants.push({
        name: driver,
        stack: bookingStack(config, db, ctx.logger, queue),
        jobs,
        ms: [],
        roundP50: [],
        made: 0,
      });
    }
    const book = async (v: Variant, record: boolean) => {
      const times: number[] = [];
      for (let k = 0; k < BLOCK; k++) {
        const b = ctx.bookings.take();
        const t = performance.now();
        const outcome = await v.stack.book(b.user, b.body, b.key);
        const ms = performance.now() - t;
        if (outcome.status !== 201)
          throw new Error(`booking (${v.name}) answered ${outcome.status}: ${outcome.json}`);
        v.made++;
        if (record) times.push(ms);
      }
      if (record) {
        v.ms.push(...times);
        v.roundP50.push(percentile(sortedCopy(times), 50));
      }
    };
    for (const v of variants) await book(v, false);
    for (let r = 0; r < options.enqueueRounds; r++) {
      for (let k = 0; k < variants.length; k++)
        await book(variants[(k + r) % variants.length] as Variant, true);
    }
    // Every booking of a queueing variant has its job waiting (BullMQ: once the relay has run).
    for (const v of variants) {
      if (!v.jobs) continue;
      const deadline = Date.now() + 30_000;
      let waiting = 0;
      while (Date.now() < deadline) {
        waiting = (await v.jobs.stats()).find((q) => q.name === 'email')?.waiting ?? 0;
        if (waiting >= v.made) break;
        await new Promise((r) => setTimeout(r, 200));
      }
      if (waiting !== v.made)
        throw new Error(`${v.name}: ${waiting} e-mail jobs waiting for ${v.made} bookings`);
    }
    const none = variants[0] as Variant;
    const rows: JobsRow[] = [];
    for (const v of variants.slice(1)) {
      const base50 = percentile(sortedCopy(none.ms), 50);
      const with50 = percentile(sortedCopy(v.ms), 50);
      const delta = spread(v.roundP50.map((p, i) => p - (none.roundP50[i] as number)));
      const ratio = spread(v.roundP50.map((p, i) => p / (none.roundP50[i] as number)));
      log(
        `enqueue cost (${v.name}): p50 ${base50.toFixed(3)} → ${with50.toFixed(3)} ms (+${(delta.median * 1000).toFixed(0)} µs)`,
      );
      rows.push({
        id: `enqueue-cost-${v.name}`,
        title: `Cost of the enqueue inside the booking transaction (${v.name === 'pgboss' ? 'pg-boss: job row in the transaction' : 'BullMQ: outbox row, relayed after COMMIT'})`,
        figures: [
          { label: 'booking without the job p50', value: base50, unit: 'ms' },
          { label: 'p95', value: percentile(sortedCopy(none.ms), 95), unit: 'ms' },
          { label: '· with it p50', value: with50, unit: 'ms' },
          { label: 'p95', value: percentile(sortedCopy(v.ms), 95), unit: 'ms' },
          { label: '· added at p50', value: delta.median * 1000, unit: 'µs' },
          { label: 'p50 ratio', value: ratio.median, unit: 'ratio' },
        ],
        notes:
          `${v.ms.length} bookings per variant, one at a time, in ${options.enqueueRounds} rounds of ${BLOCK} (the variants' order rotated, one warm-up block each); ` +
          `"added" and the ratio are the medians of the rounds' p50 differences and ratios (${(delta.min * 1000).toFixed(0)} to ${(delta.max * 1000).toFixed(0)} µs; ${ratio.min.toFixed(3)}–${ratio.max.toFixed(3)}×). ` +
          'Measured at the use case (claim, transaction, stored answer; no HTTP): the difference is the enqueue alone. ' +
          `Checked afterwards: ${v.made} e-mail jobs waiting for ${v.made} bookings.` +
          (v.name === 'bullmq'
            ? " The relay's work after COMMIT (claim the row, add to Redis, delete the row: two more autocommitted statements) runs beside the next booking and is counted where it slows it."
            : ''),
        data: { roundP50Ms: { without: none.roundP50, with: v.roundP50 } },
      });
    }
    return rows;
  } finally {
    for (const v of variants) {
      await v.jobs?.close();
      await v.stack.close();
    }
    await db.close();
    for (const prefix of prefixes) await dropBullmqKeys(ctx.redisUrl, prefix);
  }
};
