import type { Queryable } from '../../platform/db/index.ts';

/**
 * Parameters for the catalogued statements, taken from the data so that each plan is the one a real
 * request gets: a big city, a popular hotel and one of its room types, a stay whose nights exist in
 * room_inventory, a user with many bookings and one of them. No e-mail address or token is taken:
 * those lookups go through unique (or near-unique) indexes, where a made-up value gets the same plan,
 * and the output (plans show their constants) then holds no personal data or credential.
 */
export interface StatementSamples {
  /** The city with the most active hotels, as stored (Paris in the demo data). */
  readonly city: string;
  /** The active hotel with the most reviews. */
  readonly hotelId: number;
  readonly hotelName: string;
  /** Its cheapest room type. */
  readonly roomTypeId: number;
  /** Three nights of that room type that have inventory rows, starting the day after the first one. */
  readonly checkIn: string;
  readonly checkOut: string;
  /** 30 days of stays from checkIn, for the reports. */
  readonly reportFrom: string;
  readonly reportTo: string;
  /** The user with the most bookings, and their newest booking. */
  readonly userId: number;
  readonly bookingId: number;
  /** A trip and a waitlist entry (with their owners); 0 when the data has none. */
  readonly tripId: number;
  readonly tripUserId: number;
  readonly waitlistId: number;
  readonly waitlistUserId: number;
}

/** Thrown when the database holds no data to take parameters from (run `innkeep db seed`). */
export class NoSampleDataError extends Error {
  override readonly name = 'NoSampleDataError';
}

/**
 * A few SELECTs over the data (no writes). Throws NoSampleDataError on a database without an active
 * hotel with room types and inventory, or without a user with bookings.
 *
 * @example
 * const samples = await sampleStatementParameters(db); // { city: 'Paris', hotelId: 766, ... }
 */
export async function sampleStatementParameters(db: Queryable): Promise<StatementSamples> {
  const city = await one<{ city: string }>(
    db,
    `SELECT min(city) AS city FROM hotels WHERE is_active
     GROUP BY lower(city) ORDER BY count(*) DESC, lower(city) LIMIT 1`,
  );
  const hotel = await one<{ hotelId: number; hotelName: string; roomTypeId: number }>(
    db,
    `SELECT h.id AS "hotelId", h.name AS "hotelName", rt.id AS "roomTypeId"
     FROM hotels h
     JOIN LATERAL (SELECT id FROM room_types WHERE hotel_id = h.id ORDER BY base_price_cents, id LIMIT 1) rt ON true
     WHERE h.is_active AND EXISTS (SELECT 1 FROM room_inventory i WHERE i.room_type_id = rt.id)
     ORDER BY h.review_count DESC, h.id LIMIT 1`,
  );
  const user = await one<{ userId: number; bookingId: number }>(
    db,
    `SELECT top.user_id AS "userId", b.id AS "bookingId"
     FROM (SELECT user_id FROM bookings GROUP BY user_id ORDER BY count(*) DESC, user_id LIMIT 1) top
     JOIN LATERAL (SELECT id FROM bookings WHERE user_id = top.user_id ORDER BY created_at DESC, id DESC LIMIT 1) b
       ON true`,
  );
  if (!city || !hotel || !user) {
    throw new NoSampleDataError(
      'the database has no active hotel with room types and inventory, or no bookings: load data first (innkeep db seed)',
    );
  }
  const stay = await one<{ checkIn: string; checkOut: string; reportTo: string }>(
    db,
    `SELECT to_char(d + 1, 'YYYY-MM-DD') AS "checkIn", to_char(d + 4, 'YYYY-MM-DD') AS "checkOut",
            to_char(d + 31, 'YYYY-MM-DD') AS "reportTo"
     FROM (SELECT min(date) AS d FROM room_inventory WHERE room_type_id = $1) i`,
    [hotel.roomTypeId],
  );
  const trip = await one<{ id: number; userId: number }>(
    db,
    'SELECT id, user_id AS "userId" FROM trips ORDER BY id LIMIT 1',
  );
  const waitlist = await one<{ id: number; userId: number }>(
    db,
    'SELECT id, user_id AS "userId" FROM waitlist ORDER BY id LIMIT 1',
  );
  return {
    city: city.city,
    ...hotel,
    checkIn: stay!.checkIn,
    checkOut: stay!.checkOut,
    reportFrom: stay!.checkIn,
    reportTo: stay!.reportTo,
    ...user,
    tripId: trip?.id ?? 0,
    tripUserId: trip?.userId ?? user.userId,
    waitlistId: waitlist?.id ?? 0,
    waitlistUserId: waitlist?.userId ?? user.userId,
  };
}

async function one<R extends object>(db: Queryable, text: string, values: unknown[] = []) {
  const { rows } = await db.query<R>({ text, values });
  return rows[0];
}
