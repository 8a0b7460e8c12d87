import nodemailer, { type Mail, type SMTPPoolOptions, type SMTPPoolSentMessageInfo } from 'nodemailer';
import { MailError, toMailError } from './mail-error.ts';
import type { Mailer, MailMessage, MailTimeouts, SendOptions, SendResult } from './mailer.ts';
import { bracketMessageId } from './message-id.ts';

export interface SmtpMailerOptions {
  /** `smtp://user:pass@host:port` or `smtps://...`. */
  readonly url: string;
  readonly from: string;
  readonly poolMax: number;
  readonly timeouts: MailTimeouts;
}

/**
 * Sends through a pool of SMTP connections (nodemailer's pooled transport): a burst of e-mails
 * reuses `poolMax` connections instead of a handshake each. Built by `createMailer`.
 */
export class SmtpMailer implements Mailer {
  readonly #transport: Mail<SMTPPoolSentMessageInfo, SMTPPoolOptions>;
  readonly #where: string;
  readonly #secrets: readonly string[];
  readonly #inFlight = new Set<Promise<unknown>>();
  #closed = false;

  constructor(options: SmtpMailerOptions) {
    const url = new URL(options.url);
    const secure = url.protocol === 'smtps:';
    this.#where = `smtp ${url.hostname}:${url.port || (secure ? 465 : 587)}`;
    const password = safeDecode(url.password);
    const user = safeDecode(url.username);
    // Everything a failure's text could echo the password in: the URL, the password as written
    // and decoded, the AUTH PLAIN token.
    this.#secrets = password
      ? [options.url, url.password, password, Buffer.from(`\0${user}\0${password}`).toString('base64')]
      : [];
    const transport: SMTPPoolOptions & { pool: true } = {
      url: options.url,
      pool: true,
      maxConnections: options.poolMax,
      // One more go on a fresh connection when the pooled one was closed under the message (a
      // server's idle timeout); more is the job's business, with its own backoff.
      maxRequeues: 1,
      connectionTimeout: options.timeouts.connectMs,
      greetingTimeout: options.timeouts.greetingMs,
      socketTimeout: options.timeouts.socketMs,
      // Messages are built from our templates only: nothing may make nodemailer read a file or a URL.
      disableFileAccess: true,
      disableUrlAccess: true,
    };
    this.#transport = nodemailer.createTransport(transport, { from: options.from });
  }

  async send(message: MailMessage, options: SendOptions = {}): Promise<SendResult> {
    if (this.#closed) {
      throw new MailError('E_MAIL_UNAVAILABLE', 'the mailer is closed', { permanent: false });
    }
    const messageId = bracketMessageId(message.messageId);
    const sending = this.#transport.sendMail({
      to: message.to,
      subject: message.subject,
      html: message.html,
      text: message.text,
      messageId,
      ...(message.headers ? { headers: { ...message.headers } } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
    });
    this.#inFlight.add(sending);
    try {
      const info = await sending;
      const accepted = info.accepted.length > 0 && info.rejected.length === 0;
      return { providerMessageId: info.serverMessageId ?? (info.response || info.messageId), accepted };
    } catch (err) {
      throw toMailError(err, this.#secrets);
    } finally {
      this.#inFlight.delete(sending);
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
    await Promise.allSettled([...this.#inFlight]);
    this.#transport.close();
  }

  describe(): string {
    return this.#where;
  }
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
