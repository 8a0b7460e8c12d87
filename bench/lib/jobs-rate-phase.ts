// Row 4 of `npm run bench:jobs`: the email queue's rate limit (QUEUE_EMAIL_RATE_PER_S, 10 by default)
// measured where it matters, at the SMTP server. Per driver, on a namespace of its own: --burst
// bookings made one after another through Innkeep's booking use case, each enqueueing its
// confirmation's send-notification job in its transaction, with no worker running; then two workers
// (two JobQueues, as two worker processes would be, each with its own SMTP pool and 3 jobs at once)
// start on that backlog and the real sender delivers to a local SMTP server that answers at once, so
// only the limiter holds them back. Reported from the server's receipt times: the most messages in
// any 1 s window, the most in one calendar second, and the overall rate.

import { setTimeout as sleep } from 'node:timers/promises';
import { openDatabase } from '../../src/platform/db/index.ts';
import { createMailer, type Mailer } from '../../src/platform/mail/index.ts';
import type { JobQueue } from '../../src/platform/queue/index.ts';
import { rateSpacingMs } from '../../src/platform/queue/queue-store.ts';
import { startSmtpFake } from '../../test/support/smtp-fake.ts';
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
import { type JobsRow, maxInWindow, maxPerAlignedSecond } from './jobs-report.ts';

const WORKERS = 2;

export const rateLimitPhase: JobsPhase = async (ctx: JobsContext) => {
  const rows: JobsRow[] = [];
  for (const driver of ctx.options.drivers) rows.push(await measureDriver(ctx, driver));
  return rows;
};

async function measureDriver(ctx: JobsContext, driver: DriverKind): Promise<JobsRow> {
  const { burst } = ctx.options;
  const namespace = ctx.namespace(`rate_${driver}`);
  const producerConfig = queueConfig(ctx, { driver, namespace, work: false });
  const db = await openDatabase(producerConfig.db, ctx.logger);
  const smtp = await startSmtpFake();
  const queues: JobQueue[] = [];
  const mailers: Mailer[] = [];
  let booking: BookingStack | undefined;
  try {
    const producer = await startQueue(producerConfig, db, ctx.logger, []);
    queues.push(producer);
    const { job, queue } = notificationJobs(producer, db, NO_MAIL, producerConfig);
    producer.register(job);
    const ids: number[] = [];
    booking = bookingStack(producerConfig, db, ctx.logger, {
      async queue(tx, notificationIds) {
        await queue.queue(tx, notificationIds);
        tx.onCommit(() => {
          ids.push(...notificationIds);
        });
      },
    });
    for (let k = 0; k < burst; k++) {
      const b = ctx.bookings.take();
      const outcome = await booking.book(b.user, b.body, b.key);
      if (outcome.status !== 201) throw new Error(`booking answered ${outcome.status}: ${outcome.json}`);
    }
    const workerConfig = queueConfig(ctx, { driver, namespace, work: true });
    const rate = workerConfig.queue.queues.email?.ratePerSecond ?? 0;
    const concurrency = workerConfig.queue.queues.email?.concurrency ?? 0;
    for (let w = 0; w < WORKERS; w++) {
      const mailer = createMailer(
        {
          smtpUrl: smtp.url,
          from: workerConfig.mail.from,
          poolMax: workerConfig.mail.poolMax,
          dataDir: ctx.scratch,
        },
        ctx.logger,
      );
      mailers.push(mailer);
      const worker = await startQueue(workerConfig, db, ctx.logger, [
        notificationJobs(producer, db, mailer, workerConfig).job,
      ]);
      queues.push(worker);
    }
    const deadline = performance.now() + (rate > 0 ? (burst / rate) * 2000 : 0) + 60_000;
    while (smtp.received.length < burst && performance.now() < deadline) await sleep(100);
    if (smtp.received.length < burst) {
      throw new Error(
        `${driver}: the SMTP server received ${smtp.received.length} of ${burst} messages in time`,
      );
    }
    // Nothing more arrives (a duplicate would show here).
    await sleep(1500);
    const times = smtp.received.map((m) => m.receivedAt.getTime());
    const { rows: sent } = await db.read((q) =>
      q.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM notifications WHERE id = ANY($1::bigint[]) AND status = 'sent'`,
        [ids],
      ),
    );
    const spanS = (Math.max(...times) - Math.min(...times)) / 1000;
    const windowMax = maxInWindow(times);
    const secondMax = maxPerAlignedSecond(times);
    const overall = (times.length - 1) / spanS;
    const loops = WORKERS * concurrency;
    const pollMs = workerConfig.queue.pollIntervalMs;
    ctx.log(
      `${driver}: rate limit: max ${windowMax} in any 1 s window, ${secondMax} in a calendar second, ${overall.toFixed(2)}/s overall`,
    );
    return {
      id: `email-rate-${driver}`,
      title: `E-mail rate limit at the SMTP server, ${driver === 'pgboss' ? 'pg-boss' : 'BullMQ'} (QUEUE_EMAIL_RATE_PER_S=${rate}, burst of ${burst})`,
      figures: [
        { label: 'most in any 1 s window', value: windowMax, unit: 'count' },
        { label: 'most in one calendar second', value: secondMax, unit: 'count' },
        { label: 'overall', value: overall, unit: '/s' },
        { label: 'span', value: spanS * 1000, unit: 'ms' },
        { label: 'messages', value: times.length, unit: 'count' },
      ],
      claim: `rate limiting, ${rate} e-mails/s: ${secondMax <= rate ? 'held' : 'exceeded'} per calendar second (at most ${secondMax}), ${windowMax <= rate ? 'held' : 'exceeded'} in a sliding second (at most ${windowMax})`,
      goal: { text: `≤ ${rate} in any 1 s window`, met: windowMax <= rate },
      notes:
        `${burst} bookings' confirmations queued first (no worker), then ${WORKERS} workers of ${concurrency} jobs at once each, each with its own SMTP pool, against an SMTP server answering at once. ` +
        `Overall: (messages − 1) ÷ (last − first receipt). ${sent[0]?.n ?? 0} of ${ids.length} notifications marked sent; ${smtp.received.length} messages received. ` +
        (driver === 'pgboss'
          ? `The pg-boss limit reserves the next start in PostgreSQL (innkeep_rate), spaced by ${rateSpacingMs(rate)} ms.${overall < rate * 0.9 ? ` Polling held the rate lower here: each of the ${loops} fetch loops (${WORKERS} workers × ${concurrency}) takes one job per poll (QUEUE_POLL_INTERVAL_MS, ${pollMs} ms) until pg-boss's monitor counts a backlog and the loops burst.` : ''}`
          : `BullMQ's limiter lets one job start per ${rateSpacingMs(rate)} ms, shared through Redis; the time from a start to the server's receipt varies, so receipts can come closer together than the starts.`),
      data: { receivedMsFromFirst: times.map((t) => t - Math.min(...times)) },
    };
  } finally {
    for (const q of queues.reverse()) await q.close().catch(() => {});
    for (const m of mailers) await m.close().catch(() => {});
    await booking?.close();
    await smtp.close();
    await db.close();
    if (driver === 'bullmq') await dropBullmqKeys(ctx.redisUrl, namespace);
  }
}
