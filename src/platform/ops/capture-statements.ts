import type { Queryable, QueryConfig, QueryResult } from '../db/index.ts';

/** A statement as it would have been sent: its name (when it has one), text and values. */
export interface CapturedStatement {
  readonly name: string | undefined;
  readonly text: string;
  readonly values: readonly unknown[];
}

export interface CaptureOptions {
  /**
   * The rows to answer a captured statement with (none by default), for code that only sends its
   * next statement after seeing rows from the previous one.
   */
  readonly reply?: (statement: CapturedStatement) => readonly object[];
}

/**
 * Runs `work` against a Queryable that sends nothing to any database: it records every statement
 * `work` issues and answers each with no rows (or `options.reply`'s). This gives the exact text,
 * name and values a repository method sends, without copying its SQL. Code that fails on an empty
 * answer after having sent its statement is fine: the error is dropped once something was captured
 * (an error before any statement is rethrown).
 *
 * @example
 * const [statement] = await captureStatements((db) => new HotelRepository(db).findDetail(7));
 * // statement.name === 'hotel_detail', statement.values = [7]
 */
export async function captureStatements(
  work: (db: Queryable) => Promise<unknown>,
  options: CaptureOptions = {},
): Promise<CapturedStatement[]> {
  const captured: CapturedStatement[] = [];
  const db: Queryable = {
    async query<R extends object>(query: string | QueryConfig, values?: readonly unknown[]) {
      const statement: CapturedStatement =
        typeof query === 'string'
          ? { name: undefined, text: query, values: values ?? [] }
          : { name: query.name, text: query.text, values: query.values ?? values ?? [] };
      captured.push(statement);
      const rows = (options.reply?.(statement) ?? []) as R[];
      return { rows: [...rows], rowCount: rows.length } satisfies QueryResult<R>;
    },
  };
  try {
    await work(db);
  } catch (err) {
    if (captured.length === 0) throw err;
  }
  return captured;
}
