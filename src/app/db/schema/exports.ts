import { sql } from 'drizzle-orm';
import {
  bigint,
  check,
  date,
  index,
  integer,
  pgTable,
  smallint,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';
import { createdAt } from './columns.ts';
import { roomTypes } from './hotels.ts';
import { users } from './users.ts';

export const EXPORT_STATUSES = ['queued', 'running', 'completed', 'failed'] as const;

/** GDPR-style data exports: one row per request, built by a background job into a JSON file. */
export const dataExports = pgTable(
  'data_exports',
  {
    // Not a sequence: an export id in a download link must not be guessable from another one.
    id: uuid('id').primaryKey().defaultRandom(),
    userId: integer('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    status: text('status', { enum: EXPORT_STATUSES }).notNull().default('queued'),
    progress: smallint('progress').notNull().default(0),
    /** Relative to INNKEEP_DATA_DIR, once completed. */
    filePath: text('file_path'),
    fileBytes: bigint('file_bytes', { mode: 'number' }),
    error: text('error'),
    createdAt: createdAt(),
    startedAt: timestamp('started_at', { withTimezone: true }),
    finishedAt: timestamp('finished_at', { withTimezone: true }),
    /** Set on completion: the file is not served after it. */
    expiresAt: timestamp('expires_at', { withTimezone: true }),
  },
  (t) => [
    // GET /me/export/:id checks the owner on the primary key; a user's exports, newest first.
    index('data_exports_user_created_idx').on(t.userId, t.createdAt.desc()),
    // POST /me/export: at most one queued or running export per user, enforced race-free.
    uniqueIndex('data_exports_user_active_uq').on(t.userId).where(sql`${t.status} IN ('queued', 'running')`),
    // The purge job: expired exports whose file is still on disk, oldest first.
    index('data_exports_file_expiry_idx').on(t.expiresAt).where(sql`${t.filePath} IS NOT NULL`),
    check('data_exports_status_ck', sql`${t.status} IN ('queued', 'running', 'completed', 'failed')`),
    check('data_exports_progress_ck', sql`${t.progress} BETWEEN 0 AND 100`),
  ],
);

/**
 * The price-drop alerts sent, for de-duplication: a user is not told twice within the window about
 * the same room type at the same (or a higher) price.
 */
export const priceDropAlerts = pgTable(
  'price_drop_alerts',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    userId: integer('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    roomTypeId: integer('room_type_id')
      .notNull()
      .references(() => roomTypes.id, { onDelete: 'cascade' }),
    /** The stay the alert was about. */
    startDate: date('start_date', { mode: 'string' }).notNull(),
    endDate: date('end_date', { mode: 'string' }).notNull(),
    /** The stay's price the user was told about, and the one it was compared with. */
    priceCents: integer('price_cents').notNull(),
    oldPriceCents: integer('old_price_cents').notNull(),
    /** The notification row (not a foreign key: notifications may be purged before these). */
    notificationId: bigint('notification_id', { mode: 'number' }).notNull(),
    createdAt: createdAt(),
  },
  (t) => [
    // the de-duplication lookup: this user's recent alerts for this room type.
    index('price_drop_alerts_user_room_type_created_idx').on(t.userId, t.roomTypeId, t.createdAt.desc()),
  ],
);
