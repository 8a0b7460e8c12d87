import type { Queryable, RepositoryFactory } from '../../platform/db/index.ts';
import { ANY_STATUS, MEASURES } from './booking-measures.ts';
import type { BookingsReportRow, OccupancyReport, ReportGroup } from './report-schema.ts';

/**
 * The days of [$1, $2] booking_daily_stats does not hold (today, the future, and any past day not
 * aggregated yet), as an array: `start_date = ANY (...)` walks bookings_status_dates_idx once per
 * status and live day, so the days answered from the table cost no booking read at all.
 */
const LIVE_DAYS = `ARRAY(
  SELECT d::date FROM generate_series($1::date, $2::date, interval '1 day') d
  WHERE NOT EXISTS (SELECT 1 FROM booking_stats_days m WHERE m.day = d::date))`;

/**
 * The measures of the bookings checking in in [$1, $2] per `grain` and currency: the days listed in
 * booking_stats_days from booking_daily_stats (written by the same MEASURES, see
 * src/app/maintenance/booking-daily-stats.ts; a row's day is always listed, its foreign key
 * cascades), every other day live from bookings. Sums of bigint are numeric in PostgreSQL: cast
 * back, as the live count(*) and sums are bigint.
 */
function measuresBy(grain: 'day' | 'hotel_id'): string {
  const live = grain === 'day' ? 'b.start_date' : 'b.hotel_id';
  return `
  SELECT u.${grain}, u.currency, sum(u.bookings)::bigint AS bookings, sum(u.cancelled)::bigint AS cancelled,
         sum(u.nights)::bigint AS nights, sum(u."revenueCents")::bigint AS "revenueCents"
  FROM (
    SELECT s.${grain}, s.currency, sum(s.bookings) AS bookings, sum(s.cancelled) AS cancelled,
           sum(s.nights) AS nights, sum(s.revenue_cents) AS "revenueCents"
    FROM booking_daily_stats s
    WHERE s.day BETWEEN $1::date AND $2::date
    GROUP BY s.${grain}, s.currency
    UNION ALL
    SELECT ${live} AS ${grain}, b.currency, ${MEASURES}
    FROM bookings b
    WHERE ${ANY_STATUS} AND b.start_date = ANY (${LIVE_DAYS})
    GROUP BY ${live}, b.currency
  ) u
  GROUP BY u.${grain}, u.currency`;
}

/** One statement per grouping; `$3` is the row cap (plus one, to detect truncation). */
const BOOKINGS_SQL: Record<ReportGroup, string> = {
  day: `
SELECT to_char(g.day, 'YYYY-MM-DD') AS key, g.currency, g.bookings, g.cancelled, g.nights, g."revenueCents"
FROM (${measuresBy('day')}) g
ORDER BY g.day, g.currency
LIMIT $3`,
  hotel: `
SELECT g.hotel_id::text AS key, g.hotel_id AS "hotelId", h.name AS "hotelName", g.currency, g.bookings,
       g.cancelled, g.nights, g."revenueCents"
FROM (${measuresBy('hotel_id')}) g
JOIN hotels h ON h.id = g.hotel_id
ORDER BY g."revenueCents" DESC, g.hotel_id, g.currency
LIMIT $3`,
  // Aggregate per hotel first (a hash aggregate over ~20k groups), then roll hotels up into cities:
  // joining every booking to its hotel before grouping by city text was 3.5x slower on the medium seed.
  city: `
SELECT h.city AS key, h.country, g.currency, sum(g.bookings)::bigint AS bookings,
       sum(g.cancelled)::bigint AS cancelled, sum(g.nights)::bigint AS nights,
       sum(g."revenueCents")::bigint AS "revenueCents"
FROM (${measuresBy('hotel_id')}) g
JOIN hotels h ON h.id = g.hotel_id
GROUP BY h.city, h.country, g.currency
ORDER BY "revenueCents" DESC, h.city, h.country, g.currency
LIMIT $3`,
};

/**
 * Occupancy of one hotel per day, in one statement: total rooms are the sum of its room types'
 * total_rooms; booked rooms are total_rooms - available_rooms over the inventory rows of that day
 * (a night without an inventory row has nothing booked). No row when the hotel does not exist.
 */
const OCCUPANCY_SQL = `
WITH rt AS (
  SELECT id, total_rooms FROM room_types WHERE hotel_id = $1
), booked AS (
  SELECT i.date, sum(GREATEST(rt.total_rooms - i.available_rooms, 0)) AS rooms
  FROM rt
  JOIN room_inventory i ON i.room_type_id = rt.id AND i.date BETWEEN $2::date AND $3::date
  GROUP BY i.date
), days AS (
  SELECT d::date AS date, t.total, COALESCE(booked.rooms, 0) AS booked
  FROM generate_series($2::date, $3::date, interval '1 day') d
  CROSS JOIN (SELECT COALESCE(sum(total_rooms), 0) AS total FROM rt) t
  LEFT JOIN booked ON booked.date = d::date
)
SELECT h.id AS "hotelId",
       (SELECT json_agg(json_build_object(
                  'date', to_char(days.date, 'YYYY-MM-DD'), 'totalRooms', days.total,
                  'bookedRooms', days.booked,
                  'occupancy', CASE WHEN days.total > 0 THEN round(days.booked::numeric / days.total, 4) ELSE 0 END)
                ORDER BY days.date)
        FROM days) AS rows,
       (SELECT CASE WHEN sum(days.total) > 0 THEN round(sum(days.booked)::numeric / sum(days.total), 4) ELSE 0 END
        FROM days) AS average
FROM hotels h
WHERE h.id = $1`;

/** SQL for the admin reports; every aggregate is computed by PostgreSQL. */
export class ReportRepository {
  readonly #db: Queryable;
  constructor(db: Queryable) {
    this.#db = db;
  }

  /** Returns up to `limit + 1` rows, so the caller can tell whether the report was cut. */
  async bookings(
    groupBy: ReportGroup,
    from: string,
    to: string,
    limit: number,
  ): Promise<BookingsReportRow[]> {
    const { rows } = await this.#db.query<BookingsReportRow>({
      name: `reports_bookings_by_${groupBy}`,
      text: BOOKINGS_SQL[groupBy],
      values: [from, to, limit + 1],
    });
    return rows;
  }

  async occupancy(
    hotelId: number,
    from: string,
    to: string,
  ): Promise<Pick<OccupancyReport, 'rows' | 'average'> | null> {
    const { rows } = await this.#db.query<Pick<OccupancyReport, 'rows' | 'average'>>({
      name: 'reports_occupancy',
      text: OCCUPANCY_SQL,
      values: [hotelId, from, to],
    });
    return rows[0] ?? null;
  }
}

/** Builds the repository on a pool, connection or transaction (the composition root wires it in). */
export const reportRepository: RepositoryFactory<ReportRepository> = (db) => new ReportRepository(db);
