import type { Database, Queryable } from '../db/index.ts';
import { type ExplainableStatement, explain } from './explain.ts';
import { describeNode, indexesUsed } from './plan-nodes.ts';

/** An index the plan must use, or a list of indexes of which it must use at least one. */
export type IndexRequirement = string | readonly string[];

export interface IndexExpectation {
  readonly name: string;
  readonly statement: ExplainableStatement;
  /**
   * Every one of these must be met by the plan (index scans, bitmap scans, ON CONFLICT arbiters); a
   * list is met by any of its indexes (two indexes that serve the lookup equally well).
   */
  readonly expectIndexes: readonly IndexRequirement[];
  /** Set: the plan is not checked, and the report says why. */
  readonly skip?: string | undefined;
}

export interface IndexExpectationResult {
  readonly name: string;
  readonly status: 'ok' | 'regressed' | 'missing_index' | 'failed' | 'skipped';
  /** The requirements, alternatives joined by ' | '. */
  readonly expected: readonly string[];
  /** Indexes the plan uses. */
  readonly used: readonly string[];
  /** Requirements the plan does not meet (alternatives joined by ' | '). */
  readonly notUsed: readonly string[];
  /** Indexes named in the requirements that do not exist (every one named must exist). */
  readonly absent: readonly string[];
  readonly topNode?: string;
  /** Why it was skipped, or the error EXPLAIN failed with. */
  readonly reason?: string;
}

/**
 * Plans each statement with plain `EXPLAIN (FORMAT JSON)` (nothing runs; each in a READ ONLY
 * transaction) and checks that every index it is expected to use exists and appears in the plan.
 * A plan that changed to another index or a sequential scan is 'regressed'; an expected index that
 * does not exist is 'missing_index' (also for a skipped statement). The planner judges by the statistics it has, so run ANALYZE
 * after loading data, and expect what the planner does at that data's size.
 *
 * @example
 * const [result] = await checkIndexExpectations(db, [{
 *   name: 'hotel_detail', expectIndexes: ['room_types_hotel_price_idx'],
 *   statement: { text: HOTEL_DETAIL, values: [7] },
 * }]);
 * result.status; // 'ok' | 'regressed' | 'missing_index' | 'failed' | 'skipped'
 */
export async function checkIndexExpectations(
  db: Pick<Database, 'session'>,
  expectations: readonly IndexExpectation[],
): Promise<IndexExpectationResult[]> {
  return db.session(async (session) => {
    const wanted = [...new Set(expectations.flatMap((e) => e.expectIndexes.flat()))];
    const existing = await existingIndexes(session, wanted);
    const results: IndexExpectationResult[] = [];
    for (const e of expectations) {
      const requirements = e.expectIndexes.map((r) => (typeof r === 'string' ? [r] : r));
      const absent = requirements.flat().filter((i) => !existing.has(i));
      const expected = requirements.map((r) => r.join(' | '));
      const base = { name: e.name, expected, used: [], notUsed: [], absent };
      if (e.skip !== undefined) {
        // A plan too small to judge still names indexes that must exist.
        results.push({ ...base, status: absent.length > 0 ? 'missing_index' : 'skipped', reason: e.skip });
        continue;
      }
      await session.query('BEGIN READ ONLY');
      try {
        const { plan } = await explain(session, e.statement);
        const used = indexesUsed(plan);
        const notUsed = requirements
          .filter((r) => !r.some((i) => used.includes(i)))
          .map((r) => r.join(' | '));
        const status = absent.length > 0 ? 'missing_index' : notUsed.length > 0 ? 'regressed' : 'ok';
        results.push({ ...base, status, used, notUsed, topNode: describeNode(plan) });
      } catch (err) {
        results.push({ ...base, status: 'failed', reason: err instanceof Error ? err.message : String(err) });
      } finally {
        await session.query('ROLLBACK');
      }
    }
    return results;
  });
}

/** The names among `names` of indexes visible on the search path. */
async function existingIndexes(db: Queryable, names: readonly string[]): Promise<Set<string>> {
  const { rows } = await db.query<{ relname: string }>({
    text: `SELECT relname FROM pg_class WHERE relkind IN ('i', 'I') AND relname = ANY($1::text[])
             AND pg_table_is_visible(oid)`,
    values: [names],
  });
  return new Set(rows.map((r) => r.relname));
}
