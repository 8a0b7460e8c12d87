import { describeNode, type PlanNode, walkPlan } from './plan-nodes.ts';

/** Something in a plan worth a look. */
export type PlanFlag =
  | {
      readonly kind: 'seq_scan';
      readonly relation: string;
      /** pg_class.reltuples of the table: the planner's idea of its size. */
      readonly tableRows: number;
      readonly message: string;
    }
  | {
      readonly kind: 'row_estimate';
      readonly node: string;
      /** Rows per loop, as the planner estimated them and as they came. */
      readonly estimatedRows: number;
      readonly actualRows: number;
      readonly loops: number;
      /** How many times one is the other (always ≥ 1). */
      readonly factor: number;
      readonly message: string;
    };

export interface PlanFlagOptions {
  /** A sequential scan of a table with at least this many rows (pg_class.reltuples) is flagged. */
  readonly seqScanRows: number;
  /** Actual rows off from the estimate by more than this factor, either way, is flagged. */
  readonly estimateFactor: number;
  /**
   * Only nodes where the larger of estimated and actual rows, over all loops, reaches this count are
   * judged: 1 row estimated and 5 found is noise, not a misestimate.
   */
  readonly estimateMinRows: number;
}

export const DEFAULT_PLAN_FLAG_OPTIONS: PlanFlagOptions = {
  seqScanRows: 10_000,
  estimateFactor: 10,
  estimateMinRows: 100,
};

/**
 * Node types whose row estimate is not the planner's guess about data: ModifyTable returns no rows
 * without RETURNING, and a Limit's estimate is its limit (its input's estimate is judged instead).
 */
const SKIP_ESTIMATES = new Set(['ModifyTable', 'Limit']);

/** Node types that read a whole table front to back. */
const SEQ_SCANS = new Set(['Seq Scan', 'Parallel Seq Scan']);

/**
 * Sequential scans of tables with at least `seqScanRows` rows. `tableRows` maps a relation name as the
 * plan shows it ('Relation Name') to its pg_class.reltuples; unknown relations are not flagged.
 *
 * @example
 * seqScanFlags(plan, new Map([['bookings', 20026]]), 10_000);
 * // [{ kind: 'seq_scan', relation: 'bookings', tableRows: 20026, message: 'Seq Scan on bookings (20,026 rows)' }]
 */
export function seqScanFlags(
  root: PlanNode,
  tableRows: ReadonlyMap<string, number>,
  seqScanRows: number,
): PlanFlag[] {
  const flags: PlanFlag[] = [];
  for (const { node } of walkPlan(root)) {
    const relation = node['Relation Name'];
    if (!SEQ_SCANS.has(node['Node Type']) || relation === undefined) continue;
    const rows = tableRows.get(relation);
    if (rows === undefined || rows < seqScanRows) continue;
    flags.push({
      kind: 'seq_scan',
      relation,
      tableRows: rows,
      message: `${node['Node Type']} on ${relation} (${Math.round(rows).toLocaleString('en-US')} rows)`,
    });
  }
  return flags;
}

/**
 * Nodes of an EXPLAIN ANALYZE plan whose actual row count is off from the estimate by more than
 * `estimateFactor`. Skipped: nodes that never ran, ModifyTable and Limit nodes (see SKIP_ESTIMATES),
 * and fewer rows than estimated where an ancestor stops reading early (a Limit that filled up, an
 * EXISTS, a semi join: see VisitedNode.cutShort), since the estimate there is for the whole input.
 *
 * @example
 * estimateFlags(analyzedPlan, DEFAULT_PLAN_FLAG_OPTIONS);
 * // [{ kind: 'row_estimate', node: 'Function Scan on unnest', estimatedRows: 100, actualRows: 3, ... }]
 */
export function estimateFlags(
  root: PlanNode,
  options: Pick<PlanFlagOptions, 'estimateFactor' | 'estimateMinRows'>,
): PlanFlag[] {
  const flags: PlanFlag[] = [];
  for (const { node, cutShort } of walkPlan(root)) {
    const actual = node['Actual Rows'];
    const loops = node['Actual Loops'] ?? 0;
    if (actual === undefined || loops === 0 || SKIP_ESTIMATES.has(node['Node Type'])) continue;
    const estimated = node['Plan Rows'];
    if (cutShort && actual < estimated) continue;
    if (Math.max(actual, estimated) * loops < options.estimateMinRows) continue;
    const factor = Math.max(actual, estimated) / Math.max(Math.min(actual, estimated), 1);
    if (factor <= options.estimateFactor) continue;
    const name = describeNode(node);
    const perLoop = loops > 1 ? ` per loop × ${loops} loops` : '';
    flags.push({
      kind: 'row_estimate',
      node: name,
      estimatedRows: estimated,
      actualRows: actual,
      loops,
      factor: Math.round(factor * 10) / 10,
      message: `${name}: ${estimated} rows estimated, ${actual} actual${perLoop} (${formatFactor(factor)})`,
    });
  }
  return flags;
}

function formatFactor(factor: number): string {
  return `${factor >= 100 ? Math.round(factor) : Math.round(factor * 10) / 10}×`;
}
