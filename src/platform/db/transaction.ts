import type pg from 'pg';

/** The part of a pg Pool a transaction needs (a Pool, or a test double over one). */
export interface TransactionPool {
  connect(): Promise<pg.PoolClient>;
}

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
  const retries = options.retries ?? 2;
  const begin = options.isolation ? `BEGIN ISOLATION LEVEL ${options.isolation.toUpperCase()}` : 'BEGIN';
  for (let attempt = 0; ; attempt++) {
    const client = await pool.connect();
    let broken: Error | undefined;
    try {
      await client.query(begin);
      const result = await fn(client);
      await client.query('COMMIT');
      return result;
    } catch (err) {
      try {
        await client.query('ROLLBACK');
      } catch (rollbackErr) {
        // The connection is unusable (reset mid-transaction): drop it instead of returning it.
        broken = rollbackErr as Error;
      }
      const code = (err as { code?: string }).code;
      if (!broken && code && RETRYABLE.has(code) && attempt < retries) continue;
      throw err;
    } finally {
      client.release(broken);
    }
  }
}
