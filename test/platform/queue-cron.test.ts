import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import Type from 'typebox';
import { defineJob } from '../../src/platform/queue/index.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import {
  bullmqSkipReason,
  DRIVERS,
  type DriverKind,
  startTestQueue,
  type TestQueue,
  uniqueNamespace,
} from '../support/queue.ts';

// A recurring job with two workers on one queue: each tick runs once, not once per worker. (pg-boss
// evaluates a per-second expression at its own pace and may skip ticks; Innkeep's schedules are per
// minute or slower.)

const bullmqSkip = await bullmqSkipReason();
const EVERY_2_S = '*/2 * * * * *';
const WINDOW_MS = 9_000;

for (const driver of DRIVERS) {
  describe(`recurring jobs: ${driver}`, { skip: driver === 'bullmq' ? bullmqSkip : undefined }, () => {
    cronSuite(driver);
  });
}

function cronSuite(driver: DriverKind) {
  let database: TestDatabase;
  const workers: TestQueue[] = [];
  const runs: { worker: number; at: number }[] = [];
  const tick = (worker: number) =>
    defineJob({
      name: 'tick',
      queue: 'scheduled',
      payload: Type.Object({}, { additionalProperties: false }),
      handler: async () => {
        runs.push({ worker, at: Date.now() });
      },
    });

  before(async () => {
    database = await createTestDatabase({ migrate: false });
  });
  after(async () => {
    for (const w of workers) await w.close();
    await database?.drop();
  });

  it('when two workers run the same schedule, then each tick runs once', async () => {
    const namespace = uniqueNamespace();
    const started = Date.now();
    for (const worker of [1, 2]) {
      workers.push(
        await startTestQueue({
          driver,
          url: database.url,
          namespace,
          recurring: [{ job: tick(worker), cron: EVERY_2_S }],
        }),
      );
    }
    await sleep(WINDOW_MS);
    const inWindow = runs.filter((r) => r.at >= started);
    const ticks = Math.ceil(WINDOW_MS / 2_000);
    assert.ok(inWindow.length >= 1, `no run in ${WINDOW_MS} ms`);
    assert.ok(
      inWindow.length <= ticks + 1,
      `${inWindow.length} runs for about ${ticks} ticks: ${JSON.stringify(inWindow)}`,
    );
    // A tick run by both workers would run twice within a poll interval (0.5 s) of itself.
    const at = inWindow.map((r) => r.at).sort((a, b) => a - b);
    for (let i = 1; i < at.length; i++) {
      assert.ok(
        at[i]! - at[i - 1]! >= 1_000,
        `two runs ${at[i]! - at[i - 1]!} ms apart: ${JSON.stringify(inWindow)}`,
      );
    }
  });
}
