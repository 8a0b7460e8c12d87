import { REDACTED } from '../observability/index.ts';

/** What a failed send means to the job that asked for it. */
export type MailErrorCode = 'E_MAIL_REJECTED' | 'E_MAIL_UNAVAILABLE' | 'E_MAIL_INVALID';

export interface MailErrorOptions {
  readonly permanent: boolean;
  /** The SMTP reply code, when the server answered (550, 451, ...). */
  readonly responseCode?: number | undefined;
  /** nodemailer's or Node's error code (ECONNECTION, ETIMEDOUT, EENVELOPE, ...), when there is one. */
  readonly reason?: string | undefined;
  readonly cause?: unknown;
}

/**
 * A send that failed. `permanent` tells a job whether another attempt can help: a 5xx reply
 * (recipient refused, message rejected) would be given again, so the job must give up (bullmq's
 * UnrecoverableError, pg-boss's dead letter); a 4xx reply, a refused, reset or timed-out
 * connection may pass later. The message never holds the SMTP password.
 *
 * @example
 * try { await mailer.send(message); }
 * catch (err) { if (err instanceof MailError && err.permanent) markFailed(); else throw err; }
 */
export class MailError extends Error {
  readonly code: MailErrorCode;
  readonly permanent: boolean;
  readonly responseCode: number | undefined;
  readonly reason: string | undefined;

  constructor(code: MailErrorCode, message: string, options: MailErrorOptions) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'MailError';
    this.code = code;
    this.permanent = options.permanent;
    this.responseCode = options.responseCode;
    this.reason = options.reason;
  }
}

/** Failures without a reply that the same message would meet again: a bug or a bad configuration. */
const PERMANENT_CODES = new Set([
  'ECONFIG',
  'EENVELOPE',
  'EMAXRECIPIENTS',
  'EFILEACCESS',
  'EURLACCESS',
  'EREQUIRETLS',
]);

interface SendFailure {
  readonly message?: unknown;
  readonly code?: unknown;
  readonly responseCode?: unknown;
  readonly response?: unknown;
}

/**
 * A nodemailer (or file system) failure as a MailError, every secret in `secrets` replaced by
 * "[redacted]" in its message and in the cause's message and response (loggers print causes).
 * RFC 5321: 5yz is a permanent refusal, 4yz a transient one; 503 (bad sequence of commands) is a
 * session out of step, not a verdict on the message, and a refused login (535) is the
 * configuration's fault, not the message's: both are worth another attempt.
 */
export function toMailError(err: unknown, secrets: readonly string[]): MailError {
  if (err instanceof MailError) return err;
  const failure = (err && typeof err === 'object' ? err : {}) as SendFailure;
  const reason = typeof failure.code === 'string' ? failure.code : undefined;
  const responseCode = typeof failure.responseCode === 'number' ? failure.responseCode : undefined;
  const scrub = (text: string) => secrets.reduce((t, s) => (s ? t.replaceAll(s, REDACTED) : t), text);
  if (err instanceof Error) {
    err.message = scrub(err.message);
    const withResponse = err as Error & { response?: unknown };
    if (typeof withResponse.response === 'string') withResponse.response = scrub(withResponse.response);
  }
  const permanent =
    responseCode === undefined
      ? reason !== undefined && PERMANENT_CODES.has(reason)
      : responseCode >= 500 && responseCode < 600 && responseCode !== 503 && reason !== 'EAUTH';
  const detail = scrub(String(failure.message ?? err));
  return new MailError(
    permanent ? 'E_MAIL_REJECTED' : 'E_MAIL_UNAVAILABLE',
    `e-mail not sent (${[reason, responseCode].filter((x) => x !== undefined).join(' ') || 'error'}): ${detail}`,
    { permanent, responseCode, reason, cause: err },
  );
}
