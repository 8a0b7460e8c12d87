import { sql } from 'drizzle-orm';
import {
  bigint,
  check,
  index,
  inet,
  integer,
  jsonb,
  pgTable,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';
import { createdAt, updatedAt } from './columns.ts';

export const users = pgTable(
  'users',
  {
    id: integer('id').primaryKey().generatedAlwaysAsIdentity(),
    email: text('email').notNull(),
    passwordHash: text('password_hash').notNull(),
    name: text('name').notNull(),
    role: text('role', { enum: ['user', 'admin'] })
      .notNull()
      .default('user'),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    // login / register: find a user by e-mail, case-insensitively; also enforces one account per address.
    uniqueIndex('users_email_lower_uq').on(sql`lower(${t.email})`),
    check('users_role_ck', sql`${t.role} IN ('user', 'admin')`),
  ],
);

export const refreshTokens = pgTable(
  'refresh_tokens',
  {
    id: integer('id').primaryKey().generatedAlwaysAsIdentity(),
    userId: integer('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    tokenHash: text('token_hash').notNull(),
    familyId: uuid('family_id').notNull(),
    expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
    revokedAt: timestamp('revoked_at', { withTimezone: true }),
    replacedById: integer('replaced_by_id'),
    createdAt: createdAt(),
  },
  (t) => [
    // refresh: look a presented token up by its hash.
    uniqueIndex('refresh_tokens_hash_uq').on(t.tokenHash),
    // reuse detection: revoke every token of a family.
    index('refresh_tokens_family_idx').on(t.familyId),
    // logout everywhere / user deletion cascade.
    index('refresh_tokens_user_idx').on(t.userId),
    // purge job: delete expired tokens in batches.
    index('refresh_tokens_expires_idx').on(t.expiresAt),
  ],
);

export const idempotencyKeys = pgTable(
  'idempotency_keys',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    userId: integer('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    key: text('key').notNull(),
    requestHash: text('request_hash').notNull(),
    status: text('status', { enum: ['in_progress', 'completed'] })
      .notNull()
      .default('in_progress'),
    responseStatus: integer('response_status'),
    responseBody: jsonb('response_body'),
    createdAt: createdAt(),
    expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
  },
  (t) => [
    // claim / replay a key: the unique constraint is what makes a concurrent replay wait or fail.
    uniqueIndex('idempotency_keys_user_key_uq').on(t.userId, t.key),
    // purge job: delete expired keys in batches.
    index('idempotency_keys_expires_idx').on(t.expiresAt),
    check('idempotency_keys_key_len_ck', sql`char_length(${t.key}) BETWEEN 1 AND 255`),
  ],
);

export const securityEvents = pgTable(
  'security_events',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    userId: integer('user_id').references(() => users.id, { onDelete: 'set null' }),
    type: text('type').notNull(),
    email: text('email'),
    ip: inet('ip'),
    details: jsonb('details'),
    createdAt: createdAt(),
  },
  (t) => [
    // login throttle: recent failures for one account.
    index('security_events_email_type_created_idx').on(sql`lower(${t.email})`, t.type, t.createdAt.desc()),
    // login throttle: recent failures from one address.
    index('security_events_ip_type_created_idx').on(t.ip, t.type, t.createdAt.desc()),
  ],
);
