import { formatBytes, formatCount } from './format-units.ts';
import type { IndexCheckReport } from './index-check.ts';
import type { IndexExpectationResult } from './index-expectations.ts';
import { textTable } from './text-table.ts';

const STATUS_LABEL: Record<IndexExpectationResult['status'], string> = {
  ok: 'ok',
  regressed: 'REGRESSED',
  missing_index: 'MISSING INDEX',
  failed: 'FAILED',
  skipped: 'not checked',
};

/**
 * The terminal rendering of `checkIndexes`: indexes by size with their scans, unused and duplicate
 * indexes, foreign keys without an index, each statement against its expected indexes, and the verdict.
 *
 * @example
 * console.log(renderIndexCheck(await checkIndexes(db, { expectations })));
 */
export function renderIndexCheck(report: IndexCheckReport): string {
  const since = report.statsResetAt
    ? `since the statistics reset at ${report.statsResetAt}`
    : 'since the database was created (its statistics were never reset)';
  const out: string[] = [];

  out.push(`Indexes (scans ${since}):`);
  out.push(
    textTable(
      [
        { header: 'table' },
        { header: 'index' },
        { header: 'size', align: 'right' },
        { header: 'scans', align: 'right' },
        { header: 'note' },
      ],
      report.indexes.map((i) => [
        i.table,
        i.index,
        formatBytes(i.sizeBytes),
        formatCount(i.scans),
        [
          !i.valid ? 'INVALID' : '',
          i.scans === 0 ? (i.enforcesConstraint ? 'unused (enforces a constraint)' : 'unused') : '',
        ]
          .filter(Boolean)
          .join(', '),
      ]),
    ),
  );

  const unusedPlain = report.unused.filter((i) => !i.enforcesConstraint);
  out.push(
    '',
    `Unused indexes: ${report.unused.length} with no scan ${since} (${report.unused.length - unusedPlain.length} of them enforce a unique or primary key and stay for that). Reported, not a failure.`,
  );
  if (unusedPlain.length > 0) {
    const size = unusedPlain.reduce((sum, i) => sum + i.sizeBytes, 0);
    out.push(`  without a constraint (${formatBytes(size)}): ${unusedPlain.map((i) => i.index).join(', ')}`);
  }

  out.push('', `Duplicate indexes: ${report.duplicates.length === 0 ? 'none' : report.duplicates.length}`);
  for (const d of report.duplicates) out.push(`  ${d.table}: ${d.indexes.join(', ')}  (${d.definition})`);

  out.push(
    '',
    `Foreign keys without a supporting index: ${report.foreignKeys.length === 0 ? 'none' : report.foreignKeys.length}`,
  );
  for (const fk of report.foreignKeys) {
    const verdict = fk.accepted
      ? `accepted: ${fk.accepted}`
      : 'NOT ACCEPTED: index it, or accept it with a reason';
    out.push(
      `  ${fk.table}(${fk.columns.join(', ')}) -> ${fk.references}, on delete ${fk.onDelete} [${fk.constraint}]: ${verdict}`,
    );
  }
  for (const c of report.staleAcceptances) {
    out.push(
      `  note: ${c} is accepted as unindexed but now has an index or no longer exists; drop the acceptance`,
    );
  }

  out.push('', 'Statements and the indexes their plans must use (plain EXPLAIN, nothing runs):');
  out.push(
    textTable(
      [{ header: 'statement' }, { header: 'status' }, { header: 'expected' }, { header: 'plan' }],
      report.statements.map((s) => [
        s.name,
        STATUS_LABEL[s.status],
        s.expected.join('\n') || '(none)',
        planCell(s),
      ]),
    ),
  );
  const checked = report.statements.filter((s) => s.status !== 'skipped').length;
  out.push('');
  if (report.failures.length === 0) {
    out.push(
      `OK: ${checked} of ${report.statements.length} statements checked, each uses its indexes; no duplicate index; every unindexed foreign key is accepted.`,
    );
  } else {
    out.push(`FAILED (${report.failures.length}):`, ...report.failures.map((f) => `  ${f}`));
  }
  return out.join('\n');
}

function planCell(s: IndexExpectationResult): string {
  if (s.status === 'skipped' || s.status === 'failed') return s.reason ?? '';
  const lines: string[] = [];
  if (s.absent.length > 0) lines.push(`does not exist: ${s.absent.join(', ')}`);
  if (s.status === 'missing_index' && s.reason) lines.push(s.reason);
  if (s.notUsed.length > 0) lines.push(`not used: ${s.notUsed.join(', ')}`);
  if (s.topNode) lines.push(`uses ${s.used.join(', ') || 'no index'}; top: ${s.topNode}`);
  return lines.join('\n');
}
