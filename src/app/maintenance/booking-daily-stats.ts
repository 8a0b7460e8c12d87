import type { Database } from '../../platform/db/index.ts';
import { positiveInteger } from './job-options.ts';
import { maintenanceRepository } from './maintenance-repository.ts';

export interface AggregateDailyBookingStatsOptions {
  /**
   * How many closed days back to (re)compute, ending the day before the first open day (default 2:
   * a run a day apart re-checks the previous run's day too). A backfill passes more, up to 3660.
   */
  readonly days?: number;
}

export const AGGREGATE_DAYS = 2;
/**
 * Days per statement: a month of the medium seed's bookings (~35k) is well inside the statement
 * timeout, and a backfill commits month by month.
 */
const DAYS_PER_STATEMENT = 31;

/**
 * Computes the bookings report's measures (bookings, cancelled, nights, revenue) per check-in day,
 * hotel and currency for the last `days` closed days into booking_daily_stats, in one statement.
 * A day is closed once it is before every hotel's local today: no booking can start on it any more
 * and none that did can be cancelled, so its measures are final (completion changes none of them).
 * The admin bookings report then reads those days from the table and every other day (today, the
 * future, a past day never aggregated) live from bookings, with the same answer; re-running is
 * harmless. Returns the days written and the (day, hotel, currency) rows upserted.
 *
 * @example
 * await aggregateDailyBookingStats(db); // nightly
 * await aggregateDailyBookingStats(db, { days: 366 }); // once, to backfill the report's longest range
 */
export async function aggregateDailyBookingStats(
  db: Database,
  options: AggregateDailyBookingStatsOptions = {},
): Promise<{ days: number; rows: number }> {
  const days = positiveInteger('days', options.days ?? AGGREGATE_DAYS, 3660);
  const total = { days: 0, rows: 0 };
  // Oldest first, one statement per range of days, each committed on its own.
  for (let fromBack = days; fromBack >= 1; fromBack -= DAYS_PER_STATEMENT) {
    const toBack = Math.max(fromBack - DAYS_PER_STATEMENT + 1, 1);
    // A transaction only for its retry: two runs upserting the same rows can deadlock.
    const done = await db.transaction((tx) =>
      maintenanceRepository(tx).aggregateDailyStats(fromBack, toBack),
    );
    total.days += done.days;
    total.rows += done.rows;
  }
  return total;
}
