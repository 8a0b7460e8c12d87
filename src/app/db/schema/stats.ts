import { bigint, char, date, integer, pgTable, primaryKey, timestamp } from 'drizzle-orm/pg-core';
import { hotels } from './hotels.ts';

/**
 * The days booking_daily_stats holds, written in the same statement as their rows: a day listed here
 * is answered from the table (no row for a hotel means no booking there that day), any other day
 * live. Deleting a day deletes its rows (the foreign key cascades), so the report never adds a day's
 * rows to the same day computed live.
 */
export const bookingStatsDays = pgTable('booking_stats_days', {
  day: date('day', { mode: 'string' }).primaryKey(),
  aggregatedAt: timestamp('aggregated_at', { withTimezone: true }).notNull().defaultNow(),
});

/**
 * The bookings report's measures per check-in day, hotel and currency, for closed days only (see
 * src/app/maintenance/booking-daily-stats.ts): the admin report reads the days listed in
 * booking_stats_days from here and every other day live from bookings.
 */
export const bookingDailyStats = pgTable(
  'booking_daily_stats',
  {
    /** The check-in day (bookings.start_date, a hotel-local date). */
    day: date('day', { mode: 'string' })
      .notNull()
      .references(() => bookingStatsDays.day, { onDelete: 'cascade' }),
    hotelId: integer('hotel_id')
      .notNull()
      .references(() => hotels.id),
    currency: char('currency', { length: 3 }).notNull(),
    /** Bookings checking in that day, cancelled ones included. */
    bookings: integer('bookings').notNull(),
    cancelled: integer('cancelled').notNull(),
    /** Room nights of the bookings not cancelled. */
    nights: integer('nights').notNull(),
    /** Revenue of the bookings not cancelled. */
    revenueCents: bigint('revenue_cents', { mode: 'number' }).notNull(),
    aggregatedAt: timestamp('aggregated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    // the bookings report over a range of days (any grouping); the aggregation's upsert key.
    primaryKey({ name: 'booking_daily_stats_pk', columns: [t.day, t.hotelId, t.currency] }),
  ],
);
