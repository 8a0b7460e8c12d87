import { AsyncResource } from 'node:async_hooks';
import pg from 'pg';
import type { DbConfig } from '../config/index.ts';
import type { Logger } from '../observability/logger.ts';
import { instrumentedClientClass, type StatementObserver } from './instrumented-client.ts';

const INT8_OID = 20;
const NUMERIC_OID = 1700;
const DATE_OID = 1082;

/**
 * Type parsers shared by every pool: int8 and numeric as JS numbers (ids, counts, ratings stay far
 * below 2^53), and `date` as the plain 'YYYY-MM-DD' string, because a calendar date is not an instant
 * and turning it into a JS Date shifts it by the process time zone.
 */
export const pgTypes = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === INT8_OID || oid === NUMERIC_OID) return (v: string) => (v === null ? null : Number(v));
    if (oid === DATE_OID) return (v: string) => v;
    return pg.types.getTypeParser(oid, format);
  },
} as pg.CustomTypesConfig;

/**
 * pg-pool hands a released connection to the next waiter by calling the waiter's callback inside
 * the *releasing* caller's async context (pool.query uses that callback form). Binding the callback
 * to the caller's context keeps per-request query counts and slow-query request ids right when
 * requests queue for a connection. Promise-style connect() already resumes in the caller's context.
 */
class ContextPreservingPool extends pg.Pool {
  // biome-ignore lint/suspicious/noExplicitAny: pg's overloads cannot be re-declared generically
  override connect(callback?: any): any {
    return typeof callback === 'function' ? super.connect(AsyncResource.bind(callback)) : super.connect();
  }
}

export interface PoolStats {
  readonly total: number;
  readonly idle: number;
  readonly waiting: number;
  readonly max: number;
}

/**
 * A `pg` Pool with bounded size and timeouts, a server-side statement timeout, and the query hook.
 *
 * @example
 * const pool = createPool('postgres://127.0.0.1/test', config.db, logger);
 * const { rows } = await pool.query({ name: 'one', text: 'SELECT 1 AS one' });
 */
export interface PoolOptions {
  /** `application_name` the server shows in pg_stat_activity. */
  readonly applicationName?: string;
  /** Told about every finished statement (the metrics registry's statement histogram). */
  readonly onStatement?: StatementObserver | undefined;
}

export function createPool(
  url: string,
  config: DbConfig,
  logger: Logger,
  options: PoolOptions = {},
): pg.Pool {
  const { applicationName = 'innkeep', onStatement } = options;
  const pool = new ContextPreservingPool({
    connectionString: url,
    max: config.poolMax,
    idleTimeoutMillis: config.idleTimeoutMs,
    connectionTimeoutMillis: config.connectTimeoutMs,
    statement_timeout: config.statementTimeoutMs || undefined,
    application_name: applicationName,
    keepAlive: true,
    types: pgTypes,
    Client: instrumentedClientClass({
      logger,
      slowQueryWarnMs: config.slowQueryWarnMs,
      slowQueryDebugMs: config.slowQueryDebugMs,
      onStatement,
    }),
  });
  // A connection can fail at any time (the server restarts, a backend is terminated, the network
  // drops). pg emits 'error' on the client, and an 'error' event without a listener kills the
  // process: pg-pool only listens while a client is idle. Every client gets its own listener for
  // its whole life, so a failure while checked out fails only the queries on it (they reject, and
  // the request gets a 503); pg-pool discards the client on release because it is no longer
  // queryable, and opens a fresh one for the next caller.
  pool.on('connect', (client) => {
    client.on('error', (err) => logger.warn({ err }, 'PostgreSQL connection failed; it will be discarded'));
  });
  // pg-pool re-emits an idle client's failure on the pool; the client's listener above logged it.
  pool.on('error', () => undefined);
  return pool;
}

export function poolStats(pool: pg.Pool): PoolStats {
  return { total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount, max: pool.options.max };
}
