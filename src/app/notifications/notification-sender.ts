import type { Database } from '../../platform/db/index.ts';
import { UnrecoverableJobError } from '../../platform/queue/index.ts';
import { notificationRepository } from './notification-repository.ts';

/** The e-mail port (src/platform/mail's Mailer satisfies it). */
export interface MailPort {
  send(
    message: {
      to: string;
      subject: string;
      html: string;
      text: string;
      messageId: string;
      headers?: Record<string, string>;
    },
    options?: { signal?: AbortSignal },
  ): Promise<{ providerMessageId: string; file?: string }>;
}

/** Renders a notification's e-mail; throws a `permanent` error when its data is unusable. */
export type RenderNotification = (
  type: string,
  data: unknown,
  context: { publicUrl: string; recipientName?: string },
) => { subject: string; html: string; text: string };

export interface NotificationSenderOptions {
  readonly db: Database;
  readonly mail: MailPort;
  readonly render: RenderNotification;
  readonly publicUrl: string;
  /** The domain of MAIL_FROM: Message-IDs are `notification-<id>@<domain>`. */
  readonly messageIdDomain: string;
}

const describe = (err: unknown) => (err instanceof Error ? err.message : String(err));

/**
 * Delivers one notification row as an e-mail, tracking it on the row: `sending` (attempt counted)
 * -> `sent` with the provider's message id, or back to `queued` with the error for a retry, or
 * `failed` when no retry can help (a template without its data, a recipient the server refuses)
 * or the attempts are spent. The Message-ID derives from the notification, so a resend after a crash
 * between the SMTP answer and `sent` is recognisable as the same message.
 */
export class NotificationSender {
  readonly #options: NotificationSenderOptions;

  constructor(options: NotificationSenderOptions) {
    this.#options = options;
  }

  messageId(notificationId: number): string {
    return `notification-${notificationId}@${this.#options.messageIdDomain}`;
  }

  /** Resolves once sent (or when there is nothing left to send); throws to fail the attempt. */
  async deliver(
    notificationId: number,
    attempt: { readonly attempt: number; readonly maxAttempts: number; readonly signal?: AbortSignal },
  ): Promise<'sent' | 'skipped'> {
    const { db, mail, render, publicUrl } = this.#options;
    const claimed = await db.write((q) => notificationRepository(q).claim(notificationId));
    if (!claimed) return 'skipped';
    const fail = async (err: unknown, final: boolean) => {
      await db.write((q) =>
        notificationRepository(q).markAttemptFailed(notificationId, describe(err), final),
      );
    };
    if (claimed.channel !== 'email') {
      const err = new UnrecoverableJobError(`notification channel ${claimed.channel} is not supported`);
      await fail(err, true);
      throw err;
    }
    let message: { subject: string; html: string; text: string };
    try {
      message = render(claimed.type, claimed.payload, { publicUrl, recipientName: claimed.name });
    } catch (err) {
      await fail(err, true);
      throw err;
    }
    try {
      const sent = await mail.send(
        {
          to: claimed.email,
          ...message,
          messageId: this.messageId(notificationId),
          headers: { 'X-Innkeep-Notification': String(notificationId) },
        },
        attempt.signal ? { signal: attempt.signal } : {},
      );
      await db.write((q) => notificationRepository(q).markSent(notificationId, sent.providerMessageId));
      return 'sent';
    } catch (err) {
      const permanent = (err as { permanent?: unknown }).permanent === true;
      await fail(err, permanent || attempt.attempt >= attempt.maxAttempts);
      throw err;
    }
  }
}
