import { unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Database } from '../../platform/db/index.ts';
import { positiveInteger } from './job-options.ts';
import { maintenanceRepository } from './maintenance-repository.ts';

export interface PurgeExpiredOptions {
  /** Rows deleted per statement (default 5000). */
  readonly batchSize?: number;
  /** INNKEEP_DATA_DIR, where export files live; expired exports' files are deleted when given. */
  readonly dataDir?: string;
}

export const PURGE_BATCH_SIZE = 5000;

/**
 * Deletes idempotency keys past their expiry (their answer is no longer replayed; a new request
 * with the key claims it afresh) and refresh tokens past their own expiry, `batchSize` rows per
 * statement, each committed on its own, so a big purge never holds many locks for long. Rotated
 * and revoked tokens that have not expired stay: they are what detects a replayed token (see
 * MaintenanceRepository.purgeExpiredRefreshTokens). With `dataDir`, the files of data exports past
 * their expiry are deleted too (a user's personal data must not outlive its download window): each
 * file first, then its row stops naming it, so a crash in between only deletes a file again (a
 * missing file is fine). Returns how many of each were deleted.
 *
 * @example
 * const { idempotencyKeys, refreshTokens, exportFiles } = await purgeExpired(db, { dataDir });
 */
export async function purgeExpired(
  db: Database,
  options: PurgeExpiredOptions = {},
): Promise<{ idempotencyKeys: number; refreshTokens: number; exportFiles: number }> {
  const batchSize = positiveInteger('batchSize', options.batchSize ?? PURGE_BATCH_SIZE, 100_000);
  const drain = async (purge: (limit: number) => Promise<number>): Promise<number> => {
    let total = 0;
    for (;;) {
      const deleted = await purge(batchSize);
      total += deleted;
      if (deleted < batchSize) return total;
    }
  };
  const idempotencyKeys = await drain((limit) =>
    db.write((q) => maintenanceRepository(q).purgeExpiredIdempotencyKeys(limit)),
  );
  const refreshTokens = await drain((limit) =>
    db.write((q) => maintenanceRepository(q).purgeExpiredRefreshTokens(limit)),
  );
  const { dataDir } = options;
  const exportFiles =
    dataDir === undefined
      ? 0
      : await drain(async (limit) => {
          // On the primary: a replica a little behind would name files already forgotten.
          const due = await db.write((q) => maintenanceRepository(q).expiredExportFiles(limit));
          for (const { filePath } of due) {
            await unlink(join(dataDir, filePath)).catch((err: NodeJS.ErrnoException) => {
              if (err.code !== 'ENOENT') throw err;
            });
          }
          if (due.length === 0) return 0;
          await db.write((q) => maintenanceRepository(q).forgetExportFiles(due.map((d) => d.id)));
          return due.length;
        });
  return { idempotencyKeys, refreshTokens, exportFiles };
}
