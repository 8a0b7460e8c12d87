import { createHmac, timingSafeEqual } from 'node:crypto';

export interface JwtClaims {
  readonly sub: string;
  readonly iat: number;
  readonly exp: number;
  readonly iss?: string;
  readonly [claim: string]: unknown;
}

export type JwtVerifyResult =
  | { readonly ok: true; readonly claims: JwtClaims }
  | { readonly ok: false; readonly reason: 'malformed' | 'signature' | 'expired' | 'issuer' };

const HEADER = base64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));

/**
 * HS256 JSON Web Tokens (RFC 7519) with node:crypto only. Accepts nothing but HS256, so the
 * `alg: none` and algorithm-confusion attacks do not apply.
 *
 * @example
 * const jwt = new JwtSigner(secret, { issuer: 'innkeep' });
 * const token = jwt.sign({ sub: '42', role: 'user' }, 900);
 * jwt.verify(token); // { ok: true, claims: { sub: '42', role: 'user', iat, exp, iss } }
 */
export class JwtSigner {
  readonly #secret: Buffer;
  readonly #issuer: string | undefined;
  readonly #clockToleranceS: number;

  constructor(secret: string, options: { issuer?: string; clockToleranceS?: number } = {}) {
    if (Buffer.byteLength(secret) < 32) throw new Error('JWT secret must be at least 32 bytes');
    this.#secret = Buffer.from(secret);
    this.#issuer = options.issuer;
    this.#clockToleranceS = options.clockToleranceS ?? 5;
  }

  sign(claims: { sub: string; [claim: string]: unknown }, ttlSeconds: number, now = Date.now()): string {
    const iat = Math.floor(now / 1000);
    const payload = base64url(
      JSON.stringify({
        ...claims,
        iat,
        exp: iat + ttlSeconds,
        ...(this.#issuer ? { iss: this.#issuer } : {}),
      }),
    );
    return `${HEADER}.${payload}.${this.#mac(`${HEADER}.${payload}`)}`;
  }

  verify(token: string, now = Date.now()): JwtVerifyResult {
    const parts = token.split('.');
    if (parts.length !== 3 || parts[0] !== HEADER) return { ok: false, reason: 'malformed' };
    const [header, payload, signature] = parts as [string, string, string];
    const expected = Buffer.from(this.#mac(`${header}.${payload}`));
    const given = Buffer.from(signature);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      return { ok: false, reason: 'signature' };
    }
    let claims: JwtClaims;
    try {
      claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as JwtClaims;
    } catch {
      return { ok: false, reason: 'malformed' };
    }
    // JSON.parse also yields null, numbers, strings and arrays: reading `.sub` off null would throw.
    if (typeof claims !== 'object' || claims === null || Array.isArray(claims))
      return { ok: false, reason: 'malformed' };
    if (typeof claims.sub !== 'string' || typeof claims.exp !== 'number')
      return { ok: false, reason: 'malformed' };
    if (this.#issuer && claims.iss !== this.#issuer) return { ok: false, reason: 'issuer' };
    if (claims.exp + this.#clockToleranceS <= Math.floor(now / 1000)) return { ok: false, reason: 'expired' };
    return { ok: true, claims };
  }

  #mac(input: string): string {
    return createHmac('sha256', this.#secret).update(input).digest('base64url');
  }
}

function base64url(text: string): string {
  return Buffer.from(text).toString('base64url');
}
