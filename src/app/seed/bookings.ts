import type { SeedContext } from './sql.ts';
import { exec, nightlyPrice, SALT, utc } from './sql.ts';

const FUTURE_SHARE = 0.2;
const FUTURE_CANCELLED_SHARE = 0.08;
const PAST_CANCELLED_SHARE = 0.1;
const PAST_DAYS = 730;
const MAX_NIGHTS = 7;

/**
 * Bookings, spread over room types by hotel popularity (Zipf) times room count, so a few hotels get
 * most of them. About 20% start within the inventory window; the rest are past stays.
 */
export async function seedBookings(ctx: SeedContext): Promise<number> {
  const { u, todaySql: today, size } = ctx;
  await exec(
    ctx,
    'booking plan',
    `CREATE TEMP TABLE seed_rt ON COMMIT DROP AS
     SELECT p.*, (sum(p.n) OVER (ORDER BY p.id) - p.n)::bigint AS first_booking
     FROM (
       SELECT rt.id, rt.hotel_id, rt.capacity, rt.base_price_cents AS base, h.currency, m.is_active,
         -- Numeric weights: an exact sum, so the allocation does not depend on summation order.
         floor(${size.bookings} * m.weight * rt.total_rooms / sum(m.weight * rt.total_rooms) OVER ()
           + ${u('rt.id', SALT.allocation)})::int AS n
       FROM room_types rt
       JOIN seed_hotel m ON m.hotel_id = rt.hotel_id
       JOIN hotels h ON h.id = rt.hotel_id
     ) AS p;
     ANALYZE seed_rt;`,
  );
  const key = 'k.key';
  const days = size.inventoryDays;
  const totalFuture = `(SELECT sum(${nightlyPrice('z.base', 'z.start_date + g')})
    FROM generate_series(0, z.nights - 1) AS g)::int`;
  return exec(
    ctx,
    'bookings',
    `INSERT INTO bookings (id, user_id, hotel_id, room_type_id, start_date, end_date, guests, status, total_cents,
       currency, cancelled_at, created_at, updated_at)
     OVERRIDING SYSTEM VALUE
     SELECT row_number() OVER (ORDER BY z.created_ts, z.key)::int, z.user_id, z.hotel_id, z.room_type_id,
       z.start_date, z.start_date + z.nights, z.guests, z.status,
       CASE WHEN z.future THEN ${totalFuture} ELSE z.base * z.nights END,
       z.currency, ${utc('z.cancelled_ts')}, ${utc('z.created_ts')},
       ${utc(`CASE z.status WHEN 'cancelled' THEN z.cancelled_ts
         WHEN 'completed' THEN least((z.start_date + z.nights)::timestamp + interval '11 hours', ${today}::timestamp)
         ELSE z.created_ts END`)}
     FROM (
       SELECT y.*,
         CASE WHEN y.status = 'cancelled'
           THEN date_trunc('second', y.created_ts + (least(y.start_date, ${today})::timestamp - y.created_ts) * y.r_cancel)
         END AS cancelled_ts
       FROM (
         SELECT x.*,
           CASE WHEN x.future
             THEN CASE WHEN x.r_status < ${FUTURE_CANCELLED_SHARE} THEN 'cancelled' ELSE 'confirmed' END
             ELSE CASE WHEN x.r_status < ${PAST_CANCELLED_SHARE} THEN 'cancelled' ELSE 'completed' END
           END AS status,
           -- Future stays were booked in the last two months, past ones up to four months ahead.
           CASE WHEN x.future
             THEN ${today}::timestamp - make_interval(days => 1 + floor(x.r_lead * 59)::int)
             ELSE x.start_date::timestamp - make_interval(days => 1 + floor(x.r_lead * x.r_lead * 120)::int)
           END + make_interval(secs => floor(x.r_time * 86400)) AS created_ts
         FROM (
           SELECT w.*,
             CASE WHEN w.future THEN ${today} + floor(w.r_when * (${days} - w.nights + 1))::int
               ELSE ${today} - w.nights - floor(w.r_when * ${PAST_DAYS})::int END AS start_date
           FROM (
             SELECT ${key} AS key, a.id AS room_type_id, a.hotel_id, a.base, a.currency,
               1 + floor(power(${u(key, SALT.nights)}, 2) * ${MAX_NIGHTS})::int AS nights,
               -- Deactivated hotels keep their history but take no new stays.
               a.is_active AND ${u(key, SALT.future)} < ${FUTURE_SHARE} AS future,
               ${u(key, SALT.when)} AS r_when,
               ${u(key, SALT.status)} AS r_status,
               ${u(key, SALT.lead)} AS r_lead,
               ${u(key, SALT.timeOfDay)} AS r_time,
               ${u(key, SALT.cancel)} AS r_cancel,
               2 + floor(${size.users} * power(${u(key, SALT.bookingUser)}, 1.3))::int AS user_id,
               1 + floor(${u(key, SALT.guests)} * a.capacity)::int AS guests
             FROM seed_rt a
             CROSS JOIN LATERAL generate_series(1, a.n) AS j
             -- A dense ordinal, not (room type, j) packed into 64 bits: hashint8 folds the high half
             -- onto the low one, which made such keys collide.
             CROSS JOIN LATERAL (SELECT a.first_booking + j AS key) AS k
             OFFSET 0 -- computes each draw once instead of inlining it into every reference
           ) AS w
         ) AS x
       ) AS y
     ) AS z`,
  );
}

/**
 * room_inventory for the window, with available_rooms = total_rooms - confirmed stays covering the
 * night. Room types the skew overbooked first get total_rooms raised to their peak (never fewer
 * bookings), plus a margin of 0-2 so some popular nights stay sold out.
 */
export async function seedInventory(ctx: SeedContext): Promise<{ rows: number; raised: number }> {
  const { u, todaySql: today, size } = ctx;
  await exec(
    ctx,
    'booked nights',
    `CREATE TEMP TABLE seed_booked ON COMMIT DROP AS
     SELECT b.room_type_id, b.start_date + g AS night, count(*)::int AS n
     FROM bookings b CROSS JOIN LATERAL generate_series(0, b.end_date - b.start_date - 1) AS g
     WHERE b.status = 'confirmed' AND b.end_date > ${today}
       AND b.start_date + g >= ${today} AND b.start_date + g < ${today} + ${size.inventoryDays}
     GROUP BY 1, 2;
     ANALYZE seed_booked;`,
  );
  const raised = await exec(
    ctx,
    'raise overbooked room types',
    `UPDATE room_types rt SET total_rooms = p.peak + floor(${u('rt.id', SALT.overbookMargin)} * 3)::int
     FROM (SELECT room_type_id, max(n) AS peak FROM seed_booked GROUP BY 1) AS p
     WHERE p.room_type_id = rt.id AND p.peak > rt.total_rooms`,
  );
  await exec(
    ctx,
    'availability plan',
    `CREATE TEMP TABLE seed_avail ON COMMIT DROP AS
     SELECT rt.id, rt.total_rooms, rt.base_price_cents AS base, sb.offsets, sb.booked
     FROM room_types rt
     LEFT JOIN (SELECT room_type_id, array_agg(night - ${today} ORDER BY night) AS offsets,
                  array_agg(n ORDER BY night) AS booked
                FROM seed_booked GROUP BY room_type_id) AS sb ON sb.room_type_id = rt.id
     ORDER BY rt.id`,
  );
  // The set-returning function in the select list emits each room type's nights together, in id
  // order, so every room type's window ends up on one or two heap pages; a join here would hash
  // and sort millions of rows or lay the table out date by date.
  const rows = await exec(
    ctx,
    'room_inventory',
    `INSERT INTO room_inventory (room_type_id, date, available_rooms, price_cents)
     SELECT s.id, ${today} + s.d, s.total_rooms - coalesce(s.booked[array_position(s.offsets, s.d)], 0),
       ${nightlyPrice('s.base', `${today} + s.d`)}
     FROM (SELECT a.*, generate_series(0, ${size.inventoryDays - 1}) AS d FROM seed_avail a) AS s`,
  );
  return { rows, raised };
}
