/**
 * What the bookings report measures, shared by the live report (report-repository.ts) and the
 * nightly aggregation into booking_daily_stats (src/app/maintenance), so that a day read from the
 * table is the day computed live, by the same SQL.
 */

/**
 * Listing every status (the CHECK constraint's full set) filters nothing, but lets PostgreSQL walk
 * bookings_status_dates_idx (status, start_date, end_date) by start_date once per status.
 */
export const ANY_STATUS = `b.status IN ('pending', 'confirmed', 'cancelled', 'completed')`;

/** The measures over the bookings `b` of a group, named as the report returns them. */
export const MEASURES = `count(*) AS bookings,
       count(*) FILTER (WHERE b.status = 'cancelled') AS cancelled,
       COALESCE(sum(b.end_date - b.start_date) FILTER (WHERE b.status <> 'cancelled'), 0) AS nights,
       COALESCE(sum(b.total_cents) FILTER (WHERE b.status <> 'cancelled'), 0) AS "revenueCents"`;
