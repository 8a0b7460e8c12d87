import type { Queryable, RepositoryFactory } from '../../platform/db/index.ts';
import { type PageRequest, pageWindow } from '../common/paging.ts';
import type { Trip } from './trip-schema.ts';

/**
 * Trips with their bookings: `inner` selects the trips (id, user_id, name, status, start_date, end_date,
 * created_at); a LATERAL json_agg adds each one's bookings. The `b.user_id = t.user_id` predicate lets
 * the lookup use bookings_user_created_idx (there is no index on bookings.trip_id).
 */
function tripsWithBookings(inner: string): string {
  return `
SELECT t.id, t.name, t.status, t.start_date AS "startDate", t.end_date AS "endDate",
       t.created_at AS "createdAt", COALESCE(b.bookings, '[]'::json) AS bookings
FROM (${inner}) t
LEFT JOIN LATERAL (
  SELECT json_agg(json_build_object(
           'id', b.id, 'hotelName', h.name, 'roomTypeName', rt.name, 'checkIn', b.start_date,
           'checkOut', b.end_date, 'status', b.status, 'totalCents', b.total_cents, 'currency', b.currency)
         ORDER BY b.start_date, b.id) AS bookings
  FROM bookings b
  JOIN hotels h ON h.id = b.hotel_id
  JOIN room_types rt ON rt.id = b.room_type_id
  WHERE b.user_id = t.user_id AND b.trip_id = t.id
) b ON true
ORDER BY t.created_at DESC, t.id DESC`;
}

const TRIP_COLUMNS = 'id, user_id, name, status, start_date, end_date, created_at';

export interface AttachOutcome {
  readonly tripFound: boolean;
  readonly bookingFound: boolean;
}

/** SQL for trips. Plain records in, plain records out. */
export class TripRepository {
  readonly #db: Queryable;
  constructor(db: Queryable) {
    this.#db = db;
  }

  async create(
    userId: number,
    name: string,
    startDate: string | null,
    endDate: string | null,
  ): Promise<Trip> {
    const { rows } = await this.#db.query<Trip>({
      name: 'trips_create',
      text: `
INSERT INTO trips (user_id, name, start_date, end_date) VALUES ($1, $2, $3::date, $4::date)
RETURNING id, name, status, start_date AS "startDate", end_date AS "endDate", created_at AS "createdAt",
          '[]'::json AS bookings`,
      values: [userId, name, startDate, endDate],
    });
    return rows[0]!;
  }

  /**
   * Sets the booking's trip when both belong to the user, in one statement. A booking that was in
   * another of the user's trips moves to this one.
   */
  async attachBooking(tripId: number, bookingId: number, userId: number): Promise<AttachOutcome> {
    const { rows } = await this.#db.query<AttachOutcome>({
      name: 'trips_attach_booking',
      text: `
WITH t AS (
  SELECT id FROM trips WHERE id = $1 AND user_id = $3
), b AS (
  UPDATE bookings SET trip_id = t.id, updated_at = now()
  FROM t
  WHERE bookings.id = $2 AND bookings.user_id = $3
  RETURNING bookings.id
)
SELECT EXISTS (SELECT 1 FROM t) AS "tripFound",
       EXISTS (SELECT 1 FROM bookings WHERE id = $2 AND user_id = $3) AS "bookingFound"`,
      values: [tripId, bookingId, userId],
    });
    return rows[0]!;
  }

  async findForUser(tripId: number, userId: number): Promise<Trip | null> {
    const { rows } = await this.#db.query<Trip>({
      name: 'trips_find_for_user',
      text: tripsWithBookings(`SELECT ${TRIP_COLUMNS} FROM trips WHERE id = $1 AND user_id = $2`),
      values: [tripId, userId],
    });
    return rows[0] ?? null;
  }

  /** GET /me/trips: one page (plus one row, to tell whether another page exists), newest first. */
  async listForUser(userId: number, status: string | undefined, page: PageRequest): Promise<Trip[]> {
    const { fetch, offset } = pageWindow(page);
    const { rows } = await this.#db.query<Trip>({
      name: 'trips_list_for_user',
      text: tripsWithBookings(`
  SELECT ${TRIP_COLUMNS} FROM trips
  WHERE user_id = $1 AND ($2::text IS NULL OR status = $2::text)
  ORDER BY created_at DESC, id DESC
  LIMIT $3 OFFSET $4`),
      values: [userId, status ?? null, fetch, offset],
    });
    return rows;
  }
}

/** Builds the repository on a pool, connection or transaction (the composition root wires it in). */
export const tripRepository: RepositoryFactory<TripRepository> = (db) => new TripRepository(db);
