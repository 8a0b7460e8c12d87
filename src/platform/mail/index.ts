export { createMailer } from './create-mailer.ts';
export { MailError, type MailErrorCode, type MailErrorOptions } from './mail-error.ts';
export {
  DEFAULT_MAIL_TIMEOUTS,
  type Mailer,
  type MailerOptions,
  type MailMessage,
  type MailTimeouts,
  type SendOptions,
  type SendResult,
} from './mailer.ts';
