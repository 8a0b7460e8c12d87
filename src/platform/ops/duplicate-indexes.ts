import type { Queryable } from '../db/index.ts';

export interface DuplicateIndexes {
  readonly schema: string;
  readonly table: string;
  /** Two or more indexes with the same method, key columns or expressions, operator classes,
   * collations, orderings and predicate: all but one are pure write and storage cost. */
  readonly indexes: readonly string[];
  /** The shared definition, as `pg_get_indexdef` prints the first of them without its name. */
  readonly definition: string;
}

/**
 * Sets of indexes on one table that index exactly the same thing (same key, same predicate). INCLUDE
 * columns and uniqueness are not part of the key: a unique index and a plain one on the same columns
 * are duplicates (the unique one serves every read the plain one does).
 *
 * @example
 * const dups = await duplicateIndexes(pool);
 * // [{ table: 'bookings', indexes: ['bookings_user_idx', 'bookings_user_idx2'], definition: '... (user_id)' }]
 */
export async function duplicateIndexes(db: Queryable): Promise<DuplicateIndexes[]> {
  const { rows } = await db.query<DuplicateIndexes>({
    text: `
WITH keyed AS (
  SELECT n.nspname AS schema, t.relname AS "table", ic.relname AS index, i.indexrelid,
         concat_ws(' | ', am.amname,
           (SELECT string_agg(pg_get_indexdef(i.indexrelid, k, true), ', ' ORDER BY k)
              FROM generate_series(1, i.indnkeyatts) AS k),
           (i.indclass::oid[])[0:i.indnkeyatts - 1]::text,
           (i.indcollation::oid[])[0:i.indnkeyatts - 1]::text,
           (i.indoption::int2[])[0:i.indnkeyatts - 1]::text,
           pg_get_expr(i.indpred, i.indrelid, true)) AS key
  FROM pg_index i
  JOIN pg_class ic ON ic.oid = i.indexrelid
  JOIN pg_class t ON t.oid = i.indrelid
  JOIN pg_namespace n ON n.oid = t.relnamespace
  JOIN pg_am am ON am.oid = ic.relam
  WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%'
)
SELECT schema, "table", array_agg(index::text ORDER BY index) AS indexes,
       regexp_replace(pg_get_indexdef(min(indexrelid)), '^CREATE (UNIQUE )?INDEX \\S+ ', 'INDEX ') AS definition
FROM keyed
GROUP BY schema, "table", key
HAVING count(*) > 1
ORDER BY schema, "table", min(index)`,
  });
  return rows;
}
