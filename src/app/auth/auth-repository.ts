import type { Queryable, RepositoryFactory } from '../../platform/db/index.ts';
import type { PublicUser, Role } from './auth-schema.ts';

export interface UserWithHash extends PublicUser {
  readonly passwordHash: string;
}

export interface StoredRefreshToken {
  readonly id: number;
  readonly userId: number;
  readonly familyId: string;
  readonly expired: boolean;
  readonly revoked: boolean;
  /** Revoked because it was exchanged for a newer token (so presenting it again is a reuse). */
  readonly rotated: boolean;
  readonly user: PublicUser;
}

export interface NewRefreshToken {
  readonly tokenHash: string;
  readonly familyId: string;
  readonly ttlDays: number;
}

const USER_COLUMNS = `u.id, u.email, u.name, u.role, u.created_at AS "createdAt"`;

/** SQL for users, refresh tokens and security events. Plain records in, plain records out. */
export class AuthRepository {
  readonly #db: Queryable;
  constructor(db: Queryable) {
    this.#db = db;
  }

  /**
   * register: the user and their first refresh token in one statement (so one round-trip, atomic).
   * A duplicate e-mail raises 23505 on users_email_lower_uq.
   */
  async createUserWithToken(
    user: { email: string; name: string; passwordHash: string; role: Role },
    token: NewRefreshToken,
  ): Promise<PublicUser> {
    const { rows } = await this.#db.query<PublicUser>({
      name: 'auth_register',
      text: `
WITH u AS (
  INSERT INTO users (email, name, password_hash, role) VALUES ($1, $2, $3, $4)
  RETURNING id, email, name, role, created_at
), t AS (
  INSERT INTO refresh_tokens (user_id, token_hash, family_id, expires_at)
  SELECT id, $5, $6, now() + make_interval(days => $7) FROM u
)
SELECT ${USER_COLUMNS} FROM u`,
      values: [
        user.email,
        user.name,
        user.passwordHash,
        user.role,
        token.tokenHash,
        token.familyId,
        token.ttlDays,
      ],
    });
    return rows[0] as PublicUser;
  }

  async findUserByEmail(email: string): Promise<UserWithHash | undefined> {
    const { rows } = await this.#db.query<UserWithHash>({
      name: 'auth_user_by_email',
      text: `SELECT ${USER_COLUMNS}, u.password_hash AS "passwordHash" FROM users u WHERE lower(u.email) = lower($1)`,
      values: [email],
    });
    return rows[0];
  }

  async findUserById(id: number): Promise<PublicUser | undefined> {
    const { rows } = await this.#db.query<PublicUser>({
      name: 'auth_user_by_id',
      text: `SELECT ${USER_COLUMNS} FROM users u WHERE u.id = $1`,
      values: [id],
    });
    return rows[0];
  }

  /**
   * Failed logins inside the window: for the account (only those after its last successful login)
   * and for the client address. Both counts come from the security_events indexes.
   */
  async recentLoginFailures(
    email: string,
    ip: string,
    windowS: number,
  ): Promise<{ account: number; ip: number; oldestAccountFailureAgeS: number }> {
    const { rows } = await this.#db.query<{ account: number; ip: number; oldestAccountFailureAgeS: number }>({
      name: 'auth_login_failures',
      text: `
WITH since AS (
  SELECT GREATEST(
    now() - make_interval(secs => $3),
    (SELECT max(created_at) FROM security_events
      WHERE lower(email) = lower($1) AND type = 'login_succeeded' AND created_at > now() - make_interval(secs => $3))
  ) AS t
), acct AS (
  SELECT count(*)::int AS n, min(created_at) AS oldest FROM security_events, since
  WHERE lower(email) = lower($1) AND type = 'login_failed' AND created_at > since.t
)
SELECT acct.n AS account,
       COALESCE(EXTRACT(EPOCH FROM now() - acct.oldest), 0)::int AS "oldestAccountFailureAgeS",
       (SELECT count(*)::int FROM security_events
         WHERE ip = $2::inet AND type = 'login_failed' AND created_at > now() - make_interval(secs => $3)) AS ip
FROM acct`,
      values: [email, ip, windowS],
    });
    return rows[0] ?? { account: 0, ip: 0, oldestAccountFailureAgeS: 0 };
  }

  async recordSecurityEvent(event: {
    type: string;
    userId?: number | undefined;
    email?: string | undefined;
    ip?: string | undefined;
    details?: Record<string, unknown>;
  }): Promise<void> {
    await this.#db.query({
      name: 'auth_security_event',
      text: `INSERT INTO security_events (type, user_id, email, ip, details) VALUES ($1, $2, $3, $4::inet, $5)`,
      values: [
        event.type,
        event.userId ?? null,
        event.email ?? null,
        event.ip ?? null,
        event.details ?? null,
      ],
    });
  }

  /** login: record the success and issue a refresh token in one statement. */
  async loginSucceeded(userId: number, email: string, ip: string, token: NewRefreshToken): Promise<void> {
    await this.#db.query({
      name: 'auth_login_succeeded',
      text: `
WITH e AS (
  INSERT INTO security_events (type, user_id, email, ip) VALUES ('login_succeeded', $1, $2, $3::inet)
)
INSERT INTO refresh_tokens (user_id, token_hash, family_id, expires_at)
VALUES ($1, $4, $5, now() + make_interval(days => $6))`,
      values: [userId, email, ip, token.tokenHash, token.familyId, token.ttlDays],
    });
  }

  /** refresh: lock the presented token's row so two refreshes with one token cannot both rotate it. */
  async lockRefreshToken(tokenHash: string): Promise<StoredRefreshToken | undefined> {
    const { rows } = await this.#db.query<StoredRefreshToken>({
      name: 'auth_lock_refresh_token',
      text: `
SELECT rt.id, rt.user_id AS "userId", rt.family_id AS "familyId",
       rt.expires_at <= now() AS expired, rt.revoked_at IS NOT NULL AS revoked,
       rt.replaced_by_id IS NOT NULL AS rotated,
       json_build_object('id', u.id, 'email', u.email, 'name', u.name, 'role', u.role,
                         'createdAt', to_char(u.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')) AS user
FROM refresh_tokens rt JOIN users u ON u.id = rt.user_id
WHERE rt.token_hash = $1
FOR UPDATE OF rt`,
      values: [tokenHash],
    });
    return rows[0];
  }

  /** Rotation: the new token joins the old one's family; the old one is revoked and points to it. */
  async rotateRefreshToken(oldId: number, userId: number, token: NewRefreshToken): Promise<void> {
    await this.#db.query({
      name: 'auth_rotate_refresh_token',
      text: `
WITH n AS (
  INSERT INTO refresh_tokens (user_id, token_hash, family_id, expires_at)
  VALUES ($2, $3, $4, now() + make_interval(days => $5))
  RETURNING id
)
UPDATE refresh_tokens SET revoked_at = now(), replaced_by_id = (SELECT id FROM n) WHERE id = $1`,
      values: [oldId, userId, token.tokenHash, token.familyId, token.ttlDays],
    });
  }

  async revokeFamily(familyId: string): Promise<number> {
    const { rowCount } = await this.#db.query({
      name: 'auth_revoke_family',
      text: `UPDATE refresh_tokens SET revoked_at = now() WHERE family_id = $1 AND revoked_at IS NULL`,
      values: [familyId],
    });
    return rowCount ?? 0;
  }

  async revokeFamilyOfToken(tokenHash: string): Promise<number> {
    const { rowCount } = await this.#db.query({
      name: 'auth_logout',
      text: `
UPDATE refresh_tokens SET revoked_at = now()
WHERE family_id = (SELECT family_id FROM refresh_tokens WHERE token_hash = $1) AND revoked_at IS NULL`,
      values: [tokenHash],
    });
    return rowCount ?? 0;
  }

  /** Ends every session of a user (after an operator replaced the password). */
  async revokeUserTokens(userId: number): Promise<number> {
    const { rowCount } = await this.#db.query({
      name: 'auth_revoke_user_tokens',
      text: `UPDATE refresh_tokens SET revoked_at = now() WHERE user_id = $1 AND revoked_at IS NULL`,
      values: [userId],
    });
    return rowCount ?? 0;
  }

  /** innkeep users create-admin: create the account, or promote an existing one (password kept unless given). */
  async upsertAdmin(
    email: string,
    name: string,
    passwordHash: string | undefined,
  ): Promise<PublicUser & { created: boolean }> {
    const { rows } = await this.#db.query<PublicUser & { created: boolean }>({
      name: 'auth_upsert_admin',
      text: `
WITH existing AS (
  UPDATE users SET role = 'admin', password_hash = COALESCE($3, password_hash), updated_at = now()
  WHERE lower(email) = lower($1)
  RETURNING id, email, name, role, created_at, false AS created
), inserted AS (
  INSERT INTO users (email, name, password_hash, role)
  SELECT $1, $2, $3, 'admin' WHERE NOT EXISTS (SELECT 1 FROM existing) AND $3::text IS NOT NULL
  RETURNING id, email, name, role, created_at, true AS created
)
SELECT u.id, u.email, u.name, u.role, u.created_at AS "createdAt", u.created
FROM (SELECT * FROM existing UNION ALL SELECT * FROM inserted) u`,
      values: [email, name, passwordHash ?? null],
    });
    const row = rows[0];
    if (!row) throw new Error(`no user ${email} and no password to create one`);
    return row;
  }
}

/** Builds the repository on a pool, connection or transaction (the composition root wires it in). */
export const authRepository: RepositoryFactory<AuthRepository> = (db) => new AuthRepository(db);
