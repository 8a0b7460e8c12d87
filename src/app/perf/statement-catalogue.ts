import { captureStatements } from '../../platform/ops/index.ts';
import { AUTH_STATEMENTS } from './auth-statements.ts';
import { BOOKING_STATEMENTS } from './booking-statements.ts';
import type { CataloguedStatement, CatalogueEntry } from './catalogue-entry.ts';
import { EXPORT_STATEMENTS } from './export-statements.ts';
import { HOTEL_STATEMENTS } from './hotel-statements.ts';
import { MAINTENANCE_STATEMENTS } from './maintenance-statements.ts';
import { NOTIFICATION_STATEMENTS } from './notification-statements.ts';
import type { StatementSamples } from './statement-samples.ts';
import { WAITLIST_STATEMENTS } from './waitlist-statements.ts';

export type { CataloguedStatement, CatalogueEntry } from './catalogue-entry.ts';

/**
 * Every named statement the app sends, with the indexes its plan must use: the single source of
 * truth for `innkeep perf analyze-queries` and `innkeep perf check-indexes`. The repositories' own
 * comments say which index a statement is written for; this is the machine-checked form of them.
 * test/perf-catalogue.test.ts fails when a repository sends a named statement this has no entry for.
 */
export const STATEMENT_CATALOGUE: readonly CatalogueEntry[] = [
  ...HOTEL_STATEMENTS,
  ...BOOKING_STATEMENTS,
  ...WAITLIST_STATEMENTS,
  ...AUTH_STATEMENTS,
  ...NOTIFICATION_STATEMENTS,
  ...EXPORT_STATEMENTS,
  ...MAINTENANCE_STATEMENTS,
];

/**
 * Each entry with the statement its repository method sends for these parameters (nothing reaches
 * a database: see captureStatements). Throws when an entry's method sends no statement of the
 * entry's name, so a renamed statement cannot leave a stale entry behind.
 *
 * @example
 * const statements = await catalogueStatements(await sampleStatementParameters(db));
 */
export async function catalogueStatements(
  samples: StatementSamples,
  catalogue: readonly CatalogueEntry[] = STATEMENT_CATALOGUE,
): Promise<CataloguedStatement[]> {
  const out: CataloguedStatement[] = [];
  for (const entry of catalogue) {
    const reply = entry.reply;
    const sent = await captureStatements(
      (db) => entry.send(db, samples),
      reply ? { reply: (statement) => reply(statement, samples) } : {},
    );
    const statement = sent.find((s) => s.name === entry.name);
    if (!statement) {
      const names = sent.map((s) => s.name ?? '(unnamed)').join(', ') || 'nothing';
      throw new Error(`catalogue entry ${entry.name} sent ${names}, not a statement named ${entry.name}`);
    }
    out.push({ entry, statement });
  }
  return out;
}

/**
 * Why an entry's plan is not checked on this database: some table it names in `checkFrom` holds fewer
 * rows than that (`tableRows`: pg_class.reltuples by table). Undefined: check it.
 */
export function uncheckableReason(
  entry: CatalogueEntry,
  tableRows: ReadonlyMap<string, number>,
): string | undefined {
  for (const [table, rows] of Object.entries(entry.checkFrom ?? {})) {
    const has = Math.max(tableRows.get(table) ?? 0, 0);
    if (has < rows) {
      const why = entry.note ? `; ${entry.note}` : '';
      return `${table} has ${Math.round(has).toLocaleString('en-US')} rows (< ${rows.toLocaleString('en-US')}): a sequential scan is the cheaper plan at this size${why}`;
    }
  }
  return undefined;
}
