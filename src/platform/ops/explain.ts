import type { Queryable } from '../db/index.ts';
import type { PlanNode } from './plan-nodes.ts';

/** A parameterised statement to explain: the text and values the application sends. */
export interface ExplainableStatement {
  readonly text: string;
  readonly values: readonly unknown[];
}

/** What `EXPLAIN (FORMAT JSON)` returned, with ANALYZE's timings when it ran the statement. */
export interface ExplainedPlan {
  readonly plan: PlanNode;
  /** Milliseconds; only with `analyze`. */
  readonly planningMs: number | undefined;
  readonly executionMs: number | undefined;
  /** Time spent in triggers (foreign-key checks, the app's own), ms; only with `analyze`. */
  readonly triggerMs: number | undefined;
}

interface ExplainOutput {
  readonly Plan: PlanNode;
  readonly 'Planning Time'?: number;
  readonly 'Execution Time'?: number;
  readonly Triggers?: readonly { readonly Time?: number }[];
}

/**
 * Explains one statement with its parameters bound, as PostgreSQL would plan it for these values (a
 * custom plan). With `analyze` the statement RUNS (BUFFERS on too): a write then takes effect unless
 * the caller rolls its transaction back, which is what `analyzeStatements` does. The statement is sent
 * unnamed, so no prepared statement of the application's is touched.
 *
 * @example
 * const { plan } = await explain(pool, { text: 'SELECT * FROM hotels WHERE id = $1', values: [7] });
 * plan['Node Type']; // 'Index Scan'
 */
export async function explain(
  db: Queryable,
  statement: ExplainableStatement,
  options: { analyze?: boolean } = {},
): Promise<ExplainedPlan> {
  const how = options.analyze ? 'ANALYZE, BUFFERS, FORMAT JSON' : 'FORMAT JSON';
  const { rows } = await db.query<{ 'QUERY PLAN': ExplainOutput[] | string }>({
    text: `EXPLAIN (${how}) ${statement.text}`,
    values: statement.values,
  });
  const raw = rows[0]?.['QUERY PLAN'];
  const output = (typeof raw === 'string' ? JSON.parse(raw) : raw) as ExplainOutput[] | undefined;
  const top = output?.[0];
  if (!top) throw new Error('EXPLAIN returned no plan');
  const triggers = top.Triggers;
  return {
    plan: top.Plan,
    planningMs: top['Planning Time'],
    executionMs: top['Execution Time'],
    triggerMs: triggers ? triggers.reduce((sum, t) => sum + (t.Time ?? 0), 0) : undefined,
  };
}
