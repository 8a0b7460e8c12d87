import { randomBytes, type ScryptOptions, scrypt, timingSafeEqual } from 'node:crypto';

const KEY_LENGTH = 64;
/** OWASP's scrypt minimum (N=2^17 would cost ~128 MiB per concurrent login). */
const DEFAULTS = { N: 16_384, r: 8, p: 1 } as const;
/** The most memory one verification may take (N=2^17, r=8 needs 128 MiB); stored hashes above it are refused. */
const MAX_SCRYPT_MEMORY = 256 * 1024 * 1024;
const WHOLE = /^[1-9]\d{0,7}$/;

function scryptAsync(
  password: string,
  salt: Buffer,
  options: { N: number; r: number; p: number },
): Promise<Buffer> {
  // OpenSSL needs 128*r*(N+p+2) bytes; a fixed maxmem would reject every hash whose cost was raised.
  const maxmem = 128 * options.r * (options.N + options.p + 2) + 1024 * 1024;
  return new Promise((resolve, reject) =>
    scrypt(password, salt, KEY_LENGTH, { ...options, maxmem } satisfies ScryptOptions, (err, key) =>
      err ? reject(err) : resolve(key),
    ),
  );
}

/**
 * Hashes a password with scrypt on the libuv thread pool (never blocks the event loop).
 * Format: `scrypt$N$r$p$saltB64$hashB64`, so cost parameters can rise without breaking old hashes.
 *
 * @example
 * const stored = await hashPassword('correct horse');
 * await verifyPassword('correct horse', stored); // true
 */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await scryptAsync(password, salt, DEFAULTS);
  return `scrypt$${DEFAULTS.N}$${DEFAULTS.r}$${DEFAULTS.p}$${salt.toString('base64')}$${key.toString('base64')}`;
}

/** Constant-time comparison; false (never a throw) for a malformed stored hash. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return false;
  const [textN = '', textR = '', textP = ''] = parts.slice(1, 4);
  if (!WHOLE.test(textN) || !WHOLE.test(textR) || !WHOLE.test(textP)) return false;
  const [N, r, p] = [Number(textN), Number(textR), Number(textP)];
  // scrypt throws (instead of failing) on an N that is not a power of two above 1.
  if (N < 2 || (N & (N - 1)) !== 0 || r > 32 || p > 16 || 128 * N * r > MAX_SCRYPT_MEMORY) return false;
  const salt = Buffer.from(parts[4] ?? '', 'base64');
  const expected = Buffer.from(parts[5] ?? '', 'base64');
  if (expected.length !== KEY_LENGTH) return false;
  try {
    const actual = await scryptAsync(password, salt, { N, r, p });
    return timingSafeEqual(actual, expected);
  } catch {
    return false;
  }
}

/** A hash of a random password: verifying against it costs what a real check costs (no timing oracle). */
export const DUMMY_PASSWORD_HASH =
  'scrypt$16384$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==';
