/**
 * The database port the app owns (kysely's PostgresPool idea): the few shapes repositories and
 * services use, so app code never imports the driver's types. A `pg` Pool and a checked-out client
 * both satisfy `Queryable`.
 */

/** A named (prepared once per connection) or plain parameterised statement. */
export interface QueryConfig {
  /** Prepared statement name; give one to every statement on a hot path. */
  readonly name?: string;
  readonly text: string;
  readonly values?: readonly unknown[];
}

export interface QueryResult<R> {
  readonly rows: R[];
  /** Rows affected (INSERT/UPDATE/DELETE) or returned; null for statements without a count. */
  readonly rowCount: number | null;
}

/** Anything that runs a statement: the pool, a connection, a transaction. */
export interface Queryable {
  query<R extends object = Record<string, unknown>>(
    query: string | QueryConfig,
    values?: readonly unknown[],
  ): Promise<QueryResult<R>>;
}

/** Work to run once after a transaction has committed (cache invalidation, waking a job worker). */
export type CommitHook = () => void | Promise<void>;

/** A transaction's view of its connection: statements, plus hooks that run only if it commits. */
export interface Transaction extends Queryable {
  /**
   * Runs `hook` once after COMMIT succeeded. Never after a ROLLBACK, and never for an attempt that
   * was retried (a serialization failure re-runs the body: hooks of the failed attempt are dropped).
   * Hooks run in registration order; one that throws is reported and does not stop the others (the
   * transaction has committed either way).
   */
  onCommit(hook: CommitHook): void;
}

/** Builds a repository on whatever it should query through (the pool for reads, a transaction). */
export type RepositoryFactory<R> = (db: Queryable) => R;
