/** What a secret's value is replaced with in logs. */
export const REDACTED = '[redacted]';

/**
 * Keys whose values never reach a log, compared case-insensitively at any depth: credentials,
 * tokens, session cookies and card data.
 */
const SECRET_KEYS = new Set(
  [
    'password',
    'newPassword',
    'currentPassword',
    'passwordHash',
    'token',
    'accessToken',
    'refreshToken',
    'idToken',
    'apiKey',
    'x-api-key',
    'secret',
    'jwtSecret',
    'authorization',
    'proxy-authorization',
    'cookie',
    'set-cookie',
    'card',
    'cardNumber',
    'cvc',
    'cvv',
    'pan',
  ].map((key) => key.toLowerCase()),
);

const MAX_DEPTH = 6;

/**
 * `value` with every secret key's value replaced by "[redacted]", at any depth up to 6 levels,
 * inside plain objects, arrays and errors (an HTTP client's error carries its request headers). The
 * input is never changed: containers on the way to a secret are copied, everything else is shared,
 * so a log line without secrets costs one walk over its keys and no allocation. (pino's own `redact`
 * needs a path per depth, and with wildcards it cost ~85 µs per line here, against 1.6 µs.)
 *
 * @example
 * redactSecrets({ user: 'a', body: { password: 'x' } }); // { user: 'a', body: { password: '[redacted]' } }
 */
export function redactSecrets<T>(value: T, depth = 0): T {
  if (value === null || typeof value !== 'object' || depth > MAX_DEPTH) return value;
  if (Array.isArray(value)) {
    let out: unknown[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const redacted = redactSecrets(value[i], depth + 1);
      if (redacted !== value[i]) {
        out ??= [...value];
        out[i] = redacted;
      }
    }
    return (out ?? value) as T;
  }
  if (value instanceof Date || Buffer.isBuffer(value)) return value;
  const source = value as Record<string, unknown>;
  let out: Record<string, unknown> | undefined;
  for (const key of Object.keys(source)) {
    const current = source[key];
    const next = SECRET_KEYS.has(key.toLowerCase())
      ? REDACTED
      : current !== null && typeof current === 'object'
        ? redactSecrets(current, depth + 1)
        : current;
    if (next !== current) {
      out ??= copyOf(source);
      out[key] = next;
    }
  }
  return (out ?? value) as T;
}

/** A shallow copy that is still an Error (message, stack, cause kept) when the original was one. */
function copyOf(source: Record<string, unknown>): Record<string, unknown> {
  if (!(source instanceof Error)) return { ...source };
  const copy = Object.create(Object.getPrototypeOf(source)) as Error & Record<string, unknown>;
  copy.message = source.message;
  if (source.stack !== undefined) copy.stack = source.stack;
  if (source.cause !== undefined) copy.cause = redactSecrets(source.cause, 1);
  return Object.assign(copy, source);
}
