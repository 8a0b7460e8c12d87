import type pg from 'pg';
import type { DbConfig } from '../config/index.ts';
import type { Logger } from '../observability/logger.ts';
import { type EmbeddedPostgresHandle, startEmbeddedPostgres } from './embedded.ts';
import type { EmbeddedServerStatus } from './embedded-supervisor.ts';
import type { StatementObserver } from './instrumented-client.ts';
import { type MigrationStatus, migrationStatus, runMigrations } from './migrate.ts';
import { createPool, type PoolStats, poolStats } from './pool.ts';
import type { Queryable, Transaction } from './queryable.ts';
import {
  BrokenConnectionError,
  runTransaction,
  type TransactionOptions,
  withTransaction,
} from './transaction.ts';
import { retryTransientRead } from './transient.ts';

/**
 * The database port the app receives: reads, writes, transactions and sessions on one pool, plus the
 * embedded server when no DATABASE_URL was given. App code goes through these methods with the
 * owned `Queryable`/`Transaction` types and never reaches the driver (npm run check enforces it);
 * read replicas will plug in behind `read` (reads vs writes).
 */
export interface Database {
  /** The driver pool, for platform tools (migrations, seeding, tests); never for app code. */
  readonly pool: pg.Pool;
  /** Where the pool points, without the password. */
  readonly target: string;
  /**
   * The connection string itself, password included: for platform parts that need connections of
   * their own (the job queue's pool). Never log it; `target` is the printable form.
   */
  readonly url: string;
  readonly embedded: boolean;
  /**
   * Runs an idempotent read, retrying transient failures (bounded by DB_QUERY_RETRIES). Reads may be
   * sent to a replica once replicas exist.
   */
  read<T>(fn: (db: Queryable) => Promise<T>): Promise<T>;
  /** Runs single-statement writes on the primary (not retried: a lost reply may hide a commit). */
  write<T>(fn: (db: Queryable) => Promise<T>): Promise<T>;
  /**
   * Re-runs `fn` as a whole after a transient failure (a lost connection, a server restarting), with
   * backoff, bounded by DB_QUERY_RETRIES. Only for work that is safe to repeat whatever the failed
   * attempt did: a write made idempotent by a key (a booking under its Idempotency-Key, whose retry
   * replays a committed first attempt). A mass disconnect leaves dead idle connections in the pool
   * for a moment; this is what lets such a write succeed on a fresh one instead of answering 503.
   * `fn` gets the attempt number (0 first).
   */
  idempotent<T>(fn: (attempt: number) => Promise<T>): Promise<T>;
  /**
   * BEGIN ... COMMIT on the primary; retried as a whole on serialization failure or deadlock, so the
   * body does no outbound I/O. `tx.onCommit` registers work for after the commit (see Transaction).
   */
  transaction<T>(fn: (tx: Transaction) => Promise<T>, options?: TransactionOptions): Promise<T>;
  /**
   * Runs `fn` on one dedicated primary connection: its statements and transactions run in order on
   * the same server session, so session state (an advisory lock) lasts from one to the next. The
   * connection goes back to the pool afterwards, or is discarded when it broke or `discard()` was
   * called. Whatever session state `fn` creates, it must undo before returning.
   */
  session<T>(fn: (session: DbSession) => Promise<T>): Promise<T>;
  /** Applies the migrations in `folder` (see runMigrations) and reports where the database stands. */
  migrate(folder: string): Promise<MigrationStatus>;
  /** How many of the migrations in `folder` are applied; no writes. */
  migrationStatus(folder: string): Promise<MigrationStatus>;
  /** One round-trip, in ms; throws on failure. Callers bound it (health checks run under a timeout). */
  ping(): Promise<number>;
  stats(): PoolStats;
  /** The embedded server's state (running, or restarting after an unexpected exit); undefined when external. */
  embeddedStatus(): EmbeddedServerStatus | undefined;
  /**
   * Why this process should be restarted, or undefined while it need not be. No I/O (liveness probes
   * call it): it fails only when the embedded server has been down longer than
   * DB_EMBEDDED_MAX_DOWNTIME_MS. An external database being down is a readiness matter, never liveness.
   */
  liveness(): string | undefined;
  /** Drains the pool, then stops the embedded server if there is one. Safe to call twice. */
  close(): Promise<void>;
}

/** One dedicated connection, lent by `Database.session`. */
export interface DbSession extends Queryable {
  /** BEGIN ... COMMIT on this connection (see `withTransaction`). */
  transaction<T>(fn: (tx: Transaction) => Promise<T>, options?: TransactionOptions): Promise<T>;
  /** Closes the connection instead of returning it to the pool (its session state is unknown). */
  discard(reason: Error): void;
}

/**
 * Opens the configured database: DATABASE_URL if set, else an embedded PostgreSQL.
 *
 * @example
 * const db = await openDatabase(config.db, logger);
 * const { rows } = await db.read((pool) => pool.query('SELECT 1 AS one'));
 * await db.close();
 */
export interface OpenDatabaseOptions {
  /** Told about every finished statement (see StatementObserver). */
  readonly onStatement?: StatementObserver | undefined;
}

export async function openDatabase(
  config: DbConfig,
  logger: Logger,
  options: OpenDatabaseOptions = {},
): Promise<Database> {
  const log = logger.child({ component: 'db' });
  let embedded: EmbeddedPostgresHandle | undefined;
  let url = config.url;
  if (!url) {
    embedded = await startEmbeddedPostgres(config.dataDir, logger);
    url = embedded.url;
  }
  const pool = createPool(url, config, log, { onStatement: options.onStatement });
  let closing: Promise<void> | undefined;
  const onHookError = (err: unknown) =>
    log.error({ err }, 'a commit hook failed (the transaction committed)');
  const retryTransient = <T>(fn: () => Promise<T>, what: string) =>
    retryTransientRead(fn, {
      retries: config.readRetries,
      onRetry: (err, attempt) => log.warn({ err, attempt }, `transient database error; retrying ${what}`),
    });
  return {
    pool,
    target: redactUrl(url),
    url,
    embedded: embedded !== undefined,
    read: (fn) => retryTransient(() => fn(pool), 'read'),
    idempotent: (fn) => {
      let attempt = 0;
      return retryTransient(() => fn(attempt++), 'idempotent write');
    },
    write: (fn) => fn(pool),
    migrate: (folder) => runMigrations(pool, folder, logger),
    migrationStatus: (folder) => migrationStatus(pool, folder),
    transaction: (fn, options) => withTransaction(pool, fn, { onHookError, ...options }),
    async session(fn) {
      const client = await pool.connect();
      const connection: Queryable = client;
      let broken: Error | undefined;
      const session: DbSession = {
        query: (query, values) => connection.query(query, values),
        async transaction(body, options) {
          try {
            return await runTransaction(client, body, { onHookError, ...options });
          } catch (err) {
            if (!(err instanceof BrokenConnectionError)) throw err;
            broken = err;
            throw err.cause;
          }
        },
        discard(reason) {
          broken ??= reason;
        },
      };
      try {
        return await fn(session);
      } finally {
        client.release(broken);
      }
    },
    async ping() {
      const startedAt = performance.now();
      await pool.query({ name: 'ping', text: 'SELECT 1' });
      return performance.now() - startedAt;
    },
    stats: () => poolStats(pool),
    embeddedStatus: () => embedded?.status(),
    liveness() {
      const status = embedded?.status();
      if (status?.downForMs === undefined || status.downForMs <= config.embeddedMaxDowntimeMs)
        return undefined;
      return `the embedded PostgreSQL has been down for ${Math.round(status.downForMs / 1000)} s and did not restart`;
    },
    close() {
      closing ??= (async () => {
        await pool.end().catch((err: unknown) => log.warn({ err }, 'closing the pool failed'));
        await embedded?.stop();
      })();
      return closing;
    },
  };
}

/** The URL with its password masked, for logs and messages. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return 'postgres://(unparseable)';
  }
}
