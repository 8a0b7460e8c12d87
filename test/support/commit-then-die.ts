// A producer that commits a business write with its job and dies (SIGKILL) right after COMMIT,
// before anything relays the job; run by test/jobs-commit-crash.test.ts as
//   node test/support/commit-then-die.ts <driver> <database url> <namespace>
// First a transaction that enqueues and rolls back, then one that commits; then the kill.
import Type from 'typebox';
import { defineJob } from '../../src/platform/queue/index.ts';
import { type DriverKind, startTestQueue } from './queue.ts';

/** The job both sides register; the consumer swaps in a handler that records what ran. */
export const probeJob = (handler: (payload: { n: number }) => Promise<void>) =>
  defineJob({
    name: 'probe-after-commit',
    queue: 'processing',
    payload: Type.Object({ n: Type.Integer() }, { additionalProperties: false }),
    handler,
  });

if (import.meta.main) {
  const [driver, url, namespace] = process.argv.slice(2) as [DriverKind, string, string];
  const probe = probeJob(async () => {
    throw new Error('this process only produces');
  });
  const q = await startTestQueue({ driver, url, namespace, definitions: [probe], work: false });
  await q.db
    .transaction(async (tx) => {
      await tx.query('INSERT INTO probe_writes (n) VALUES (1)');
      await q.jobs.enqueueIn(tx, probe, { n: 1 });
      throw new Error('roll back');
    })
    .catch(() => undefined);
  await q.db.transaction(async (tx) => {
    await tx.query('INSERT INTO probe_writes (n) VALUES (2)');
    await q.jobs.enqueueIn(tx, probe, { n: 2 });
  });
  // Synchronously after COMMIT: the relay kicked by the commit has not reached Redis yet.
  process.stdout.write('committed\n');
  process.kill(process.pid, 'SIGKILL');
}
