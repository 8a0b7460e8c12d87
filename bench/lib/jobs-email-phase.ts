// Row 1 of `npm run bench:jobs`: a booking with its confirmation e-mail sent inside the request (the
// inline-mail server, bench/naive/inline-mail.ts) against Innkeep, which enqueues the e-mail's job in
// the booking's transaction and sends it from its worker. Each in its own process on the same work
// database, each with its own local SMTP server answering every message after --smtp-delay-ms, and
// the same SMTP pool settings (SMTP_POOL_MAX). Rounds alternate which side goes first; in each, both
// make the same number of fresh bookings at --connections. Afterwards the bench waits until Innkeep's
// worker has delivered every confirmation (at the email queue's 10/s), so the e-mails are really sent.
import { setTimeout as sleep } from 'node:timers/promises';
import autocannon from 'autocannon';
import { loadConfig } from '../../src/platform/config/index.ts';
import { startSmtpFake } from '../../test/support/smtp-fake.ts';
import type { JobsContext, JobsPhase } from './jobs-context.ts';
import { type JobsRow, maxInWindow, percentile, sortedCopy, spread } from './jobs-report.ts';
import type { BenchRequest } from './measure.ts';
import { type ServerProcess, startServer } from './servers.ts';

interface LoadOutcome {
  /** Per-response latency as autocannon measured it, ms. */
  readonly ms: number[];
  /** From the start to the last response. */
  readonly elapsedMs: number;
  readonly created: number;
}

/**
 * `amount` requests from `next()` over `connections` keep-alive connections (autocannon), each
 * response's latency kept. Anything but 201, an error or a timeout fails the run.
 */
async function load(
  name: string,
  url: string,
  next: () => BenchRequest,
  connections: number,
  amount: number,
): Promise<LoadOutcome> {
  const ms: number[] = [];
  const statuses: Record<string, number> = {};
  const instance = autocannon({
    url,
    connections,
    amount,
    timeout: 120,
    requests: [
      {
        setupRequest: (req) => {
          const r = next();
          const body = JSON.stringify(r.body);
          return {
            ...req,
            method: r.method,
            path: r.path,
            headers: { ...r.headers, 'content-type': 'application/json' },
            body,
          };
        },
      },
    ],
  }) as unknown as autocannon.Instance & PromiseLike<autocannon.Result>;
  const startedAt = performance.now();
  let lastAt = startedAt;
  instance.on('response', (_client, status, _bytes, responseTime) => {
    lastAt = performance.now();
    statuses[status] = (statuses[status] ?? 0) + 1;
    ms.push(responseTime);
  });
  const result = await instance;
  const created = statuses['201'] ?? 0;
  if (created !== ms.length || result.errors > 0 || result.timeouts > 0) {
    throw new Error(
      `${name}: POST /api/bookings under load: ${JSON.stringify(statuses)}, ${result.errors} errors, ${result.timeouts} timeouts`,
    );
  }
  return { ms, elapsedMs: lastAt - startedAt, created };
}

interface Side {
  readonly name: 'inline' | 'enqueued';
  readonly server: ServerProcess;
  readonly ms: number[];
  elapsedMs: number;
  completed: number;
  /** Bookings made, warm-up included: each must have its e-mail. */
  created: number;
  readonly roundP50: number[];
  readonly roundRps: number[];
}

export const emailInRequestPhase: JobsPhase = async (ctx: JobsContext) => {
  const { options, log } = ctx;
  const inlineSmtp = await startSmtpFake();
  const innkeepSmtp = await startSmtpFake();
  inlineSmtp.delayMs = options.smtpDelayMs;
  innkeepSmtp.delayMs = options.smtpDelayMs;
  const env = {
    NODE_ENV: 'production',
    LOG_LEVEL: 'warn',
    DATABASE_URL: ctx.databaseUrl,
    JWT_SECRET: ctx.jwtSecret,
    INNKEEP_DATA_DIR: ctx.scratch,
    DB_SEED_ON_EMPTY: 'none',
    DB_MIGRATE_ON_START: 'false',
    // As in the before/after rows: the code paths themselves; the limiter's cost has its own row.
    CACHE_ENABLED: 'false',
    RATE_LIMIT_ENABLED: 'false',
  };
  const servers: ServerProcess[] = [];
  try {
    const [inlineServer, innkeepServer] = await Promise.all([
      startServer({
        name: 'inline-mail',
        script: 'bench/naive/inline-mail-server.ts',
        env: { ...env, SMTP_URL: inlineSmtp.url },
        readyPath: '/healthz',
      }),
      // What `npm start` runs (ROLE=all): the API enqueues, its own worker sends.
      startServer({
        name: 'innkeep',
        script: 'src/main.ts',
        args: ['start'],
        env: { ...env, SMTP_URL: innkeepSmtp.url, ROLE: 'all', QUEUE_NAMESPACE: ctx.namespace('email_row') },
        readyPath: '/ready',
      }),
    ]);
    servers.push(inlineServer, innkeepServer);
    const side = (name: Side['name'], server: ServerProcess): Side => ({
      name,
      server,
      ms: [],
      elapsedMs: 0,
      completed: 0,
      created: 0,
      roundP50: [],
      roundRps: [],
    });
    const sides = [
      side('inline', inlineServer as ServerProcess),
      side('enqueued', innkeepServer as ServerProcess),
    ];
    const next = () => ctx.bookings.request();
    // Warm-up (connections, plans, JIT, the SMTP pool), not counted.
    for (const s of sides) {
      s.created += (
        await load(s.name, s.server.url, next, options.connections, options.connections * 2)
      ).created;
    }
    let lastEnqueuedAnswerAt = Date.now();
    for (let r = 0; r < options.rounds; r++) {
      for (const s of r % 2 === 0 ? sides : [...sides].reverse()) {
        const res = await load(s.name, s.server.url, next, options.connections, options.bookings);
        s.ms.push(...res.ms);
        s.elapsedMs += res.elapsedMs;
        s.completed += res.ms.length;
        s.created += res.created;
        s.roundP50.push(percentile(sortedCopy(res.ms), 50));
        s.roundRps.push((res.ms.length * 1000) / res.elapsedMs);
        if (s.name === 'enqueued') lastEnqueuedAnswerAt = Date.now();
        log(`e-mail row round ${r + 1}: ${s.name} p50 ${s.roundP50.at(-1)?.toFixed(1)} ms`);
      }
    }
    const [inline, enqueued] = sides as [Side, Side];
    // Every inline answer came after its message was accepted: the fake holds all of them already.
    if (inlineSmtp.received.length !== inline.created) {
      throw new Error(
        `the inline-mail server answered ${inline.created} bookings but its SMTP server received ${inlineSmtp.received.length} messages`,
      );
    }
    const defaults = loadConfig({ env: {}, envFile: false });
    const rate = defaults.queue.queues.email?.ratePerSecond ?? 10;
    const poolMax = defaults.mail.poolMax;
    const waitMs = (enqueued.created / rate) * 1500 + 60_000;
    const waitStart = performance.now();
    while (innkeepSmtp.received.length < enqueued.created && performance.now() - waitStart < waitMs) {
      await sleep(200);
    }
    if (innkeepSmtp.received.length < enqueued.created) {
      throw new Error(
        `Innkeep's worker delivered ${innkeepSmtp.received.length} of ${enqueued.created} confirmations within ${Math.round(waitMs / 1000)} s`,
      );
    }
    const deliveredAt = innkeepSmtp.received.map((m) => m.receivedAt.getTime());
    const lastDelivery = Math.max(...deliveredAt);
    log(`Innkeep's worker delivered all ${enqueued.created} confirmations`);

    const stats = (s: Side) => {
      const sorted = sortedCopy(s.ms);
      return {
        p50: percentile(sorted, 50),
        p95: percentile(sorted, 95),
        rps: (s.completed * 1000) / s.elapsedMs,
      };
    };
    const a = stats(inline);
    const b = stats(enqueued);
    const speedUp = spread(inline.roundP50.map((v, i) => v / (enqueued.roundP50[i] as number)));
    const throughput = spread(enqueued.roundRps.map((v, i) => v / (inline.roundRps[i] as number)));
    const saved = a.p50 - b.p50;
    const row: JobsRow = {
      id: 'email-in-request',
      title: `Create booking, confirmation e-mail sent in the request vs enqueued (SMTP ${options.smtpDelayMs} ms per message, ${options.connections} connections)`,
      figures: [
        { label: 'in the request p50', value: a.p50, unit: 'ms' },
        { label: 'p95', value: a.p95, unit: 'ms' },
        { label: 'req/s', value: a.rps, unit: '/s' },
        { label: '· enqueued p50', value: b.p50, unit: 'ms' },
        { label: 'p95', value: b.p95, unit: 'ms' },
        { label: 'req/s', value: b.rps, unit: '/s' },
        { label: '· p50 taken off', value: saved, unit: 'ms' },
        { label: 'p50 speed-up', value: speedUp.median, unit: 'ratio' },
        { label: 'throughput', value: throughput.median, unit: 'ratio' },
      ],
      claim: `API response time −2 s per e-mail operation: here −${saved.toFixed(0)} ms at p50 with a ${options.smtpDelayMs} ms SMTP server`,
      goal: {
        text: `enqueued p95 < the SMTP delay (${options.smtpDelayMs} ms): the e-mail stays out of the request`,
        met: b.p95 < options.smtpDelayMs,
      },
      notes:
        `${inline.completed} bookings a side over ${options.rounds} rounds (order alternated; ${options.connections * 2} warm-up bookings each, not counted), ` +
        `p50 speed-up and throughput ratio are the medians of the rounds' ratios (${speedUp.min.toFixed(1)}–${speedUp.max.toFixed(1)}×, ${throughput.min.toFixed(1)}–${throughput.max.toFixed(1)}×). ` +
        'In the request: bench/naive/inline-mail.ts, Innkeep’s BookingService (the same transaction, its notification row included, no job) then NotificationSender through the SMTP pool after COMMIT, before the 201. ' +
        `Enqueued: \`innkeep start\` (ROLE=all), the send-notification job inserted by pg-boss in the booking's transaction; its worker delivered all ${enqueued.created} confirmations, the last ` +
        `${((lastDelivery - lastEnqueuedAnswerAt) / 1000).toFixed(1)} s after the last booking answer (at most ${maxInWindow(deliveredAt)} in any 1 s window; see the throughput and rate rows for what paces it). ` +
        `Both sides pool SMTP_POOL_MAX=${poolMax} connections, so with ${options.connections} connections the in-request side also waits for a free SMTP connection: its latency is the SMTP time plus that wait.`,
      data: {
        roundP50Ms: { inline: inline.roundP50, enqueued: enqueued.roundP50 },
        roundRps: { inline: inline.roundRps, enqueued: enqueued.roundRps },
        confirmationsDelivered: enqueued.created,
        lastDeliveryAfterLastAnswerMs: lastDelivery - lastEnqueuedAnswerAt,
      },
    };
    log(
      `e-mail row: in the request p50 ${a.p50.toFixed(1)} ms, enqueued p50 ${b.p50.toFixed(1)} ms, ${a.rps.toFixed(1)} vs ${b.rps.toFixed(0)} req/s`,
    );
    return [row];
  } finally {
    await Promise.all(servers.map((s) => s.stop()));
    await inlineSmtp.close();
    await innkeepSmtp.close();
  }
};
