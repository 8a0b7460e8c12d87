import Type from 'typebox';
import { domainError } from '../errors.ts';

/** The one rule for a key: 1-255 printable ASCII characters without spaces (a UUID fits). */
const KEY_CHARACTERS = '[\\x21-\\x7E]';
const KEY_MAX_LENGTH = 255;
const KEY = new RegExp(`^${KEY_CHARACTERS}{1,${KEY_MAX_LENGTH}}$`);

/** The key's format as JSON Schema, for the OpenAPI document (see IdempotencyHeaders). */
export const IDEMPOTENCY_KEY_FORMAT = {
  minLength: 1,
  maxLength: KEY_MAX_LENGTH,
  pattern: `^${KEY_CHARACTERS}+$`,
} as const;

/**
 * The `Idempotency-Key` header for a route's schema: any text, so that a missing or malformed key is
 * answered by `idempotencyKey` with E_IDEMPOTENCY_KEY_REQUIRED rather than a generic E_VALIDATION. The
 * OpenAPI document adds the format and marks it required (openapi/operations.ts).
 */
export const IdempotencyHeaders = Type.Object({
  'idempotency-key': Type.Optional(
    Type.String({ description: 'A unique key per booking attempt (e.g. a UUID); retries reuse it.' }),
  ),
});

/** The Idempotency-Key header's value, or the 400 that names it. */
export function idempotencyKey(header: string | string[] | undefined): string {
  if (typeof header !== 'string' || !KEY.test(header)) {
    throw domainError('IDEMPOTENCY_KEY_REQUIRED', undefined, {
      details: [
        {
          field: 'idempotency-key',
          message: 'header is required (1-255 printable characters)',
          in: 'headers',
        },
      ],
    });
  }
  return header;
}
