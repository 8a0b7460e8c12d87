import type { Logger } from '../observability/index.ts';
import { FileMailer } from './file-mailer.ts';
import { DEFAULT_MAIL_TIMEOUTS, type Mailer, type MailerOptions } from './mailer.ts';
import { SmtpMailer } from './smtp-mailer.ts';

/**
 * The mailer the configuration asks for: a pooled SMTP client when `smtpUrl` is set, otherwise one
 * that writes each message as an `.eml` file (open it in any mail client) and logs its path, so a
 * fresh checkout sends "e-mail" without a server.
 *
 * @example
 * const mailer = createMailer({ ...config.mail, dataDir: config.db.dataDir }, log);
 * await mailer.send({ to: 'ada@example.com', subject: 'Hi', html: '<p>Hi</p>', text: 'Hi', messageId: 'welcome-1@innkeep.localhost' });
 * await mailer.close();
 */
export function createMailer(options: MailerOptions, log: Logger): Mailer {
  const timeouts = { ...DEFAULT_MAIL_TIMEOUTS, ...options.timeouts };
  if (options.smtpUrl) {
    return new SmtpMailer({ url: options.smtpUrl, from: options.from, poolMax: options.poolMax, timeouts });
  }
  return new FileMailer({ dataDir: options.dataDir, from: options.from }, log);
}
