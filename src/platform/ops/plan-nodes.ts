/**
 * The part of PostgreSQL's `EXPLAIN (FORMAT JSON)` plan tree this module reads. Every node has more
 * keys than these (costs, widths, conditions); they are kept, only not typed.
 */
export interface PlanNode {
  readonly 'Node Type': string;
  readonly 'Parent Relationship'?: string;
  readonly 'Subplan Name'?: string;
  readonly 'Join Type'?: string;
  /** ModifyTable: Insert, Update, Delete. */
  readonly Operation?: string;
  readonly 'Relation Name'?: string;
  readonly Alias?: string;
  readonly 'Index Name'?: string;
  readonly 'CTE Name'?: string;
  readonly 'Function Name'?: string;
  /** INSERT ... ON CONFLICT: the unique indexes that decide the conflict. */
  readonly 'Conflict Arbiter Indexes'?: readonly string[];
  readonly 'Plan Rows': number;
  /** With ANALYZE: rows per loop (an average over the loops). */
  readonly 'Actual Rows'?: number;
  readonly 'Actual Loops'?: number;
  readonly 'Actual Total Time'?: number;
  /** With BUFFERS: blocks of this node and everything below it. */
  readonly 'Shared Hit Blocks'?: number;
  readonly 'Shared Read Blocks'?: number;
  readonly Plans?: readonly PlanNode[];
  readonly [key: string]: unknown;
}

/** A node seen on a walk of the tree, with where it sits. */
export interface VisitedNode {
  readonly node: PlanNode;
  readonly depth: number;
  /**
   * Some ancestor may stop reading this node before it is exhausted (a Limit that reached its limit,
   * the inner side of a semi or anti join, a subplan such as EXISTS, a merge join), so fewer actual
   * rows than estimated is expected there and says nothing about the estimate.
   */
  readonly cutShort: boolean;
}

const STOPS_EARLY_JOINS = new Set(['Semi', 'Anti']);

/**
 * Every node of a plan, parents before children.
 *
 * @example
 * for (const { node, depth } of walkPlan(plan)) console.log(' '.repeat(depth * 2) + node['Node Type']);
 */
export function* walkPlan(root: PlanNode): Generator<VisitedNode> {
  const stack: VisitedNode[] = [{ node: root, depth: 0, cutShort: false }];
  while (stack.length > 0) {
    const visit = stack.pop() as VisitedNode;
    yield visit;
    const { node } = visit;
    const children = node.Plans ?? [];
    const stops =
      visit.cutShort ||
      (node['Node Type'] === 'Limit' && !exhaustedItsInput(node)) ||
      node['Node Type'] === 'Merge Join' ||
      STOPS_EARLY_JOINS.has(node['Join Type'] ?? '');
    for (let i = children.length - 1; i >= 0; i--) {
      const child = children[i] as PlanNode;
      const subplan =
        child['Parent Relationship'] === 'SubPlan' || child['Parent Relationship'] === 'InitPlan';
      stack.push({ node: child, depth: visit.depth + 1, cutShort: stops || subplan });
    }
  }
}

/**
 * A Limit run once that returned fewer rows than it could have (its estimate is at most its limit):
 * its input ran dry before the limit, so the input was read whole.
 */
function exhaustedItsInput(limit: PlanNode): boolean {
  const actual = limit['Actual Rows'];
  return actual !== undefined && limit['Actual Loops'] === 1 && actual < limit['Plan Rows'];
}

/**
 * The indexes a plan reads (index, index-only and bitmap index scans) or relies on as the arbiter
 * of an ON CONFLICT, each once, in the order first met.
 *
 * @example
 * indexesUsed(plan); // ['room_types_hotel_price_idx', 'reviews_entity_rating_idx']
 */
export function indexesUsed(root: PlanNode): string[] {
  const found = new Set<string>();
  for (const { node } of walkPlan(root)) {
    if (node['Index Name']) found.add(node['Index Name']);
    for (const arbiter of node['Conflict Arbiter Indexes'] ?? []) found.add(arbiter);
  }
  return [...found];
}

/**
 * One line for a node: its type, what it reads and through which index.
 *
 * @example
 * describeNode(plan); // 'Index Scan on hotels using hotels_pkey'
 */
export function describeNode(node: PlanNode): string {
  const strategy =
    typeof node.Strategy === 'string' && node.Strategy !== 'Plain' ? ` (${node.Strategy})` : '';
  const type = node.Operation && node['Node Type'] === 'ModifyTable' ? node.Operation : node['Node Type'];
  const join = node['Join Type'] && node['Join Type'] !== 'Inner' ? ` (${node['Join Type']})` : '';
  const target =
    node['Relation Name'] ?? node['CTE Name'] ?? node['Function Name'] ?? node['Subplan Name'] ?? undefined;
  const on = target ? ` on ${target}` : '';
  const using = node['Index Name'] ? ` using ${node['Index Name']}` : '';
  return `${type}${strategy}${join}${on}${using}`;
}
