import type { Queryable, RepositoryFactory } from '../../platform/db/index.ts';
import { type PageRequest, pageWindow } from '../common/paging.ts';
import type { PaymentDecision, PaymentStatus } from '../payments/payment-provider.ts';
import type { Booking } from './booking-schema.ts';

export interface BookableRoomType {
  readonly roomTypeId: number;
  readonly roomTypeName: string;
  readonly capacity: number;
  readonly hotelId: number;
  readonly hotelName: string;
  readonly city: string;
  readonly timezone: string;
  readonly currency: string;
  /** The hotel-local date today. */
  readonly today: string;
}

/** A waitlist entry locked by `lockOffer`. */
export interface LockedOffer {
  readonly id: number;
  readonly status: 'waiting' | 'offered' | 'booked' | 'expired' | 'cancelled';
  readonly checkIn: string;
  readonly checkOut: string;
  readonly guests: number;
  readonly expiresAt: Date | null;
  /** The offer's hold has lapsed (the expiry job may not have released it yet). */
  readonly expired: boolean;
  readonly room: BookableRoomType;
  /** Every night of the stay with its price now, in date order. */
  readonly nights: { date: string; priceCents: number }[];
}

export interface LockedBooking {
  readonly id: number;
  readonly status: Booking['status'];
  readonly roomTypeId: number;
  readonly hotelId: number;
  readonly checkIn: string;
  readonly checkOut: string;
  readonly today: string;
}

/** A booking with its hotel, room type and latest payment, in the API's shape. */
const BOOKING_SELECT = `
SELECT b.id, b.status, b.start_date AS "checkIn", b.end_date AS "checkOut",
       (b.end_date - b.start_date) AS nights, b.guests, b.total_cents AS "totalCents", b.currency,
       json_build_object('id', h.id, 'name', h.name, 'city', h.city, 'timezone', h.timezone) AS hotel,
       json_build_object('id', rt.id, 'name', rt.name) AS "roomType",
       b.trip_id AS "tripId",
       (SELECT json_build_object('provider', p.provider, 'status', p.status, 'amountCents', p.amount_cents)
          FROM payments p WHERE p.booking_id = b.id ORDER BY p.id DESC LIMIT 1) AS payment,
       b.created_at AS "createdAt", b.cancelled_at AS "cancelledAt"
FROM bookings b
JOIN hotels h ON h.id = b.hotel_id
JOIN room_types rt ON rt.id = b.room_type_id`;

/**
 * The nights [$2, $3) of room type $1, locked in date order. Booking and cancelling both lock this
 * way, so two transactions over overlapping stays queue on the first shared night instead of each
 * holding a night the other needs (a deadlock).
 */
const LOCK_NIGHTS_IN_DATE_ORDER = `
WITH nights AS (
  SELECT room_type_id, date FROM room_inventory
  WHERE room_type_id = $1 AND date >= $2 AND date < $3
  ORDER BY date
  FOR UPDATE
)`;

export class BookingRepository {
  readonly #db: Queryable;
  constructor(db: Queryable) {
    this.#db = db;
  }

  async findRoomType(roomTypeId: number): Promise<BookableRoomType | undefined> {
    const { rows } = await this.#db.query<BookableRoomType>({
      name: 'booking_room_type',
      text: `
SELECT rt.id AS "roomTypeId", rt.name AS "roomTypeName", rt.capacity, h.id AS "hotelId", h.name AS "hotelName",
       h.city, h.timezone, h.currency, (now() AT TIME ZONE h.timezone)::date AS today
FROM room_types rt JOIN hotels h ON h.id = rt.hotel_id
WHERE rt.id = $1 AND h.is_active`,
      values: [roomTypeId],
    });
    return rows[0];
  }

  /**
   * Takes one room for every night of [checkIn, checkOut). Rows are locked in date order first, so
   * concurrent bookings of overlapping stays queue instead of deadlocking; the decrement then re-checks
   * `available_rooms > 0` on the latest row version. Returns the nights it could take: fewer than the
   * stay's nights means sold out, and the caller must roll back.
   *
   * When the user holds an unexpired waitlist offer for exactly this stay, nothing is locked or taken
   * and `holdId` names the offer: the booking should use the room held for it (see `lockOffer`).
   */
  async takeRooms(
    roomTypeId: number,
    checkIn: string,
    checkOut: string,
    userId: number,
  ): Promise<{ nights: { date: string; priceCents: number }[]; holdId: number | null }> {
    const { rows } = await this.#db.query<{
      date: string | null;
      priceCents: number | null;
      holdId: number | null;
    }>({
      name: 'booking_take_rooms',
      text: `
WITH hold AS (
  -- Read, not locked: the nights are only locked when there is no hold, and the hold is locked by lockOffer.
  SELECT id FROM waitlist
  WHERE user_id = $4 AND room_type_id = $1 AND start_date = $2 AND end_date = $3
    AND status = 'offered' AND offer_expires_at > now()
), nights AS (
  SELECT room_type_id, date FROM room_inventory
  WHERE room_type_id = $1 AND date >= $2 AND date < $3 AND NOT EXISTS (SELECT 1 FROM hold)
  ORDER BY date
  FOR UPDATE
), taken AS (
  UPDATE room_inventory ri SET available_rooms = ri.available_rooms - 1
  FROM nights n
  WHERE ri.room_type_id = n.room_type_id AND ri.date = n.date AND ri.available_rooms > 0
  RETURNING ri.date, ri.price_cents
)
SELECT date, price_cents AS "priceCents", NULL::int AS "holdId" FROM taken
UNION ALL
SELECT NULL, NULL, id FROM hold`,
      values: [roomTypeId, checkIn, checkOut, userId],
    });
    const holdId = rows.find((r) => r.holdId !== null)?.holdId ?? null;
    const nights = rows
      .filter((r): r is { date: string; priceCents: number; holdId: null } => r.date !== null)
      .map((r) => ({ date: r.date, priceCents: r.priceCents }))
      .sort((a, b) => (a.date < b.date ? -1 : 1));
    return { nights, holdId };
  }

  /**
   * A waitlist entry of the user with its room type, hotel and the nights' current prices, locked for
   * the rest of the transaction (so the expiry job skips it); undefined if it is not the user's. Its
   * offer is bookable while `status` is 'offered' and not `expired`: its rooms are already taken out
   * of room_inventory, so booking it takes none.
   */
  async lockOffer(waitlistId: number, userId: number): Promise<LockedOffer | undefined> {
    const { rows } = await this.#db.query<LockedOffer>({
      name: 'booking_lock_offer',
      text: `
SELECT w.id, w.status, w.start_date AS "checkIn", w.end_date AS "checkOut", w.guests,
       w.offer_expires_at AS "expiresAt", coalesce(w.offer_expires_at <= now(), false) AS expired,
       json_build_object('roomTypeId', rt.id, 'roomTypeName', rt.name, 'capacity', rt.capacity,
                         'hotelId', h.id, 'hotelName', h.name, 'city', h.city, 'timezone', h.timezone,
                         'currency', h.currency, 'today', (now() AT TIME ZONE h.timezone)::date) AS room,
       (SELECT coalesce(json_agg(json_build_object('date', i.date, 'priceCents', i.price_cents) ORDER BY i.date),
                        '[]'::json)
        FROM room_inventory i
        WHERE i.room_type_id = w.room_type_id AND i.date >= w.start_date AND i.date < w.end_date) AS nights
FROM waitlist w
JOIN room_types rt ON rt.id = w.room_type_id
JOIN hotels h ON h.id = rt.hotel_id
WHERE w.id = $1 AND w.user_id = $2
FOR UPDATE OF w`,
      values: [waitlistId, userId],
    });
    return rows[0];
  }

  /** Gives one room back for every night of [checkIn, checkOut), locking in the same order as takeRooms. */
  async returnRooms(roomTypeId: number, checkIn: string, checkOut: string): Promise<number> {
    const { rowCount } = await this.#db.query({
      name: 'booking_return_rooms',
      text: `${LOCK_NIGHTS_IN_DATE_ORDER}
UPDATE room_inventory ri SET available_rooms = ri.available_rooms + 1
FROM nights n
WHERE ri.room_type_id = n.room_type_id AND ri.date = n.date`,
      values: [roomTypeId, checkIn, checkOut],
    });
    return rowCount ?? 0;
  }

  /**
   * One statement: the booking, its payment, a confirmation notification (sent by a later job), the
   * nightly prices paid (price_history), and the guest's own waitlist entry for this stay marked booked:
   * a waiting one, or the offer `holdId` whose held room this booking uses (an offer the booking did not
   * use keeps its hold until it expires or is cancelled). Returns the new booking's id and creation
   * time, and the notification's id.
   */
  async insertBooking(b: {
    userId: number;
    room: BookableRoomType;
    checkIn: string;
    checkOut: string;
    guests: number;
    totalCents: number;
    payment: PaymentDecision;
    nights: { date: string; priceCents: number }[];
    /** The waitlist offer whose held room the booking uses, if any. */
    holdId: number | null;
  }): Promise<{ id: number; createdAt: Date; notificationId: number }> {
    const { rows } = await this.#db.query<{ id: number; createdAt: Date; notificationId: number }>({
      name: 'booking_insert',
      text: `
WITH b AS (
  INSERT INTO bookings (user_id, hotel_id, room_type_id, start_date, end_date, guests, status, total_cents, currency)
  VALUES ($1, $2, $3, $4, $5, $6, 'confirmed', $7, $8)
  RETURNING id, created_at
), p AS (
  INSERT INTO payments (booking_id, user_id, amount_cents, currency, provider, provider_ref, status)
  SELECT id, $1, $7, $8, $9, $10, $11 FROM b
), n AS (
  INSERT INTO notifications (user_id, type, payload)
  SELECT $1, 'booking_confirmed',
         jsonb_build_object('bookingId', id, 'hotelName', $12::text, 'checkIn', $4::date, 'checkOut', $5::date)
  FROM b
  RETURNING id
), w AS (
  -- The guest got the room they were waiting (or offered) for: their entry is done.
  UPDATE waitlist SET status = 'booked'
  WHERE user_id = $1 AND room_type_id = $3 AND start_date = $4 AND end_date = $5
    AND (status = 'waiting' OR (status = 'offered' AND id = $15::int))
), ph AS (
  INSERT INTO price_history (entity_type, entity_id, price_cents, currency, stay_date)
  SELECT 'room_type', $3, price, $8, night FROM unnest($13::date[], $14::int[]) AS t(night, price)
)
SELECT b.id, b.created_at AS "createdAt", (SELECT id FROM n) AS "notificationId" FROM b`,
      values: [
        b.userId,
        b.room.hotelId,
        b.room.roomTypeId,
        b.checkIn,
        b.checkOut,
        b.guests,
        b.totalCents,
        b.room.currency,
        b.payment.provider,
        b.payment.providerRef,
        b.payment.status,
        b.room.hotelName,
        b.nights.map((n) => n.date),
        b.nights.map((n) => n.priceCents),
        b.holdId,
      ],
    });
    return rows[0] as { id: number; createdAt: Date; notificationId: number };
  }

  /** cancel: the booking row locked for the rest of the transaction, or undefined if not the user's. */
  async lockForCancel(bookingId: number, userId: number): Promise<LockedBooking | undefined> {
    const { rows } = await this.#db.query<LockedBooking>({
      name: 'booking_lock_for_cancel',
      text: `
SELECT b.id, b.status, b.room_type_id AS "roomTypeId", b.hotel_id AS "hotelId", b.start_date AS "checkIn",
       b.end_date AS "checkOut", (now() AT TIME ZONE h.timezone)::date AS today
FROM bookings b JOIN hotels h ON h.id = b.hotel_id
WHERE b.id = $1 AND b.user_id = $2
FOR UPDATE OF b`,
      values: [bookingId, userId],
    });
    return rows[0];
  }

  /**
   * One statement: mark cancelled, move its payments on, queue the cancellation notice. Returns the
   * notification's id (none when the booking is not the user's).
   */
  async markCancelled(
    bookingId: number,
    userId: number,
    paymentStatus: (current: PaymentStatus) => PaymentStatus,
  ): Promise<number[]> {
    const { rows } = await this.#db.query<{ id: number }>({
      name: 'booking_mark_cancelled',
      text: `
WITH b AS (
  UPDATE bookings SET status = 'cancelled', cancelled_at = now(), updated_at = now()
  WHERE id = $1 AND user_id = $2
  RETURNING id, start_date, end_date
), p AS (
  UPDATE payments SET status = CASE status WHEN 'captured' THEN $3 ELSE $4 END, updated_at = now()
  WHERE booking_id = $1 AND status IN ('pending', 'due_at_property', 'authorized', 'captured')
)
INSERT INTO notifications (user_id, type, payload)
SELECT $2, 'booking_cancelled', jsonb_build_object('bookingId', id, 'checkIn', start_date, 'checkOut', end_date)
FROM b
RETURNING id`,
      values: [bookingId, userId, paymentStatus('captured'), paymentStatus('due_at_property')],
    });
    return rows.map((r) => r.id);
  }

  /** A user's booking (an admin may read anyone's). */
  async findBooking(bookingId: number, userId: number, anyUser: boolean): Promise<Booking | undefined> {
    const { rows } = await this.#db.query<Booking>({
      name: 'booking_by_id',
      text: `${BOOKING_SELECT}\nWHERE b.id = $1 AND (b.user_id = $2 OR $3)`,
      values: [bookingId, userId, anyUser],
    });
    return rows[0];
  }

  /**
   * my_bookings: newest first, optionally by status, read in the order of bookings_user_created_idx
   * (created_at DESC NULLS LAST) / bookings_user_status_created_idx (backwards: DESC NULLS FIRST).
   * The NULLS placement must match the index or PostgreSQL reads and sorts every booking of the user
   * (95 ms instead of 1 ms for 50k bookings); created_at is NOT NULL, so the order is the same.
   */
  async listForUser(userId: number, status: string | undefined, page: PageRequest): Promise<Booking[]> {
    const { fetch, offset } = pageWindow(page);
    const { rows } = await this.#db.query<Booking>(
      status === undefined
        ? {
            name: 'booking_list_mine',
            text: `${BOOKING_SELECT}\nWHERE b.user_id = $1\nORDER BY b.created_at DESC NULLS LAST, b.id DESC\nLIMIT $2 OFFSET $3`,
            values: [userId, fetch, offset],
          }
        : {
            name: 'booking_list_mine_status',
            text: `${BOOKING_SELECT}\nWHERE b.user_id = $1 AND b.status = $4\nORDER BY b.created_at DESC, b.id DESC\nLIMIT $2 OFFSET $3`,
            values: [userId, fetch, offset, status],
          },
    );
    return rows;
  }
}

/** Builds the repository on a pool, connection or transaction (the composition root wires it in). */
export const bookingRepository: RepositoryFactory<BookingRepository> = (db) => new BookingRepository(db);
