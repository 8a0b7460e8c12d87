import { MIGRATIONS_DIR } from '../app/build-app.ts';
import { ACCEPTED_UNINDEXED_FOREIGN_KEYS } from '../app/perf/index-policy.ts';
import {
  type CataloguedStatement,
  catalogueStatements,
  uncheckableReason,
} from '../app/perf/statement-catalogue.ts';
import {
  NoSampleDataError,
  type StatementSamples,
  sampleStatementParameters,
} from '../app/perf/statement-samples.ts';
import type { Config } from '../platform/config/index.ts';
import { type Database, openDatabase } from '../platform/db/index.ts';
import {
  analyzeStatements,
  checkIndexes,
  DEFAULT_PLAN_FLAG_OPTIONS,
  type PlanFlagOptions,
  relationRows,
  renderIndexCheck,
  renderQueryAnalysis,
} from '../platform/ops/index.ts';
import { cliLogger } from './logger.ts';

export interface AnalyzeQueriesArgs {
  readonly seqScanRows?: string | undefined;
  readonly estimateFactor?: string | undefined;
}

/** The flag thresholds from `--seq-scan-rows N` and `--estimate-factor F`, or a usage error's message. */
export function planFlagOptions(args: AnalyzeQueriesArgs): PlanFlagOptions | string {
  const seqScanRows =
    args.seqScanRows === undefined ? DEFAULT_PLAN_FLAG_OPTIONS.seqScanRows : Number(args.seqScanRows);
  if (!/^\d+$/.test(args.seqScanRows ?? '0') || !Number.isSafeInteger(seqScanRows))
    return '--seq-scan-rows must be a whole number of rows (default 10000)';
  const estimateFactor =
    args.estimateFactor === undefined
      ? DEFAULT_PLAN_FLAG_OPTIONS.estimateFactor
      : Number(args.estimateFactor);
  if (!/^\d+(\.\d+)?$/.test(args.estimateFactor ?? '1') || !(estimateFactor > 1))
    return '--estimate-factor must be a number above 1 (default 10)';
  return { ...DEFAULT_PLAN_FLAG_OPTIONS, seqScanRows, estimateFactor };
}

/**
 * `innkeep perf analyze-queries`: EXPLAIN (ANALYZE, BUFFERS) of every catalogued statement with
 * parameters sampled from the data, every one in a transaction that is rolled back. Exit 0, or 1 when
 * the database is not ready (not migrated, no data) or a statement failed.
 */
export async function analyzeQueriesCommand(
  config: Config,
  options: PlanFlagOptions,
  json: boolean,
): Promise<number> {
  return withCatalogue(config, async (db, samples, statements) => {
    const analysis = await analyzeStatements(
      db,
      statements.map(({ entry, statement }) => ({ name: entry.name, kind: entry.kind, statement })),
      options,
    );
    const failed = analysis.statements.filter((s) => s.status === 'failed').length;
    if (json) {
      console.log(
        JSON.stringify(
          { command: 'perf analyze-queries', database: db.target, parameters: samples, ...analysis },
          null,
          2,
        ),
      );
    } else {
      console.log(`Query analysis of ${db.target}\n${describeSamples(samples)}\n`);
      console.log(renderQueryAnalysis(analysis));
    }
    return failed > 0 ? 1 : 0;
  });
}

/**
 * `innkeep perf check-indexes`: index sizes and scans, unused and duplicate indexes, foreign keys
 * without an index, and every catalogued statement's plan against the indexes it must use. Exit 1
 * on a regression, a missing or duplicate index or an unaccepted unindexed foreign key; 0 otherwise.
 */
export async function checkIndexesCommand(config: Config, json: boolean): Promise<number> {
  return withCatalogue(config, async (db, samples, statements) => {
    const tables = [...new Set(statements.flatMap(({ entry }) => Object.keys(entry.checkFrom ?? {})))];
    const tableRows = await db.read((q) => relationRows(q, tables));
    const report = await checkIndexes(db, {
      expectations: statements.map(({ entry, statement }) => ({
        name: entry.name,
        statement,
        expectIndexes: entry.indexes,
        skip: uncheckableReason(entry, tableRows),
      })),
      acceptedForeignKeys: ACCEPTED_UNINDEXED_FOREIGN_KEYS,
    });
    if (json) {
      console.log(
        JSON.stringify(
          {
            command: 'perf check-indexes',
            database: db.target,
            parameters: samples,
            ok: report.failures.length === 0,
            ...report,
          },
          null,
          2,
        ),
      );
    } else {
      console.log(`Index check of ${db.target}\n${describeSamples(samples)}\n`);
      console.log(renderIndexCheck(report));
    }
    return report.failures.length > 0 ? 1 : 0;
  });
}

async function withCatalogue(
  config: Config,
  run: (db: Database, samples: StatementSamples, statements: CataloguedStatement[]) => Promise<number>,
): Promise<number> {
  const db = await openDatabase(config.db, cliLogger(config));
  try {
    const status = await db.migrationStatus(MIGRATIONS_DIR);
    if (status.pending > 0) {
      console.error(
        `${db.target} is not migrated (${status.pending} of ${status.total} pending): run innkeep db migrate`,
      );
      return 1;
    }
    let samples: StatementSamples;
    try {
      samples = await db.read((q) => sampleStatementParameters(q));
    } catch (err) {
      if (!(err instanceof NoSampleDataError)) throw err;
      console.error(`${db.target}: ${err.message}`);
      return 1;
    }
    return await run(db, samples, await catalogueStatements(samples));
  } finally {
    await db.close();
  }
}

function describeSamples(s: StatementSamples): string {
  return (
    `Parameters from the data: city ${s.city}, hotel ${s.hotelId}, room type ${s.roomTypeId}, ` +
    `stay ${s.checkIn}..${s.checkOut}, user ${s.userId} (booking ${s.bookingId}), reports ${s.reportFrom}..${s.reportTo}`
  );
}
