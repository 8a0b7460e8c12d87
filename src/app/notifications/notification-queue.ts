import type { Transaction } from '../../platform/db/index.ts';

/**
 * Queues the delivery of notification rows a transaction inserted: the send jobs commit or roll back
 * with the rows (pg-boss inserts them in the same transaction; BullMQ goes through the outbox). A
 * service that inserts notifications calls it inside that transaction with the new rows' ids.
 *
 * @example
 * await db.transaction(async (tx) => {
 *   const { notificationId } = await bookings.insertBooking(...);
 *   await notifications.queue(tx, [notificationId]);
 * });
 */
export interface NotificationQueue {
  queue(tx: Transaction, notificationIds: readonly number[]): Promise<void>;
}
