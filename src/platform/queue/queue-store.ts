import type { Database, Queryable } from '../db/index.ts';

/** A job that ran out of attempts or failed unrecoverably, kept until redriven or deleted. */
export interface DeadLetter {
  readonly id: number;
  readonly jobId: string;
  readonly queue: string;
  readonly name: string;
  readonly payload: unknown;
  readonly attempts: number;
  readonly reason: 'exhausted' | 'unrecoverable';
  readonly error: string;
  /** Every failed attempt, oldest first. */
  readonly history: readonly { attempt: number; error: string; failedAt: string }[];
  readonly deadAt: string;
}

const DDL_LOCK_KEY = 0x1e4b_0002;

/**
 * The queue's own tables, beside the engine's (pg-boss's schema, or a schema of that name on the
 * app's PostgreSQL for BullMQ): dead letters, the failed-attempt history, the transactional outbox
 * and the rate-limit windows. The same for both drivers, so the administration reads one place.
 */
export class QueueStore {
  readonly #db: Database;
  readonly #schema: string;

  constructor(db: Database, schema: string) {
    this.#db = db;
    this.#schema = `"${schema}"`;
  }

  /** Qualified table name. */
  table(name: 'dead_letters' | 'failures' | 'outbox' | 'rate'): string {
    return `${this.#schema}.innkeep_${name}`;
  }

  /** Creates the tables (idempotent; concurrent starts serialise on an advisory lock). */
  async install(): Promise<void> {
    const t = (name: Parameters<QueueStore['table']>[0]) => this.table(name);
    await this.#db.transaction(async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock($1)', [DDL_LOCK_KEY]);
      await tx.query(`CREATE SCHEMA IF NOT EXISTS ${this.#schema}`);
      await tx.query(`
CREATE TABLE IF NOT EXISTS ${t('dead_letters')} (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  job_id text NOT NULL,
  queue text NOT NULL,
  name text NOT NULL,
  payload jsonb NOT NULL,
  attempts integer NOT NULL,
  reason text NOT NULL CHECK (reason IN ('exhausted', 'unrecoverable')),
  error text NOT NULL,
  history jsonb NOT NULL DEFAULT '[]'::jsonb,
  dead_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (queue, job_id)
)`);
      await tx.query(`
CREATE TABLE IF NOT EXISTS ${t('failures')} (
  queue text NOT NULL,
  job_id text NOT NULL,
  attempt integer NOT NULL,
  error text NOT NULL,
  failed_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (queue, job_id, attempt)
)`);
      await tx.query(`
CREATE TABLE IF NOT EXISTS ${t('outbox')} (
  id uuid PRIMARY KEY,
  job jsonb NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  claimed_until timestamptz
)`);
      await tx.query(`CREATE INDEX IF NOT EXISTS innkeep_outbox_created_idx ON ${t('outbox')} (created_at)`);
      await tx.query(`
CREATE TABLE IF NOT EXISTS ${t('rate')} (
  queue text PRIMARY KEY,
  window_start timestamptz NOT NULL,
  started integer NOT NULL
)`);
    });
  }

  /** Records a failed attempt that will be retried. */
  async recordFailure(queue: string, jobId: string, attempt: number, error: string): Promise<void> {
    await this.#db.write((db) =>
      db.query(
        `INSERT INTO ${this.table('failures')} (queue, job_id, attempt, error) VALUES ($1, $2, $3, $4)
         ON CONFLICT (queue, job_id, attempt) DO UPDATE SET error = EXCLUDED.error, failed_at = now()`,
        [queue, jobId, attempt, error],
      ),
    );
  }

  /** Forgets the failed attempts of a job that then succeeded. */
  async clearFailures(queue: string, jobId: string): Promise<void> {
    await this.#db.write((db) =>
      db.query(`DELETE FROM ${this.table('failures')} WHERE queue = $1 AND job_id = $2`, [queue, jobId]),
    );
  }

  /**
   * Moves a job to the dead letters with its attempt history (the recorded failures plus this last
   * one), in one statement. A job dead-lettered twice (a redriven job that failed again) keeps one row.
   */
  async deadLetter(entry: {
    jobId: string;
    queue: string;
    name: string;
    payload: unknown;
    attempt: number;
    reason: DeadLetter['reason'];
    error: string;
  }): Promise<void> {
    await this.#db.write((db) =>
      db.query(
        `
WITH gone AS (
  DELETE FROM ${this.table('failures')} WHERE queue = $2 AND job_id = $1
  RETURNING attempt, error, failed_at
), history AS (
  SELECT COALESCE(jsonb_agg(jsonb_build_object('attempt', attempt, 'error', error, 'failedAt', failed_at)
                            ORDER BY attempt), '[]'::jsonb)
         || jsonb_build_array(jsonb_build_object('attempt', $5::int, 'error', $7::text, 'failedAt', now())) AS h
  FROM gone
)
INSERT INTO ${this.table('dead_letters')} (job_id, queue, name, payload, attempts, reason, error, history)
SELECT $1, $2, $3, $4::jsonb, $5, $6, $7, h FROM history
ON CONFLICT (queue, job_id) DO UPDATE
  SET attempts = EXCLUDED.attempts, reason = EXCLUDED.reason, error = EXCLUDED.error,
      history = EXCLUDED.history, dead_at = now()`,
        [
          entry.jobId,
          entry.queue,
          entry.name,
          JSON.stringify(entry.payload ?? null),
          entry.attempt,
          entry.reason,
          entry.error,
        ],
      ),
    );
  }

  async listDeadLetters(queue: string, limit: number, beforeId?: number): Promise<DeadLetter[]> {
    const { rows } = await this.#db.read((db) =>
      db.query<DeadLetter>(
        `${DEAD_SELECT} FROM ${this.table('dead_letters')}
         WHERE queue = $1 AND ($3::bigint IS NULL OR id < $3)
         ORDER BY id DESC LIMIT $2`,
        [queue, limit, beforeId ?? null],
      ),
    );
    return rows;
  }

  async countDeadLetters(): Promise<Map<string, number>> {
    const { rows } = await this.#db.read((db) =>
      db.query<{ queue: string; n: number }>(
        `SELECT queue, count(*)::int AS n FROM ${this.table('dead_letters')} GROUP BY queue`,
      ),
    );
    return new Map(rows.map((r) => [r.queue, r.n]));
  }

  /**
   * Takes dead letters out inside `tx` (all of the queue's, or those ids) so that the caller
   * re-enqueues them in the same transaction: a redrive is never half done.
   */
  async takeDeadLetters(tx: Queryable, queue: string, ids?: readonly number[]): Promise<DeadLetter[]> {
    const { rows } = await tx.query<DeadLetter>(
      `DELETE FROM ${this.table('dead_letters')}
       WHERE queue = $1 AND ($2::bigint[] IS NULL OR id = ANY($2))
       RETURNING id::int AS id, job_id AS "jobId", queue, name, payload, attempts, reason, error, history,
                 to_char(dead_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS "deadAt"`,
      [queue, ids ? [...ids] : null],
    );
    return rows;
  }

  async deleteDeadLetter(queue: string, id: number): Promise<boolean> {
    const { rowCount } = await this.#db.write((db) =>
      db.query(`DELETE FROM ${this.table('dead_letters')} WHERE queue = $1 AND id = $2`, [queue, id]),
    );
    return (rowCount ?? 0) > 0;
  }

  /**
   * Reserves the next start of `queue` across every worker: starts are spaced by
   * {@link rateSpacingMs}, so that no one-second window, however placed, holds more than
   * `perSecond` of them (a fixed window lets two windows' budgets meet at their boundary: twice the
   * rate within a second). Resolves with the ms to wait until the reserved slot (0: start now).
   * `window_start` holds the latest reserved slot, `started` counts the reservations.
   */
  async takeRateSlot(queue: string, perSecond: number): Promise<number> {
    const { rows } = await this.#db.write((db) =>
      db.query<{ waitMs: number }>(
        `
INSERT INTO ${this.table('rate')} AS r (queue, window_start, started)
VALUES ($1, clock_timestamp(), 1)
ON CONFLICT (queue) DO UPDATE
  SET window_start = GREATEST(r.window_start + make_interval(secs => $2::float8 / 1000), clock_timestamp()),
      started = r.started + 1
RETURNING GREATEST(0, CEIL(EXTRACT(EPOCH FROM (window_start - clock_timestamp())) * 1000))::int AS "waitMs"`,
        [queue, rateSpacingMs(perSecond)],
      ),
    );
    return (rows[0] as { waitMs: number }).waitMs;
  }
}

/**
 * The gap between two starts of a queue limited to `perSecond`: just over 1000 / perSecond ms, so
 * that any one-second window holds at most `perSecond` starts (both drivers use it).
 */
export function rateSpacingMs(perSecond: number): number {
  return Math.floor(1000 / perSecond) + 1;
}

const DEAD_SELECT = `SELECT id::int, job_id AS "jobId", queue, name, payload, attempts, reason, error, history,
  to_char(dead_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS "deadAt"`;
