import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { type RateLimiterAbstract, RateLimiterRes } from 'rate-limiter-flexible';
import type { AuthConfig } from '../../platform/config/index.ts';
import { type Database, isUniqueViolation, type RepositoryFactory } from '../../platform/db/index.ts';
import type { Logger } from '../../platform/observability/index.ts';
import {
  DUMMY_PASSWORD_HASH,
  hashPassword,
  type JwtSigner,
  verifyPassword,
} from '../../platform/security/index.ts';
import { domainError } from '../errors.ts';
import type { AuthRepository, NewRefreshToken } from './auth-repository.ts';
import type { LoginBody, PublicUser, RegisterBody, Role, Session } from './auth-schema.ts';

export interface AuthUser {
  readonly id: number;
  readonly role: Role;
}

export const ACCESS_TOKEN_ISSUER = 'innkeep';

/**
 * Accounts and sessions: scrypt password hashes, short-lived HS256 access tokens, and opaque refresh
 * tokens stored as SHA-256 hashes, rotated on every use. Presenting an already rotated token means it
 * leaked (or a client raced itself): the whole family is revoked, as OAuth 2.0 Security BCP §4.14 says.
 */
export interface AuthServiceDeps {
  readonly db: Database;
  readonly users: RepositoryFactory<AuthRepository>;
  readonly jwt: JwtSigner;
  readonly config: AuthConfig;
  readonly log: Logger;
  readonly throttle: LoginThrottle;
}

/** The login buckets (see loginLimiters in src/app/rate-limits.ts): per account and per address. */
export interface LoginThrottle {
  readonly account: RateLimiterAbstract;
  readonly ip: RateLimiterAbstract;
}

export class AuthService {
  readonly #db: Database;
  readonly #jwt: JwtSigner;
  readonly #config: AuthConfig;
  readonly #log: Logger;
  readonly #throttle: LoginThrottle;
  /** Per address: this process's attempts still verifying a password (only for the Retry-After hint). */
  readonly #inFlight = new Map<string, number>();

  readonly #users: RepositoryFactory<AuthRepository>;

  constructor(deps: AuthServiceDeps) {
    this.#db = deps.db;
    this.#users = deps.users;
    this.#jwt = deps.jwt;
    this.#config = deps.config;
    this.#log = deps.log;
    this.#throttle = deps.throttle;
  }

  async register(body: RegisterBody): Promise<Session> {
    const passwordHash = await hashPassword(body.password);
    const refresh = this.#newRefreshToken(randomUUID());
    try {
      const user = await this.#db.write((db) =>
        this.#users(db).createUserWithToken(
          { email: body.email.trim(), name: body.name.trim(), passwordHash, role: 'user' },
          refresh.stored,
        ),
      );
      return this.#session(user, refresh.token);
    } catch (err) {
      if (isUniqueViolation(err, 'users_email_lower_uq')) {
        throw domainError('EMAIL_TAKEN', undefined, { cause: err });
      }
      throw err;
    }
  }

  /**
   * Consume-before-verify: an attempt takes a point from its account's bucket and its address's bucket
   * before the password is checked, and gives them back if it succeeds (or fails for another reason
   * than the password). A parallel burst of guesses therefore gets exactly LOGIN_MAX_FAILURES password
   * checks per account and LOGIN_MAX_FAILURES_PER_IP per address, across instances when the buckets
   * live in Redis. A successful login empties its account's bucket (the count starts again).
   */
  async login(body: LoginBody, ip: string): Promise<Session> {
    const email = body.email.trim();
    const account = email.toLowerCase();
    this.#inFlight.set(ip, (this.#inFlight.get(ip) ?? 0) + 1);
    try {
      await this.#reserve(account, ip);
    } catch (err) {
      this.#leave(ip);
      throw err;
    }
    let outcome = 'error' as 'failed' | 'succeeded' | 'error';
    try {
      // Failures go to the primary with the rest of the login's writes.
      const session = await this.#db.write(async (db) => {
        const repo = this.#users(db);
        const user = await repo.findUserByEmail(email);
        // Unknown e-mail: still pay for one scrypt, so response time does not reveal which accounts exist.
        const ok = await verifyPassword(body.password, user?.passwordHash ?? DUMMY_PASSWORD_HASH);
        if (!user || !ok) {
          outcome = 'failed';
          await repo.recordSecurityEvent({ type: 'login_failed', userId: user?.id, email, ip });
          throw domainError('INVALID_CREDENTIALS');
        }
        const refresh = this.#newRefreshToken(randomUUID());
        await repo.loginSucceeded(user.id, email, ip, refresh.stored);
        outcome = 'succeeded';
        const { passwordHash: _hash, ...publicUser } = user;
        return this.#session(publicUser, refresh.token);
      });
      return session;
    } finally {
      this.#leave(ip);
      if (outcome !== 'failed') await this.#refund(account, ip, outcome === 'succeeded');
    }
  }

  /** Takes one point from the address's and the account's buckets, or refuses with 429. */
  async #reserve(account: string, ip: string): Promise<void> {
    const throttle = this.#throttle;
    try {
      await throttle.ip.consume(ip);
    } catch (err) {
      if (!(err instanceof RateLimiterRes)) throw err;
      // A refused consume still counted: give it back, so that only admitted attempts hold points.
      await throttle.ip.reward(ip).catch(() => undefined);
      // Other attempts of this address in flight here hold points that come back if they succeed: a
      // burst to wait out for a second, not a block for the window (a hint: other instances' unseen).
      const burst = (this.#inFlight.get(ip) ?? 0) > 1;
      this.#log.warn({ ip, inFlight: this.#inFlight.get(ip) ?? 0 }, 'login throttled (address)');
      throw tooMany(burst ? 1 : secondsOf(err), burst);
    }
    try {
      await throttle.account.consume(account);
    } catch (err) {
      await throttle.ip.reward(ip).catch(() => undefined);
      if (!(err instanceof RateLimiterRes)) throw err;
      await throttle.account.reward(account).catch(() => undefined);
      this.#log.warn({ ip }, 'login throttled (account)');
      throw tooMany(secondsOf(err), false);
    }
  }

  async #refund(account: string, ip: string, succeeded: boolean): Promise<void> {
    const throttle = this.#throttle;
    try {
      await Promise.all([
        throttle.ip.reward(ip),
        succeeded ? throttle.account.delete(account) : throttle.account.reward(account),
      ]);
    } catch (err) {
      this.#log.warn({ err, ip }, 'login throttle: giving a point back failed');
    }
  }

  #leave(ip: string): void {
    const left = (this.#inFlight.get(ip) ?? 1) - 1;
    if (left > 0) this.#inFlight.set(ip, left);
    else this.#inFlight.delete(ip);
  }

  async refresh(refreshToken: string, ip: string): Promise<Session> {
    const tokenHash = sha256(refreshToken);
    const outcome = await this.#db.transaction(async (tx) => {
      const repo = this.#users(tx);
      const stored = await repo.lockRefreshToken(tokenHash);
      if (!stored || stored.expired) return { kind: 'invalid' as const };
      // Revoked by a logout or a family revocation: simply invalid. Only a rotated token means reuse.
      if (stored.revoked && !stored.rotated) return { kind: 'invalid' as const };
      if (stored.revoked) {
        const revoked = await repo.revokeFamily(stored.familyId);
        await repo.recordSecurityEvent({
          type: 'refresh_token_reuse',
          userId: stored.userId,
          ip,
          details: { familyId: stored.familyId, revoked },
        });
        return { kind: 'reused' as const, userId: stored.userId };
      }
      const next = this.#newRefreshToken(stored.familyId);
      await repo.rotateRefreshToken(stored.id, stored.userId, next.stored);
      return { kind: 'rotated' as const, user: stored.user, token: next.token };
    });
    if (outcome.kind === 'invalid') throw domainError('INVALID_REFRESH_TOKEN');
    if (outcome.kind === 'reused') {
      this.#log.warn({ userId: outcome.userId, ip }, 'refresh token reuse: token family revoked');
      throw domainError('REFRESH_TOKEN_REUSED');
    }
    return this.#session(outcome.user, outcome.token);
  }

  /** Revokes the presented token's whole family (this device's session). Unknown tokens are ignored. */
  async logout(refreshToken: string): Promise<void> {
    await this.#db.write((db) => this.#users(db).revokeFamilyOfToken(sha256(refreshToken)));
  }

  async me(userId: number): Promise<PublicUser | undefined> {
    return this.#db.read((db) => this.#users(db).findUserById(userId));
  }

  /** Verifies an access token; undefined when it is missing, forged, malformed or expired. */
  verifyAccessToken(token: string): AuthUser | undefined {
    const result = this.#jwt.verify(token);
    if (!result.ok) return undefined;
    const id = Number(result.claims.sub);
    const role = result.claims.role;
    if (!Number.isSafeInteger(id) || id < 1 || (role !== 'user' && role !== 'admin')) return undefined;
    return { id, role };
  }

  #session(user: PublicUser, refreshToken: string): Session {
    const ttl = this.#config.accessTokenTtlS;
    return {
      user,
      tokenType: 'Bearer',
      accessToken: this.#jwt.sign({ sub: String(user.id), role: user.role }, ttl),
      expiresIn: ttl,
      refreshToken,
      refreshTokenExpiresAt: new Date(
        Date.now() + this.#config.refreshTokenTtlDays * 86_400_000,
      ).toISOString(),
    };
  }

  #newRefreshToken(familyId: string): { token: string; stored: NewRefreshToken } {
    const token = randomBytes(32).toString('base64url');
    return {
      token,
      stored: { tokenHash: sha256(token), familyId, ttlDays: this.#config.refreshTokenTtlDays },
    };
  }
}

/** Refresh tokens are 256 random bits: a fast hash is enough (nothing to brute-force). */
function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

function secondsOf(res: RateLimiterRes): number {
  return Math.max(1, Math.ceil(res.msBeforeNext / 1000));
}

function tooMany(retryAfterS: number, burst: boolean) {
  return domainError(
    'TOO_MANY_ATTEMPTS',
    burst ? 'Too many logins at once from this address; retry shortly' : undefined,
    { headers: { 'retry-after': String(retryAfterS) } },
  );
}
