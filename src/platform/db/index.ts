export type { Database, DbSession, OpenDatabaseOptions } from './database.ts';
export { openDatabase, redactUrl } from './database.ts';
export type { EmbeddedPostgresHandle } from './embedded.ts';
export { isProcessRunning, startEmbeddedPostgres } from './embedded.ts';
export type { StatementObserver } from './instrumented-client.ts';
export { statementLabel } from './instrumented-client.ts';
export type { MigrationStatus } from './migrate.ts';
export { migrationStatus, runMigrations } from './migrate.ts';
export { isUniqueViolation, translatePgError } from './pg-errors.ts';
export type { PoolOptions, PoolStats } from './pool.ts';
export { createPool, pgTypes, poolStats } from './pool.ts';
export type {
  CommitHook,
  Queryable,
  QueryConfig,
  QueryResult,
  RepositoryFactory,
  Transaction,
} from './queryable.ts';
export type {
  IsolationLevel,
  PooledConnection,
  TransactionOptions,
  TransactionPool,
} from './transaction.ts';
export { BrokenConnectionError, runTransaction, withTransaction } from './transaction.ts';
export { isTransientDbError, retryTransientRead } from './transient.ts';
