import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { addDays, daysBetween, validateRange } from '../../src/app/common/stay.ts';
import {
  BookingsReport,
  BookingsReportQuery,
  type BookingsReportRow,
  MAX_REPORT_DAYS,
  MAX_REPORT_ROWS,
  OccupancyQuery,
  OccupancyReport,
} from '../../src/app/reports/report-schema.ts';
import type { Database } from '../../src/platform/db/index.ts';
import { appError } from '../../src/platform/errors/index.ts';
import type { NaiveAuth } from './auth.ts';
import {
  all,
  type BookingRow,
  type HotelRow,
  type InventoryRow,
  type Queryable,
  Records,
  type RoomTypeRow,
  roundRatio,
} from './records.ts';

/** Ids per `WHERE id IN (...)`, as ORMs split an eager load (PostgreSQL takes at most 65,535 parameters). */
const IN_CHUNK = 1000;

interface Measures {
  bookings: number;
  cancelled: number;
  nights: number;
  revenueCents: number;
}

function add(m: Measures, b: BookingRow): void {
  m.bookings += 1;
  if (b.status === 'cancelled') {
    m.cancelled += 1;
  } else {
    m.nights += daysBetween(b.start_date, b.end_date);
    m.revenueCents += b.total_cents;
  }
}

const empty = (): Measures => ({ bookings: 0, cancelled: 0, nights: 0, revenueCents: 0 });

/** Codepoint order, as PostgreSQL compares text under the C collation. */
const byText = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/**
 * The hotels of these ids. Batched: an ORM's eager `include` loads them with `WHERE id IN (...)`;
 * loading every hotel of a year's bookings one by one is not what anyone writes.
 */
async function hotelsById(db: Queryable, ids: number[]): Promise<Map<number, HotelRow>> {
  const hotels = new Map<number, HotelRow>();
  for (let i = 0; i < ids.length; i += IN_CHUNK) {
    const chunk = ids.slice(i, i + IN_CHUNK);
    const rows = await all<HotelRow>(
      db,
      `SELECT * FROM hotels WHERE id IN (${chunk.map((_, k) => `$${k + 1}`).join(', ')})`,
      chunk,
    );
    for (const h of rows) hotels.set(h.id, h);
  }
  return hotels;
}

/** Every booking of the range loaded, then grouped and summed in JavaScript. */
async function bookingsReport(
  db: Queryable,
  groupBy: 'day' | 'hotel' | 'city',
  from: string,
  to: string,
): Promise<BookingsReportRow[]> {
  const bookings = await all<BookingRow>(db, 'SELECT * FROM bookings WHERE start_date BETWEEN $1 AND $2', [
    from,
    to,
  ]);
  if (groupBy === 'day') {
    const groups = new Map<string, { key: string; currency: string } & Measures>();
    for (const b of bookings) {
      const id = `${b.start_date}|${b.currency}`;
      let g = groups.get(id);
      if (!g) {
        g = { key: b.start_date, currency: b.currency, ...empty() };
        groups.set(id, g);
      }
      add(g, b);
    }
    return [...groups.values()].sort((a, b) => byText(a.key, b.key) || byText(a.currency, b.currency));
  }

  const perHotel = new Map<string, { hotelId: number; currency: string } & Measures>();
  for (const b of bookings) {
    const id = `${b.hotel_id}|${b.currency}`;
    let g = perHotel.get(id);
    if (!g) {
      g = { hotelId: b.hotel_id, currency: b.currency, ...empty() };
      perHotel.set(id, g);
    }
    add(g, b);
  }
  const hotelGroups = [...perHotel.values()];
  const hotels = await hotelsById(db, [...new Set(hotelGroups.map((g) => g.hotelId))]);

  if (groupBy === 'hotel') {
    return hotelGroups
      .sort(
        (a, b) => b.revenueCents - a.revenueCents || a.hotelId - b.hotelId || byText(a.currency, b.currency),
      )
      .map(({ hotelId, currency, ...m }) => ({
        key: String(hotelId),
        hotelId,
        hotelName: hotels.get(hotelId)?.name ?? '',
        currency,
        ...m,
      }));
  }

  const perCity = new Map<string, { key: string; country: string; currency: string } & Measures>();
  for (const g of hotelGroups) {
    const hotel = hotels.get(g.hotelId);
    if (!hotel) continue;
    const id = JSON.stringify([hotel.city, hotel.country, g.currency]);
    let c = perCity.get(id);
    if (!c) {
      c = { key: hotel.city, country: hotel.country, currency: g.currency, ...empty() };
      perCity.set(id, c);
    }
    c.bookings += g.bookings;
    c.cancelled += g.cancelled;
    c.nights += g.nights;
    c.revenueCents += g.revenueCents;
  }
  return [...perCity.values()].sort(
    (a, b) =>
      b.revenueCents - a.revenueCents ||
      byText(a.key, b.key) ||
      byText(a.country, b.country) ||
      byText(a.currency, b.currency),
  );
}

/** Mounted at /api/admin; admins only. */
export const naiveReportRoutes: FastifyPluginAsyncTypebox<{ db: Database; auth: NaiveAuth }> = async (
  app,
  { db, auth },
) => {
  app.get(
    '/reports/bookings',
    {
      onRequest: auth.requireAdmin,
      schema: { querystring: BookingsReportQuery, response: { 200: BookingsReport } },
    },
    async (request) => {
      const { from, to, groupBy } = request.query;
      validateRange(from, to, MAX_REPORT_DAYS);
      const rows = await bookingsReport(db.pool, groupBy, from, to);
      return {
        from,
        to,
        groupBy,
        rows: rows.slice(0, MAX_REPORT_ROWS),
        truncated: rows.length > MAX_REPORT_ROWS,
      };
    },
  );

  app.get(
    '/reports/occupancy',
    {
      onRequest: auth.requireAdmin,
      schema: { querystring: OccupancyQuery, response: { 200: OccupancyReport } },
    },
    async (request) => {
      const { hotelId, from, to } = request.query;
      validateRange(from, to, MAX_REPORT_DAYS);
      const hotel = await new Records(db.pool).hotel(hotelId);
      if (!hotel) throw appError('NOT_FOUND', `Hotel ${hotelId} not found`);
      const roomTypes = await all<RoomTypeRow>(db.pool, 'SELECT * FROM room_types WHERE hotel_id = $1', [
        hotelId,
      ]);
      const totalRooms = roomTypes.reduce((sum, rt) => sum + rt.total_rooms, 0);
      const booked = new Map<string, number>();
      // N+1: each room type's inventory of the range, summed per day in JavaScript.
      for (const rt of roomTypes) {
        const nights = await all<InventoryRow>(
          db.pool,
          'SELECT * FROM room_inventory WHERE room_type_id = $1 AND date BETWEEN $2 AND $3',
          [rt.id, from, to],
        );
        for (const n of nights) {
          booked.set(n.date, (booked.get(n.date) ?? 0) + Math.max(rt.total_rooms - n.available_rooms, 0));
        }
      }
      const rows = [];
      let bookedNights = 0;
      for (let day = from; day <= to; day = addDays(day, 1)) {
        const bookedRooms = booked.get(day) ?? 0;
        bookedNights += bookedRooms;
        rows.push({
          date: day,
          totalRooms,
          bookedRooms,
          occupancy: totalRooms > 0 ? roundRatio(bookedRooms, totalRooms, 4) : 0,
        });
      }
      const totalNights = totalRooms * rows.length;
      const average = totalNights > 0 ? roundRatio(bookedNights, totalNights, 4) : 0;
      return { hotelId, from, to, rows, average };
    },
  );
};
