import type { Queryable, RepositoryFactory } from '../../platform/db/index.ts';
import type { ExportStatus } from './export-schema.ts';

/** A data_exports row as the service and the builder see it. */
export interface ExportRecord {
  readonly id: string;
  readonly userId: number;
  readonly status: ExportStatus;
  readonly progress: number;
  /** Relative to the data directory. */
  readonly filePath: string | null;
  readonly fileBytes: number | null;
  readonly error: string | null;
  readonly createdAt: Date;
  readonly startedAt: Date | null;
  readonly finishedAt: Date | null;
  readonly expiresAt: Date | null;
  /** Completed and past expires_at (judged by the database clock). */
  readonly expired: boolean;
}

const COLUMNS = `id, user_id AS "userId", status, progress, file_path AS "filePath", file_bytes AS "fileBytes",
       error, created_at AS "createdAt", started_at AS "startedAt", finished_at AS "finishedAt",
       expires_at AS "expiresAt", (status = 'completed' AND expires_at <= now()) AS expired`;

/** The sections of an export, in the order they are written. */
export const EXPORT_SECTIONS = [
  'bookings',
  'payments',
  'trips',
  'waitlist',
  'reviews',
  'notifications',
] as const;
export type ExportSection = (typeof EXPORT_SECTIONS)[number];

export interface ExportProfile {
  readonly id: number;
  readonly email: string;
  readonly name: string;
  readonly role: string;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

/**
 * One statement per section, each reading only rows whose user_id is the export's user, on an index
 * that starts with user_id. Columns are listed (never `*`), so a secret added to a table later is not
 * exported by accident; payments leave out the provider's reference.
 */
const SECTION_QUERIES: Readonly<Record<ExportSection, { readonly name: string; readonly text: string }>> = {
  bookings: {
    name: 'exports_user_bookings',
    text: `
SELECT b.id, b.hotel_id AS "hotelId", h.name AS "hotelName", b.room_type_id AS "roomTypeId",
       rt.name AS "roomTypeName", b.trip_id AS "tripId", b.start_date AS "checkIn", b.end_date AS "checkOut",
       b.guests, b.status, b.total_cents AS "totalCents", b.currency, b.cancelled_at AS "cancelledAt",
       b.created_at AS "createdAt", b.updated_at AS "updatedAt"
FROM bookings b
JOIN hotels h ON h.id = b.hotel_id
JOIN room_types rt ON rt.id = b.room_type_id
WHERE b.user_id = $1
ORDER BY b.created_at, b.id`,
  },
  payments: {
    name: 'exports_user_payments',
    text: `
SELECT id, booking_id AS "bookingId", amount_cents AS "amountCents", currency, provider, status,
       created_at AS "createdAt", updated_at AS "updatedAt"
FROM payments
WHERE user_id = $1
ORDER BY created_at, id`,
  },
  trips: {
    name: 'exports_user_trips',
    text: `
SELECT id, name, status, start_date AS "startDate", end_date AS "endDate", created_at AS "createdAt",
       updated_at AS "updatedAt"
FROM trips
WHERE user_id = $1
ORDER BY created_at, id`,
  },
  waitlist: {
    name: 'exports_user_waitlist',
    text: `
SELECT w.id, w.room_type_id AS "roomTypeId", rt.name AS "roomTypeName", rt.hotel_id AS "hotelId",
       h.name AS "hotelName", w.start_date AS "checkIn", w.end_date AS "checkOut", w.guests, w.status,
       w.quoted_total_cents AS "quotedTotalCents", w.offered_at AS "offeredAt", w.created_at AS "createdAt"
FROM waitlist w
JOIN room_types rt ON rt.id = w.room_type_id
JOIN hotels h ON h.id = rt.hotel_id
WHERE w.user_id = $1
ORDER BY w.created_at, w.id`,
  },
  reviews: {
    name: 'exports_user_reviews',
    text: `
SELECT r.id, r.entity_type AS "entityType", r.entity_id AS "entityId", h.name AS "hotelName", r.rating,
       r.title, r.body, r.created_at AS "createdAt"
FROM reviews r
LEFT JOIN hotels h ON r.entity_type = 'hotel' AND h.id = r.entity_id
WHERE r.user_id = $1
ORDER BY r.created_at, r.id`,
  },
  notifications: {
    name: 'exports_user_notifications',
    text: `
SELECT id, type, channel, payload, status, scheduled_at AS "scheduledAt", sent_at AS "sentAt",
       created_at AS "createdAt"
FROM notifications
WHERE user_id = $1
ORDER BY created_at, id`,
  },
};

/** SQL for data exports. Plain records in, plain records out. */
export class ExportRepository {
  readonly #db: Queryable;
  constructor(db: Queryable) {
    this.#db = db;
  }

  /**
   * POST /me/export in one statement: a new queued export, or the user's queued or running one. The
   * partial unique index data_exports_user_active_uq makes it race-free: a concurrent twin is skipped
   * by ON CONFLICT. No row when that twin committed after this statement's snapshot was taken (the
   * caller asks again).
   */
  async createOrFindActive(userId: number): Promise<{ record: ExportRecord; created: boolean } | null> {
    const { rows } = await this.#db.query<ExportRecord & { created: boolean }>({
      name: 'exports_create',
      text: `
WITH ins AS (
  INSERT INTO data_exports (user_id) VALUES ($1)
  ON CONFLICT (user_id) WHERE status IN ('queued', 'running') DO NOTHING
  RETURNING *
)
SELECT ${COLUMNS}, true AS created FROM ins
UNION ALL
SELECT ${COLUMNS}, false AS created FROM data_exports
WHERE user_id = $1 AND status IN ('queued', 'running') AND NOT EXISTS (SELECT 1 FROM ins)`,
      values: [userId],
    });
    const row = rows[0];
    if (!row) return null;
    const { created, ...record } = row;
    return { record, created };
  }

  /** One of the user's exports; null when it does not exist or is someone else's. */
  async findForUser(id: string, userId: number): Promise<ExportRecord | null> {
    const { rows } = await this.#db.query<ExportRecord>({
      name: 'exports_find_for_user',
      text: `SELECT ${COLUMNS} FROM data_exports WHERE id = $1 AND user_id = $2`,
      values: [id, userId],
    });
    return rows[0] ?? null;
  }

  /** The builder's view of an export, whoever owns it. */
  async find(id: string): Promise<ExportRecord | null> {
    const { rows } = await this.#db.query<ExportRecord>({
      name: 'exports_find',
      text: `SELECT ${COLUMNS} FROM data_exports WHERE id = $1`,
      values: [id],
    });
    return rows[0] ?? null;
  }

  /**
   * Marks the export running from scratch (a retried job starts over). Not when the user has another
   * queued or running export (this one failed and was superseded by a new request): false then.
   */
  async markRunning(id: string): Promise<boolean> {
    const { rowCount } = await this.#db.query({
      name: 'exports_mark_running',
      text: `
UPDATE data_exports e
SET status = 'running', progress = 0, error = NULL, started_at = now(), finished_at = NULL,
    file_path = NULL, file_bytes = NULL, expires_at = NULL
WHERE e.id = $1
  AND NOT EXISTS (
    SELECT 1 FROM data_exports o
    WHERE o.user_id = e.user_id AND o.id <> e.id AND o.status IN ('queued', 'running')
  )`,
      values: [id],
    });
    return (rowCount ?? 0) > 0;
  }

  async setProgress(id: string, progress: number): Promise<void> {
    await this.#db.query({
      name: 'exports_progress',
      text: `UPDATE data_exports SET progress = $2 WHERE id = $1 AND status = 'running'`,
      values: [id, progress],
    });
  }

  async markCompleted(id: string, filePath: string, fileBytes: number, ttlDays: number): Promise<void> {
    await this.#db.query({
      name: 'exports_complete',
      text: `
UPDATE data_exports
SET status = 'completed', progress = 100, file_path = $2, file_bytes = $3, error = NULL,
    finished_at = now(), expires_at = now() + make_interval(days => $4)
WHERE id = $1`,
      values: [id, filePath, fileBytes, ttlDays],
    });
  }

  /** Failed with `error`, unless it completed meanwhile. */
  async markFailed(id: string, error: string): Promise<void> {
    await this.#db.query({
      name: 'exports_fail',
      text: `
UPDATE data_exports SET status = 'failed', error = $2, finished_at = now()
WHERE id = $1 AND status <> 'completed'`,
      values: [id, error],
    });
  }

  /** Back to queued (the job was stopped and will run again), unless it completed or failed meanwhile. */
  async requeue(id: string): Promise<void> {
    await this.#db.query({
      name: 'exports_requeue',
      text: `
UPDATE data_exports SET status = 'queued', progress = 0, started_at = NULL
WHERE id = $1 AND status = 'running'`,
      values: [id],
    });
  }

  /** The account, without its password hash. */
  async profile(userId: number): Promise<ExportProfile | null> {
    const { rows } = await this.#db.query<ExportProfile>({
      name: 'exports_user_profile',
      text: `
SELECT id, email, name, role, created_at AS "createdAt", updated_at AS "updatedAt"
FROM users WHERE id = $1`,
      values: [userId],
    });
    return rows[0] ?? null;
  }

  /** Every row of one section that belongs to the user. */
  async section(section: ExportSection, userId: number): Promise<Record<string, unknown>[]> {
    const { rows } = await this.#db.query({ ...SECTION_QUERIES[section], values: [userId] });
    return rows;
  }
}

/** Builds the repository on a pool, connection or transaction (the composition root wires it in). */
export const exportRepository: RepositoryFactory<ExportRepository> = (db) => new ExportRepository(db);
