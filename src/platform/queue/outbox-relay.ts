import type { Database, Transaction } from '../db/index.ts';
import type { Logger } from '../observability/index.ts';
import type { OutgoingJob } from './driver.ts';
import type { QueueStore } from './queue-store.ts';

export interface OutboxRelayOptions {
  readonly db: Database;
  readonly store: QueueStore;
  readonly log: Logger;
  /** Sends one job to the engine; must be idempotent by `job.id` (a resend is a no-op). */
  readonly deliver: (job: OutgoingJob) => Promise<void>;
  /** How often rows left behind (a crash after COMMIT, the engine away) are looked for. */
  readonly intervalMs?: number;
  /** How long a relay's claim on a row lasts before another process may send it. */
  readonly claimMs?: number;
}

/**
 * The transactional outbox for engines outside PostgreSQL (BullMQ on Redis): the job is a row
 * written by the business transaction, sent after COMMIT, and deleted once the engine has it. At
 * least once: a process that dies between COMMIT and the send leaves the row, and the next pass of
 * any process sends it; the engine deduplicates by the job id, so a resend is harmless. Rows are
 * claimed in one autocommitted statement, so no lock is held while talking to the engine.
 *
 * @example
 * const relay = new OutboxRelay({ db, store, log, deliver: (job) => queue.add(job) });
 * await db.transaction(async (tx) => {
 *   await tx.query('INSERT INTO bookings ...');
 *   await relay.write(tx, [job]); // sent right after COMMIT, or by the next pass
 * });
 */
export class OutboxRelay {
  readonly #options: OutboxRelayOptions;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #again = false;
  #stopped = false;

  constructor(options: OutboxRelayOptions) {
    this.#options = options;
  }

  /** Writes the job's row inside `tx` and sends it once the transaction has committed. */
  async write(tx: Transaction, jobs: readonly OutgoingJob[]): Promise<void> {
    if (jobs.length === 0) return;
    // One statement for any number of jobs.
    await tx.query(
      `INSERT INTO ${this.#options.store.table('outbox')} (id, job)
       SELECT * FROM unnest($1::uuid[], $2::jsonb[])`,
      [jobs.map((j) => j.id), jobs.map((j) => JSON.stringify(j))],
    );
    tx.onCommit(() => {
      this.kick();
    });
  }

  /** Starts the periodic pass (and runs one now). */
  start(): void {
    this.#stopped = false;
    this.#timer = setInterval(() => this.kick(), this.#options.intervalMs ?? 1000);
    this.#timer.unref();
    this.kick();
  }

  /** Runs a pass soon; one pass at a time (a kick during a pass runs another after it). */
  kick(): void {
    if (this.#stopped) return;
    if (this.#running) {
      this.#again = true;
      return;
    }
    this.#running = (async () => {
      try {
        do {
          this.#again = false;
          await this.relayOnce();
        } while (this.#again && !this.#stopped);
      } catch (err) {
        this.#options.log.warn({ err }, 'the job outbox relay failed; rows stay for the next pass');
      } finally {
        this.#running = undefined;
      }
    })();
  }

  /** One pass: claims up to 200 rows, sends them, deletes those sent. Resolves with how many. */
  async relayOnce(): Promise<number> {
    const { db, store, deliver, log } = this.#options;
    const table = store.table('outbox');
    const { rows } = await db.write((q) =>
      q.query<{ id: string; job: OutgoingJob }>(
        `
UPDATE ${table} SET claimed_until = now() + make_interval(secs => $1::float / 1000)
WHERE id IN (SELECT id FROM ${table}
             WHERE claimed_until IS NULL OR claimed_until < now()
             ORDER BY created_at LIMIT 200
             FOR UPDATE SKIP LOCKED)
RETURNING id, job`,
        [this.#options.claimMs ?? 10_000],
      ),
    );
    if (rows.length === 0) return 0;
    const sent: string[] = [];
    for (const row of rows) {
      try {
        await deliver(row.job);
        sent.push(row.id);
      } catch (err) {
        log.warn({ err, jobId: row.id }, 'could not relay a job from the outbox; it will be resent');
        break;
      }
    }
    if (sent.length > 0) {
      await db.write((q) => q.query(`DELETE FROM ${table} WHERE id = ANY($1::uuid[])`, [sent]));
    }
    return sent.length;
  }

  /** Rows not yet relayed (for the queue statistics). */
  async pending(): Promise<number> {
    const { rows } = await this.#options.db.read((q) =>
      q.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${this.#options.store.table('outbox')}`),
    );
    return rows[0]?.n ?? 0;
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearInterval(this.#timer);
    await this.#running;
  }
}
