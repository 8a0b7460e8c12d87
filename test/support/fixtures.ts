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
