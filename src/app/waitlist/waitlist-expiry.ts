import type { Database } from '../../platform/db/index.ts';
import { cacheTags, type DomainCache } from '../common/cache.ts';
import type { NotificationQueue } from '../notifications/notification-queue.ts';
import { type FreedStay, offerFreedRooms } from './waitlist-offers.ts';
import { waitlistRepository } from './waitlist-repository.ts';

/** WAITLIST_OFFER_HOLD_MINUTES' default, for callers that pass no hold. */
export const DEFAULT_OFFER_HOLD_MINUTES = 30;
/** Offers expired per transaction. */
export const EXPIRY_BATCH_SIZE = 50;
/** Transactions per call at most, so one call stays bounded however far behind it is. */
export const EXPIRY_MAX_BATCHES = 100;

export interface ExpireWaitlistOffersOptions {
  /** How long the offers made to the next in line hold their rooms (config.waitlist.offerHoldMinutes). */
  readonly holdMinutes?: number;
  /** Offers expired per transaction (default EXPIRY_BATCH_SIZE). */
  readonly batchSize?: number;
  /** Transactions at most (default EXPIRY_MAX_BATCHES); the next call carries on. */
  readonly maxBatches?: number;
  /** Told, inside each transaction, about the notification rows it wrote. */
  readonly notifications?: NotificationQueue | undefined;
  /** Invalidated after each commit: the availability of the hotels and the views of the users touched. */
  readonly cache?: Pick<DomainCache, 'invalidate'> | undefined;
}

export interface WaitlistExpiryReport {
  /** Offers marked expired (their rooms went back to room_inventory). */
  readonly expired: number;
  /** New offers made to the next in line with those rooms. */
  readonly offered: number;
  /** Transactions committed that expired something. */
  readonly batches: number;
}

/**
 * The waitlist expiry job's work (a scheduler runs it every minute): every offer whose
 * offer_expires_at is at or before `now` is marked 'expired', its held rooms go back to room_inventory,
 * its user gets a 'waitlist_offer_expired' notification, and the freed rooms are offered to the next
 * in line (`offerFreedRooms`: new holds, 'waitlist_offer' notifications). Offers made here expire
 * `holdMinutes` after `now`.
 *
 * Runs in short transactions of `batchSize` offers. Each takes its offers FOR UPDATE SKIP LOCKED, so
 * several workers can run it at once and every offer is processed exactly once, and an offer being
 * booked through (its entry locked by the booking) is skipped rather than waited for. Stops when a
 * batch comes back short, or after `maxBatches`.
 *
 * @example
 * const report = await expireWaitlistOffers(db, new Date(), {
 *   holdMinutes: config.waitlist.offerHoldMinutes,
 *   notifications,
 * });
 * log.info(report, 'waitlist offers expired');
 */
export async function expireWaitlistOffers(
  db: Database,
  now: Date = new Date(),
  options: ExpireWaitlistOffersOptions = {},
): Promise<WaitlistExpiryReport> {
  const holdMinutes = options.holdMinutes ?? DEFAULT_OFFER_HOLD_MINUTES;
  const batchSize = options.batchSize ?? EXPIRY_BATCH_SIZE;
  const maxBatches = options.maxBatches ?? EXPIRY_MAX_BATCHES;
  let expired = 0;
  let offered = 0;
  let batches = 0;
  while (batches < maxBatches) {
    const batch = await db.transaction(async (tx) => {
      const released = await waitlistRepository(tx).expireOffers(now, batchSize);
      if (released.offers.length === 0) return { expired: 0, offered: 0 };
      // One call for every freed stay: its candidates are locked in one statement, in one order.
      const stays = new Map<string, FreedStay>();
      for (const { roomTypeId, checkIn, checkOut } of released.offers) {
        stays.set(`${roomTypeId}:${checkIn}:${checkOut}`, { roomTypeId, checkIn, checkOut });
      }
      const offers = await offerFreedRooms(tx, [...stays.values()], { holdMinutes, now });
      const notificationIds = [...released.notificationIds, ...offers.notificationIds];
      if (options.notifications && notificationIds.length > 0) {
        await options.notifications.queue(tx, notificationIds);
      }
      const cache = options.cache;
      if (cache) {
        const tags = new Set<string>([cacheTags.reports]);
        for (const o of released.offers) {
          tags.add(cacheTags.availability(o.hotelId));
          tags.add(cacheTags.roomType(o.roomTypeId));
          tags.add(cacheTags.user(o.userId));
        }
        for (const userId of offers.userIds) tags.add(cacheTags.user(userId));
        tx.onCommit(() => cache.invalidate([...tags]));
      }
      return { expired: released.offers.length, offered: offers.waitlistIds.length };
    });
    if (batch.expired === 0) break;
    expired += batch.expired;
    offered += batch.offered;
    batches++;
    if (batch.expired < batchSize) break;
  }
  return { expired, offered, batches };
}
