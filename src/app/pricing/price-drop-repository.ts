import type { Queryable, RepositoryFactory } from '../../platform/db/index.ts';

/**
 * price_drop_alerts_queue: the whole scan in one statement, no per-user loop.
 * - stays: future confirmed bookings (what the guest paid: total_cents) and active waitlist entries
 *   (the stay's price when they joined: quoted_total_cents), on bookings_status_dates_idx and
 *   waitlist_status_dates_idx. UTC today - 1 bounds the index range (every zone's today is on or
 *   after it); each hotel's own today then decides.
 * - priced: the stay's price now, from its nightly prices (room_inventory_pk; every night must have
 *   one), kept when it is at least $1 percent lower.
 * - best: one stay per user and room type, the soonest.
 * - fresh: not when the user was told about this room type at this price or a lower one since $2
 *   (price_drop_alerts_user_room_type_created_idx).
 * Then a 'price_drop' notification per row and its alert, RETURNING the notification ids.
 */
const QUEUE_PRICE_DROPS = `
WITH stays AS (
  SELECT b.user_id, b.room_type_id, b.start_date, b.end_date, b.total_cents AS old_cents, b.currency
  FROM bookings b
  JOIN hotels h ON h.id = b.hotel_id
  WHERE b.status = 'confirmed'
    AND b.start_date >= (now() AT TIME ZONE 'UTC')::date - 1
    AND b.start_date > (now() AT TIME ZONE h.timezone)::date
    AND b.currency = h.currency
  UNION ALL
  SELECT w.user_id, w.room_type_id, w.start_date, w.end_date, w.quoted_total_cents, h.currency
  FROM waitlist w
  JOIN room_types rt ON rt.id = w.room_type_id
  JOIN hotels h ON h.id = rt.hotel_id
  WHERE w.status IN ('waiting', 'offered') AND w.quoted_total_cents IS NOT NULL
    AND w.start_date >= (now() AT TIME ZONE 'UTC')::date - 1
    AND w.start_date >= (now() AT TIME ZONE h.timezone)::date
), priced AS (
  SELECT s.*, p.new_cents
  FROM stays s
  CROSS JOIN LATERAL (
    SELECT sum(i.price_cents) AS new_cents, count(*) AS nights
    FROM room_inventory i
    WHERE i.room_type_id = s.room_type_id AND i.date >= s.start_date AND i.date < s.end_date
  ) p
  WHERE s.old_cents > 0 AND p.nights = s.end_date - s.start_date
    AND (s.old_cents - p.new_cents) * 100 >= $1::numeric * s.old_cents
), best AS (
  SELECT DISTINCT ON (user_id, room_type_id) *
  FROM priced
  ORDER BY user_id, room_type_id, start_date, end_date
), fresh AS (
  SELECT b.*, h.id AS hotel_id, h.name AS hotel_name, rt.name AS room_name
  FROM best b
  JOIN room_types rt ON rt.id = b.room_type_id
  JOIN hotels h ON h.id = rt.hotel_id AND h.is_active
  WHERE NOT EXISTS (
    SELECT 1 FROM price_drop_alerts a
    WHERE a.user_id = b.user_id AND a.room_type_id = b.room_type_id
      AND a.created_at >= $2::timestamptz AND a.price_cents <= b.new_cents
  )
), n AS (
  INSERT INTO notifications (user_id, type, payload)
  SELECT user_id, 'price_drop',
         jsonb_build_object('hotelId', hotel_id, 'hotelName', hotel_name, 'roomTypeId', room_type_id,
           'roomName', room_name, 'oldPriceCents', old_cents, 'newPriceCents', new_cents,
           'currency', currency, 'checkIn', start_date, 'checkOut', end_date)
  FROM fresh
  RETURNING id, user_id, payload
), a AS (
  INSERT INTO price_drop_alerts (user_id, room_type_id, start_date, end_date, price_cents, old_price_cents,
    notification_id)
  SELECT f.user_id, f.room_type_id, f.start_date, f.end_date, f.new_cents, f.old_cents, n.id
  FROM n
  JOIN fresh f ON f.user_id = n.user_id AND f.room_type_id = (n.payload->>'roomTypeId')::int
)
SELECT id FROM n ORDER BY id`;

/** SQL for price-drop alerts. Plain records in, plain records out. */
export class PriceDropRepository {
  readonly #db: Queryable;
  constructor(db: Queryable) {
    this.#db = db;
  }

  /**
   * Serializes scans until the transaction ends: two at once (a retried job beside the scheduled
   * one) would both see no alert yet and both send one.
   */
  async lockScan(): Promise<void> {
    await this.#db.query({
      name: 'price_drop_alerts_lock',
      text: `SELECT pg_advisory_xact_lock(hashtext('innkeep:price_drop_alerts'))`,
    });
  }

  /** Inserts the notifications and their alerts; returns the notification ids, in order. */
  async queueAlerts(minDropPct: number, since: Date): Promise<number[]> {
    const { rows } = await this.#db.query<{ id: number }>({
      name: 'price_drop_alerts_queue',
      text: QUEUE_PRICE_DROPS,
      values: [minDropPct, since],
    });
    return rows.map((r) => r.id);
  }
}

/** Builds the repository on a pool, connection or transaction (the composition root wires it in). */
export const priceDropRepository: RepositoryFactory<PriceDropRepository> = (db) =>
  new PriceDropRepository(db);
