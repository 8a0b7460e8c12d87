import { formatCount, formatMs } from './format-units.ts';
import type { QueryAnalysis, StatementAnalysis } from './query-analysis.ts';
import { textTable } from './text-table.ts';

/**
 * The terminal rendering of `analyzeStatements`: one line per statement (planning and execution ms,
 * shared buffers hit and read, the plan's top node, its flags), then a summary.
 *
 * @example
 * console.log(renderQueryAnalysis(await analyzeStatements(db, statements, DEFAULT_PLAN_FLAG_OPTIONS)));
 */
export function renderQueryAnalysis(analysis: QueryAnalysis): string {
  const rows = analysis.statements.map((s) => [
    s.name,
    kindLabel(s),
    formatMs(s.planningMs),
    formatMs(s.executionMs),
    s.sharedHit === undefined ? '' : formatCount(s.sharedHit),
    s.sharedRead === undefined ? '' : formatCount(s.sharedRead),
    s.status === 'analyzed' ? (s.topNode ?? '') : `${s.status.toUpperCase()}: ${s.reason ?? ''}`,
    s.flags.map((f) => f.message).join('\n'),
  ]);
  const table = textTable(
    [
      { header: 'statement' },
      { header: 'kind' },
      { header: 'plan ms', align: 'right' },
      { header: 'exec ms', align: 'right' },
      { header: 'hit', align: 'right' },
      { header: 'read', align: 'right' },
      { header: 'top node' },
      { header: 'flags' },
    ],
    rows,
  );
  const count = (status: StatementAnalysis['status']) =>
    analysis.statements.filter((s) => s.status === status).length;
  const flagged = analysis.statements.filter((s) => s.flags.length > 0).length;
  const { seqScanRows, estimateFactor, estimateMinRows } = analysis.options;
  const summary = [
    `${analysis.statements.length} statements: ${count('analyzed')} analyzed, ${count('skipped')} skipped, ${count('failed')} failed; ${flagged} flagged.`,
    `Flags: a sequential scan of a table with at least ${formatCount(seqScanRows)} rows (pg_class.reltuples); ` +
      `actual rows off from the estimate by more than ${estimateFactor}x at a node with at least ${formatCount(estimateMinRows)} rows.`,
    'Every statement ran inside a transaction that was rolled back (reads READ ONLY): writes ("write, rolled back") kept no rows; ' +
      'identity sequences still advanced, as for any rolled-back insert.',
  ];
  return `${table}\n\n${summary.join('\n')}`;
}

function kindLabel(s: StatementAnalysis): string {
  if (s.kind === 'read') return 'read';
  return s.rolledBack ? 'write, rolled back' : 'write';
}
