import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import Type from 'typebox';
import {
  defineJob,
  InvalidJobPayloadError,
  type JobContext,
  UnknownQueueError,
  UnrecoverableJobError,
} from '../../src/platform/queue/index.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import {
  bullmqSkipReason,
  DRIVERS,
  type DriverKind,
  eventually,
  startTestQueue,
  type TestQueue,
  uniqueNamespace,
} from '../support/queue.ts';

// The driver contract (the bentocache driver-suite pattern): every case runs against pg-boss and
// BullMQ, through the one JobQueue API, on real PostgreSQL and Redis.

const bullmqSkip = await bullmqSkipReason();

for (const driver of DRIVERS) {
  describe(`job queue contract: ${driver}`, { skip: driver === 'bullmq' ? bullmqSkip : undefined }, () => {
    contract(driver);
  });
}

function contract(driver: DriverKind) {
  let database: TestDatabase;
  let queue: TestQueue;
  /** Runs seen by the handlers, by job: payload and attempt. */
  const runs: { job: string; payload: unknown; attempt: number; id: string }[] = [];
  const behaviour = new Map<string, (ctx: JobContext, payload: { key: string }) => Promise<void>>();

  const payload = Type.Object({ key: Type.String({ minLength: 1 }) }, { additionalProperties: false });
  const handler = async (p: { key: string }, ctx: JobContext) => {
    runs.push({ job: ctx.name, payload: p, attempt: ctx.attempt, id: ctx.id });
    await behaviour.get(p.key)?.(ctx, p);
  };
  const plain = defineJob({ name: 'plain', queue: 'processing', payload, handler });
  const twice = defineJob({ name: 'twice', queue: 'processing', payload, handler, attempts: 2 });
  const quick = defineJob({
    name: 'quick',
    queue: 'processing',
    payload,
    handler,
    attempts: 1,
    timeoutMs: 300,
  });
  const unique = defineJob({
    name: 'unique',
    queue: 'processing',
    payload,
    handler,
    dedupKey: (p) => p.key,
  });
  const runsOf = (key: string) => runs.filter((r) => (r.payload as { key: string }).key === key);

  before(async () => {
    database = await createTestDatabase({ migrate: false });
    queue = await startTestQueue({
      driver,
      url: database.url,
      namespace: uniqueNamespace(),
      definitions: [plain, twice, quick, unique],
    });
  });
  after(async () => {
    await queue?.close();
    await database?.drop();
  });

  it('when a job is enqueued, then its handler runs once with the payload, on attempt 1', async () => {
    const { id, queued } = await queue.jobs.enqueue(plain, { key: 'a' });
    assert.equal(queued, true);
    await eventually('the run', () => runsOf('a').length === 1);
    await sleep(300);
    assert.deepEqual(runsOf('a'), [{ job: 'plain', payload: { key: 'a' }, attempt: 1, id }]);
  });

  it('when the payload does not match the schema, then enqueue throws and nothing runs', async () => {
    await assert.rejects(
      queue.jobs.enqueue(plain, { key: '' }),
      (err: unknown) => err instanceof InvalidJobPayloadError && /\/key/.test(err.message),
    );
    await assert.rejects(queue.jobs.enqueue(plain, { key: 'x', extra: 1 } as never), InvalidJobPayloadError);
  });

  it('when a handler fails and then succeeds, then it is retried and no dead letter remains', async () => {
    behaviour.set('flaky', async (ctx) => {
      if (ctx.attempt < 3) throw new Error(`flaky ${ctx.attempt}`);
    });
    await queue.jobs.enqueue(plain, { key: 'flaky' });
    await eventually('three attempts', () => runsOf('flaky').length === 3);
    assert.deepEqual(
      runsOf('flaky').map((r) => r.attempt),
      [1, 2, 3],
    );
    await sleep(300);
    assert.equal((await queue.jobs.deadLetters('processing')).filter((d) => d.name === 'plain').length, 0);
  });

  it('when every attempt fails, then the job is dead-lettered with its last error and each attempt', async () => {
    behaviour.set('broken', async (ctx) => {
      throw new Error(`broken on attempt ${ctx.attempt}`);
    });
    const { id } = await queue.jobs.enqueue(twice, { key: 'broken' });
    const dead = await eventually('the dead letter', async () =>
      (await queue.jobs.deadLetters('processing')).find((d) => d.jobId === id),
    );
    assert.equal(dead.reason, 'exhausted');
    assert.equal(dead.attempts, 2);
    assert.match(dead.error, /broken on attempt 2/);
    assert.deepEqual(
      dead.history.map((h) => [h.attempt, h.error.replace(/^Error: /, '')]),
      [
        [1, 'broken on attempt 1'],
        [2, 'broken on attempt 2'],
      ],
    );
    assert.deepEqual(dead.payload, { key: 'broken' });
    await sleep(500);
    assert.equal(runsOf('broken').length, 2, 'no third attempt');
  });

  it('when a handler throws an unrecoverable error, then the job is dead at once, without retries', async () => {
    behaviour.set('fatal', async () => {
      throw new UnrecoverableJobError('the template has no hotel name');
    });
    const { id } = await queue.jobs.enqueue(plain, { key: 'fatal' });
    const dead = await eventually('the dead letter', async () =>
      (await queue.jobs.deadLetters('processing')).find((d) => d.jobId === id),
    );
    assert.equal(dead.reason, 'unrecoverable');
    assert.equal(dead.attempts, 1);
    await sleep(800);
    assert.equal(runsOf('fatal').length, 1);
  });

  it('when a run outlasts its timeout, then the attempt fails with a timeout error', async () => {
    behaviour.set('slow', async (ctx) => {
      await sleep(5_000, undefined, { signal: ctx.signal }).catch(() => {});
    });
    const { id } = await queue.jobs.enqueue(quick, { key: 'slow' });
    const dead = await eventually('the dead letter', async () =>
      (await queue.jobs.deadLetters('processing')).find((d) => d.jobId === id),
    );
    assert.match(dead.error, /timed out after 300 ms/);
  });

  it('when a dead letter is redriven, then it runs again as a new job and leaves the dead letters', async () => {
    let fixed = false;
    behaviour.set('redrive', async () => {
      if (!fixed) throw new UnrecoverableJobError('not yet');
    });
    const { id } = await queue.jobs.enqueue(plain, { key: 'redrive' });
    const dead = await eventually('the dead letter', async () =>
      (await queue.jobs.deadLetters('processing')).find((d) => d.jobId === id),
    );
    fixed = true;
    const redriven = await queue.jobs.redrive(queue.db, 'processing', [dead.id]);
    assert.equal(redriven.length, 1);
    assert.notEqual(redriven[0]?.jobId, id);
    await eventually('the second run', () => runsOf('redrive').length === 2);
    assert.equal(
      (await queue.jobs.deadLetters('processing')).some((d) => d.id === dead.id),
      false,
    );
  });

  it('when a transaction rolls back, then its job never exists; when it commits, then the job runs', async () => {
    await assert.rejects(
      queue.db.transaction(async (tx) => {
        await queue.jobs.enqueueIn(tx, plain, { key: 'rolled-back' });
        throw new Error('the business write failed');
      }),
      /business write failed/,
    );
    await queue.db.transaction(async (tx) => {
      await queue.jobs.enqueueIn(tx, plain, { key: 'committed' });
    });
    await eventually('the committed job', () => runsOf('committed').length === 1);
    await sleep(1_500);
    assert.equal(runsOf('rolled-back').length, 0);
  });

  it('when several jobs are enqueued in one transaction, then all run once after COMMIT, none after ROLLBACK, none with a bad payload among them', async () => {
    const keys = ['many-1', 'many-2', 'many-3'];
    const ids = keys.map(() => randomUUID());
    await assert.rejects(
      queue.db.transaction(async (tx) => {
        await queue.jobs.enqueueManyIn(tx, plain, [
          { payload: { key: 'many-rolled-back' } },
          { payload: { key: 'many-rolled-back' } },
        ]);
        throw new Error('the business write failed');
      }),
      /business write failed/,
    );
    await assert.rejects(
      queue.db.transaction((tx) =>
        queue.jobs.enqueueManyIn(tx, plain, [{ payload: { key: 'many-bad' } }, { payload: { key: '' } }]),
      ),
      InvalidJobPayloadError,
    );
    let statements = 0;
    await queue.db.transaction(async (tx) => {
      const counting = Object.create(tx, {
        query: {
          value: (...args: Parameters<typeof tx.query>) => {
            statements += 1;
            return tx.query(...args);
          },
        },
      }) as typeof tx;
      const { ids: sent } = await queue.jobs.enqueueManyIn(
        counting,
        plain,
        keys.map((key, i) => ({ payload: { key }, options: { jobId: ids[i] } })),
      );
      assert.deepEqual(sent, ids);
    });
    assert.equal(statements, 1, 'one statement for three jobs, on the transaction');
    await eventually('the three jobs', () => keys.every((k) => runsOf(k).length === 1));
    // Sending the same ids again adds nothing.
    await queue.db.transaction((tx) =>
      queue.jobs.enqueueManyIn(
        tx,
        plain,
        keys.map((key, i) => ({ payload: { key }, options: { jobId: ids[i] } })),
      ),
    );
    await sleep(1_500);
    for (const k of keys) assert.equal(runsOf(k).length, 1, k);
    assert.equal(runsOf('many-rolled-back').length, 0);
    assert.equal(runsOf('many-bad').length, 0);
    assert.deepEqual(
      keys.map((k) => runsOf(k)[0]?.id),
      ids,
    );
  });

  it('when a job with the same dedup key is waiting, then a second enqueue is a no-op', async () => {
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    behaviour.set('busy', async () => gate);
    // The first one runs and blocks; the second waits; the third finds the second waiting.
    await queue.jobs.enqueue(plain, { key: 'busy' });
    await eventually('the blocker runs', () => runsOf('busy').length === 1);
    const first = await queue.jobs.enqueue(unique, { key: 'same' }, { delayMs: 60_000 });
    const second = await queue.jobs.enqueue(unique, { key: 'same' }, { delayMs: 60_000 });
    assert.equal(first.queued, true);
    assert.equal(second.queued, false);
    release();
  });

  it('when a job is delayed, then it does not run before its delay', async () => {
    const start = performance.now();
    await queue.jobs.enqueue(plain, { key: 'later' }, { delayMs: 2_000 });
    await sleep(1_000);
    assert.equal(runsOf('later').length, 0);
    await eventually('the delayed run', () => runsOf('later').length === 1);
    assert.ok(performance.now() - start >= 1_900);
  });

  it('when a handler reports progress, then the job shows it', async () => {
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    behaviour.set('progress', async (ctx) => {
      await ctx.progress(40);
      await gate;
    });
    const { id } = await queue.jobs.enqueue(plain, { key: 'progress' });
    const seen = await eventually('the progress', async () => {
      const job = await queue.jobs.find('processing', id);
      return job?.progress === 40 ? job : undefined;
    });
    assert.equal(seen.state, 'active');
    release();
    await eventually(
      'completed',
      async () => (await queue.jobs.find('processing', id))?.state === 'completed',
    );
  });

  it('when the statistics are read, then each configured queue reports its counts and dead letters', async () => {
    const stats = await queue.jobs.stats();
    assert.deepEqual(
      stats.map((s) => s.name),
      ['email', 'processing', 'scheduled'],
    );
    const processing = stats.find((s) => s.name === 'processing');
    assert.ok(processing);
    assert.ok(processing.dead >= 3, `dead ${processing.dead}`);
    assert.ok(processing.completed >= 3, `completed ${processing.completed}`);
    assert.ok(processing.failed >= 1, `failed ${processing.failed}`);
    assert.ok(processing.delayed >= 1, `delayed ${processing.delayed}`);
    for (const key of ['waiting', 'active', 'oldestWaitingS', 'completedPerMinute'] as const) {
      assert.equal(typeof processing[key], 'number');
    }
  });

  it('when an admin names an unknown queue, then UnknownQueueError (404) is thrown', async () => {
    await assert.rejects(
      queue.jobs.stats().then(() => queue.jobs.retryFailed('nope')),
      UnknownQueueError,
    );
    await assert.rejects(queue.jobs.deadLetters('nope'), UnknownQueueError);
  });

  it('when failed jobs are retried and old ones cleaned, then the counts follow', async () => {
    const before = (await queue.jobs.stats()).find((s) => s.name === 'processing');
    const retried = await queue.jobs.retryFailed('processing');
    assert.equal(retried, before?.failed);
    await sleep(1_500);
    const cleaned = await queue.jobs.clean('processing', 0);
    assert.ok(cleaned >= 3, `cleaned ${cleaned}`);
    const afterClean = (await queue.jobs.stats()).find((s) => s.name === 'processing');
    assert.equal(afterClean?.completed, 0);
  });
}
