import type { Queryable } from '../db/index.ts';

export interface UnindexedForeignKey {
  readonly schema: string;
  readonly table: string;
  readonly constraint: string;
  readonly columns: readonly string[];
  /** The referenced table. */
  readonly references: string;
  /** What a delete of a referenced row does: 'no action', 'restrict', 'cascade', 'set null', 'set default'. */
  readonly onDelete: string;
}

/**
 * Foreign keys whose columns do not lead any valid, non-partial index of their table. Without one,
 * every delete (or key update) of a referenced row scans the referencing table to check or cascade,
 * and joins from the parent to its children cannot use an index. The key's columns may lead the
 * index in any order (INCLUDE columns do not count).
 *
 * @example
 * const gaps = await unindexedForeignKeys(pool);
 * // [{ table: 'bookings', constraint: 'bookings_trip_id_trips_id_fk', columns: ['trip_id'], ... }]
 */
/**
 * SQL condition: index `i` supports foreign key `c` (same table, valid, not partial, and its
 * leading key columns are exactly the key's columns, in any order).
 */
const SUPPORTS_FOREIGN_KEY = `i.indrelid = c.conrelid AND i.indisvalid AND i.indpred IS NULL
      AND cardinality(c.conkey) <= i.indnkeyatts
      AND (i.indkey::int2[])[0:cardinality(c.conkey) - 1] @> c.conkey
      AND (i.indkey::int2[])[0:cardinality(c.conkey) - 1] <@ c.conkey`;

/**
 * The names of the indexes that support a foreign key: unused by reads, they still serve the
 * referenced table's deletes and key updates (and `check-indexes` requires them).
 */
export async function foreignKeyIndexNames(db: Queryable): Promise<Set<string>> {
  const { rows } = await db.query<{ index: string }>({
    text: `SELECT DISTINCT ic.relname AS index
             FROM pg_constraint c JOIN pg_index i ON ${SUPPORTS_FOREIGN_KEY}
             JOIN pg_class ic ON ic.oid = i.indexrelid
            WHERE c.contype = 'f'`,
  });
  return new Set(rows.map((r) => r.index));
}

export async function unindexedForeignKeys(db: Queryable): Promise<UnindexedForeignKey[]> {
  const { rows } = await db.query<UnindexedForeignKey>({
    text: `
SELECT n.nspname AS schema, t.relname AS "table", c.conname AS constraint,
       (SELECT array_agg(a.attname::text ORDER BY k.ord)
          FROM unnest(c.conkey) WITH ORDINALITY AS k(attnum, ord)
          JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum) AS columns,
       c.confrelid::regclass::text AS "references",
       CASE c.confdeltype WHEN 'a' THEN 'no action' WHEN 'r' THEN 'restrict' WHEN 'c' THEN 'cascade'
                          WHEN 'n' THEN 'set null' ELSE 'set default' END AS "onDelete"
FROM pg_constraint c
JOIN pg_class t ON t.oid = c.conrelid
JOIN pg_namespace n ON n.oid = t.relnamespace
WHERE c.contype = 'f'
  AND NOT EXISTS (
    SELECT 1 FROM pg_index i
    WHERE ${SUPPORTS_FOREIGN_KEY})
ORDER BY n.nspname, t.relname, c.conname`,
  });
  return rows;
}
