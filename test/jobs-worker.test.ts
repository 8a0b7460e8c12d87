import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type pg from 'pg';
import Type from 'typebox';
import { defineJob } from '../src/platform/queue/index.ts';
import { createTestDatabase, type TestDatabase } from './support/database.ts';
import { spawnNode } from './support/process.ts';
import {
  bullmqSkipReason,
  DRIVERS,
  type DriverKind,
  eventually,
  FAST_QUEUE_ENV,
  REDIS,
  startTestQueue,
  type TestQueue,
  uniqueNamespace,
} from './support/queue.ts';
import { type SmtpFake, startSmtpFake } from './support/smtp-fake.ts';

// Real worker processes (`innkeep worker`) sending real e-mail to a local SMTP server: a worker
// killed with -9 in the middle of a send, and one stopped with SIGTERM. Only the producer runs in
// this process.

const MAIN = new URL('../src/main.ts', import.meta.url).pathname;
const bullmqSkip = await bullmqSkipReason();

/** The producer's view of the e-mail job (the worker processes have the real handler). */
const sendNotification = defineJob({
  name: 'send-notification',
  queue: 'email',
  payload: Type.Object({ notificationId: Type.Integer({ minimum: 1 }) }, { additionalProperties: false }),
  handler: async () => {
    throw new Error('this process only produces');
  },
});

for (const driver of DRIVERS) {
  describe(`worker processes: ${driver}`, { skip: driver === 'bullmq' ? bullmqSkip : undefined }, () => {
    workerSuite(driver);
  });
}

function workerSuite(driver: DriverKind) {
  let database: TestDatabase;
  let smtp: SmtpFake;
  let producer: TestQueue;
  let userId: number;
  const namespace = uniqueNamespace();

  before(async () => {
    database = await createTestDatabase();
    smtp = await startSmtpFake();
    producer = await startTestQueue({
      driver,
      url: database.url,
      namespace,
      definitions: [sendNotification],
      work: false,
    });
    const { rows } = await database.pool.query<{ id: number }>(
      `INSERT INTO users (email, name, password_hash, role) VALUES ('guest@example.test', 'Guest', 'x', 'user') RETURNING id`,
    );
    userId = rows[0]!.id;
  });
  after(async () => {
    await producer?.close();
    await smtp?.close();
    await database?.drop();
  });

  const worker = (env: Record<string, string> = {}) => {
    const proc = spawnNode(MAIN, ['worker'], {
      env: {
        ...process.env,
        NODE_ENV: 'test',
        LOG_LEVEL: 'info',
        DATABASE_URL: database.url,
        DB_SEED_ON_EMPTY: 'none',
        QUEUE_DRIVER: driver,
        QUEUE_NAMESPACE: namespace,
        REDIS_URL: REDIS,
        SMTP_URL: smtp.url,
        METRICS_PORT: '0',
        CACHE_ENABLED: 'false',
        JWT_SECRET: 'test-secret-test-secret-test-secret-0123456789',
        ...FAST_QUEUE_ENV,
        ...env,
      },
    });
    const ready = eventually('the worker to start', () => /job workers started/.test(proc.out()), 30_000);
    return { proc, ready };
  };

  const queueEmail = async (subject: string) => {
    const { rows } = await database.pool.query<{ id: number }>(
      `INSERT INTO notifications (user_id, type, payload) VALUES ($1, 'generic', jsonb_build_object('subject', $2::text, 'message', 'Hello')) RETURNING id::int`,
      [userId, subject],
    );
    const id = rows[0]!.id;
    await producer.db.transaction(async (tx) => {
      await producer.jobs.enqueueIn(tx, sendNotification, { notificationId: id });
    });
    return id;
  };
  const notification = async (pool: pg.Pool, id: number) =>
    (
      await pool.query<{ status: string; attempts: number; providerMessageId: string | null }>(
        `SELECT status, attempts, provider_message_id AS "providerMessageId" FROM notifications WHERE id = $1`,
        [id],
      )
    ).rows[0];
  const deliveries = (id: number) =>
    smtp.received.filter((m) => m.messageId === `notification-${id}@innkeep.localhost`);

  it('when a worker is killed with -9 in the middle of a send, then another worker sends it, once', async () => {
    smtp.delayMs = 60_000; // the first worker hangs in DATA until it is killed
    const first = worker();
    await first.ready;
    const id = await queueEmail('kill -9');
    await eventually(
      'the first send to start',
      async () => (await notification(database.pool, id))?.status === 'sending',
    );
    await sleep(200);
    first.proc.child.kill('SIGKILL');
    await first.proc.exited;
    assert.equal(deliveries(id).length, 0, 'nothing was accepted before the kill');
    smtp.delayMs = 0;

    const second = worker();
    try {
      await second.ready;
      const row = await eventually(
        'the job to run again on the second worker',
        async () => {
          const n = await notification(database.pool, id);
          return n?.status === 'sent' ? n : undefined;
        },
        45_000,
      );
      assert.equal(row.attempts, 2, 'the killed attempt and the one that sent');
      await sleep(500);
      assert.equal(deliveries(id).length, 1, 'one delivery at the SMTP server');
    } finally {
      second.proc.child.kill('SIGTERM');
      await second.proc.exited;
    }
  });

  it('when a worker gets SIGTERM during a send, then it finishes the send and exits 0', async () => {
    smtp.delayMs = 1_500;
    const w = worker({ WORKER_SHUTDOWN_TIMEOUT_MS: '10000' });
    await w.ready;
    const id = await queueEmail('drain');
    await eventually(
      'the send to start',
      async () => (await notification(database.pool, id))?.status === 'sending',
    );
    w.proc.child.kill('SIGTERM');
    const code = await w.proc.exited;
    assert.equal(code, 0, `${w.proc.err()}\n${w.proc.out().slice(-3000)}`);
    assert.equal((await notification(database.pool, id))?.status, 'sent');
    assert.equal(deliveries(id).length, 1);
    smtp.delayMs = 0;
  });

  it('when a send outlasts the drain bound, then the worker exits in time and the job goes back to the queue', async () => {
    smtp.delayMs = 60_000;
    const w = worker({ WORKER_SHUTDOWN_TIMEOUT_MS: '1000' });
    await w.ready;
    const id = await queueEmail('bounded drain');
    await eventually(
      'the send to start',
      async () => (await notification(database.pool, id))?.status === 'sending',
    );
    const stoppedAt = performance.now();
    w.proc.child.kill('SIGTERM');
    await w.proc.exited;
    const tookMs = performance.now() - stoppedAt;
    assert.ok(tookMs < 8_000, `exited after ${Math.round(tookMs)} ms`);
    smtp.delayMs = 0;
    const next = worker();
    try {
      await next.ready;
      await eventually(
        'the job to be sent by the next worker',
        async () => (await notification(database.pool, id))?.status === 'sent',
        45_000,
      );
      assert.equal(deliveries(id).length, 1);
    } finally {
      next.proc.child.kill('SIGTERM');
      await next.proc.exited;
    }
  });
}
