import { MailError } from './mail-error.ts';

// An RFC 5322 msg-id without its brackets, kept to characters that are safe everywhere.
const MESSAGE_ID = /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]{1,200}@[A-Za-z0-9.-]{1,200}$/;

/** `messageId` in brackets, for the Message-ID header; a malformed id is a permanent MailError. */
export function bracketMessageId(messageId: string): string {
  if (!MESSAGE_ID.test(messageId)) {
    throw new MailError('E_MAIL_INVALID', 'the Message-ID must look like local-part@domain', {
      permanent: true,
    });
  }
  return `<${messageId}>`;
}
