import { createHash, randomBytes, randomUUID } from 'node:crypto';
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
}

export class AuthService {
  readonly #db: Database;
  readonly #jwt: JwtSigner;
  readonly #config: AuthConfig;
  readonly #log: Logger;
  readonly #attempts = new KeyedQueue();
  /** Per address: the throttle check and the recording of a failure, one at a time. */
  readonly #addressGate = new KeyedQueue();
  /** Per address: attempts that passed the throttle check and are still verifying a password. */
  readonly #inFlight = new Map<string, number>();

  readonly #users: RepositoryFactory<AuthRepository>;

  constructor(deps: AuthServiceDeps) {
    this.#db = deps.db;
    this.#users = deps.users;
    this.#jwt = deps.jwt;
    this.#config = deps.config;
    this.#log = deps.log;
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
   * Attempts on one account run one after another in this process: otherwise a burst of parallel
   * guesses would all pass the throttle check before the first failure is recorded.
   */
  login(body: LoginBody, ip: string): Promise<Session> {
    return this.#attempts.run(body.email.trim().toLowerCase(), () =>
      // Throttle counts and failures go to the primary: a replica's lag would let guesses through.
      this.#db.write((db) => this.#login(this.#users(db), body, ip)),
    );
  }

  async #login(repo: AuthRepository, body: LoginBody, ip: string): Promise<Session> {
    const email = body.email.trim();
    await this.#admit(repo, email, ip);
    let settled = false;
    try {
      const user = await repo.findUserByEmail(email);
      // Unknown e-mail: still pay for one scrypt, so response time does not reveal which accounts exist.
      const ok = await verifyPassword(body.password, user?.passwordHash ?? DUMMY_PASSWORD_HASH);
      if (!user || !ok) {
        // Recorded before the attempt stops counting as in flight, under the address's gate: a check
        // in between would otherwise see neither.
        await this.#addressGate.run(ip, async () => {
          try {
            await repo.recordSecurityEvent({ type: 'login_failed', userId: user?.id, email, ip });
          } finally {
            settled = true;
            this.#leave(ip);
          }
        });
        throw domainError('INVALID_CREDENTIALS');
      }
      settled = true;
      this.#leave(ip);
      const refresh = this.#newRefreshToken(randomUUID());
      await repo.loginSucceeded(user.id, email, ip, refresh.stored);
      const { passwordHash: _hash, ...publicUser } = user;
      return this.#session(publicUser, refresh.token);
    } finally {
      if (!settled) this.#leave(ip);
    }
  }

  /**
   * The throttle: refuses once the account or the address has used up its failures in the window.
   * An address's attempts still verifying a password count as failures until they are settled, and
   * the check runs one at a time per address, so a parallel burst over many accounts gets exactly
   * LOGIN_MAX_FAILURES_PER_IP password checks (per process; the account limit is serialised the same
   * way by the account queue).
   */
  async #admit(repo: AuthRepository, email: string, ip: string): Promise<void> {
    await this.#addressGate.run(ip, async () => {
      const failures = await repo.recentLoginFailures(email, ip, this.#config.loginThrottleWindowS);
      const inFlight = this.#inFlight.get(ip) ?? 0;
      const accountFull = failures.account >= this.#config.loginMaxFailures;
      const addressFull = failures.ip >= this.#config.loginMaxFailuresPerIp;
      if (accountFull || addressFull) {
        const retryAfter = accountFull
          ? Math.max(1, this.#config.loginThrottleWindowS - failures.oldestAccountFailureAgeS)
          : this.#config.loginThrottleWindowS;
        this.#log.warn(
          { ip, accountFailures: failures.account, ipFailures: failures.ip, inFlight },
          'login throttled',
        );
        throw domainError('TOO_MANY_ATTEMPTS', undefined, { headers: { 'retry-after': String(retryAfter) } });
      }
      // Not failures (yet): attempts still checking a password, which might all fail. Past the limit
      // they are a burst to wait out, not a block: a second later they have settled either way (a
      // busy NAT's successful logins then pass, a guessing burst has recorded its failures).
      if (failures.ip + inFlight >= this.#config.loginMaxFailuresPerIp) {
        this.#log.warn({ ip, ipFailures: failures.ip, inFlight }, 'login burst throttled');
        throw domainError('TOO_MANY_ATTEMPTS', 'Too many logins at once from this address; retry shortly', {
          headers: { 'retry-after': '1' },
        });
      }
      this.#inFlight.set(ip, inFlight + 1);
    });
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

/** Runs the tasks given for one key one at a time, in arrival order; different keys run in parallel. */
class KeyedQueue {
  readonly #tails = new Map<string, Promise<void>>();

  run<T>(key: string, task: () => Promise<T>): Promise<T> {
    const result = (this.#tails.get(key) ?? Promise.resolve()).then(task);
    const tail = result.then(
      () => undefined,
      () => undefined,
    );
    this.#tails.set(key, tail);
    // Forget the key once its last task settles, so the map only holds accounts being tried right now.
    void tail.then(() => {
      if (this.#tails.get(key) === tail) this.#tails.delete(key);
    });
    return result;
  }
}
