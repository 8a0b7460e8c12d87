import type { Database } from '../../platform/db/index.ts';
import type { NotificationQueue } from '../notifications/notification-queue.ts';
import { priceDropRepository } from './price-drop-repository.ts';

export const DEFAULT_MIN_DROP_PCT = 5;
/** A user is told about a room type at a given price (or lower) at most once in this window. */
export const PRICE_DROP_DEDUPE_DAYS = 7;

export interface PriceDropOptions {
  /**
   * The start of the de-duplication window: an alert sent since then for the same user and room type
   * at the same or a lower price stops a new one. Default: 7 days ago.
   */
  readonly since?: Date;
  /** How far below what was paid (or quoted) the stay's current price must be, in percent. Default 5. */
  readonly minDropPct?: number;
  /** Queues the sending of the new notifications in the same transaction; unset, they stay pending. */
  readonly notifications?: NotificationQueue;
}

/**
 * The price-drop scan (a recurring job calls it): for each user and room type whose stay now costs at
 * least `minDropPct` percent less than the user paid (a future confirmed booking) or was quoted when
 * joining the waitlist (an active entry), a 'price_drop' notification with payload
 * `{ hotelId, hotelName, roomTypeId, roomName, oldPriceCents, newPriceCents, currency, checkIn, checkOut }`,
 * unless one was sent for that room type at that price or lower within the window. Set-based: two
 * statements in one transaction (a lock that serializes scans, then the insert) whatever the number
 * of users. Returns the new notifications' ids.
 *
 * @example
 * const { notificationIds } = await queuePriceDropAlerts(db, { notifications: queue });
 */
export async function queuePriceDropAlerts(
  db: Database,
  options: PriceDropOptions = {},
): Promise<{ notificationIds: number[] }> {
  const minDropPct = options.minDropPct ?? DEFAULT_MIN_DROP_PCT;
  if (!Number.isFinite(minDropPct) || minDropPct <= 0 || minDropPct >= 100) {
    throw new RangeError(`minDropPct must be between 0 and 100 (exclusive), not ${minDropPct}`);
  }
  const since = options.since ?? new Date(Date.now() - PRICE_DROP_DEDUPE_DAYS * 86_400_000);
  const notificationIds = await db.transaction(async (tx) => {
    const repo = priceDropRepository(tx);
    await repo.lockScan();
    const ids = await repo.queueAlerts(minDropPct, since);
    if (ids.length > 0) await options.notifications?.queue(tx, ids);
    return ids;
  });
  return { notificationIds };
}
