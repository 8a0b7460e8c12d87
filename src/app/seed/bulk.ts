import type { Queryable } from '../../platform/db/index.ts';

/**
 * Tables loaded with hundreds of thousands of rows. Per-row foreign-key triggers and incremental
 * index inserts cost several times the insert itself; building each index once afterwards is much
 * cheaper. hotels and room_types keep theirs: the min-price trigger and the rating update look rows
 * up through them.
 */
export const BULK_TABLES = [
  'users',
  'bookings',
  'room_inventory',
  'payments',
  'notifications',
  'reviews',
  'price_history',
];

/** Tables that only lose their secondary indexes (hotels is updated twice more after its insert). */
export const INDEX_ONLY_TABLES = ['hotels'];

export interface DeferredSchema {
  readonly dropped: number;
  /** Recreates what was dropped, exactly as it was defined (pg_get_constraintdef / pg_get_indexdef). */
  restore(): Promise<void>;
}

interface Ddl {
  kind: 'fk' | 'key' | 'index';
  drop_sql: string;
  add_sql: string;
}

/**
 * Drops the indexes, primary/unique keys and foreign keys of `tables` (and the foreign keys pointing
 * at them), and the secondary indexes of `indexOnlyTables`, inside the caller's transaction; returns
 * how to put them back. A rollback restores everything, since DDL is transactional.
 */
export async function deferIndexesAndConstraints(
  client: Queryable,
  tables: readonly string[],
  indexOnlyTables: readonly string[] = [],
): Promise<DeferredSchema> {
  const { rows: constraints } = await client.query<Ddl>(
    `SELECT CASE WHEN contype = 'f' THEN 'fk' ELSE 'key' END AS kind,
       format('ALTER TABLE %s DROP CONSTRAINT %I', conrelid::regclass, conname) AS drop_sql,
       format('ALTER TABLE %s ADD CONSTRAINT %I %s', conrelid::regclass, conname, pg_get_constraintdef(oid)) AS add_sql
     FROM pg_constraint
     WHERE (contype = 'f' AND (conrelid = ANY ($1::regclass[]) OR confrelid = ANY ($1::regclass[])))
        OR (contype IN ('p', 'u') AND conrelid = ANY ($1::regclass[]))
     ORDER BY conrelid::regclass::text, conname`,
    [tables],
  );
  const { rows: indexes } = await client.query<Ddl>(
    `SELECT 'index' AS kind, format('DROP INDEX %s', i.indexrelid::regclass) AS drop_sql,
       pg_get_indexdef(i.indexrelid) AS add_sql
     FROM pg_index i
     WHERE i.indrelid = ANY ($1::regclass[])
       AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid AND c.conrelid = i.indrelid)
     ORDER BY i.indexrelid::regclass::text`,
    [[...tables, ...indexOnlyTables]],
  );
  const fks = constraints.filter((c) => c.kind === 'fk');
  const keys = constraints.filter((c) => c.kind === 'key');
  // Foreign keys depend on the keys they reference: drop them first, add them last.
  const dropOrder = [...fks, ...indexes, ...keys];
  for (const ddl of dropOrder) await client.query(ddl.drop_sql);
  return {
    dropped: dropOrder.length,
    async restore() {
      for (const ddl of [...keys, ...indexes, ...fks]) await client.query(ddl.add_sql);
    },
  };
}
