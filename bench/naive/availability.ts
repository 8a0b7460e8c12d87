import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import {
  BatchAvailabilityBody,
  BatchAvailabilityResponse,
  HotelAvailability,
  HotelAvailabilityQuery,
} from '../../src/app/availability/availability-schema.ts';
import { IdParams } from '../../src/app/common/schemas.ts';
import { assertNotPast, nightsOf, validateStay } from '../../src/app/common/stay.ts';
import type { Database } from '../../src/platform/db/index.ts';
import { appError } from '../../src/platform/errors/index.ts';
import { all, type InventoryRow, localToday, type Queryable, Records, type RoomTypeRow } from './records.ts';

/**
 * A room type's nights in one range query, the ORM's `findAll({ where: { roomTypeId, date: between } })`,
 * matched to the nights in JavaScript (a missing row stays undefined).
 */
async function nightRows(db: Queryable, roomTypeId: number, nights: string[]) {
  if (nights.length === 0) return [];
  const rows = await all<InventoryRow>(
    db,
    'SELECT * FROM room_inventory WHERE room_type_id = $1 AND date BETWEEN $2 AND $3',
    [roomTypeId, nights[0], nights.at(-1)],
  );
  const byDate = new Map(rows.map((r) => [String(r.date), r]));
  return nights.map((date) => byDate.get(date));
}

/** Fewest free rooms and total price over the nights; a night without a row makes both unknown. */
function summarise(rows: (InventoryRow | undefined)[]) {
  const complete = rows.every((r) => r !== undefined);
  const present = rows.filter((r) => r !== undefined);
  const minAvailable = present.length > 0 ? Math.min(...present.map((r) => r.available_rooms)) : null;
  const total = present.reduce((sum, r) => sum + r.price_cents, 0);
  return { complete, minAvailable, total };
}

/**
 * Availability the ORM way: the hotel, its room types, then each room type's nights (N+1 over the
 * room types); the batch does the same per item, loading each room type and hotel by key.
 */
export const naiveAvailabilityRoutes: FastifyPluginAsyncTypebox<{ db: Database }> = async (app, { db }) => {
  app.get(
    '/hotels/:id/availability',
    {
      schema: { params: IdParams, querystring: HotelAvailabilityQuery, response: { 200: HotelAvailability } },
    },
    async (request) => {
      const hotelId = request.params.id;
      const { checkIn, checkOut, guests } = request.query;
      validateStay(checkIn, checkOut);
      const hotel = await new Records(db.pool).hotel(hotelId);
      if (!hotel?.is_active) throw appError('NOT_FOUND', `Hotel ${hotelId} not found`);
      assertNotPast(checkIn, localToday(hotel.timezone));
      const roomTypes = await all<RoomTypeRow>(
        db.pool,
        'SELECT * FROM room_types WHERE hotel_id = $1 ORDER BY base_price_cents, id',
        [hotelId],
      );
      const nights = nightsOf(checkIn, checkOut);
      const result = [];
      for (const rt of roomTypes) {
        const rows = await nightRows(db.pool, rt.id, nights);
        const { complete, minAvailable, total } = summarise(rows);
        result.push({
          roomTypeId: rt.id,
          name: rt.name,
          capacity: rt.capacity,
          fitsGuests: rt.capacity >= guests,
          available: rt.capacity >= guests && complete && (minAvailable ?? 0) > 0,
          roomsLeft: complete ? (minAvailable ?? 0) : 0,
          nights: nights.map((date, i) => ({
            date,
            priceCents: rows[i]?.price_cents ?? null,
            availableRooms: rows[i]?.available_rooms ?? null,
          })),
          totalCents: complete ? total : null,
        });
      }
      return { hotelId, checkIn, checkOut, guests, currency: hotel.currency, roomTypes: result };
    },
  );

  app.post(
    '/availability/batch',
    { schema: { body: BatchAvailabilityBody, response: { 200: BatchAvailabilityResponse } } },
    async (request) => {
      const { items, guests } = request.body;
      items.forEach((item, i) => {
        validateStay(item.checkIn, item.checkOut, `items.${i}`);
      });
      const records = new Records(db.pool);
      const data = [];
      for (const [i, item] of items.entries()) {
        const roomType = await records.roomType(item.roomTypeId);
        const hotel = roomType ? await records.hotel(roomType.hotel_id) : undefined;
        const base = { roomTypeId: item.roomTypeId, checkIn: item.checkIn, checkOut: item.checkOut };
        if (!roomType || !hotel?.is_active) {
          // The real statement has no nights to count here; its null roomsLeft is serialized as 0.
          data.push({ ...base, found: false, available: false, roomsLeft: 0, totalCents: null });
          continue;
        }
        assertNotPast(item.checkIn, localToday(hotel.timezone), `items.${i}.checkIn`);
        const rows = await nightRows(db.pool, roomType.id, nightsOf(item.checkIn, item.checkOut));
        const { complete, minAvailable, total } = summarise(rows);
        data.push({
          ...base,
          found: true,
          available: roomType.capacity >= guests && complete && (minAvailable ?? 0) > 0,
          roomsLeft: complete ? (minAvailable ?? 0) : 0,
          totalCents: complete ? total : null,
        });
      }
      return { data };
    },
  );
};
