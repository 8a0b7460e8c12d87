import type { Database } from '../db/index.ts';
import { type DuplicateIndexes, duplicateIndexes } from './duplicate-indexes.ts';
import { type UnindexedForeignKey, unindexedForeignKeys } from './foreign-key-indexes.ts';
import {
  checkIndexExpectations,
  type IndexExpectation,
  type IndexExpectationResult,
} from './index-expectations.ts';
import { type IndexUsage, indexUsage } from './index-usage.ts';

export interface IndexCheckOptions {
  /** Statements and the indexes their plans must use. */
  readonly expectations: readonly IndexExpectation[];
  /** Foreign keys (by constraint name) allowed to have no supporting index, with the reason. */
  readonly acceptedForeignKeys?: Readonly<Record<string, string>>;
}

export interface ForeignKeyGap extends UnindexedForeignKey {
  /** Why it is acceptable; undefined: it is not. */
  readonly accepted: string | undefined;
}

export interface IndexCheckReport {
  readonly statsResetAt: string | null;
  readonly indexes: readonly IndexUsage[];
  /** No scan since the statistics were reset. Reported, never a failure. */
  readonly unused: readonly IndexUsage[];
  readonly duplicates: readonly DuplicateIndexes[];
  readonly foreignKeys: readonly ForeignKeyGap[];
  /** Accepted foreign keys that now have an index or no longer exist: the acceptance can go. */
  readonly staleAcceptances: readonly string[];
  readonly statements: readonly IndexExpectationResult[];
  /** What makes the check fail; empty: it passed. */
  readonly failures: readonly string[];
}

/**
 * Index health in one report: every index's size and scans, unused ones, duplicates, foreign keys
 * without a supporting index, and whether each statement's plan still uses the indexes it is expected
 * to. It fails (non-empty `failures`) when a plan no longer uses an expected index or that index does
 * not exist, on any duplicate set (pure write and storage cost), and on an unindexed foreign key that
 * is not in `acceptedForeignKeys`. Unused indexes are only reported: the counts depend on the traffic
 * since the last statistics reset. Read-only.
 *
 * @example
 * const report = await checkIndexes(db, { expectations, acceptedForeignKeys: { orders_note_fk: 'never deleted' } });
 * process.exitCode = report.failures.length > 0 ? 1 : 0;
 */
export async function checkIndexes(
  db: Pick<Database, 'read' | 'session'>,
  options: IndexCheckOptions,
): Promise<IndexCheckReport> {
  const accepted = options.acceptedForeignKeys ?? {};
  const { usage, duplicates, gaps, constraints } = await db.read(async (q) => ({
    usage: await indexUsage(q),
    duplicates: await duplicateIndexes(q),
    gaps: await unindexedForeignKeys(q),
    constraints: await q.query<{ conname: string }>({
      text: `SELECT conname FROM pg_constraint WHERE contype = 'f' AND conname = ANY($1::text[])`,
      values: [Object.keys(accepted)],
    }),
  }));
  const statements = await checkIndexExpectations(db, options.expectations);
  const foreignKeys = gaps.map((g) => ({ ...g, accepted: accepted[g.constraint] }));
  const stillThere = new Set(constraints.rows.map((r) => r.conname));
  const gapNames = new Set(gaps.map((g) => g.constraint));
  const staleAcceptances = Object.keys(accepted).filter((c) => !stillThere.has(c) || !gapNames.has(c));

  const failures: string[] = [];
  for (const s of statements) {
    if (s.status === 'missing_index')
      failures.push(`${s.name}: expected index ${s.absent.join(', ')} does not exist`);
    if (s.status === 'regressed') {
      const uses = s.used.length > 0 ? s.used.join(', ') : 'no index';
      failures.push(
        `${s.name}: plan no longer uses ${s.notUsed.join(', ')} (it uses ${uses}; top node ${s.topNode})`,
      );
    }
    if (s.status === 'failed') failures.push(`${s.name}: EXPLAIN failed: ${s.reason}`);
  }
  for (const d of duplicates) failures.push(`duplicate indexes on ${d.table}: ${d.indexes.join(', ')}`);
  for (const fk of foreignKeys) {
    if (fk.accepted === undefined) {
      failures.push(
        `foreign key ${fk.constraint} (${fk.table}.${fk.columns.join(', ')}) has no supporting index`,
      );
    }
  }
  return {
    statsResetAt: usage.statsResetAt,
    indexes: usage.indexes,
    unused: usage.indexes.filter((i) => i.scans === 0),
    duplicates,
    foreignKeys,
    staleAcceptances,
    statements,
    failures,
  };
}
