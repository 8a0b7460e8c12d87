import type { Database, Queryable } from '../db/index.ts';
import { type ExplainableStatement, type ExplainedPlan, explain } from './explain.ts';
import { estimateFlags, type PlanFlag, type PlanFlagOptions, seqScanFlags } from './plan-flags.ts';
import { describeNode, indexesUsed, type PlanNode, walkPlan } from './plan-nodes.ts';

export interface StatementToAnalyze {
  readonly name: string;
  /**
   * 'write': changes data or takes row locks. Every statement runs inside a transaction that is rolled
   * back (reads in a READ ONLY one), so nothing it does is kept; writes are marked so in the report.
   */
  readonly kind: 'read' | 'write';
  readonly statement: ExplainableStatement;
  /** Set: the statement is not run, and the report says why. */
  readonly skip?: string | undefined;
}

export interface StatementAnalysis {
  readonly name: string;
  readonly kind: 'read' | 'write';
  readonly status: 'analyzed' | 'skipped' | 'failed';
  /** Why it was skipped, or the error it failed with. */
  readonly reason?: string;
  /** True for every statement that ran: its transaction was rolled back. */
  readonly rolledBack: boolean;
  readonly planningMs?: number;
  readonly executionMs?: number;
  /** Shared buffers found in cache / read from disk or the OS cache while executing. */
  readonly sharedHit?: number;
  readonly sharedRead?: number;
  readonly topNode?: string;
  readonly indexes?: readonly string[];
  readonly flags: readonly PlanFlag[];
  readonly plan?: PlanNode;
}

export interface QueryAnalysis {
  readonly statements: readonly StatementAnalysis[];
  /** pg_class.reltuples of every table a plan read. */
  readonly tableRows: Readonly<Record<string, number>>;
  readonly options: PlanFlagOptions;
}

/** A write waiting on a row the application holds gives up after this long instead of queueing. */
const LOCK_TIMEOUT = '2s';

/**
 * Runs `EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON)` for each statement on one dedicated connection, each
 * inside its own transaction that is then ROLLED BACK (reads in a READ ONLY transaction), so no row
 * changes. What a rollback does not undo: identity sequences advance (a rolled-back insert leaves a
 * gap in the ids, as any failed insert does), and session advisory locks a statement took are released
 * explicitly afterwards. Row locks are held for the statement's duration, as the application would
 * hold them, with a lock timeout of 2 s. A statement that fails is reported, and the others still run.
 *
 * @example
 * const analysis = await analyzeStatements(db, [
 *   { name: 'hotel_detail', kind: 'read', statement: { text: 'SELECT ... WHERE h.id = $1', values: [7] } },
 * ], DEFAULT_PLAN_FLAG_OPTIONS);
 * analysis.statements[0].flags; // seq scans of large tables, row estimates off by more than 10x
 */
export async function analyzeStatements(
  db: Pick<Database, 'session'>,
  statements: readonly StatementToAnalyze[],
  options: PlanFlagOptions,
): Promise<QueryAnalysis> {
  return db.session(async (session) => {
    const outcomes: { entry: StatementToAnalyze; outcome: Outcome }[] = [];
    for (const entry of statements) {
      const outcome: Outcome =
        entry.skip !== undefined
          ? { status: 'skipped', reason: entry.skip }
          : await explainRolledBack(session, entry);
      outcomes.push({ entry, outcome });
    }
    const relations = new Set<string>();
    for (const { outcome } of outcomes) {
      if (outcome.status !== 'analyzed') continue;
      for (const { node } of walkPlan(outcome.explained.plan)) {
        if (node['Relation Name']) relations.add(node['Relation Name']);
      }
    }
    const tableRows = await relationRows(session, [...relations]);
    return {
      options,
      tableRows: Object.fromEntries(tableRows),
      statements: outcomes.map(({ entry, outcome }) => describe(entry, outcome, tableRows, options)),
    };
  });
}

type Outcome =
  | { readonly status: 'skipped' | 'failed'; readonly reason: string }
  | { readonly status: 'analyzed'; readonly explained: ExplainedPlan };

async function explainRolledBack(session: Queryable, entry: StatementToAnalyze): Promise<Outcome> {
  await session.query(entry.kind === 'read' ? 'BEGIN READ ONLY' : 'BEGIN');
  try {
    await session.query(`SET LOCAL lock_timeout = '${LOCK_TIMEOUT}'`);
    return { status: 'analyzed', explained: await explain(session, entry.statement, { analyze: true }) };
  } catch (err) {
    return { status: 'failed', reason: err instanceof Error ? err.message : String(err) };
  } finally {
    await session.query('ROLLBACK');
    // A ROLLBACK keeps session-level advisory locks (pg_advisory_lock) a statement took.
    await session.query('SELECT pg_advisory_unlock_all()');
  }
}

function describe(
  entry: StatementToAnalyze,
  outcome: Outcome,
  tableRows: ReadonlyMap<string, number>,
  options: PlanFlagOptions,
): StatementAnalysis {
  const base = { name: entry.name, kind: entry.kind };
  if (outcome.status !== 'analyzed') {
    return { ...base, ...outcome, rolledBack: outcome.status === 'failed', flags: [] };
  }
  const { plan, planningMs, executionMs } = outcome.explained;
  return {
    ...base,
    status: 'analyzed',
    rolledBack: true,
    planningMs,
    executionMs,
    sharedHit: plan['Shared Hit Blocks'] ?? 0,
    sharedRead: plan['Shared Read Blocks'] ?? 0,
    topNode: describeNode(plan),
    indexes: indexesUsed(plan),
    flags: [...seqScanFlags(plan, tableRows, options.seqScanRows), ...estimateFlags(plan, options)],
    plan,
  };
}

/** pg_class.reltuples of the tables named (as the planner sees them on the search path). */
export async function relationRows(
  db: Queryable,
  relations: readonly string[],
): Promise<Map<string, number>> {
  if (relations.length === 0) return new Map();
  const { rows } = await db.query<{ relname: string; reltuples: number }>({
    text: `SELECT c.relname, c.reltuples::float8 AS reltuples FROM pg_class c
           WHERE c.relname = ANY($1::text[]) AND c.relkind IN ('r', 'p', 'm') AND pg_table_is_visible(c.oid)`,
    values: [relations],
  });
  return new Map(rows.map((r) => [r.relname, Number(r.reltuples)]));
}
