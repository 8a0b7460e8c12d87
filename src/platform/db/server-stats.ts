import { statementNameOf } from './instrumented-client.ts';
import type { Queryable } from './queryable.ts';

/** The server's version and since when its activity statistics have been collecting. */
export interface ServerInfo {
  readonly version: string;
  readonly statsSince: string;
  readonly statsAgeSeconds: number;
}

export interface StatementStat {
  /** The name the app gives it, when this process ran it. */
  readonly name?: string;
  /** The SQL text, whitespace collapsed, cut at 300 characters. */
  readonly query: string;
  readonly calls: number;
  readonly meanMs: number;
  readonly totalMs: number;
  readonly rows: number;
}

export type StatementStats =
  | { readonly available: true; readonly statements: readonly StatementStat[] }
  | { readonly available: false; readonly reason: string };

export interface TableScanStat {
  readonly table: string;
  readonly liveRows: number;
  readonly seqScans: number;
  readonly seqRowsRead: number;
  readonly indexScans: number;
}

/** One round trip: version and the age of the statistics (reset time, else server start). */
export async function serverInfo(db: Queryable): Promise<ServerInfo> {
  const { rows } = await db.query<{ version: string; since: Date; age: number }>({
    name: 'server_info',
    text: `SELECT current_setting('server_version') AS version,
                  COALESCE(d.stats_reset, pg_postmaster_start_time()) AS since,
                  EXTRACT(EPOCH FROM now() - COALESCE(d.stats_reset, pg_postmaster_start_time()))::float8 AS age
             FROM pg_stat_database d WHERE d.datname = current_database()`,
  });
  const row = rows[0];
  if (!row) throw new Error('pg_stat_database has no row for the current database');
  return {
    version: row.version,
    statsSince: new Date(row.since).toISOString(),
    statsAgeSeconds: Math.round(row.age),
  };
}

/**
 * The slowest statements of this database by mean execution time, from `pg_stat_statements`. When
 * the server preloads the library but this database lacks the extension, it is created (that needs
 * the CREATE privilege; the embedded server preloads it). Otherwise it says why it is unavailable.
 * Only queries and DML count: DDL (migrations) and transaction control are left out, and so are
 * statements reading the statistics and settings themselves.
 */
export async function slowestStatements(
  db: Queryable,
  limit = 10,
  /** Statements naming these schemas (`schema.` anywhere in the text) are left out. */
  excludeSchemas: readonly string[] = [],
): Promise<StatementStats> {
  const { rows: setup } = await db.query<{ preloaded: boolean; installed: boolean }>({
    name: 'pg_stat_statements_setup',
    text: `SELECT current_setting('shared_preload_libraries') ~ '(^|[ ,])pg_stat_statements($|[ ,])' AS preloaded,
                  EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_stat_statements') AS installed`,
  });
  const { preloaded, installed } = setup[0] ?? { preloaded: false, installed: false };
  if (!preloaded) {
    return {
      available: false,
      reason: 'pg_stat_statements is not in shared_preload_libraries on this server',
    };
  }
  if (!installed) {
    try {
      await db.query('CREATE EXTENSION IF NOT EXISTS pg_stat_statements');
    } catch (err) {
      return {
        available: false,
        reason: `the pg_stat_statements extension is not installed in this database and could not be created (${(err as { code?: string }).code ?? 'error'})`,
      };
    }
  }
  const { rows } = await db.query<StatementStat>({
    name: 'slowest_statements',
    text: `SELECT query, calls::float8 AS calls,
                  round(mean_exec_time::numeric, 3)::float8 AS "meanMs",
                  round(total_exec_time::numeric, 3)::float8 AS "totalMs", rows::float8 AS rows
             FROM pg_stat_statements
            WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
              AND query ~* '^\\s*(SELECT|INSERT|UPDATE|DELETE|WITH|MERGE|VALUES|TABLE)\\M'
              AND query !~* 'pg_stat_|pg_catalog\\.|current_setting\\(|^\\s*SELECT 1\\s*$'
              AND NOT EXISTS (SELECT 1 FROM unnest($2::text[]) AS s(schema)
                              WHERE position(s.schema || '.' IN query) > 0
                                 OR position('"' || s.schema || '".' IN query) > 0)
            ORDER BY mean_exec_time DESC
            LIMIT $1`,
    values: [limit, [...excludeSchemas]],
  });
  const statements = rows.map((row) => {
    const name = statementNameOf(row.query);
    const compact = row.query.replace(/\s+/g, ' ').trim();
    return {
      ...(name ? { name } : {}),
      ...row,
      query: compact.length > 300 ? `${compact.slice(0, 297)}...` : compact,
    };
  });
  return { available: true, statements };
}

/** Sequential and index scans per table since the statistics were reset (cumulative counters). */
export async function tableScans(db: Queryable): Promise<TableScanStat[]> {
  const { rows } = await db.query<TableScanStat>({
    name: 'table_scans',
    text: `SELECT relname AS "table", n_live_tup::float8 AS "liveRows", seq_scan::float8 AS "seqScans",
                  seq_tup_read::float8 AS "seqRowsRead", COALESCE(idx_scan, 0)::float8 AS "indexScans"
             FROM pg_stat_user_tables`,
  });
  return rows;
}
