import type { Queryable, RepositoryFactory } from '../../platform/db/index.ts';
import type { BatchAvailabilityItem, RoomTypeAvailability } from './availability-schema.ts';

export interface HotelAvailabilityRecord {
  readonly hotelId: number;
  readonly currency: string;
  /** The hotel-local date, `(now() AT TIME ZONE h.timezone)::date`. */
  readonly today: string;
  readonly roomTypes: RoomTypeAvailability[];
}

export interface BatchAvailabilityRecord extends BatchAvailabilityItem {
  /** The room type's hotel-local date; null when the room type was not found. */
  readonly today: string | null;
}

/**
 * availability_hotel: one statement. Every night of the stay (generate_series) is left-joined to
 * room_inventory on its primary key (room_type_id, date), so a missing row shows as a null night.
 */
const HOTEL_AVAILABILITY = `
SELECT h.id AS "hotelId", h.currency, (now() AT TIME ZONE h.timezone)::date AS today,
       COALESCE((
         SELECT json_agg(json_build_object(
                  'roomTypeId', rt.id, 'name', rt.name, 'capacity', rt.capacity,
                  'fitsGuests', rt.capacity >= $4::int,
                  'available', rt.capacity >= $4::int AND n.missing = 0 AND n.min_available > 0,
                  'roomsLeft', CASE WHEN n.missing = 0 THEN n.min_available ELSE 0 END,
                  'nights', n.nights,
                  'totalCents', CASE WHEN n.missing = 0 THEN n.total END)
                ORDER BY rt.base_price_cents, rt.id)
         FROM room_types rt
         CROSS JOIN LATERAL (
           SELECT count(*) FILTER (WHERE ri.date IS NULL) AS missing,
                  min(ri.available_rooms) AS min_available,
                  sum(ri.price_cents) AS total,
                  json_agg(json_build_object('date', d.night, 'priceCents', ri.price_cents,
                                             'availableRooms', ri.available_rooms)
                           ORDER BY d.night) AS nights
           -- date + integer is a date: no time zone can shift a night.
           FROM generate_series(0, $3::date - $2::date - 1) AS i
           CROSS JOIN LATERAL (SELECT $2::date + i AS night) d
           LEFT JOIN room_inventory ri ON ri.room_type_id = rt.id AND ri.date = d.night
         ) n
         WHERE rt.hotel_id = h.id
       ), '[]'::json) AS "roomTypes"
FROM hotels h
WHERE h.id = $1 AND h.is_active`;

/**
 * availability_batch: one statement for the whole batch. The items arrive as three parallel arrays,
 * unnested WITH ORDINALITY so the answer keeps the request order; each item reads its nights from
 * room_inventory by primary-key range.
 */
const BATCH_AVAILABILITY = `
SELECT q.room_type_id AS "roomTypeId", q.check_in AS "checkIn", q.check_out AS "checkOut",
       h.id IS NOT NULL AS found,
       (now() AT TIME ZONE h.timezone)::date AS today,
       COALESCE(h.id IS NOT NULL AND rt.capacity >= $4::int
                AND n.nights = q.check_out - q.check_in AND n.min_available > 0, false) AS available,
       CASE WHEN n.nights = q.check_out - q.check_in THEN n.min_available ELSE 0 END AS "roomsLeft",
       CASE WHEN n.nights = q.check_out - q.check_in THEN n.total END AS "totalCents"
FROM unnest($1::int[], $2::date[], $3::date[]) WITH ORDINALITY AS q(room_type_id, check_in, check_out, ord)
LEFT JOIN room_types rt ON rt.id = q.room_type_id
LEFT JOIN hotels h ON h.id = rt.hotel_id AND h.is_active
LEFT JOIN LATERAL (
  SELECT count(*)::int AS nights, min(ri.available_rooms) AS min_available, sum(ri.price_cents) AS total
  FROM room_inventory ri
  WHERE ri.room_type_id = rt.id AND ri.date >= q.check_in AND ri.date < q.check_out
) n ON h.id IS NOT NULL
ORDER BY q.ord`;

export class AvailabilityRepository {
  readonly #db: Queryable;
  constructor(db: Queryable) {
    this.#db = db;
  }

  /** Undefined when the hotel is unknown or inactive. */
  async forHotel(
    hotelId: number,
    checkIn: string,
    checkOut: string,
    guests: number,
  ): Promise<HotelAvailabilityRecord | undefined> {
    const { rows } = await this.#db.query<HotelAvailabilityRecord>({
      name: 'availability_hotel',
      text: HOTEL_AVAILABILITY,
      values: [hotelId, checkIn, checkOut, guests],
    });
    return rows[0];
  }

  /** One record per item, in the items' order. */
  async batch(
    items: readonly { roomTypeId: number; checkIn: string; checkOut: string }[],
    guests: number,
  ): Promise<BatchAvailabilityRecord[]> {
    const { rows } = await this.#db.query<BatchAvailabilityRecord>({
      name: 'availability_batch',
      text: BATCH_AVAILABILITY,
      values: [
        items.map((i) => i.roomTypeId),
        items.map((i) => i.checkIn),
        items.map((i) => i.checkOut),
        guests,
      ],
    });
    return rows;
  }
}

/** Builds the repository on a pool, connection or transaction (the composition root wires it in). */
export const availabilityRepository: RepositoryFactory<AvailabilityRepository> = (db) =>
  new AvailabilityRepository(db);
