import type { Transaction } from '../../platform/db/index.ts';

/**
 * Queues the build of a data export the transaction created: the job commits or rolls back with the
 * row. The job handler calls `buildUserExport(db, exportId, ...)` (export-builder.ts).
 *
 * @example
 * await db.transaction(async (tx) => {
 *   const { export: row, created } = await exports(tx).createOrFindActive(userId);
 *   if (created) await jobs.enqueue(tx, row.id);
 * });
 */
export interface ExportJobs {
  enqueue(tx: Transaction, exportId: string): Promise<void>;
}
