import type { Database } from '../../platform/db/index.ts';
import { positiveInteger } from './job-options.ts';
import { maintenanceRepository } from './maintenance-repository.ts';

export interface PurgeExpiredOptions {
  /** Rows deleted per statement (default 5000). */
  readonly batchSize?: number;
}

export const PURGE_BATCH_SIZE = 5000;

/**
 * Deletes idempotency keys past their expiry (their answer is no longer replayed; a new request
 * with the key claims it afresh) and refresh tokens past their own expiry, `batchSize` rows per
 * statement, each committed on its own, so a big purge never holds many locks for long. Rotated
 * and revoked tokens that have not expired stay: they are what detects a replayed token (see
 * MaintenanceRepository.purgeExpiredRefreshTokens). Returns how many rows of each were deleted.
 *
 * @example
 * const { idempotencyKeys, refreshTokens } = await purgeExpired(db);
 */
export async function purgeExpired(
  db: Database,
  options: PurgeExpiredOptions = {},
): Promise<{ idempotencyKeys: number; refreshTokens: number }> {
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
  return { idempotencyKeys, refreshTokens };
}
