import type pg from 'pg';

export interface RoomSpec {
  readonly name?: string;
  readonly capacity?: number;
  readonly basePriceCents?: number;
  readonly totalRooms?: number;
}

export interface HotelSpec {
  readonly name?: string;
  readonly city?: string;
  readonly country?: string;
  readonly stars?: number;
  readonly timezone?: string;
  readonly currency?: string;
  readonly rooms?: readonly RoomSpec[];
  /** Nights of inventory from `fromDate` (default: 60 nights from today in UTC minus 1 day). */
  readonly inventoryNights?: number;
  readonly fromDate?: string;
}

export interface TestHotel {
  readonly id: number;
  readonly roomTypes: {
    id: number;
    name: string;
    capacity: number;
    basePriceCents: number;
    totalRooms: number;
  }[];
}

let counter = 0;

/** Today's date in UTC, `YYYY-MM-DD`, shifted by `days`. */
export function isoDate(days = 0): string {
  return new Date(Date.now() + days * 86_400_000).toISOString().slice(0, 10);
}

/**
 * Inserts a hotel, its room types and one inventory row per room type and night
 * (available = total rooms, price = base price, +20% on Fridays and Saturdays).
 */
export async function createHotel(pool: pg.Pool, spec: HotelSpec = {}): Promise<TestHotel> {
  counter += 1;
  const { rows } = await pool.query<{ id: number }>(
    `INSERT INTO hotels (name, city, country, stars, timezone, currency)
     VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`,
    [
      spec.name ?? `Test Hotel ${counter}`,
      spec.city ?? 'Testville',
      spec.country ?? 'Testland',
      spec.stars ?? 3,
      spec.timezone ?? 'UTC',
      spec.currency ?? 'EUR',
    ],
  );
  const hotelId = rows[0]!.id;
  const roomTypes: TestHotel['roomTypes'] = [];
  const specs = spec.rooms ?? [{}];
  for (const [i, room] of specs.entries()) {
    const r = {
      name: room.name ?? `Room ${i + 1}`,
      capacity: room.capacity ?? 2,
      basePriceCents: room.basePriceCents ?? 10_000 + i * 5_000,
      totalRooms: room.totalRooms ?? 5,
    };
    const { rows: rt } = await pool.query<{ id: number }>(
      `INSERT INTO room_types (hotel_id, name, capacity, base_price_cents, total_rooms)
       VALUES ($1, $2, $3, $4, $5) RETURNING id`,
      [hotelId, r.name, r.capacity, r.basePriceCents, r.totalRooms],
    );
    roomTypes.push({ id: rt[0]!.id, ...r });
    await pool.query(
      `INSERT INTO room_inventory (room_type_id, date, available_rooms, price_cents)
       SELECT $1, d::date, $2,
              CASE WHEN extract(isodow FROM d) IN (5, 6) THEN ($3 * 1.2)::int ELSE $3 END
       FROM generate_series($4::date, $4::date + ($5 - 1), interval '1 day') d`,
      [rt[0]!.id, r.totalRooms, r.basePriceCents, spec.fromDate ?? isoDate(-1), spec.inventoryNights ?? 60],
    );
  }
  return { id: hotelId, roomTypes };
}

export interface StaySpec {
  /** Default 'completed'. */
  readonly status?: 'pending' | 'confirmed' | 'completed' | 'cancelled';
  /** Check-in relative to the hotel-local today (`(now() AT TIME ZONE timezone)::date`); default -3. */
  readonly checkInDays?: number;
  /** Default 2. */
  readonly nights?: number;
}

/**
 * Inserts a booking of the user at the hotel's first room type, by default a completed stay that
 * started three hotel-local days ago (what a review needs), and returns its id. Written in SQL because
 * the API cannot book in the past; room_inventory is left alone.
 */
export async function givePastStay(
  pool: pg.Pool,
  userId: number,
  hotelId: number,
  spec: StaySpec = {},
): Promise<number> {
  const { status = 'completed', checkInDays = -3, nights = 2 } = spec;
  const { rows } = await pool.query<{ id: number }>(
    `INSERT INTO bookings (user_id, hotel_id, room_type_id, start_date, end_date, guests, status, total_cents,
       currency, cancelled_at)
     SELECT $1, h.id, rt.id, d.start_date, d.start_date + $5::int, 1, $3::text, rt.base_price_cents * $5::int,
       h.currency, CASE WHEN $3::text = 'cancelled' THEN now() END
     FROM hotels h
     CROSS JOIN LATERAL (SELECT (now() AT TIME ZONE h.timezone)::date + $4::int AS start_date) AS d
     JOIN LATERAL (SELECT id, base_price_cents FROM room_types WHERE hotel_id = h.id ORDER BY id LIMIT 1) AS rt
       ON true
     WHERE h.id = $2
     RETURNING id`,
    [userId, hotelId, status, checkInDays, nights],
  );
  if (!rows[0]) throw new Error(`givePastStay: hotel ${hotelId} does not exist or has no room type`);
  return rows[0].id;
}

/** Sets available_rooms of the room type's nights in [from, to) (e.g. 0: those nights are full). */
export async function setAvailableRooms(
  pool: pg.Pool,
  roomTypeId: number,
  from: string,
  to: string,
  available: number,
): Promise<void> {
  await pool.query(
    'UPDATE room_inventory SET available_rooms = $4 WHERE room_type_id = $1 AND date >= $2 AND date < $3',
    [roomTypeId, from, to, available],
  );
}
