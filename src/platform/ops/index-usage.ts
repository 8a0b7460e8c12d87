import type { Queryable } from '../db/index.ts';

export interface IndexUsage {
  readonly schema: string;
  readonly table: string;
  readonly index: string;
  /** Index scans since the statistics were last reset (pg_stat_user_indexes.idx_scan). */
  readonly scans: number;
  readonly sizeBytes: number;
  /** A unique or primary-key index (or one backing a constraint): it enforces a rule even unread. */
  readonly enforcesConstraint: boolean;
  readonly valid: boolean;
  readonly definition: string;
}

export interface IndexUsageReport {
  readonly indexes: readonly IndexUsage[];
  /** When this database's statistics were last reset; null: never (they count since initdb). */
  readonly statsResetAt: string | null;
}

/**
 * Every index of the user's tables with its scan count and size, largest first, and when the counts
 * started. Plain EXPLAIN does not count as a scan; EXPLAIN ANALYZE does (it runs the statement).
 *
 * @example
 * const { indexes } = await indexUsage(pool);
 * const unused = indexes.filter((i) => i.scans === 0 && !i.enforcesConstraint);
 */
export async function indexUsage(db: Queryable): Promise<IndexUsageReport> {
  const { rows } = await db.query<IndexUsage>({
    text: `
SELECT s.schemaname AS schema, s.relname AS "table", s.indexrelname AS index, s.idx_scan::float8 AS scans,
       pg_relation_size(s.indexrelid)::float8 AS "sizeBytes",
       (i.indisunique OR i.indisprimary OR i.indisexclusion
        OR EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = s.indexrelid)) AS "enforcesConstraint",
       i.indisvalid AS valid, pg_get_indexdef(s.indexrelid) AS definition
FROM pg_stat_user_indexes s
JOIN pg_index i ON i.indexrelid = s.indexrelid
ORDER BY pg_relation_size(s.indexrelid) DESC, s.schemaname, s.relname, s.indexrelname`,
  });
  const reset = await db.query<{ at: string | null }>({
    text: `SELECT to_char(stats_reset AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS at
           FROM pg_stat_database WHERE datname = current_database()`,
  });
  return {
    indexes: rows.map((r) => ({ ...r, scans: Number(r.scans), sizeBytes: Number(r.sizeBytes) })),
    statsResetAt: reset.rows[0]?.at ?? null,
  };
}
