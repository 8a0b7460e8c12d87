import type { SeedContext } from './sql.ts';
import { exec, pick, pickText, SALT, utc } from './sql.ts';
import { TRIP_NAMES } from './words.ts';

const NOTIFICATION_SHARE = 0.1;

/** Trips built around existing bookings (half upcoming, half past), which then point at their trip. */
export async function seedTrips(ctx: SeedContext): Promise<number> {
  const { u, size } = ctx;
  const upcoming = Math.ceil(size.trips / 2);
  await exec(
    ctx,
    'trip plan',
    `CREATE TEMP TABLE seed_trip ON COMMIT DROP AS
     SELECT row_number() OVER (ORDER BY s.booking_id)::int AS trip_id, s.booking_id
     FROM (
       (SELECT id AS booking_id FROM bookings WHERE status = 'confirmed'
        ORDER BY ${u('id', SALT.trip)}, id LIMIT ${upcoming})
       UNION ALL
       (SELECT id FROM bookings WHERE status = 'completed'
        ORDER BY ${u('id', SALT.trip)}, id LIMIT ${size.trips - upcoming})
     ) AS s`,
  );
  const trips = await exec(
    ctx,
    'trips',
    `INSERT INTO trips (id, user_id, name, status, start_date, end_date, created_at, updated_at)
     OVERRIDING SYSTEM VALUE
     SELECT t.trip_id, b.user_id, replace(${pickText(TRIP_NAMES, u('t.trip_id', SALT.tripName))}, '%', h.city),
       CASE WHEN b.status = 'confirmed' THEN 'planned' ELSE 'completed' END,
       b.start_date, b.end_date, b.created_at - interval '1 hour', b.updated_at
     FROM seed_trip t
     JOIN bookings b ON b.id = t.booking_id
     JOIN hotels h ON h.id = b.hotel_id
     ORDER BY t.trip_id`,
  );
  await exec(
    ctx,
    'link trips',
    'UPDATE bookings b SET trip_id = t.trip_id FROM seed_trip t WHERE b.id = t.booking_id',
  );
  return trips;
}

/** Other users waiting for the same room type and dates as some upcoming bookings (one entry each). */
export async function seedWaitlist(ctx: SeedContext): Promise<number> {
  const { u, todaySql: today, size } = ctx;
  return exec(
    ctx,
    'waitlist',
    `INSERT INTO waitlist (id, user_id, room_type_id, start_date, end_date, guests, status, offered_at, created_at)
     OVERRIDING SYSTEM VALUE
     SELECT row_number() OVER (ORDER BY b.id)::int,
       2 + (b.user_id - 2 + 1 + ${pick(u('b.id', SALT.waitlistUser), size.users - 1)}) % ${size.users},
       b.room_type_id, b.start_date, b.end_date, b.guests, 'waiting', NULL,
       ${utc(`${today}::timestamp - make_interval(secs => floor(${u('b.id', SALT.waitlistCreated)} * 3 * 86400))`)}
     FROM (SELECT * FROM bookings WHERE status = 'confirmed'
           ORDER BY ${u('id', SALT.waitlist)}, id LIMIT ${size.waitlist}) AS b
     -- A user may hold one active entry per room type and stay (waitlist_user_active_uq).
     ON CONFLICT DO NOTHING`,
  );
}

/** One pay-at-property payment per booking; it follows the booking's status. */
export async function seedPayments(ctx: SeedContext): Promise<number> {
  return exec(
    ctx,
    'payments',
    `INSERT INTO payments (id, booking_id, user_id, amount_cents, currency, provider, provider_ref, status,
       created_at, updated_at)
     OVERRIDING SYSTEM VALUE
     SELECT id, id, user_id, total_cents, currency, 'pay_at_property', NULL,
       CASE status WHEN 'confirmed' THEN 'due_at_property' WHEN 'completed' THEN 'captured' ELSE 'cancelled' END,
       created_at, updated_at
     FROM bookings
     ORDER BY id`,
  );
}

/**
 * About one notification per ten bookings: queued reminders for stays starting in two days or more,
 * already-sent confirmations, cancellations and review requests for the rest.
 */
export async function seedNotifications(ctx: SeedContext): Promise<number> {
  const { u, todaySql: today } = ctx;
  return exec(
    ctx,
    'notifications',
    `INSERT INTO notifications (id, user_id, type, channel, payload, status, attempts, scheduled_at, sent_at,
       created_at)
     OVERRIDING SYSTEM VALUE
     SELECT row_number() OVER (ORDER BY b.id), b.user_id, n.type, 'email',
       jsonb_build_object('bookingId', b.id, 'hotelId', b.hotel_id, 'startDate', b.start_date),
       CASE WHEN n.type = 'booking_reminder' THEN 'queued' ELSE 'sent' END,
       CASE WHEN n.type = 'booking_reminder' THEN 0 ELSE 1 END,
       n.scheduled_at,
       CASE WHEN n.type <> 'booking_reminder' THEN n.scheduled_at + interval '4 seconds' END,
       CASE WHEN n.type = 'booking_reminder' THEN b.created_at ELSE n.scheduled_at END
     FROM bookings b
     CROSS JOIN LATERAL (SELECT
       CASE
         WHEN b.status = 'confirmed' AND b.start_date >= ${today} + 2 THEN 'booking_reminder'
         WHEN b.status = 'confirmed' THEN 'booking_confirmed'
         WHEN b.status = 'completed' THEN 'review_request'
         ELSE 'booking_cancelled' END AS type,
       CASE
         WHEN b.status = 'confirmed' AND b.start_date >= ${today} + 2
           THEN ${utc(`(b.start_date - 1)::timestamp + interval '9 hours'`)}
         WHEN b.status = 'confirmed' THEN b.created_at
         WHEN b.status = 'completed'
           THEN ${utc(`least(b.end_date::timestamp + interval '10 hours', ${today}::timestamp)`)}
         ELSE b.cancelled_at END AS scheduled_at) AS n
     WHERE ${u('b.id', SALT.notification)} < ${NOTIFICATION_SHARE}
     ORDER BY b.id`,
  );
}
