import { createHash, randomBytes } from 'node:crypto';
import { chmod, mkdir, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import nodemailer, { type Mail, type StreamSentMessageInfo, type StreamTransportOptions } from 'nodemailer';
import type { Logger } from '../observability/index.ts';
import { MailError, toMailError } from './mail-error.ts';
import type { Mailer, MailMessage, SendResult } from './mailer.ts';
import { bracketMessageId } from './message-id.ts';

export interface FileMailerOptions {
  /** Files go to `<dataDir>/mail/`. */
  readonly dataDir: string;
  readonly from: string;
}

/**
 * Writes each message as an RFC 5322 `.eml` file (the bytes an SMTP server would have received)
 * instead of sending it: the mailer of a checkout without SMTP_URL. Built by `createMailer`.
 * Messages hold personal data, so the folder is 0700 and the files 0600.
 */
export class FileMailer implements Mailer {
  readonly #dir: string;
  readonly #log: Logger;
  readonly #transport: Mail<StreamSentMessageInfo, StreamTransportOptions>;
  #ready: Promise<void> | undefined;

  constructor(options: FileMailerOptions, log: Logger) {
    this.#dir = join(options.dataDir, 'mail');
    this.#log = log;
    this.#transport = nodemailer.createTransport(
      {
        streamTransport: true,
        buffer: true,
        newline: 'windows',
        disableFileAccess: true,
        disableUrlAccess: true,
      },
      { from: options.from },
    );
  }

  async send(message: MailMessage): Promise<SendResult> {
    const messageId = bracketMessageId(message.messageId);
    try {
      const info = await this.#transport.sendMail({
        to: message.to,
        subject: message.subject,
        html: message.html,
        text: message.text,
        messageId,
        ...(message.headers ? { headers: { ...message.headers } } : {}),
      });
      if (!Buffer.isBuffer(info.message)) throw new Error('nodemailer did not build the message as bytes');
      await this.#prepareDir();
      const file = join(this.#dir, await this.#fileName(message.messageId));
      await writeAtomically(file, info.message);
      this.#log.info({ file }, 'e-mail written to a file (SMTP_URL is unset)');
      return { providerMessageId: info.messageId, accepted: true, file };
    } catch (err) {
      if (err instanceof MailError) throw err;
      throw toMailError(err, []);
    }
  }

  async close(): Promise<void> {}

  describe(): string {
    return `files: ${this.#dir}`;
  }

  #prepareDir(): Promise<void> {
    this.#ready ??= (async () => {
      await mkdir(this.#dir, { recursive: true, mode: 0o700 });
      // mkdir leaves an existing folder's mode as it was.
      await chmod(this.#dir, 0o700);
    })().catch((err: unknown) => {
      this.#ready = undefined;
      throw err;
    });
    return this.#ready;
  }

  /**
   * `<date>-<messageId>.eml`, sortable by when the message was first written. A retry of the same
   * Message-ID reuses the file already written for it (on another day too), so it overwrites
   * rather than adds a copy. The id's unsafe characters become `_`; the hash keeps two ids that
   * differ only in those apart.
   */
  async #fileName(messageId: string): Promise<string> {
    const hash = createHash('sha256').update(messageId).digest('hex').slice(0, 8);
    const suffix = `-${messageId.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 120)}-${hash}.eml`;
    const existing = (await readdir(this.#dir)).find((name) => name.endsWith(suffix));
    if (existing) return existing;
    const stamp = new Date()
      .toISOString()
      .replace(/[-:]/g, '')
      .replace(/\.\d+Z$/, 'Z');
    return `${stamp}${suffix}`;
  }
}

/** A reader (or a crash) sees the old file or the new one, never half of one. */
async function writeAtomically(file: string, bytes: Buffer): Promise<void> {
  const temp = `${file}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    await writeFile(temp, bytes, { mode: 0o600, flag: 'wx' });
    await rename(temp, file);
  } catch (err) {
    await rm(temp, { force: true });
    throw err;
  }
}
