import { createHash } from 'node:crypto';
import Type from 'typebox';
import { defineJob, type JobQueue } from '../../platform/queue/index.ts';
import type { NotificationQueue } from './notification-queue.ts';
import type { NotificationSender } from './notification-sender.ts';

/** A UUID derived from a name: the same notification always gets the same job id. */
export function uuidFrom(name: string): string {
  const h = createHash('sha256').update(name).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** The e-mail job: one per notification row, on the `email` queue (its rate limit and retries). */
export function sendNotificationJob(sender: NotificationSender) {
  return defineJob({
    name: 'send-notification',
    queue: 'email',
    payload: Type.Object({ notificationId: Type.Integer({ minimum: 1 }) }, { additionalProperties: false }),
    handler: async ({ notificationId }, ctx) => {
      await sender.deliver(notificationId, ctx);
    },
  });
}

/**
 * The NotificationQueue the services use: a send job per new row, inside the writing transaction,
 * with the job id derived from the notification (queuing a row twice is a no-op).
 */
export function notificationQueue(
  jobs: JobQueue,
  job: ReturnType<typeof sendNotificationJob>,
): NotificationQueue {
  return {
    async queue(tx, notificationIds) {
      // One statement however many notifications the transaction wrote.
      await jobs.enqueueManyIn(
        tx,
        job,
        notificationIds.map((notificationId) => ({
          payload: { notificationId },
          options: { jobId: uuidFrom(`notification:${notificationId}`) },
        })),
      );
    },
  };
}
