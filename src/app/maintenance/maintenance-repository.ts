import type { Queryable, RepositoryFactory } from '../../platform/db/index.ts';
import { ANY_STATUS, MEASURES } from '../reports/booking-measures.ts';

/** A booking the completion job moved from confirmed to completed. */
export interface CompletedBooking {
  readonly id: number;
  readonly userId: number;
  readonly hotelId: number;
}

/**
 * The first check-in day that may still be open somewhere: the local date at UTC-12, the westernmost
 * offset, is on or before every hotel's local today. A day before it is in the past in every zone,
 * so no booking can start on it any more nor be cancelled (both need a check-in on or after the
 * hotel-local today): its measures are final. A bound rather than min() over the hotels' zones: it
 * reads no hotel and stays right whatever zone a hotel moves to; it costs the live report one day.
 */
export const FIRST_OPEN_DAY = `((now() AT TIME ZONE 'UTC') - interval '12 hours')::date`;

/**
 * SQL for the recurring maintenance jobs. Each method is one short statement on its own: the jobs
 * loop over batches, so that no statement holds its row locks for long.
 */
export class MaintenanceRepository {
  readonly #db: Queryable;
  constructor(db: Queryable) {
    this.#db = db;
  }

  /**
   * Up to `limit` confirmed bookings whose check-out day is on or before their hotel's local today
   * become completed. Rows another worker holds are skipped (SKIP LOCKED), so two workers never wait
   * for each other nor complete a booking twice. No time zone is ahead of UTC+14
   * (Pacific/Kiritimati): start_date < end_date <= local today < UTC + 14 h bounds the walk of
   * bookings_status_dates_idx to confirmed stays that have started, whatever the hotels' zones.
   */
  async completeFinishedBatch(limit: number): Promise<CompletedBooking[]> {
    const { rows } = await this.#db.query<CompletedBooking>({
      name: 'maintenance_complete_bookings',
      text: `
WITH due AS (
  SELECT b.id
  FROM bookings b
  JOIN hotels h ON h.id = b.hotel_id
  WHERE b.status = 'confirmed'
    AND b.start_date < ((now() AT TIME ZONE 'UTC') + interval '14 hours')::date
    AND b.end_date <= (now() AT TIME ZONE h.timezone)::date
  LIMIT $1
  FOR UPDATE OF b SKIP LOCKED
)
UPDATE bookings b SET status = 'completed', updated_at = now()
FROM due
WHERE b.id = due.id AND b.status = 'confirmed'
RETURNING b.id, b.user_id AS "userId", b.hotel_id AS "hotelId"`,
      values: [limit],
    });
    return rows;
  }

  /** Deletes up to `limit` idempotency keys past their expiry (idempotency_keys_expires_idx). */
  async purgeExpiredIdempotencyKeys(limit: number): Promise<number> {
    const { rowCount } = await this.#db.query({
      name: 'maintenance_purge_idempotency_keys',
      text: `
DELETE FROM idempotency_keys
WHERE id IN (
  SELECT id FROM idempotency_keys WHERE expires_at < now()
  LIMIT $1
  FOR UPDATE SKIP LOCKED
)`,
      values: [limit],
    });
    return rowCount ?? 0;
  }

  /**
   * Deletes up to `limit` refresh tokens past their own expiry (refresh_tokens_expires_idx). A
   * rotated or revoked token is kept until then: presenting a rotated token is what reveals a replay
   * (AuthService.refresh), and an expired one is refused before that check, so once expired its row
   * detects nothing. A family's tokens expire oldest first (each rotation issues a later expiry), so
   * a live family keeps every row a replay could still be detected by.
   */
  async purgeExpiredRefreshTokens(limit: number): Promise<number> {
    const { rowCount } = await this.#db.query({
      name: 'maintenance_purge_refresh_tokens',
      text: `
DELETE FROM refresh_tokens
WHERE id IN (
  SELECT id FROM refresh_tokens WHERE expires_at < now()
  LIMIT $1
  FOR UPDATE SKIP LOCKED
)`,
      values: [limit],
    });
    return rowCount ?? 0;
  }

  /**
   * Up to `limit` completed exports past their expiry whose file is still on disk, oldest first
   * (data_exports_file_expiry_idx). The caller deletes the files, then forgets them.
   */
  async expiredExportFiles(limit: number): Promise<{ id: string; filePath: string }[]> {
    const { rows } = await this.#db.query<{ id: string; filePath: string }>({
      name: 'maintenance_expired_export_files',
      text: `
SELECT id, file_path AS "filePath" FROM data_exports
WHERE file_path IS NOT NULL AND expires_at <= now() AND status = 'completed'
ORDER BY expires_at
LIMIT $1`,
      values: [limit],
    });
    return rows;
  }

  /** The exports' files are gone: their rows stop naming them (a download is then 410). */
  async forgetExportFiles(ids: readonly string[]): Promise<number> {
    const { rowCount } = await this.#db.query({
      name: 'maintenance_forget_export_files',
      text: `
UPDATE data_exports SET file_path = NULL, file_bytes = NULL
WHERE id = ANY($1::uuid[]) AND file_path IS NOT NULL AND expires_at <= now()`,
      values: [ids],
    });
    return rowCount ?? 0;
  }

  /**
   * One statement: the report's measures of the closed days from `fromBack` to `toBack` days before
   * the first open day (FIRST_OPEN_DAY; both included, `toBack` >= 1), per day, hotel and currency,
   * upserted into booking_daily_stats; the rows of those days that no longer match a group deleted;
   * the days listed in booking_stats_days. The rows and their days commit together, so the report
   * never sees a day half written.
   */
  async aggregateDailyStats(fromBack: number, toBack: number): Promise<{ days: number; rows: number }> {
    const { rows } = await this.#db.query<{ days: number; rows: number }>({
      name: 'maintenance_aggregate_booking_stats',
      text: `
WITH span AS (
  SELECT ${FIRST_OPEN_DAY} - $1::int AS first, ${FIRST_OPEN_DAY} - GREATEST($2::int, 1) AS last
), fresh AS (
  SELECT b.start_date AS day, b.hotel_id, b.currency, ${MEASURES}
  FROM span, bookings b
  WHERE ${ANY_STATUS} AND b.start_date BETWEEN span.first AND span.last
  GROUP BY b.start_date, b.hotel_id, b.currency
), upserted AS (
  INSERT INTO booking_daily_stats AS s (day, hotel_id, currency, bookings, cancelled, nights, revenue_cents)
  SELECT day, hotel_id, currency, bookings, cancelled, nights, "revenueCents" FROM fresh
  ON CONFLICT (day, hotel_id, currency) DO UPDATE
    SET bookings = EXCLUDED.bookings, cancelled = EXCLUDED.cancelled, nights = EXCLUDED.nights,
        revenue_cents = EXCLUDED.revenue_cents, aggregated_at = now()
  RETURNING 1
), gone AS (
  DELETE FROM booking_daily_stats s
  USING span
  WHERE s.day BETWEEN span.first AND span.last
    AND NOT EXISTS (
      SELECT 1 FROM fresh f WHERE f.day = s.day AND f.hotel_id = s.hotel_id AND f.currency = s.currency
    )
), listed AS (
  INSERT INTO booking_stats_days (day)
  SELECT d::date FROM span, generate_series(span.first, span.last, interval '1 day') d
  ON CONFLICT (day) DO UPDATE SET aggregated_at = now()
  RETURNING 1
)
SELECT (SELECT count(*) FROM listed)::int AS days, (SELECT count(*) FROM upserted)::int AS rows`,
      values: [fromBack, toBack],
    });
    return rows[0] ?? { days: 0, rows: 0 };
  }
}

/** Builds the repository on a pool, connection or transaction. */
export const maintenanceRepository: RepositoryFactory<MaintenanceRepository> = (db) =>
  new MaintenanceRepository(db);
