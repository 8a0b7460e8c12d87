import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { probeJob } from './support/commit-then-die.ts';
import { createTestDatabase, type TestDatabase } from './support/database.ts';
import { spawnNode } from './support/process.ts';
import {
  bullmqSkipReason,
  DRIVERS,
  type DriverKind,
  eventually,
  startTestQueue,
  type TestQueue,
  uniqueNamespace,
} from './support/queue.ts';

// Transactional enqueue across a crash: a producer process commits a business write with its job
// and is killed with -9 right after COMMIT. With pg-boss the job row committed with the write; with
// BullMQ it is an outbox row that no one has relayed yet, and another process's relay pass must
// deliver it. The rolled-back transaction before it must leave no job on either driver.

const PRODUCER = new URL('./support/commit-then-die.ts', import.meta.url).pathname;
const bullmqSkip = await bullmqSkipReason();

for (const driver of DRIVERS) {
  describe(`a producer killed right after COMMIT: ${driver}`, {
    skip: driver === 'bullmq' ? bullmqSkip : undefined,
  }, () => {
    crashSuite(driver);
  });
}

function crashSuite(driver: DriverKind) {
  let database: TestDatabase;
  let consumer: TestQueue | undefined;
  const namespace = uniqueNamespace();

  before(async () => {
    database = await createTestDatabase();
    await database.pool.query('CREATE TABLE probe_writes (n integer NOT NULL)');
  });
  after(async () => {
    await consumer?.close();
    await database?.drop();
  });

  it('still runs the committed job, once, and never the rolled-back one', async () => {
    const producer = spawnNode(PRODUCER, [driver, database.url, namespace], {
      env: { ...process.env, NODE_ENV: 'test' },
    });
    await producer.exited;
    assert.equal(producer.child.signalCode, 'SIGKILL', producer.err());
    assert.match(producer.out(), /committed/);
    const { rows: writes } = await database.pool.query<{ n: number }>('SELECT n FROM probe_writes');
    assert.deepEqual(
      writes.map((r) => r.n),
      [2],
      'the rolled-back write is gone, the committed one stays',
    );
    if (driver === 'bullmq') {
      const { rows } = await database.pool.query<{ job: { payload: unknown } }>(
        `SELECT job FROM "${namespace}".innkeep_outbox`,
      );
      assert.deepEqual(
        rows.map((r) => r.job.payload),
        [{ n: 2 }],
        'died before the relay: one outbox row',
      );
    }

    const ran: number[] = [];
    consumer = await startTestQueue({
      driver,
      url: database.url,
      namespace,
      definitions: [probeJob(async ({ n }) => void ran.push(n))],
      work: true,
    });
    await eventually('the committed job runs', () => ran.length > 0, 20_000);
    // Two more relay passes (one a second) and polls: no second copy, nothing from the rollback.
    await sleep(2_500);
    assert.deepEqual(ran, [2]);
    if (driver === 'bullmq') {
      const { rows } = await database.pool.query(`SELECT 1 FROM "${namespace}".innkeep_outbox`);
      assert.equal(rows.length, 0, 'the relayed row is removed');
    }
  });
}
