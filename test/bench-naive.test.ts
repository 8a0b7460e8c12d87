import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import { buildNaiveApp, type NaiveApp } from '../bench/naive/app.ts';
import { ACCESS_TOKEN_ISSUER } from '../src/app/auth/auth-service.ts';
import type { App } from '../src/app/build-app.ts';
import { addDays } from '../src/app/common/stay.ts';
import { seedDatabase } from '../src/app/seed/seed.ts';
import { type Database, openDatabase } from '../src/platform/db/index.ts';
import { JwtSigner } from '../src/platform/security/index.ts';
import { queryCount, startTestApp, TEST_JWT_SECRET, testConfig } from './support/app.ts';
import { createTestDatabase, type TestDatabase } from './support/database.ts';
import { recordingLogger } from './support/silent-logger.ts';
import { ensureTestServer } from './support/test-server.ts';

// The bench compares the naive app (bench/naive) with the real one: that comparison only means
// something if both give the same answers. Both run here on one seeded database.

/** Error bodies carry the moment and the request id; everything else must match. */
function comparable(body: unknown): unknown {
  if (body && typeof body === 'object' && 'requestId' in body && 'timestamp' in body) {
    const { requestId: _id, timestamp: _at, ...rest } = body as Record<string, unknown>;
    return rest;
  }
  return body;
}

describe('bench naive app', () => {
  let db: TestDatabase;
  let real: App;
  let naive: NaiveApp;
  let naiveDb: Database;
  let stopServer: () => Promise<void>;
  const jwt = new JwtSigner(TEST_JWT_SECRET, { issuer: ACCESS_TOKEN_ISSUER });
  const bearer = (id: number, role: 'user' | 'admin' = 'user') => ({
    authorization: `Bearer ${jwt.sign({ sub: String(id), role }, 3600)}`,
  });

  /** D: the first inventory night, the day the seed ran. */
  let today: string;
  let cities: string[];
  let hotels: { id: number; roomTypeId: number }[];
  let inactiveHotel: number;
  let users: number[];
  let adminId: number;
  let roomTypes: number[];

  const one = async <T>(text: string, values: unknown[] = []) =>
    (await db.pool.query(text, values)).rows[0] as T;

  before(async () => {
    stopServer = await ensureTestServer();
    db = await createTestDatabase();
    await seedDatabase(db.pool, { scale: 'small', seed: 42 });
    real = await startTestApp(db.url);
    const config = testConfig({ DATABASE_URL: db.url });
    naiveDb = await openDatabase(config.db, recordingLogger());
    naive = await buildNaiveApp(config, naiveDb);

    today = (await one<{ d: string }>('SELECT min(date) AS d FROM room_inventory')).d;
    const byCity = await db.pool.query<{ city: string }>(
      'SELECT city FROM hotels WHERE is_active GROUP BY city ORDER BY count(*) DESC, city',
    );
    // The biggest city (more than a page), a mid-sized one and a small one.
    const names = byCity.rows.map((r) => r.city);
    cities = [names[0]!, names[6]!, names.at(-1)!];
    const picked = await db.pool.query<{ id: number; roomTypeId: number }>(
      `SELECT h.id, (SELECT min(rt.id) FROM room_types rt WHERE rt.hotel_id = h.id) AS "roomTypeId"
       FROM hotels h WHERE h.is_active AND EXISTS (SELECT 1 FROM room_types rt WHERE rt.hotel_id = h.id)
       ORDER BY h.review_count DESC, h.id LIMIT 1`,
    );
    const spread = await db.pool.query<{ id: number; roomTypeId: number }>(
      `SELECT h.id, (SELECT min(rt.id) FROM room_types rt WHERE rt.hotel_id = h.id) AS "roomTypeId"
       FROM hotels h WHERE h.is_active AND EXISTS (SELECT 1 FROM room_types rt WHERE rt.hotel_id = h.id)
       ORDER BY (h.id * 2654435761) % 4294967296 LIMIT 2`,
    );
    hotels = [...picked.rows, ...spread.rows];
    inactiveHotel = (await one<{ id: number }>('SELECT min(id) AS id FROM hotels WHERE NOT is_active')).id;
    // Most bookings, a waitlisted guest, a reviewer with no bookings in the first two.
    const busiest = await one<{ id: number }>(
      'SELECT user_id AS id FROM bookings GROUP BY user_id ORDER BY count(*) DESC, user_id LIMIT 1',
    );
    const waiting = await one<{ id: number }>(
      `SELECT min(user_id) AS id FROM waitlist WHERE status IN ('waiting', 'offered')`,
    );
    const reviewer = await one<{ id: number }>(
      'SELECT user_id AS id FROM reviews GROUP BY user_id ORDER BY count(*) DESC, user_id LIMIT 1',
    );
    users = [busiest.id, waiting.id, reviewer.id];
    adminId = (await one<{ id: number }>(`SELECT min(id) AS id FROM users WHERE role = 'admin'`)).id;
    roomTypes = (
      await db.pool.query<{ id: number }>(
        'SELECT id FROM room_types ORDER BY (id * 2654435761) % 4294967296 LIMIT 18',
      )
    ).rows.map((r) => r.id);
  });

  after(async () => {
    await naive?.close();
    await naiveDb?.close();
    await real?.close();
    await db?.drop();
    await stopServer?.();
  });

  /**
   * Sends one request to each app (real first), asserts the expected status from both and the same
   * body, and returns the real app's body for checks that the case is not vacuous.
   */
  // biome-ignore lint/suspicious/noExplicitAny: bodies are inspected loosely after the deep comparison
  const assertSame = async (request: InjectOptions, status: number): Promise<any> => {
    const a = await real.inject(request);
    const b = await naive.inject(request);
    const what = `${request.method ?? 'GET'} ${request.url}`;
    assert.equal(a.statusCode, status, `${what}: real ${a.body.slice(0, 300)}`);
    assert.equal(b.statusCode, status, `${what}: naive ${b.body.slice(0, 300)}`);
    assert.deepStrictEqual(comparable(b.json()), comparable(a.json()), what);
    return a.json();
  };

  it('when searching hotels by city, then both apps return the same page', async () => {
    const pages = [];
    for (const city of cities) {
      pages.push(
        await assertSame({ url: `/api/hotels/search?city=${encodeURIComponent(city)}&limit=20` }, 200),
      );
    }
    assert.equal(pages[0].data.length, 20);
    assert.equal(pages[0].hasMore, true);
    assert.ok(pages[2].data.length > 0);
    const lower = encodeURIComponent(cities[0]!.toLowerCase());
    await assertSame({ url: `/api/hotels/search?city=${lower}&sort=price&page=2&limit=10` }, 200);
    await assertSame({ url: `/api/hotels/search?city=${lower}&stars=4&sort=stars` }, 200);
    const prefix = encodeURIComponent(
      (await one<{ name: string }>('SELECT name FROM hotels WHERE id = $1', [hotels[0]!.id])).name.slice(
        0,
        3,
      ),
    );
    const named = await assertSame({ url: `/api/hotels/search?name=${prefix}&minRating=1` }, 200);
    assert.ok(named.data.length > 0);
    const spa = await assertSame({ url: '/api/hotels/search?q=spa&limit=5' }, 200);
    assert.ok(spa.data.length > 0);
    await assertSame({ url: '/api/hotels/search?page=600&limit=20' }, 400);
  });

  it('when a search returns 20 hotels, then the naive app ran one query per hotel and the real app one', async () => {
    const request = { url: `/api/hotels/search?city=${encodeURIComponent(cities[0]!)}&limit=20` };
    const a = await real.inject(request);
    const b = await naive.inject(request);
    assert.equal((b.json() as { data: unknown[] }).data.length, 20);
    assert.equal(queryCount(a.headers), 1);
    assert.ok(queryCount(b.headers) > 20, `naive ran ${queryCount(b.headers)} queries`);
  });

  it('when reading hotel details, then both apps agree, 404s included', async () => {
    for (const h of hotels) {
      const detail = await assertSame({ url: `/api/hotels/${h.id}` }, 200);
      assert.ok(detail.roomTypes.length > 0);
    }
    const top = await assertSame({ url: `/api/hotels/${hotels[0]!.id}` }, 200);
    assert.ok(top.ratingSummary.count > 0);
    await assertSame({ url: `/api/hotels/${inactiveHotel}` }, 404);
    await assertSame({ url: '/api/hotels/2147483647' }, 404);
  });

  it('when asking a hotel for availability, then both apps agree, missing nights and past dates included', async () => {
    const stay = `checkIn=${addDays(today, 3)}&checkOut=${addDays(today, 10)}`;
    for (const h of hotels) {
      const res = await assertSame({ url: `/api/hotels/${h.id}/availability?${stay}&guests=2` }, 200);
      assert.equal(res.roomTypes[0].nights.length, 7);
    }
    const h = hotels[0]!.id;
    // The inventory holds 60 nights: this stay runs past its end.
    const late = await assertSame(
      {
        url: `/api/hotels/${h}/availability?checkIn=${addDays(today, 57)}&checkOut=${addDays(today, 62)}&guests=5`,
      },
      200,
    );
    assert.equal(late.roomTypes[0].totalCents, null);
    await assertSame(
      { url: `/api/hotels/${h}/availability?checkIn=${addDays(today, -3)}&checkOut=${addDays(today, 2)}` },
      422,
    );
    await assertSame({ url: `/api/hotels/${inactiveHotel}/availability?${stay}` }, 404);
  });

  it('when asking for a batch of room types, then both apps agree item by item', async () => {
    const checkIn = addDays(today, 3);
    const checkOut = addDays(today, 10);
    const inactiveRoom = await one<{ id: number }>(
      'SELECT min(id) AS id FROM room_types WHERE hotel_id = $1',
      [inactiveHotel],
    );
    const items = [
      ...roomTypes.map((roomTypeId) => ({ roomTypeId, checkIn, checkOut })),
      { roomTypeId: 2147483647, checkIn, checkOut },
      { roomTypeId: inactiveRoom.id, checkIn, checkOut },
    ];
    const batch = await assertSame(
      { method: 'POST', url: '/api/availability/batch', payload: { items, guests: 1 } },
      200,
    );
    assert.equal(batch.data.filter((i: { found: boolean }) => i.found).length, 18);
    const late = items.map((i) => ({ ...i, checkIn: addDays(today, 55), checkOut: addDays(today, 62) }));
    await assertSame(
      { method: 'POST', url: '/api/availability/batch', payload: { items: late, guests: 3 } },
      200,
    );
    const past = [items[0]!, { ...items[1]!, checkIn: addDays(today, -2) }];
    await assertSame({ method: 'POST', url: '/api/availability/batch', payload: { items: past } }, 422);
  });

  it("when listing a user's bookings, then both apps return the same pages", async () => {
    const pages = [];
    for (const id of users)
      pages.push(await assertSame({ url: '/api/me/bookings', headers: bearer(id) }, 200));
    assert.equal(pages[0].data.length, 20);
    assert.equal(pages[0].hasMore, true);
    await assertSame({ url: '/api/me/bookings?page=2&limit=20', headers: bearer(users[0]!) }, 200);
    await assertSame({ url: '/api/me/bookings?status=cancelled', headers: bearer(users[0]!) }, 200);
    await assertSame({ url: '/api/me/bookings', headers: bearer(adminId, 'admin') }, 200);
  });

  it('when reading dashboards, then both apps return the same lists', async () => {
    // A fresh entry: its created_at has microseconds, which the real app's json_agg keeps.
    await db.pool.query(
      `INSERT INTO waitlist (user_id, room_type_id, start_date, end_date, status, offered_at, offer_expires_at)
       VALUES ($1, $2, $3::date + 20, $3::date + 22, 'offered', now(), now() + interval '30 minutes')`,
      [users[1], roomTypes[0], today],
    );
    const boards = [];
    for (const id of [...users, adminId]) {
      boards.push(await assertSame({ url: '/api/me/dashboard', headers: bearer(id) }, 200));
    }
    assert.ok(boards.some((d) => d.upcomingBookings.length > 0));
    assert.ok(boards[1].waitlist.length > 0);
    assert.ok(boards[2].recentReviews.length > 0);
  });

  it('when reading price history, then both apps agree, foreign room types included', async () => {
    const histories = [];
    for (const h of hotels) {
      histories.push(
        await assertSame({ url: `/api/hotels/${h.id}/price-history?roomTypeId=${h.roomTypeId}` }, 200),
      );
    }
    assert.ok(histories.some((p) => p.points.length > 0));
    const h = hotels[0]!;
    await assertSame({ url: `/api/hotels/${h.id}/price-history?roomTypeId=${h.roomTypeId}&limit=1` }, 200);
    await assertSame({ url: `/api/hotels/${hotels[1]!.id}/price-history?roomTypeId=${h.roomTypeId}` }, 404);
  });

  it('when listing reviews, then both apps return the same pages in every order', async () => {
    for (const h of hotels) await assertSame({ url: `/api/hotels/${h.id}/reviews?sort=newest` }, 200);
    const h = hotels[0]!.id;
    const page = await assertSame({ url: `/api/hotels/${h}/reviews?sort=highest&page=2&limit=7` }, 200);
    assert.equal(page.data.length, 7);
    await assertSame({ url: `/api/hotels/${h}/reviews?sort=lowest` }, 200);
    await assertSame({ url: `/api/hotels/${inactiveHotel}/reviews` }, 404);
  });

  it('when an admin reads the reports, then both apps compute the same numbers', async () => {
    const admin = bearer(adminId, 'admin');
    const range = `from=${addDays(today, -365)}&to=${today}`;
    for (const groupBy of ['city', 'day', 'hotel']) {
      const report = await assertSame(
        { url: `/api/admin/reports/bookings?${range}&groupBy=${groupBy}`, headers: admin },
        200,
      );
      assert.ok(report.rows.length > 1);
    }
    const window = `from=${addDays(today, -30)}&to=${addDays(today, 30)}`;
    for (const h of [...hotels.map((x) => x.id), inactiveHotel]) {
      const occupancy = await assertSame(
        { url: `/api/admin/reports/occupancy?hotelId=${h}&${window}`, headers: admin },
        200,
      );
      assert.equal(occupancy.rows.length, 61);
    }
    await assertSame(
      { url: `/api/admin/reports/occupancy?hotelId=2147483647&${window}`, headers: admin },
      404,
    );
  });

  it('when the token is missing, invalid or not an admin’s, then both apps refuse alike', async () => {
    await assertSame({ url: '/api/me/bookings' }, 401);
    await assertSame({ url: '/api/me/dashboard', headers: { authorization: 'Bearer a.b.c' } }, 401);
    const report = `/api/admin/reports/bookings?from=${today}&to=${today}`;
    await assertSame({ url: report, headers: bearer(users[0]!) }, 404);
  });

  describe('creating bookings', () => {
    const userId = () => users[1]!;
    const book = (app: App | NaiveApp, body: Record<string, unknown>, key: string) =>
      app.inject({
        method: 'POST',
        url: '/api/bookings',
        headers: { ...bearer(userId()), 'idempotency-key': key },
        payload: body,
      });
    /** A room type of an active hotel with at least 3 rooms left on nights D+5 .. D+9. */
    const bookableRoomType = async (skip: number) =>
      (
        await one<{ id: number }>(
          `SELECT ri.room_type_id AS id FROM room_inventory ri
           JOIN room_types rt ON rt.id = ri.room_type_id JOIN hotels h ON h.id = rt.hotel_id AND h.is_active
           WHERE ri.date >= $1::date + 5 AND ri.date < $1::date + 10 AND rt.capacity >= 2
           GROUP BY ri.room_type_id HAVING min(ri.available_rooms) >= 3 AND count(*) = 5
           ORDER BY ri.room_type_id OFFSET $2 LIMIT 1`,
          [today, skip],
        )
      ).id;
    const inventory = async (roomTypeId: number) =>
      (
        await db.pool.query<{ available_rooms: number }>(
          `SELECT available_rooms FROM room_inventory WHERE room_type_id = $1 AND date >= $2::date + 5
           AND date < $2::date + 10 ORDER BY date`,
          [roomTypeId, today],
        )
      ).rows.map((r) => r.available_rooms);
    /** What one booking wrote, without ids and times. */
    const effects = async (bookingId: number) => {
      const booking = await one<Record<string, unknown>>(
        `SELECT user_id, hotel_id, room_type_id, trip_id, start_date, end_date, guests, status, total_cents,
                currency, cancelled_at FROM bookings WHERE id = $1`,
        [bookingId],
      );
      const payments = await db.pool.query(
        `SELECT user_id, amount_cents, currency, provider, provider_ref, status FROM payments
         WHERE booking_id = $1`,
        [bookingId],
      );
      const notifications = await db.pool.query(
        `SELECT user_id, type, channel, status, payload - 'bookingId' AS payload FROM notifications
         WHERE type = 'booking_confirmed' AND (payload->>'bookingId')::int = $1`,
        [bookingId],
      );
      const key = await one<Record<string, unknown>>(
        `SELECT k.status, k.response_status, (k.response_body #>> '{}')::jsonb->>'id' AS booked
         FROM idempotency_keys k WHERE (k.response_body #>> '{}')::jsonb->>'id' = $1::text`,
        [bookingId],
      );
      return { booking, payments: payments.rows, notifications: notifications.rows, key };
    };
    const prices = async (roomTypeId: number, checkIn: string, checkOut: string) =>
      (
        await db.pool.query(
          `SELECT stay_date, price_cents, currency FROM price_history
           WHERE entity_type = 'room_type' AND entity_id = $1 AND stay_date >= $2 AND stay_date < $3
             AND created_at > now() - interval '1 hour' ORDER BY id`,
          [roomTypeId, checkIn, checkOut],
        )
      ).rows;
    const waitFor = (roomTypeId: number, checkIn: string, checkOut: string) =>
      db.pool.query<{ id: number }>(
        `INSERT INTO waitlist (user_id, room_type_id, start_date, end_date) VALUES ($1, $2, $3, $4) RETURNING id`,
        [userId(), roomTypeId, checkIn, checkOut],
      );
    const waitStatus = async (id: number) =>
      (await one<{ status: string }>('SELECT status FROM waitlist WHERE id = $1', [id])).status;

    it('when both apps book the same stay, then the answers and the rows written match', async () => {
      const roomTypeId = await bookableRoomType(0);
      const body = { roomTypeId, checkIn: addDays(today, 5), checkOut: addDays(today, 8), guests: 2 };
      const start = await inventory(roomTypeId);

      const realWait = await waitFor(roomTypeId, body.checkIn, body.checkOut);
      const a = await book(real, body, randomUUID());
      assert.equal(a.statusCode, 201, a.body);
      const afterReal = await inventory(roomTypeId);
      const naiveWait = await waitFor(roomTypeId, body.checkIn, body.checkOut);
      const b = await book(naive, body, randomUUID());
      assert.equal(b.statusCode, 201, b.body);
      const afterNaive = await inventory(roomTypeId);

      const realBooking = a.json() as { id: number; createdAt: string };
      const naiveBooking = b.json() as { id: number; createdAt: string };
      assert.notEqual(naiveBooking.id, realBooking.id);
      assert.deepStrictEqual(
        { ...naiveBooking, id: 0, createdAt: '' },
        { ...realBooking, id: 0, createdAt: '' },
      );
      assert.equal(b.headers.location, `/api/bookings/${naiveBooking.id}`);
      // One room per night each: the first three nights, never the last two.
      const taken = [1, 1, 1, 0, 0];
      assert.deepStrictEqual(
        afterReal,
        start.map((n, i) => n - taken[i]!),
      );
      assert.deepStrictEqual(
        afterNaive,
        afterReal.map((n, i) => n - taken[i]!),
      );
      const realEffects = await effects(realBooking.id);
      const naiveEffects = await effects(naiveBooking.id);
      assert.equal(realEffects.payments.length, 1);
      assert.equal(realEffects.notifications.length, 1);
      assert.deepStrictEqual(
        { ...naiveEffects, key: { ...naiveEffects.key, booked: '' } },
        { ...realEffects, key: { ...realEffects.key, booked: '' } },
      );
      const nights = await prices(roomTypeId, body.checkIn, body.checkOut);
      assert.equal(nights.length, 6, 'three nightly prices from each app');
      assert.deepStrictEqual(nights.slice(3), nights.slice(0, 3));
      assert.equal(await waitStatus(realWait.rows[0]!.id), 'booked');
      assert.equal(await waitStatus(naiveWait.rows[0]!.id), 'booked');
      assert.ok(queryCount(b.headers) > queryCount(a.headers), `naive ran ${queryCount(b.headers)}`);
    });

    it('when a key is sent again, then each app replays its first answer byte for byte', async () => {
      const roomTypeId = await bookableRoomType(1);
      const body = { roomTypeId, checkIn: addDays(today, 6), checkOut: addDays(today, 7), guests: 1 };
      const realKey = randomUUID();
      const naiveKey = randomUUID();
      const first = await book(real, body, realKey);
      const naiveFirst = await book(naive, body, naiveKey);
      assert.equal(naiveFirst.statusCode, 201, naiveFirst.body);
      const before = await inventory(roomTypeId);

      const again = await book(naive, body, naiveKey);
      assert.equal(again.statusCode, 201);
      assert.equal(again.headers['idempotent-replayed'], 'true');
      assert.equal(again.headers.location, naiveFirst.headers.location);
      assert.equal(again.body, naiveFirst.body);
      // The two apps share the key store: the naive app replays the real app's answer too.
      const crossed = await book(naive, body, realKey);
      assert.equal(crossed.statusCode, 201);
      assert.equal(crossed.body, first.body);
      assert.deepStrictEqual(await inventory(roomTypeId), before);

      const other = { ...body, guests: 2 };
      const [m1, m2] = [await book(real, other, realKey), await book(naive, other, naiveKey)];
      assert.equal(m2.statusCode, m1.statusCode);
      assert.deepStrictEqual(comparable(m2.json()), comparable(m1.json()));
      assert.equal(m2.statusCode, 422);
    });

    it('when a night is sold out, then both apps answer 409 E_SOLD_OUT alike, store it and take nothing', async () => {
      const roomTypeId = await bookableRoomType(2);
      const full = addDays(today, 7);
      await db.pool.query(
        'UPDATE room_inventory SET available_rooms = 0 WHERE room_type_id = $1 AND date = $2',
        [roomTypeId, full],
      );
      const before = await inventory(roomTypeId);
      const body = { roomTypeId, checkIn: addDays(today, 5), checkOut: addDays(today, 9), guests: 1 };
      const realKey = randomUUID();
      const naiveKey = randomUUID();
      const a = await book(real, body, realKey);
      const b = await book(naive, body, naiveKey);
      assert.equal(a.statusCode, 409);
      assert.equal(b.statusCode, 409);
      const naiveError = b.json() as { code: string; details: { date: string }[] };
      assert.equal(naiveError.code, 'E_SOLD_OUT');
      assert.deepStrictEqual(
        naiveError.details.map((d) => d.date),
        [full],
      );
      assert.deepStrictEqual(comparable(naiveError), comparable(a.json()));
      assert.deepStrictEqual(await inventory(roomTypeId), before);

      const replay = await book(naive, body, naiveKey);
      assert.equal(replay.statusCode, 409);
      assert.equal(replay.headers['idempotent-replayed'], 'true');
      assert.equal(replay.body, b.body);
    });

    it('when the naive app takes racing bookings, then it never oversells and books a key once', async () => {
      const roomTypeId = await bookableRoomType(4);
      const night = addDays(today, 6);
      await db.pool.query(
        'UPDATE room_inventory SET available_rooms = 3 WHERE room_type_id = $1 AND date = $2',
        [roomTypeId, night],
      );
      const body = { roomTypeId, checkIn: night, checkOut: addDays(today, 7), guests: 1 };
      const answers = await Promise.all(Array.from({ length: 6 }, () => book(naive, body, randomUUID())));
      assert.deepStrictEqual(answers.map((r) => r.statusCode).sort(), [201, 201, 201, 409, 409, 409]);
      const left = await one<{ n: number }>(
        'SELECT available_rooms AS n FROM room_inventory WHERE room_type_id = $1 AND date = $2',
        [roomTypeId, night],
      );
      assert.equal(left.n, 0);

      const other = await bookableRoomType(5);
      const key = randomUUID();
      const twins = await Promise.all([1, 2].map(() => book(naive, { ...body, roomTypeId: other }, key)));
      assert.deepStrictEqual(
        twins.map((r) => r.statusCode),
        [201, 201],
      );
      assert.equal(twins[0]!.body, twins[1]!.body);
      assert.equal(twins.filter((r) => r.headers['idempotent-replayed'] === 'true').length, 1);
      const booked = await one<{ n: number }>(
        `SELECT count(*)::int AS n FROM bookings WHERE room_type_id = $1 AND created_at > now() - interval '1 hour'`,
        [other],
      );
      assert.equal(booked.n, 1);
    });

    it('when the room type is unknown or the party too big, then both apps answer the same error', async () => {
      const roomTypeId = await bookableRoomType(3);
      const capacity = (
        await one<{ capacity: number }>('SELECT capacity FROM room_types WHERE id = $1', [roomTypeId])
      ).capacity;
      const stay = { checkIn: addDays(today, 5), checkOut: addDays(today, 6) };
      const cases: [Record<string, unknown>, number][] = [
        [{ roomTypeId: 2147483647, ...stay, guests: 1 }, 404],
        [{ roomTypeId, ...stay, guests: capacity + 1 }, 422],
        // Three days back is in the past in every time zone.
        [{ roomTypeId, checkIn: addDays(today, -3), checkOut: addDays(today, 1), guests: 1 }, 422],
      ];
      for (const [body, status] of cases) {
        const a = await book(real, body, randomUUID());
        const b = await book(naive, body, randomUUID());
        assert.equal(a.statusCode, status, a.body);
        assert.equal(b.statusCode, status, b.body);
        assert.deepStrictEqual(comparable(b.json()), comparable(a.json()));
      }
    });
  });

  it('when /healthz is asked, then the naive app answers 200 without a query', async () => {
    const res: LightMyRequestResponse = await naive.inject({ url: '/healthz' });
    assert.equal(res.statusCode, 200);
    assert.deepStrictEqual(res.json(), { status: 'ok' });
    assert.equal(queryCount(res.headers), 0);
  });
});
