import type { Queryable } from '../../platform/db/index.ts';
import type { CapturedStatement, IndexRequirement } from '../../platform/ops/index.ts';
import type { StatementSamples } from './statement-samples.ts';

/**
 * One named statement of the app, as `innkeep perf analyze-queries` and `innkeep perf check-indexes`
 * see it. The statement itself is never copied here: `send` calls the repository method that sends it
 * (against a recording Queryable that runs nothing), so the text, name and values are the app's own.
 */
export interface CatalogueEntry {
  /** The name the repository gives the statement (`QueryConfig.name`). */
  readonly name: string;
  /** 'write': changes data or locks rows; analyze-queries runs it in a transaction it rolls back. */
  readonly kind: 'read' | 'write';
  /** Sends the statement through the repository, with parameters taken from the data. */
  readonly send: (db: Queryable, samples: StatementSamples) => Promise<unknown>;
  /**
   * For code that sends the statement only after seeing rows from an earlier one: the rows to answer
   * that earlier statement with.
   */
  readonly reply?: (statement: CapturedStatement, samples: StatementSamples) => readonly object[];
  /**
   * The indexes its plan must use (check-indexes fails when one is missing from the plan or from the
   * database); a list is met by any one of its indexes. Empty: no index is expected, and `note` says
   * why.
   */
  readonly indexes: readonly IndexRequirement[];
  /**
   * Check the plan only once these tables hold at least this many rows (pg_class.reltuples): below
   * that, a sequential scan is the cheaper plan and the planner is right to take it.
   */
  readonly checkFrom?: Readonly<Record<string, number>>;
  /** Why the expectation is what it is (shown by check-indexes when the plan is not checked). */
  readonly note?: string;
}

/** A catalogue entry with the statement its repository method sent for the sampled parameters. */
export interface CataloguedStatement {
  readonly entry: CatalogueEntry;
  readonly statement: CapturedStatement;
}
