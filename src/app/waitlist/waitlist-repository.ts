import type { Queryable, RepositoryFactory } from '../../platform/db/index.ts';
import { type PageRequest, pageWindow } from '../common/paging.ts';
import type { WaitlistEntry, WaitlistStatus } from './waitlist-schema.ts';

/** The public shape of an entry; needs `w` (waitlist), `rt` (room_types) and `h` (hotels) in scope. */
export const ENTRY_COLUMNS = `w.id, w.room_type_id AS "roomTypeId", h.id AS "hotelId", h.name AS "hotelName",
       rt.name AS "roomTypeName", w.start_date AS "checkIn", w.end_date AS "checkOut", w.guests, w.status,
       w.offered_at AS "offeredAt", w.offer_expires_at AS "offerExpiresAt", w.created_at AS "createdAt"`;

export interface NewWaitlistEntry {
  readonly userId: number;
  readonly roomTypeId: number;
  readonly checkIn: string;
  readonly checkOut: string;
  readonly guests: number;
}

/**
 * What `insertIfAllowed` found: the room type's capacity, the hotel-local today and whether a room is
 * free for the whole stay (so the caller can say why nothing was inserted), and the entry when it was
 * inserted.
 */
export interface InsertOutcome {
  readonly capacity: number;
  readonly today: string;
  readonly roomsAvailable: boolean;
  readonly entry: WaitlistEntry | null;
}

export interface CancelOutcome {
  /** The status before the request. */
  readonly status: WaitlistStatus;
  readonly cancelled: boolean;
}

/** An offer whose hold went back to room_inventory (it expired, or its entry was cancelled). */
export interface ReleasedOffer {
  readonly id: number;
  readonly userId: number;
  readonly roomTypeId: number;
  readonly hotelId: number;
  readonly checkIn: string;
  readonly checkOut: string;
}

export interface ReleasedOffers {
  readonly offers: ReleasedOffer[];
  /** The 'waitlist_offer_expired' notification rows written (none for a cancellation). */
  readonly notificationIds: number[];
}

/**
 * The rest of a statement that releases the offers of CTE `e` (id, user_id, room_type_id, start_date,
 * end_date: locked 'offered' entries): their nights are locked in (room type, date) order, the order
 * bookings lock them in, and get one room back per offer covering them; the entries take `status`,
 * and an expired one gets a 'waitlist_offer_expired' notification.
 */
function releaseOffers(status: 'expired' | 'cancelled'): string {
  return `, locked AS (
  SELECT ri.room_type_id, ri.date
  FROM e JOIN room_inventory ri
    ON ri.room_type_id = e.room_type_id AND ri.date >= e.start_date AND ri.date < e.end_date
  ORDER BY ri.room_type_id, ri.date
  FOR UPDATE OF ri
), inv AS (
  UPDATE room_inventory ri SET available_rooms = ri.available_rooms + c.n
  FROM (SELECT room_type_id, date, count(*)::int AS n FROM locked GROUP BY 1, 2) c
  WHERE ri.room_type_id = c.room_type_id AND ri.date = c.date
), w AS (
  UPDATE waitlist x SET status = '${status}'
  FROM e
  WHERE x.id = e.id
  RETURNING x.id, x.user_id, x.room_type_id, x.start_date, x.end_date
), n AS (
  INSERT INTO notifications (user_id, type, payload)
  SELECT w.user_id, 'waitlist_offer_expired',
         jsonb_build_object('waitlistId', w.id, 'checkIn', w.start_date, 'checkOut', w.end_date,
                            'hotelName', h.name, 'roomName', rt.name)
  FROM w
  JOIN room_types rt ON rt.id = w.room_type_id
  JOIN hotels h ON h.id = rt.hotel_id
  WHERE ${status === 'expired' ? 'true' : 'false'}
  ORDER BY w.id
  RETURNING id
)
SELECT w.id, w.user_id AS "userId", w.room_type_id AS "roomTypeId", rt.hotel_id AS "hotelId",
       w.start_date AS "checkIn", w.end_date AS "checkOut",
       (SELECT coalesce(json_agg(n.id ORDER BY n.id), '[]'::json) FROM n) AS "notificationIds"
FROM w
JOIN room_types rt ON rt.id = w.room_type_id
ORDER BY w.id`;
}

function released(rows: (ReleasedOffer & { notificationIds: number[] })[]): ReleasedOffers {
  return {
    offers: rows.map((r) => ({
      id: r.id,
      userId: r.userId,
      roomTypeId: r.roomTypeId,
      hotelId: r.hotelId,
      checkIn: r.checkIn,
      checkOut: r.checkOut,
    })),
    notificationIds: rows[0]?.notificationIds ?? [],
  };
}

/** SQL for the waitlist. Plain records in, plain records out. */
export class WaitlistRepository {
  readonly #db: Queryable;
  constructor(db: Queryable) {
    this.#db = db;
  }

  /**
   * POST /waitlist in one statement: looks the room type, the hotel-local today and the stay's
   * inventory up, and inserts only when the guests fit, the stay has not started and some night of it
   * has no free room (available_rooms = 0, or no inventory row: such a night cannot be booked either).
   * Availability is read from the statement's snapshot, as a booking would see it. The partial unique
   * index waitlist_user_active_uq (migration 0002) makes the duplicate check race-free: a concurrent
   * twin is skipped by ON CONFLICT, not raised. Returns null for an unknown room type (or one of an
   * inactive hotel).
   */
  async insertIfAllowed(e: NewWaitlistEntry): Promise<InsertOutcome | null> {
    const { rows } = await this.#db.query<{
      capacity: number;
      today: string;
      roomsAvailable: boolean;
      id: number | null;
    }>({
      name: 'waitlist_insert',
      text: `
WITH rt AS (
  SELECT rt.id, rt.name, rt.capacity, h.id AS hotel_id, h.name AS hotel_name,
         (now() AT TIME ZONE h.timezone)::date AS today
  FROM room_types rt
  JOIN hotels h ON h.id = rt.hotel_id
  WHERE rt.id = $2 AND h.is_active
), free AS (
  -- room_inventory_pk: one row per night at most, so counting the (free) nights is exact. The stay's
  -- price now, when every night has one, is what price-drop alerts compare with later.
  SELECT count(*) FILTER (WHERE i.available_rooms > 0) = ($4::date - $3::date) AS every_night,
         CASE WHEN count(*) = ($4::date - $3::date) THEN sum(i.price_cents) END AS quoted_total_cents
  FROM rt
  JOIN room_inventory i ON i.room_type_id = rt.id
  WHERE i.date >= $3::date AND i.date < $4::date
), w AS (
  INSERT INTO waitlist (user_id, room_type_id, start_date, end_date, guests, quoted_total_cents)
  SELECT $1, rt.id, $3::date, $4::date, $5::smallint, free.quoted_total_cents
  FROM rt, free
  WHERE $5::smallint <= rt.capacity AND $3::date >= rt.today AND NOT free.every_night
  ON CONFLICT (user_id, room_type_id, start_date, end_date) WHERE status IN ('waiting', 'offered')
  DO NOTHING
  RETURNING id, room_type_id, start_date, end_date, guests, status, offered_at, offer_expires_at, created_at
)
SELECT rt.capacity, rt.today, free.every_night AS "roomsAvailable",
       w.id, w.room_type_id AS "roomTypeId", rt.hotel_id AS "hotelId", rt.hotel_name AS "hotelName",
       rt.name AS "roomTypeName", w.start_date AS "checkIn", w.end_date AS "checkOut", w.guests, w.status,
       w.offered_at AS "offeredAt", w.offer_expires_at AS "offerExpiresAt", w.created_at AS "createdAt"
FROM rt
CROSS JOIN free
LEFT JOIN w ON true`,
      values: [e.userId, e.roomTypeId, e.checkIn, e.checkOut, e.guests],
    });
    const row = rows[0];
    if (!row) return null;
    const { capacity, today, roomsAvailable, ...entry } = row;
    return {
      capacity,
      today,
      roomsAvailable,
      entry: entry.id === null ? null : (entry as unknown as WaitlistEntry),
    };
  }

  /** GET /me/waitlist: one page (plus one row, to tell whether another page exists), newest first. */
  async listForUser(
    userId: number,
    status: WaitlistStatus | undefined,
    page: PageRequest,
  ): Promise<WaitlistEntry[]> {
    const { fetch, offset } = pageWindow(page);
    const { rows } = await this.#db.query<WaitlistEntry>({
      name: 'waitlist_list_for_user',
      text: `
SELECT ${ENTRY_COLUMNS}
FROM waitlist w
JOIN room_types rt ON rt.id = w.room_type_id
JOIN hotels h ON h.id = rt.hotel_id
WHERE w.user_id = $1 AND ($2::text IS NULL OR w.status = $2::text)
-- NULLS LAST as in waitlist_user_idx, so the index gives the order (created_at is NOT NULL anyway).
ORDER BY w.created_at DESC NULLS LAST, w.id DESC
LIMIT $3 OFFSET $4`,
      values: [userId, status ?? null, fetch, offset],
    });
    return rows;
  }

  /**
   * DELETE /waitlist/:id in one statement: cancels the user's entry if it is waiting and reports the
   * status it had. Null when the entry does not exist or belongs to someone else. An offered entry holds
   * rooms and is left alone: see `cancelOffer`.
   */
  async cancel(id: number, userId: number): Promise<CancelOutcome | null> {
    const { rows } = await this.#db.query<CancelOutcome>({
      name: 'waitlist_cancel',
      text: `
WITH t AS (
  SELECT id, status FROM waitlist WHERE id = $1 AND user_id = $2
), u AS (
  UPDATE waitlist w SET status = 'cancelled'
  FROM t
  WHERE w.id = t.id AND w.status = 'waiting'
  RETURNING w.id
)
SELECT t.status, EXISTS (SELECT 1 FROM u) AS cancelled FROM t`,
      values: [id, userId],
    });
    return rows[0] ?? null;
  }

  /**
   * DELETE /waitlist/:id of an offered entry, in one statement (run it in a transaction that offers the
   * rooms on): cancels the user's entry if it is still offered and gives its held rooms back. Empty
   * when it is no longer offered (booked or expired meanwhile) or not the user's.
   */
  async cancelOffer(id: number, userId: number): Promise<ReleasedOffers> {
    const { rows } = await this.#db.query<ReleasedOffer & { notificationIds: number[] }>({
      name: 'waitlist_cancel_offer',
      text: `
WITH e AS (
  SELECT id, user_id, room_type_id, start_date, end_date FROM waitlist
  WHERE id = $1 AND user_id = $2 AND status = 'offered'
  FOR UPDATE
)${releaseOffers('cancelled')}`,
      values: [id, userId],
    });
    return released(rows);
  }

  /**
   * The expiry job, in one statement: takes up to `limit` offers that lapsed by `now` (soonest first,
   * on waitlist_status_offer_expires_idx), skipping those another transaction holds (a concurrent run,
   * a booking through the offer), marks them expired, gives their rooms back and notifies their users.
   */
  async expireOffers(now: Date, limit: number): Promise<ReleasedOffers> {
    const { rows } = await this.#db.query<ReleasedOffer & { notificationIds: number[] }>({
      name: 'waitlist_expire_offers',
      text: `
WITH e AS (
  SELECT id, user_id, room_type_id, start_date, end_date FROM waitlist
  WHERE status = 'offered' AND offer_expires_at <= $1::timestamptz
  ORDER BY offer_expires_at, id
  LIMIT $2
  FOR UPDATE SKIP LOCKED
)${releaseOffers('expired')}`,
      values: [now, limit],
    });
    return released(rows);
  }
}

/** Builds the repository on a pool, connection or transaction (the composition root wires it in). */
export const waitlistRepository: RepositoryFactory<WaitlistRepository> = (db) => new WaitlistRepository(db);
