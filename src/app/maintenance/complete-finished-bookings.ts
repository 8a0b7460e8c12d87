import type { Database } from '../../platform/db/index.ts';
import { cacheTags } from '../common/cache.ts';
import { positiveInteger } from './job-options.ts';
import { maintenanceRepository } from './maintenance-repository.ts';

export interface CompleteFinishedBookingsOptions {
  /** Bookings per statement (default 1000). */
  readonly batchSize?: number;
  /**
   * Called after each batch commits with the cache tags it changed (the guests' own views: their
   * bookings, trips and dashboard show the status). Wire it to DomainCache.invalidate. The reports
   * are unchanged: they count confirmed and completed bookings alike.
   */
  readonly invalidate?: (tags: string[]) => Promise<void>;
}

export const COMPLETE_BATCH_SIZE = 1000;

/**
 * Marks confirmed bookings whose check-out day (end_date) is on or before their hotel's local today
 * as completed, `batchSize` rows per statement until a batch comes back short. Each batch commits
 * on its own and skips rows another worker has locked, so two workers running at once share the
 * work and complete each booking once. Returns how many bookings this call completed.
 *
 * @example
 * const { completed } = await completeFinishedBookings(db, { invalidate: (tags) => cache.invalidate(tags) });
 */
export async function completeFinishedBookings(
  db: Database,
  options: CompleteFinishedBookingsOptions = {},
): Promise<{ completed: number }> {
  const batchSize = positiveInteger('batchSize', options.batchSize ?? COMPLETE_BATCH_SIZE, 100_000);
  let completed = 0;
  for (;;) {
    const batch = await db.write((q) => maintenanceRepository(q).completeFinishedBatch(batchSize));
    completed += batch.length;
    if (batch.length > 0 && options.invalidate) {
      const users = new Set(batch.map((b) => b.userId));
      await options.invalidate([...users].map(cacheTags.user));
    }
    if (batch.length < batchSize) return { completed };
  }
}
