import type { CommitHook, Queryable, Transaction } from './queryable.ts';

/** A checked-out connection: statements, and giving it back (discarded when `err` is set). */
export interface PooledConnection extends Queryable {
  release(err?: Error | boolean): void;
}

/** The part of a pool a transaction needs (a pg Pool satisfies it). */
export interface TransactionPool {
  connect(): Promise<PooledConnection>;
}

export type IsolationLevel = 'read committed' | 'repeatable read' | 'serializable';

export interface TransactionOptions {
  readonly isolation?: IsolationLevel;
  /**
   * Re-runs the whole function after a serialization failure or deadlock (SQLSTATE 40001/40P01),
   * which PostgreSQL raises before anything committed. Default 2.
   */
  readonly retries?: number;
  /** Told about a commit hook that threw (the transaction had committed). Default: ignored. */
  readonly onHookError?: (err: unknown) => void;
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
 * `fn` may run more than once (see `retries`), so it must have no effect outside the database: no
 * outbound call (HTTP, SMTP, a provider SDK), which would also hold the transaction's row locks for
 * the call's duration. Work that must follow the commit goes in `tx.onCommit(...)`.
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
  fn: (tx: Transaction) => Promise<T>,
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
export async function runTransaction<T>(
  client: Queryable,
  fn: (tx: Transaction) => Promise<T>,
  options: TransactionOptions = {},
): Promise<T> {
  const retries = options.retries ?? 2;
  const begin = options.isolation ? `BEGIN ISOLATION LEVEL ${options.isolation.toUpperCase()}` : 'BEGIN';
  for (let attempt = 0; ; attempt++) {
    // Each attempt collects its own hooks: those of a rolled-back attempt are never run.
    const hooks: CommitHook[] = [];
    const tx: Transaction = {
      query: (query, values) => client.query(query, values),
      onCommit: (hook) => {
        hooks.push(hook);
      },
    };
    let result: T;
    try {
      await client.query(begin);
      result = await fn(tx);
      await client.query('COMMIT');
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
    for (const hook of hooks) {
      try {
        await hook();
      } catch (err) {
        options.onHookError?.(err);
      }
    }
    return result;
  }
}
