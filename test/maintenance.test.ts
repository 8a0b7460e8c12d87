import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { App } from '../src/app/build-app.ts';
import { aggregateDailyBookingStats } from '../src/app/maintenance/booking-daily-stats.ts';
import { completeFinishedBookings } from '../src/app/maintenance/complete-finished-bookings.ts';
import { purgeExpired } from '../src/app/maintenance/purge-expired.ts';
import { assertError, queryCount, startTestApp } from './support/app.ts';
import { registerAdmin, registerUser, type TestUser } from './support/auth.ts';
import { createTestDatabase, type TestDatabase } from './support/database.ts';
import { createHotel, givePastStay, type TestHotel } from './support/fixtures.ts';
import { ensureTestServer } from './support/test-server.ts';

interface StatsRow {
  day: string;
  hotelId: number;
  currency: string;
  bookings: number;
  cancelled: number;
  nights: number;
  revenueCents: number;
}

/** The report's measures per check-in day, hotel and currency, computed here from bookings. */
const LIVE_STATS = `
SELECT to_char(start_date, 'YYYY-MM-DD') AS day, hotel_id AS "hotelId", currency, count(*)::int AS bookings,
       count(*) FILTER (WHERE status = 'cancelled')::int AS cancelled,
       COALESCE(sum(end_date - start_date) FILTER (WHERE status <> 'cancelled'), 0)::int AS nights,
       COALESCE(sum(total_cents) FILTER (WHERE status <> 'cancelled'), 0)::int AS "revenueCents"
FROM bookings WHERE start_date BETWEEN $1::date AND $2::date
GROUP BY start_date, hotel_id, currency ORDER BY 1, 2, 3`;

const TABLE_STATS = `
SELECT to_char(day, 'YYYY-MM-DD') AS day, hotel_id AS "hotelId", currency, bookings, cancelled, nights,
       revenue_cents::int AS "revenueCents"
FROM booking_daily_stats WHERE day BETWEEN $1::date AND $2::date ORDER BY 1, 2, 3`;

describe('maintenance jobs', () => {
  let db: TestDatabase;
  let app: App;
  let stopServer: () => Promise<void>;

  before(async () => {
    stopServer = await ensureTestServer();
    db = await createTestDatabase();
    app = await startTestApp(db.url);
  });

  after(async () => {
    await app?.close();
    await db?.drop();
    await stopServer?.();
  });

  const statusOf = async (bookingId: number) =>
    (await db.pool.query<{ status: string }>('SELECT status FROM bookings WHERE id = $1', [bookingId]))
      .rows[0]?.status;

  describe('completeFinishedBookings', () => {
    it('when stays ended on or before the hotel-local today, then only those confirmed become completed, per hotel zone', async () => {
      const guest = await registerUser(app);
      // UTC+14 and UTC-11: their local dates are one or two days apart at any hour, and at every
      // hour one of them is on a different date than UTC.
      const east = await createHotel(db.pool, { timezone: 'Pacific/Kiritimati', inventoryNights: 1 });
      const west = await createHotel(db.pool, { timezone: 'Pacific/Pago_Pago', inventoryNights: 1 });
      const stays = async (hotel: TestHotel) => ({
        endsToday: await givePastStay(db.pool, guest.id, hotel.id, { status: 'confirmed', checkInDays: -2 }),
        endedBefore: await givePastStay(db.pool, guest.id, hotel.id, {
          status: 'confirmed',
          checkInDays: -5,
        }),
        endsTomorrow: await givePastStay(db.pool, guest.id, hotel.id, {
          status: 'confirmed',
          checkInDays: -1,
        }),
        future: await givePastStay(db.pool, guest.id, hotel.id, { status: 'confirmed', checkInDays: 3 }),
        cancelled: await givePastStay(db.pool, guest.id, hotel.id, { status: 'cancelled', checkInDays: -5 }),
        pending: await givePastStay(db.pool, guest.id, hotel.id, { status: 'pending', checkInDays: -5 }),
      });
      const byHotel = [await stays(east), await stays(west)];
      const before = await db.pool.query<{ updatedAt: Date }>(
        'SELECT updated_at AS "updatedAt" FROM bookings WHERE id = $1',
        [byHotel[0]!.endsToday],
      );

      const invalidated: string[][] = [];
      const result = await completeFinishedBookings(app.innkeep.db, {
        invalidate: async (tags) => {
          invalidated.push(tags);
        },
      });

      assert.equal(result.completed, 4);
      for (const s of byHotel) {
        assert.equal(await statusOf(s.endsToday), 'completed');
        assert.equal(await statusOf(s.endedBefore), 'completed');
        assert.equal(await statusOf(s.endsTomorrow), 'confirmed');
        assert.equal(await statusOf(s.future), 'confirmed');
        assert.equal(await statusOf(s.cancelled), 'cancelled');
        assert.equal(await statusOf(s.pending), 'pending');
      }
      const after = await db.pool.query<{ updatedAt: Date }>(
        'SELECT updated_at AS "updatedAt" FROM bookings WHERE id = $1',
        [byHotel[0]!.endsToday],
      );
      assert.ok(after.rows[0]!.updatedAt > before.rows[0]!.updatedAt, 'updated_at moved on');
      // One batch: the guest's cached views (my bookings, trips, dashboard) are dropped.
      assert.deepEqual(invalidated, [[`user:${guest.id}`]]);
      assert.deepEqual(await completeFinishedBookings(app.innkeep.db), { completed: 0 });
    });

    it('when two workers run at once with small batches, then each booking is completed exactly once', async () => {
      await completeFinishedBookings(app.innkeep.db);
      const hotel = await createHotel(db.pool, { inventoryNights: 1 });
      const guests = [await registerUser(app), await registerUser(app), await registerUser(app)];
      const ids: number[] = [];
      for (let i = 0; i < 45; i++) {
        const guest = guests[i % guests.length]!;
        ids.push(
          await givePastStay(db.pool, guest.id, hotel.id, { status: 'confirmed', checkInDays: -3 - (i % 4) }),
        );
      }
      const tags = new Set<string>();
      const worker = () =>
        completeFinishedBookings(app.innkeep.db, {
          batchSize: 4,
          invalidate: async (t) => {
            for (const tag of t) tags.add(tag);
          },
        });
      const [a, b] = await Promise.all([worker(), worker()]);
      assert.equal(a.completed + b.completed, ids.length, `${a.completed} + ${b.completed}`);
      const { rows } = await db.pool.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM bookings WHERE id = ANY($1) AND status = 'completed'`,
        [ids],
      );
      assert.equal(rows[0]!.n, ids.length);
      assert.deepEqual([...tags].sort(), guests.map((g) => `user:${g.id}`).sort());
    });

    it('when the batch size is not a positive integer, then it throws before touching the database', async () => {
      for (const batchSize of [0, -1, 1.5, Number.NaN]) {
        await assert.rejects(completeFinishedBookings(app.innkeep.db, { batchSize }), RangeError);
      }
    });
  });

  describe('purgeExpired', () => {
    const refresh = (refreshToken: string) =>
      app.inject({ method: 'POST', url: '/api/auth/refresh', payload: { refreshToken } });
    const tokensOf = async (userId: number) =>
      (
        await db.pool.query<{ n: number }>(
          'SELECT count(*)::int AS n FROM refresh_tokens WHERE user_id = $1',
          [userId],
        )
      ).rows[0]!.n;

    it('when keys and tokens expired, then they are deleted in batches, and a rotated token still reveals a replay', async () => {
      // Sessions through the real endpoints: a rotated (not expired) token, a logged-out one, an expired family.
      const rotating = await registerUser(app);
      const rotated = await refresh(rotating.refreshToken);
      assert.equal(rotated.statusCode, 200, rotated.body);
      const current = (rotated.json() as { refreshToken: string }).refreshToken;
      const loggedOut = await registerUser(app);
      const logout = await app.inject({
        method: 'POST',
        url: '/api/auth/logout',
        payload: { refreshToken: loggedOut.refreshToken },
      });
      assert.equal(logout.statusCode, 204);
      const expired = await registerUser(app);
      assert.equal((await refresh(expired.refreshToken)).statusCode, 200);
      await db.pool.query(
        `UPDATE refresh_tokens SET expires_at = now() - interval '1 second' WHERE user_id = $1`,
        [expired.id],
      );
      // Idempotency keys: three expired (one still in progress), one live.
      await db.pool.query(
        `INSERT INTO idempotency_keys (user_id, key, request_hash, status, expires_at)
         VALUES ($1, 'old-1', 'h', 'completed', now() - interval '1 hour'),
                ($1, 'old-2', 'h', 'completed', now() - interval '1 day'),
                ($1, 'old-3', 'h', 'in_progress', now() - interval '1 minute'),
                ($1, 'live', 'h', 'completed', now() + interval '1 hour')`,
        [rotating.id],
      );

      const purged = await purgeExpired(app.innkeep.db, { batchSize: 2 });

      assert.deepEqual(purged, { idempotencyKeys: 3, refreshTokens: 2, exportFiles: 0 });
      const { rows: keys } = await db.pool.query<{ key: string }>(
        'SELECT key FROM idempotency_keys WHERE user_id = $1',
        [rotating.id],
      );
      assert.deepEqual(
        keys.map((k) => k.key),
        ['live'],
      );
      assert.equal(await tokensOf(expired.id), 0);
      assert.equal(await tokensOf(rotating.id), 2, 'the rotated token and its successor stay');
      assert.equal(await tokensOf(loggedOut.id), 1, 'a revoked token stays until it expires');
      // The expired session is refused as before the purge.
      assertError(await refresh(expired.refreshToken), 401, 'E_INVALID_REFRESH_TOKEN');
      // Replaying the rotated token is still detected, and revokes the family's current token.
      assertError(await refresh(rotating.refreshToken), 401, 'E_REFRESH_TOKEN_REUSED');
      assertError(await refresh(current), 401, 'E_INVALID_REFRESH_TOKEN');
      assertError(await refresh(loggedOut.refreshToken), 401, 'E_INVALID_REFRESH_TOKEN');
      assert.deepEqual(await purgeExpired(app.innkeep.db), {
        idempotencyKeys: 0,
        refreshTokens: 0,
        exportFiles: 0,
      });
    });

    it('when data exports expired, then their files are deleted and a download answers 410; live ones stay', async () => {
      const dataDir = await mkdtemp(join(tmpdir(), 'innkeep-purge-'));
      try {
        const owner = await registerUser(app);
        await mkdir(join(dataDir, 'exports'));
        const ids = [
          '11111111-1111-4111-a111-111111111111',
          '22222222-2222-4222-a222-222222222222',
          '33333333-3333-4333-a333-333333333333',
        ];
        // Two expired (one of them with its file already gone), one still downloadable.
        for (const [i, id] of ids.entries()) {
          if (i !== 1) await writeFile(join(dataDir, 'exports', `${id}.json`), '{"user":{}}');
          await db.pool.query(
            `INSERT INTO data_exports (id, user_id, status, progress, file_path, file_bytes, finished_at, expires_at)
             VALUES ($1, $2, 'completed', 100, $3, 11, now() - interval '8 days', now() + make_interval(days => $4))`,
            [id, owner.id, `exports/${id}.json`, i === 2 ? 1 : -1],
          );
        }
        const purged = await purgeExpired(app.innkeep.db, { dataDir, batchSize: 1 });
        assert.equal(purged.exportFiles, 2);
        assert.deepEqual(await readdir(join(dataDir, 'exports')), [`${ids[2]}.json`]);
        const { rows } = await db.pool.query<{ id: string; file_path: string | null }>(
          'SELECT id, file_path FROM data_exports WHERE user_id = $1 ORDER BY id',
          [owner.id],
        );
        assert.deepEqual(
          rows.map((r) => r.file_path),
          [null, null, `exports/${ids[2]}.json`],
        );
        const gone = await app.inject({ url: `/api/me/export/${ids[0]}/download`, headers: owner.headers });
        assertError(gone, 410, 'E_EXPORT_EXPIRED');
        assert.equal((await purgeExpired(app.innkeep.db, { dataDir })).exportFiles, 0);
      } finally {
        await rm(dataDir, { recursive: true, force: true });
      }
    });
  });

  describe('aggregateDailyBookingStats and the bookings report', () => {
    let admin: TestUser;
    /** The first check-in day that may be open in some zone (today at UTC-12), as the job sees it. */
    let open: string;
    let hotels: TestHotel[];
    const day = (offset: number) => {
      const d = new Date(`${open}T00:00:00Z`);
      d.setUTCDate(d.getUTCDate() + offset);
      return d.toISOString().slice(0, 10);
    };

    before(async () => {
      admin = await registerAdmin(app);
      const guest = await registerUser(app);
      open = (
        await db.pool.query<{ open: string }>(
          `SELECT to_char(((now() AT TIME ZONE 'UTC') - interval '12 hours')::date, 'YYYY-MM-DD') AS open`,
        )
      ).rows[0]!.open;
      hotels = [
        await createHotel(db.pool, { name: 'Stats A', city: 'Lisbon', inventoryNights: 1 }),
        await createHotel(db.pool, { name: 'Stats B', city: 'Lisbon', currency: 'USD', inventoryNights: 1 }),
        await createHotel(db.pool, { name: 'Stats C', city: 'Porto', inventoryNights: 1 }),
      ];
      const statuses = ['completed', 'cancelled', 'confirmed', 'pending', 'completed'];
      let n = 0;
      // Bookings from 12 days before the open day to 3 days after, up to three a day and hotel.
      for (let offset = -12; offset <= 3; offset++) {
        for (const [h, hotel] of hotels.entries()) {
          for (let k = 0; k < ((offset + h + 12) % 3) + 1; k++) {
            n += 1;
            await db.pool.query(
              `INSERT INTO bookings (user_id, hotel_id, room_type_id, start_date, end_date, guests, status,
                 total_cents, currency)
               VALUES ($1, $2, $3, $4::date, $4::date + $5::int, 1, $6, $7, $8)`,
              [
                guest.id,
                hotel.id,
                hotel.roomTypes[0]!.id,
                day(offset),
                1 + (n % 3),
                statuses[n % statuses.length],
                10_000 + n * 137,
                h === 1 ? 'USD' : 'EUR',
              ],
            );
          }
        }
      }
    });

    const report = async (from: string, to: string, groupBy: string) => {
      const res = await app.inject({
        method: 'GET',
        url: `/api/admin/reports/bookings?from=${from}&to=${to}&groupBy=${groupBy}`,
        headers: admin.headers,
      });
      assert.equal(res.statusCode, 200, res.body);
      assert.equal(queryCount(res.headers), 1);
      return res.json() as { rows: unknown[] };
    };
    const allReports = async (from: string, to: string) => ({
      day: await report(from, to, 'day'),
      hotel: await report(from, to, 'hotel'),
      city: await report(from, to, 'city'),
    });

    it('when closed days are aggregated, then the stats equal the live computation and the report is unchanged', async () => {
      const from = day(-10);
      const to = day(3);
      const live = await allReports(from, to);
      assert.ok(live.day.rows.length > 20, 'the range holds bookings');

      const result = await aggregateDailyBookingStats(app.innkeep.db, { days: 10 });

      assert.equal(result.days, 10);
      const { rows: listed } = await db.pool.query<{ day: string }>(
        `SELECT to_char(day, 'YYYY-MM-DD') AS day FROM booking_stats_days ORDER BY day`,
      );
      assert.deepEqual(
        listed.map((r) => r.day),
        Array.from({ length: 10 }, (_, i) => day(i - 10)),
        'the 10 days before the open day, and nothing from it on',
      );
      const table = (await db.pool.query<StatsRow>(TABLE_STATS, [day(-30), day(30)])).rows;
      const computed = (await db.pool.query<StatsRow>(LIVE_STATS, [day(-10), day(-1)])).rows;
      assert.equal(result.rows, computed.length);
      assert.deepEqual(table, computed);

      // Closed days from the table, the open day and after live: the same answer, in one statement.
      assert.deepEqual(await allReports(from, to), live);
      // A range wholly inside the aggregated days, and one wholly after them.
      const closedOnly = await allReports(day(-8), day(-2));
      const openOnly = await allReports(day(0), day(3));
      await db.pool.query('DELETE FROM booking_stats_days');
      assert.deepEqual(await allReports(day(-8), day(-2)), closedOnly);
      assert.deepEqual(await allReports(day(0), day(3)), openOnly);
    });

    it('when a closed day is not aggregated, then the report reads that day live and answers the same', async () => {
      await db.pool.query('DELETE FROM booking_stats_days');
      const live = await allReports(day(-12), day(1));
      await aggregateDailyBookingStats(app.innkeep.db, { days: 10 });
      // Days missing from the table: the oldest ones (never aggregated) and two dropped from it.
      await db.pool.query('DELETE FROM booking_stats_days WHERE day IN ($1, $2)', [day(-5), day(-10)]);
      const { rows } = await db.pool.query<{ n: number }>(
        'SELECT count(*)::int AS n FROM booking_daily_stats WHERE day IN ($1, $2)',
        [day(-5), day(-10)],
      );
      assert.equal(rows[0]!.n, 0, "a day's rows go with it");
      assert.deepEqual(await allReports(day(-12), day(1)), live);
    });

    it('when a closed day changes and is aggregated again, then its rows are replaced and vanished groups deleted', async () => {
      await aggregateDailyBookingStats(app.innkeep.db, { days: 3 });
      // Behind the app's back (the API cannot change a past stay): one hotel's bookings of a day go,
      // another's change currency.
      const [a, b] = hotels;
      await db.pool.query('DELETE FROM bookings WHERE hotel_id = $1 AND start_date = $2', [a!.id, day(-1)]);
      await db.pool.query(
        `UPDATE bookings SET currency = 'GBP', total_cents = total_cents + 1 WHERE hotel_id = $1 AND start_date = $2`,
        [b!.id, day(-2)],
      );
      assert.deepEqual(await aggregateDailyBookingStats(app.innkeep.db), {
        days: 2,
        rows: (await db.pool.query(LIVE_STATS, [day(-2), day(-1)])).rowCount,
      });
      const table = (await db.pool.query<StatsRow>(TABLE_STATS, [day(-3), day(-1)])).rows;
      const computed = (await db.pool.query<StatsRow>(LIVE_STATS, [day(-3), day(-1)])).rows;
      assert.deepEqual(table, computed);
      assert.ok(!table.some((r) => r.hotelId === a!.id && r.day === day(-1)));
      assert.ok(table.some((r) => r.hotelId === b!.id && r.currency === 'GBP'));
    });

    it('when days is not a positive integer, then it throws', async () => {
      for (const days of [0, -3, 2.5, 10_000]) {
        await assert.rejects(aggregateDailyBookingStats(app.innkeep.db, { days }), RangeError);
      }
    });
  });
});
