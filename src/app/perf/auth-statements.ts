import { AuthRepository } from '../auth/auth-repository.ts';
import type { CatalogueEntry } from './catalogue-entry.ts';

// Made up, not sampled (see statement-samples.ts): unique lookups get the same plan for any value.
const EMAIL = 'perf-analysis@innkeep.invalid';
const IP = '192.0.2.1';
const WINDOW_S = 900;
const TOKEN_HASH = '0'.repeat(64);
const FAMILY_ID = '00000000-0000-0000-0000-000000000000';
const NOT_A_HASH = 'innkeep-perf-analysis';
/** The demo data has no sessions or security events; these tables fill as people log in. */
const EMPTY_IN_DEMO = 1_000;
const token = { tokenHash: TOKEN_HASH, familyId: FAMILY_ID, ttlDays: 30 };

/** Accounts, sessions (refresh tokens) and login throttling. */
export const AUTH_STATEMENTS: readonly CatalogueEntry[] = [
  {
    name: 'auth_register',
    kind: 'write',
    send: (db) =>
      new AuthRepository(db).createUserWithToken(
        {
          email: EMAIL,
          name: 'Performance analysis',
          passwordHash: NOT_A_HASH,
          role: 'user',
        },
        token,
      ),
    indexes: [],
    note: 'two plain INSERTs read no index (users_email_lower_uq is checked on insert, not planned)',
  },
  {
    name: 'auth_user_by_email',
    kind: 'read',
    send: (db) => new AuthRepository(db).findUserByEmail(EMAIL.toUpperCase()),
    indexes: ['users_email_lower_uq'],
  },
  {
    name: 'auth_user_by_id',
    kind: 'read',
    send: (db, s) => new AuthRepository(db).findUserById(s.userId),
    indexes: ['users_pkey'],
  },
  {
    name: 'auth_login_failures',
    kind: 'read',
    send: (db) => new AuthRepository(db).recentLoginFailures(EMAIL, IP, WINDOW_S),
    indexes: ['security_events_email_type_created_idx', 'security_events_ip_type_created_idx'],
    checkFrom: { security_events: EMPTY_IN_DEMO },
    note: 'security_events is empty in the demo data',
  },
  {
    name: 'auth_security_event',
    kind: 'write',
    send: (db) => new AuthRepository(db).recordSecurityEvent({ type: 'login_failed', email: EMAIL, ip: IP }),
    indexes: [],
    note: 'a plain INSERT reads no index',
  },
  {
    name: 'auth_login_succeeded',
    kind: 'write',
    send: (db, s) => new AuthRepository(db).loginSucceeded(s.userId, EMAIL, IP, token),
    indexes: [],
    note: 'two plain INSERTs read no index',
  },
  {
    name: 'auth_lock_refresh_token',
    kind: 'write',
    send: (db) => new AuthRepository(db).lockRefreshToken(TOKEN_HASH),
    indexes: ['refresh_tokens_hash_uq', 'users_pkey'],
    checkFrom: { refresh_tokens: EMPTY_IN_DEMO },
    note: 'refresh_tokens is empty in the demo data',
  },
  {
    name: 'auth_rotate_refresh_token',
    kind: 'write',
    send: (db, s) => new AuthRepository(db).rotateRefreshToken(0, s.userId, token),
    indexes: ['refresh_tokens_pkey'],
    checkFrom: { refresh_tokens: EMPTY_IN_DEMO },
    note: 'refresh_tokens is empty in the demo data',
  },
  {
    name: 'auth_revoke_family',
    kind: 'write',
    send: (db) => new AuthRepository(db).revokeFamily(FAMILY_ID),
    indexes: ['refresh_tokens_family_idx'],
    checkFrom: { refresh_tokens: EMPTY_IN_DEMO },
    note: 'refresh_tokens is empty in the demo data',
  },
  {
    name: 'auth_logout',
    kind: 'write',
    send: (db) => new AuthRepository(db).revokeFamilyOfToken(TOKEN_HASH),
    indexes: ['refresh_tokens_hash_uq', 'refresh_tokens_family_idx'],
    checkFrom: { refresh_tokens: EMPTY_IN_DEMO },
    note: 'refresh_tokens is empty in the demo data',
  },
  {
    name: 'auth_revoke_user_tokens',
    kind: 'write',
    send: (db, s) => new AuthRepository(db).revokeUserTokens(s.userId),
    indexes: ['refresh_tokens_user_idx'],
    checkFrom: { refresh_tokens: EMPTY_IN_DEMO },
    note: 'refresh_tokens is empty in the demo data',
  },
  {
    name: 'auth_upsert_admin',
    kind: 'write',
    send: (db) => new AuthRepository(db).upsertAdmin(EMAIL, 'Administrator', undefined),
    indexes: ['users_email_lower_uq'],
  },
];
