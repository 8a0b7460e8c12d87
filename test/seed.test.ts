import assert from 'node:assert/strict';
import { scryptSync, timingSafeEqual } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type pg from 'pg';
import type { SeedProgress, SeedResult } from '../src/app/seed/seed.ts';
import { isDatabaseEmpty, resetDemoData, seedDatabase } from '../src/app/seed/seed.ts';
import type { TestDatabase } from './support/database.ts';
import { createTestDatabase } from './support/database.ts';
import { ensureTestServer } from './support/test-server.ts';

const TODAY = '2025-03-10';
const IN_60_DAYS = '2025-05-09';

const CHECKSUMS = {
  hotels: "SELECT md5(string_agg(t::text, ',' ORDER BY id)) AS sum FROM hotels t",
  room_types: "SELECT md5(string_agg(t::text, ',' ORDER BY id)) AS sum FROM room_types t",
  bookings: "SELECT md5(string_agg(t::text, ',' ORDER BY id)) AS sum FROM bookings t",
  room_inventory:
    "SELECT md5(string_agg(t::text, ',' ORDER BY room_type_id, date)) AS sum FROM room_inventory t",
  users: "SELECT md5(string_agg(t::text, ',' ORDER BY id)) AS sum FROM users t",
  reviews: "SELECT md5(string_agg(t::text, ',' ORDER BY id)) AS sum FROM reviews t",
};

async function checksums(pool: pg.Pool): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const [table, sql] of Object.entries(CHECKSUMS)) {
    const { rows } = await pool.query<{ sum: string }>(sql);
    out[table] = rows[0]!.sum;
  }
  return out;
}

async function one<T>(pool: pg.Pool, sql: string, values?: unknown[]): Promise<T> {
  const { rows } = await pool.query(sql, values);
  return rows[0] as T;
}

describe('seedDatabase (small scale)', () => {
  let a: TestDatabase;
  let b: TestDatabase;
  let result: SeedResult;
  let sumsA: Record<string, string>;
  const progress: SeedProgress[] = [];
  let stopServer: () => Promise<void>;

  before(async () => {
    stopServer = await ensureTestServer();
    [a, b] = await Promise.all([createTestDatabase(), createTestDatabase()]);
    result = await seedDatabase(a.pool, {
      scale: 'small',
      seed: 42,
      today: TODAY,
      onProgress: (p) => progress.push(p),
    });
    sumsA = await checksums(a.pool);
  });

  after(async () => {
    await Promise.all([a?.drop(), b?.drop()]);
    await stopServer?.();
  });

  it('when seeding twice with the same seed and today, then the rows are identical, ids included', async () => {
    await seedDatabase(b.pool, { scale: 'small', seed: 42, today: TODAY });
    assert.deepEqual(await checksums(b.pool), sumsA);
  });

  it('when seeding with another seed, then the data differs', async () => {
    await resetDemoData(b.pool);
    await seedDatabase(b.pool, { scale: 'small', seed: 7, today: TODAY });
    const other = await checksums(b.pool);
    for (const table of Object.keys(CHECKSUMS)) assert.notEqual(other[table], sumsA[table], table);
  });

  it('when seeded, then progress was reported step by step up to the total', () => {
    assert.ok(progress.length >= 5);
    progress.forEach((p, i) => {
      assert.equal(p.done, i + 1);
      assert.equal(p.total, progress.length);
    });
    assert.equal(progress.at(-1)?.step, 'analyze');
  });

  it('when seeded, then the row counts are in the expected ranges and match the result', async () => {
    const counts = await one<Record<string, number>>(
      a.pool,
      `SELECT (SELECT count(*) FROM hotels) AS hotels, (SELECT count(*) FROM room_types) AS room_types,
         (SELECT count(*) FROM users) AS users, (SELECT count(*) FROM bookings) AS bookings,
         (SELECT count(*) FROM room_inventory) AS room_inventory, (SELECT count(*) FROM reviews) AS reviews,
         (SELECT count(*) FROM payments) AS payments, (SELECT count(*) FROM notifications) AS notifications,
         (SELECT count(*) FROM price_history) AS price_history, (SELECT count(*) FROM trips) AS trips,
         (SELECT count(*) FROM waitlist) AS waitlist`,
    );
    for (const [table, n] of Object.entries(counts)) assert.equal(result.counts[table], n, table);
    assert.equal(counts.hotels, 1_000);
    assert.ok(counts.room_types! >= 3_600 && counts.room_types! <= 4_400, `room_types ${counts.room_types}`);
    assert.equal(counts.users, 2_001);
    assert.ok(counts.bookings! >= 19_000 && counts.bookings! <= 21_000, `bookings ${counts.bookings}`);
    assert.equal(counts.room_inventory, counts.room_types! * 60);
    assert.ok(counts.reviews! >= 9_000 && counts.reviews! <= 10_000, `reviews ${counts.reviews}`);
    assert.equal(counts.payments, counts.bookings);
    assert.ok(Math.abs(counts.notifications! - counts.bookings! / 10) < counts.bookings! / 50);
    assert.ok(counts.price_history! >= counts.room_types! && counts.price_history! <= counts.room_types! * 8);
    assert.ok(counts.trips! > 0 && counts.waitlist! > 0);

    const mix = await one<{ future: number; past: number; inactive: number }>(
      a.pool,
      `SELECT avg((start_date >= $1::date)::int)::float8 AS future, avg((end_date <= $1::date)::int)::float8 AS past,
         (SELECT avg((NOT is_active)::int)::float8 FROM hotels) AS inactive
       FROM bookings`,
      [TODAY],
    );
    assert.ok(mix.future > 0.15 && mix.future < 0.25, `future share ${mix.future}`);
    assert.equal(mix.future + mix.past, 1);
    assert.ok(mix.inactive > 0.01 && mix.inactive < 0.06, `inactive share ${mix.inactive}`);
  });

  it('when seeded, then every inventory row equals total_rooms minus the confirmed stays covering that night', async () => {
    const window = await one<{ min: string; max: string; per_room_type: number; room_types: number }>(
      a.pool,
      `SELECT min(date)::text AS min, max(date)::text AS max, count(*) / count(DISTINCT room_type_id) AS per_room_type,
         (SELECT count(*) FROM room_types) - count(DISTINCT room_type_id) AS room_types
       FROM room_inventory`,
    );
    assert.deepEqual(window, { min: TODAY, max: '2025-05-08', per_room_type: 60, room_types: 0 });
    const check = await one<{ mismatched: number; negative: number; outside: number }>(
      a.pool,
      `WITH booked AS (
         SELECT b.room_type_id, d::date AS night, count(*) AS n
         FROM bookings b CROSS JOIN generate_series(b.start_date, b.end_date - 1, interval '1 day') AS d
         WHERE b.status = 'confirmed' GROUP BY 1, 2)
       SELECT count(*) FILTER (WHERE ri.available_rooms <> rt.total_rooms - coalesce(bk.n, 0)) AS mismatched,
         count(*) FILTER (WHERE ri.available_rooms < 0) AS negative,
         (SELECT count(*) FROM booked WHERE night < $1::date OR night >= $2::date) AS outside
       FROM room_inventory ri
       JOIN room_types rt ON rt.id = ri.room_type_id
       LEFT JOIN booked bk ON bk.room_type_id = ri.room_type_id AND bk.night = ri.date`,
      [TODAY, IN_60_DAYS],
    );
    assert.deepEqual(check, { mismatched: 0, negative: 0, outside: 0 });
  });

  it('when seeded, then bookings agree with their room type, hotel, dates and nightly prices', async () => {
    const bad = await one<Record<string, number>>(
      a.pool,
      `SELECT
         count(*) FILTER (WHERE rt.hotel_id <> b.hotel_id OR b.currency <> h.currency OR b.guests > rt.capacity)
           AS mismatched,
         count(*) FILTER (WHERE b.end_date - b.start_date NOT BETWEEN 1 AND 7) AS bad_length,
         count(*) FILTER (WHERE b.start_date >= $1::date AND (b.end_date > $2::date OR b.status NOT IN ('confirmed', 'cancelled')))
           AS bad_future,
         count(*) FILTER (WHERE b.start_date < $1::date AND (b.end_date > $1::date OR b.status NOT IN ('completed', 'cancelled')))
           AS bad_past,
         count(*) FILTER (WHERE b.start_date < $1::date AND b.total_cents <> rt.base_price_cents * (b.end_date - b.start_date))
           AS bad_past_total,
         count(*) FILTER (WHERE b.start_date >= $1::date AND b.total_cents <> (
           SELECT sum(ri.price_cents) FROM room_inventory ri
           WHERE ri.room_type_id = b.room_type_id AND ri.date >= b.start_date AND ri.date < b.end_date)) AS bad_future_total,
         count(*) FILTER (WHERE (b.status = 'cancelled') <> (b.cancelled_at IS NOT NULL)) AS bad_cancelled_at,
         count(*) FILTER (WHERE b.created_at >= $1::date) AS created_later,
         count(*) FILTER (WHERE p.amount_cents IS DISTINCT FROM b.total_cents OR p.user_id <> b.user_id
           OR p.provider <> 'pay_at_property') AS bad_payment
       FROM bookings b
       JOIN room_types rt ON rt.id = b.room_type_id
       JOIN hotels h ON h.id = b.hotel_id
       LEFT JOIN payments p ON p.booking_id = b.id`,
      [TODAY, IN_60_DAYS],
    );
    for (const [what, n] of Object.entries(bad)) assert.equal(n, 0, what);
  });

  it('when seeded, then hotel ratings, review counts and min prices match their rows', async () => {
    const bad = await one<{ rating: number; min_price: number; rated: number }>(
      a.pool,
      `SELECT
         (SELECT count(*) FROM hotels h
          LEFT JOIN (SELECT entity_id, round(avg(rating), 2) AS r, count(*) AS n FROM reviews
                     WHERE entity_type = 'hotel' GROUP BY entity_id) s ON s.entity_id = h.id
          WHERE h.rating <> coalesce(s.r, 0) OR h.review_count <> coalesce(s.n, 0)) AS rating,
         (SELECT count(*) FROM hotels h WHERE h.min_price_cents IS DISTINCT FROM
            (SELECT min(base_price_cents) FROM room_types WHERE hotel_id = h.id)) AS min_price,
         (SELECT count(*) FROM hotels WHERE review_count > 0) AS rated`,
    );
    assert.equal(bad.rating, 0);
    assert.equal(bad.min_price, 0);
    assert.ok(bad.rated > 100, `hotels with reviews: ${bad.rated}`);
  });

  it('when seeded, then every review is by a guest whose stay at that hotel began by the review and by today', async () => {
    // The rule POST /api/hotels/:id/reviews enforces, with the review's hotel-local date as "today".
    const check = await one<{ reviews: number; without_stay: number }>(
      a.pool,
      `SELECT count(*)::int AS reviews,
         count(*) FILTER (WHERE NOT EXISTS (
           SELECT 1 FROM bookings b
           WHERE b.user_id = r.user_id AND b.hotel_id = r.entity_id
             AND b.status IN ('pending', 'confirmed', 'completed')
             AND b.start_date <= (r.created_at AT TIME ZONE h.timezone)::date
             AND b.start_date <= $1::date))::int AS without_stay
       FROM reviews r
       JOIN hotels h ON h.id = r.entity_id
       WHERE r.entity_type = 'hotel'`,
      [TODAY],
    );
    assert.ok(check.reviews > 9_000, `reviews ${check.reviews}`);
    assert.equal(check.without_stay, 0);
  });

  it('when seeded, then the admin can log in with the documented password and new rows get fresh ids', async () => {
    const admin = await one<{ id: number; role: string; password_hash: string }>(
      a.pool,
      "SELECT id, role, password_hash FROM users WHERE email = 'admin@innkeep.test'",
    );
    assert.equal(admin.role, 'admin');
    const [scheme, n, r, p, salt, hash] = admin.password_hash.split('$');
    assert.equal(scheme, 'scrypt');
    const expected = Buffer.from(hash!, 'base64');
    const actual = scryptSync('innkeep-admin', Buffer.from(salt!, 'base64'), expected.length, {
      N: Number(n),
      r: Number(r),
      p: Number(p),
    });
    assert.ok(timingSafeEqual(actual, expected));
    const next = await one<{ id: number }>(
      a.pool,
      "INSERT INTO users (email, password_hash, name) VALUES ('new@innkeep.test', 'x', 'New') RETURNING id",
    );
    assert.equal(next.id, 2_002);
    await a.pool.query('DELETE FROM users WHERE id = $1', [next.id]);
  });

  it('when seeded, then a few cities and hotels hold most of the hotels and bookings', async () => {
    const cities = await one<{ top: number; median: number; cities: number }>(
      a.pool,
      `SELECT max(n) AS top, percentile_disc(0.5) WITHIN GROUP (ORDER BY n) AS median, count(*) AS cities
       FROM (SELECT city, count(*) AS n FROM hotels GROUP BY city) AS c`,
    );
    assert.ok(cities.cities >= 40, `cities: ${cities.cities}`);
    assert.ok(cities.top > 5 * cities.median, `top city ${cities.top}, median ${cities.median}`);
    const { share } = await one<{ share: number }>(
      a.pool,
      `SELECT sum(n) FILTER (WHERE rank <= 100)::float8 / sum(n) AS share
       FROM (SELECT count(*) AS n, row_number() OVER (ORDER BY count(*) DESC) AS rank FROM bookings GROUP BY hotel_id) AS h`,
    );
    assert.ok(share > 0.4, `top 10% of hotels hold ${share} of bookings`);
  });

  it('when the database already has hotels, then seeding throws, and after resetDemoData it seeds again', async () => {
    assert.equal(await isDatabaseEmpty(a.pool), false);
    await assert.rejects(seedDatabase(a.pool, { scale: 'small', today: TODAY }), /already contains hotels/);
    await resetDemoData(a.pool);
    assert.equal(await isDatabaseEmpty(a.pool), true);
    await seedDatabase(a.pool, { scale: 'small', seed: 42, today: TODAY });
    assert.deepEqual(await checksums(a.pool), sumsA);
  });
});
