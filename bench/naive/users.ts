import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { addDays } from '../../src/app/common/stay.ts';
import { DASHBOARD_LIMITS, Dashboard } from '../../src/app/users/dashboard-schema.ts';
import type { WaitlistStatus } from '../../src/app/waitlist/waitlist-schema.ts';
import type { Database } from '../../src/platform/db/index.ts';
import type { NaiveAuth } from './auth.ts';
import {
  all,
  type BookingRow,
  jsonTimestamp,
  localToday,
  Records,
  type ReviewRow,
  rawTimestamps,
  utcToday,
} from './records.ts';

interface WaitlistRow {
  readonly id: number;
  readonly room_type_id: number;
  readonly start_date: string;
  readonly end_date: string;
  readonly guests: number;
  readonly status: WaitlistStatus;
  readonly offered_at: string | null;
  readonly offer_expires_at: string | null;
  readonly created_at: string;
}

/**
 * The dashboard as three ORM lists with lazily loaded relations: my active bookings (kept while their
 * stay has not ended in the hotel's time zone), my active waitlist entries and my latest reviews.
 */
export const naiveUserRoutes: FastifyPluginAsyncTypebox<{ db: Database; auth: NaiveAuth }> = async (
  app,
  { db, auth },
) => {
  app.get(
    '/me/dashboard',
    { onRequest: auth.authenticate, schema: { response: { 200: Dashboard } } },
    async (request) => {
      const userId = auth.user(request).id;
      const records = new Records(db.pool);

      // Whether a stay has ended depends on its hotel's zone, which is at most one day behind UTC's
      // date: the query keeps everything from yesterday (UTC), the exact test needs the hotel.
      const active = await all<BookingRow>(
        db.pool,
        `SELECT * FROM bookings WHERE user_id = $1 AND status IN ('confirmed', 'pending') AND end_date >= $2
         ORDER BY start_date, id`,
        [userId, addDays(utcToday(), -1)],
      );
      const upcomingBookings = [];
      for (const b of active) {
        if (upcomingBookings.length === DASHBOARD_LIMITS.upcomingBookings) break;
        const hotel = await records.hotel(b.hotel_id);
        if (!hotel || b.end_date < localToday(hotel.timezone)) continue;
        const roomType = await records.roomType(b.room_type_id);
        upcomingBookings.push({
          id: b.id,
          checkIn: b.start_date,
          checkOut: b.end_date,
          guests: b.guests,
          status: b.status as 'confirmed' | 'pending',
          totalCents: b.total_cents,
          currency: b.currency,
          hotel: { id: hotel.id, name: hotel.name, city: hotel.city },
          roomType: { id: b.room_type_id, name: roomType?.name ?? '' },
        });
      }

      const entries = await all<WaitlistRow>(
        db.pool,
        `SELECT * FROM waitlist WHERE user_id = $1 AND status IN ('waiting', 'offered')
         ORDER BY start_date, id LIMIT $2`,
        [userId, DASHBOARD_LIMITS.waitlist],
        rawTimestamps,
      );
      const waitlist = [];
      for (const w of entries) {
        const roomType = await records.roomType(w.room_type_id);
        const hotel = roomType ? await records.hotel(roomType.hotel_id) : undefined;
        if (!roomType || !hotel) continue;
        waitlist.push({
          id: w.id,
          roomTypeId: w.room_type_id,
          hotelId: hotel.id,
          hotelName: hotel.name,
          roomTypeName: roomType.name,
          checkIn: w.start_date,
          checkOut: w.end_date,
          guests: w.guests,
          status: w.status,
          offeredAt: jsonTimestamp(w.offered_at),
          offerExpiresAt: jsonTimestamp(w.offer_expires_at),
          createdAt: jsonTimestamp(w.created_at),
        });
      }

      const reviews = await all<ReviewRow<string>>(
        db.pool,
        `SELECT * FROM reviews WHERE user_id = $1 AND entity_type = 'hotel'
         ORDER BY created_at DESC, id DESC LIMIT $2`,
        [userId, DASHBOARD_LIMITS.recentReviews],
        rawTimestamps,
      );
      const recentReviews = [];
      for (const r of reviews) {
        const hotel = await records.hotel(r.entity_id);
        if (!hotel) continue;
        recentReviews.push({
          id: r.id,
          rating: r.rating,
          title: r.title,
          createdAt: jsonTimestamp(r.created_at),
          hotel: { id: hotel.id, name: hotel.name },
        });
      }
      // The schema's status union is built with map(), which TypeScript reads as never.
      return { upcomingBookings, waitlist, recentReviews } as Dashboard;
    },
  );
};
