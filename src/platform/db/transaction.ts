import type pg from 'pg';

/** The part of a pg Pool a transaction needs (a Pool, or a test double over one). */
export interface TransactionPool {
  connect(): Promise<pg.PoolClient>;
}

/** The part of a checked-out connection a transaction runs on. */
export type TransactionClient = Pick<pg.PoolClient, 'query'>;

export type IsolationLevel = 'read committed' | 'repeatable read' | 'serializable';

export interface TransactionOptions {
  readonly isolation?: IsolationLevel;
  /**
   * Re-runs the whole function after a serialization failure or deadlock (SQLSTATE 40001/40P01),
   * which PostgreSQL raises before anything committed. Default 2.
   */
  readonly retries?: number;
}

const RETRYABLE = new Set(['40001', '40P01']);

/**
 * Thrown when ROLLBACK itself failed: the connection is unusable (reset mid-transaction) and must be
 * discarded, not returned to the pool. `cause` is the error that made the transaction fail.
 */
export class BrokenConnectionError extends Error {
  readonly rollbackError: unknown;
  constructor(cause: unknown, rollbackError: unknown) {
    super((cause as Error)?.message ?? 'transaction failed and its connection broke', { cause });
    this.name = 'BrokenConnectionError';
    this.rollbackError = rollbackError;
  }
}

/**
 * Runs `fn` inside BEGIN ... COMMIT on one pooled connection; any throw rolls back and rethrows.
 * `fn` may run more than once (see `retries`), so it must not have side effects outside the database.
 *
 * @example
 * const id = await withTransaction(pool, async (client) => {
 *   await client.query('UPDATE room_inventory SET available = available - 1 WHERE ...');
 *   const { rows } = await client.query('INSERT INTO bookings ... RETURNING id');
 *   return rows[0].id;
 * });
 */
export async function withTransaction<T>(
  pool: TransactionPool,
  fn: (client: pg.PoolClient) => Promise<T>,
  options: TransactionOptions = {},
): Promise<T> {
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    return await runTransaction(client, fn, options);
  } catch (err) {
    if (err instanceof BrokenConnectionError) {
      broken = err;
      throw err.cause;
    }
    throw err;
  } finally {
    client.release(broken);
  }
}

/**
 * The same as `withTransaction`, on a connection the caller already holds (so statements before and
 * after the transaction, and session state such as advisory locks, share it). Retries reuse the
 * connection. Throws `BrokenConnectionError` when the connection can no longer be used.
 */
export async function runTransaction<C extends TransactionClient, T>(
  client: C,
  fn: (client: C) => Promise<T>,
  options: TransactionOptions = {},
): Promise<T> {
  const retries = options.retries ?? 2;
  const begin = options.isolation ? `BEGIN ISOLATION LEVEL ${options.isolation.toUpperCase()}` : 'BEGIN';
  for (let attempt = 0; ; attempt++) {
    try {
      await client.query(begin);
      const result = await fn(client);
      await client.query('COMMIT');
      return result;
    } catch (err) {
      try {
        await client.query('ROLLBACK');
      } catch (rollbackErr) {
        throw new BrokenConnectionError(err, rollbackErr);
      }
      const code = (err as { code?: string }).code;
      if (code && RETRYABLE.has(code) && attempt < retries) continue;
      throw err;
    }
  }
}
