/** One e-mail, already rendered. */
export interface MailMessage {
  readonly to: string;
  readonly subject: string;
  readonly html: string;
  readonly text: string;
  /**
   * The Message-ID, without angle brackets (`notification-42@innkeep.localhost`). Derived from what
   * is being sent, not generated per attempt, so that a retry after a crash carries the same id
   * and the receiving side can recognise the duplicate.
   */
  readonly messageId: string;
  /** Extra headers (`X-Innkeep-Notification`, `List-Unsubscribe`, ...). */
  readonly headers?: Readonly<Record<string, string>>;
}

export interface SendResult {
  /** What the SMTP server answered (its queue id when it names one), or the Message-ID for a file. */
  readonly providerMessageId: string;
  /** The server took the message for its recipient (always true for a file). */
  readonly accepted: boolean;
  /** The `.eml` file written, when there is no SMTP server. */
  readonly file?: string;
}

export interface SendOptions {
  /** Gives up waiting (a job's timeout, a worker shutting down): fails with a transient MailError. */
  readonly signal?: AbortSignal;
}

/** Sends e-mail; `createMailer` picks SMTP or `.eml` files. Failures are MailErrors. */
export interface Mailer {
  send(message: MailMessage, options?: SendOptions): Promise<SendResult>;
  /** Waits for the sends under way, then closes the SMTP connections. Later sends fail. */
  close(): Promise<void>;
  /** Where mail goes, safe to log: `smtp mail.example.com:587` or `files: /data/mail`. */
  describe(): string;
}

/** The SMTP client's waits, in ms. */
export interface MailTimeouts {
  /** Opening the TCP (or TLS) connection. */
  readonly connectMs: number;
  /** The server's greeting once connected. */
  readonly greetingMs: number;
  /** Silence on an open connection (a stalled DATA reply). */
  readonly socketMs: number;
}

export interface MailerOptions {
  /** `smtp://user:pass@host:587` or `smtps://...`; unset: messages are written as `.eml` files. */
  readonly smtpUrl?: string | undefined;
  /** The From address of every message. */
  readonly from: string;
  /** SMTP connections kept open. */
  readonly poolMax: number;
  /** `.eml` files go to `<dataDir>/mail/`. */
  readonly dataDir: string;
  readonly timeouts?: Partial<MailTimeouts>;
}

export const DEFAULT_MAIL_TIMEOUTS: MailTimeouts = {
  connectMs: 10_000,
  greetingMs: 10_000,
  socketMs: 30_000,
};
