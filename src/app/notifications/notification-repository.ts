import type { Queryable, RepositoryFactory } from '../../platform/db/index.ts';

/** A notification claimed for delivery, with its recipient. */
export interface ClaimedNotification {
  readonly id: number;
  readonly userId: number;
  readonly type: string;
  readonly channel: string;
  readonly payload: unknown;
  readonly attempts: number;
  readonly email: string;
  readonly name: string;
}

/** Delivery tracking on the notifications table: queued -> sending -> sent | failed. */
export class NotificationRepository {
  readonly #db: Queryable;

  constructor(db: Queryable) {
    this.#db = db;
  }

  /**
   * Marks the notification `sending` and counts the attempt; undefined when it is gone, already sent
   * or cancelled (a duplicate job after a crash finds it sent and does nothing).
   */
  async claim(id: number): Promise<ClaimedNotification | undefined> {
    const { rows } = await this.#db.query<ClaimedNotification>({
      name: 'notification_claim',
      text: `
UPDATE notifications n SET status = 'sending', attempts = n.attempts + 1
FROM users u
WHERE n.id = $1 AND u.id = n.user_id AND n.status IN ('queued', 'sending', 'failed')
RETURNING n.id::int AS id, n.user_id AS "userId", n.type, n.channel, n.payload, n.attempts,
          u.email, u.name`,
      values: [id],
    });
    return rows[0];
  }

  async markSent(id: number, providerMessageId: string): Promise<void> {
    await this.#db.query({
      name: 'notification_mark_sent',
      text: `UPDATE notifications SET status = 'sent', sent_at = now(), provider_message_id = $2, last_error = NULL
             WHERE id = $1`,
      values: [id, providerMessageId],
    });
  }

  /** A failed attempt: `final` marks it failed for good, otherwise it waits for its retry. */
  async markAttemptFailed(id: number, error: string, final: boolean): Promise<void> {
    await this.#db.query({
      name: 'notification_mark_failed',
      text: `UPDATE notifications SET status = CASE WHEN $3 THEN 'failed' ELSE 'queued' END, last_error = $2
             WHERE id = $1 AND status <> 'sent'`,
      values: [id, error.slice(0, 2000), final],
    });
  }
}

export const notificationRepository: RepositoryFactory<NotificationRepository> = (db) =>
  new NotificationRepository(db);
