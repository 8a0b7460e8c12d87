import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { App } from '../src/app/build-app.ts';
import { assertError, queryCount, startTestApp } from './support/app.ts';
import { registerUser, type TestUser } from './support/auth.ts';
import { createTestDatabase, type TestDatabase } from './support/database.ts';
import { createHotel, isoDate, type TestHotel } from './support/fixtures.ts';
import { ensureTestServer } from './support/test-server.ts';

interface TripBooking {
  id: number;
  hotelName: string;
  roomTypeName: string;
  checkIn: string;
  checkOut: string;
  status: string;
  totalCents: number;
  currency: string;
}
interface Trip {
  id: number;
  name: string;
  status: string;
  startDate: string | null;
  endDate: string | null;
  createdAt: string;
  bookings: TripBooking[];
}
interface TripPage {
  data: Trip[];
  page: number;
  limit: number;
  hasMore: boolean;
}

describe('trips', () => {
  let db: TestDatabase;
  let app: App;
  let stopServer: () => Promise<void>;
  let alice: TestUser;
  let bob: TestUser;
  let hotel: TestHotel;

  before(async () => {
    stopServer = await ensureTestServer();
    db = await createTestDatabase();
    app = await startTestApp(db.url);
    alice = await registerUser(app, 'Alice');
    bob = await registerUser(app, 'Bob');
    hotel = await createHotel(db.pool, { name: 'Trip Hotel', currency: 'EUR', rooms: [{ name: 'Twin' }] });
  });

  after(async () => {
    await app?.close();
    await db?.drop();
    await stopServer?.();
  });

  /** A booking inserted in SQL (the bookings API is another module). */
  const booking = async (user: TestUser, checkIn: number, checkOut: number, status = 'confirmed') => {
    const { rows } = await db.pool.query<{ id: number }>(
      `INSERT INTO bookings (user_id, hotel_id, room_type_id, start_date, end_date, guests, status, total_cents, currency)
       VALUES ($1, $2, $3, $4, $5, 2, $6, $7, 'EUR') RETURNING id`,
      [
        user.id,
        hotel.id,
        hotel.roomTypes[0]!.id,
        isoDate(checkIn),
        isoDate(checkOut),
        status,
        (checkOut - checkIn) * 10_000,
      ],
    );
    return rows[0]!.id;
  };

  const createTrip = (user: TestUser, payload: Record<string, unknown>) =>
    app.inject({ method: 'POST', url: '/api/trips', headers: user.headers, payload });

  const attach = (user: TestUser, tripId: number | string, bookingId: unknown) =>
    app.inject({
      method: 'POST',
      url: `/api/trips/${tripId}/bookings`,
      headers: user.headers,
      payload: { bookingId },
    });

  const myTrips = async (user: TestUser, query = '') => {
    const res = await app.inject({ method: 'GET', url: `/api/me/trips${query}`, headers: user.headers });
    return { res, body: res.json() as TripPage };
  };

  it('when creating a trip, then 201 with the trip, planned and without bookings', async () => {
    const res = await createTrip(alice, { name: '  Lisbon  ', startDate: isoDate(10), endDate: isoDate(14) });
    assert.equal(res.statusCode, 201, res.body);
    const trip = res.json() as Trip;
    assert.equal(trip.name, 'Lisbon');
    assert.equal(queryCount(res.headers), 1);
    assert.equal(trip.status, 'planned');
    assert.equal(trip.startDate, isoDate(10));
    assert.equal(trip.endDate, isoDate(14));
    assert.deepEqual(trip.bookings, []);
    const { rows } = await db.pool.query('SELECT user_id, name FROM trips WHERE id = $1', [trip.id]);
    assert.deepEqual(rows, [{ user_id: alice.id, name: 'Lisbon' }]);

    const undated = await createTrip(alice, { name: 'Someday' });
    assert.equal(undated.statusCode, 201);
    assert.equal((undated.json() as Trip).startDate, null);
  });

  it('when the trip input is invalid, then a 4xx with the standard error body', async () => {
    const cases: [Record<string, unknown>, number, string][] = [
      [{ name: '' }, 400, 'E_VALIDATION'],
      [{ name: '   ' }, 400, 'E_VALIDATION'],
      [{ name: 'x'.repeat(101) }, 400, 'E_VALIDATION'],
      [{}, 400, 'E_VALIDATION'],
      [{ name: 'A', startDate: '2030-13-01' }, 400, 'E_VALIDATION'],
      [{ name: 'A', extra: true }, 400, 'E_VALIDATION'],
      [{ name: 'A', startDate: isoDate(5), endDate: isoDate(4) }, 422, 'E_INVALID_RANGE'],
      [{ name: 'A', startDate: '2030-01-01', endDate: '2031-06-01' }, 422, 'E_DATE_RANGE_TOO_LONG'],
    ];
    for (const [payload, status, code] of cases) assertError(await createTrip(alice, payload), status, code);
    assertError(await app.inject({ method: 'POST', url: '/api/trips', payload: { name: 'A' } }), 401);
    assert.equal((await createTrip(alice, { name: 'x'.repeat(100) })).statusCode, 201);
  });

  it('when attaching my booking to my trip, then 200 with the trip and its bookings by check-in', async () => {
    const trip = (await createTrip(alice, { name: 'Summer' })).json() as Trip;
    const later = await booking(alice, 20, 23);
    const sooner = await booking(alice, 12, 14, 'pending');
    assert.equal((await attach(alice, trip.id, later)).statusCode, 200);
    const res = await attach(alice, trip.id, sooner);
    assert.equal(res.statusCode, 200, res.body);
    assert.equal(queryCount(res.headers), 4, 'BEGIN, attach, read, COMMIT');
    const body = res.json() as Trip;
    assert.equal(body.id, trip.id);
    assert.deepEqual(body.bookings, [
      {
        id: sooner,
        hotelName: 'Trip Hotel',
        roomTypeName: 'Twin',
        checkIn: isoDate(12),
        checkOut: isoDate(14),
        status: 'pending',
        totalCents: 20_000,
        currency: 'EUR',
      },
      {
        id: later,
        hotelName: 'Trip Hotel',
        roomTypeName: 'Twin',
        checkIn: isoDate(20),
        checkOut: isoDate(23),
        status: 'confirmed',
        totalCents: 30_000,
        currency: 'EUR',
      },
    ]);
    // Attaching again is harmless.
    assert.equal(((await attach(alice, trip.id, sooner)).json() as Trip).bookings.length, 2);
  });

  it('when the booking is already in another of my trips, then it moves to this one', async () => {
    const first = (await createTrip(alice, { name: 'First' })).json() as Trip;
    const second = (await createTrip(alice, { name: 'Second' })).json() as Trip;
    const id = await booking(alice, 30, 31);
    await attach(alice, first.id, id);
    const res = await attach(alice, second.id, id);
    assert.deepEqual(
      (res.json() as Trip).bookings.map((b) => b.id),
      [id],
    );
    const { rows } = await db.pool.query('SELECT trip_id FROM bookings WHERE id = $1', [id]);
    assert.equal(rows[0].trip_id, second.id);
    const { body } = await myTrips(alice, '?limit=100');
    assert.deepEqual(body.data.find((t) => t.id === first.id)!.bookings, []);
  });

  it("when the trip or the booking is someone else's or unknown, then 404 and nothing changes", async () => {
    const aliceTrip = (await createTrip(alice, { name: 'Mine' })).json() as Trip;
    const bobTrip = (await createTrip(bob, { name: 'Bobs' })).json() as Trip;
    const aliceBooking = await booking(alice, 40, 41);
    const bobBooking = await booking(bob, 40, 41);
    assertError(await attach(alice, aliceTrip.id, bobBooking), 404, 'E_NOT_FOUND');
    assertError(await attach(alice, bobTrip.id, aliceBooking), 404, 'E_NOT_FOUND');
    assertError(await attach(alice, 999_999, aliceBooking), 404, 'E_NOT_FOUND');
    assertError(await attach(alice, aliceTrip.id, 999_999), 404, 'E_NOT_FOUND');
    const { rows } = await db.pool.query('SELECT id, trip_id FROM bookings WHERE id = ANY($1) ORDER BY id', [
      [aliceBooking, bobBooking],
    ]);
    assert.deepEqual(
      rows.map((r) => r.trip_id),
      [null, null],
    );
    assertError(await attach(alice, 2 ** 31, aliceBooking), 400, 'E_VALIDATION');
    assertError(await attach(alice, aliceTrip.id, 2 ** 31), 400, 'E_VALIDATION');
    assertError(await attach(alice, aliceTrip.id, 'abc'), 400, 'E_VALIDATION');
    assertError(await attach(alice, 'abc', aliceBooking), 400, 'E_VALIDATION');
    assertError(
      await app.inject({
        method: 'POST',
        url: `/api/trips/${aliceTrip.id}/bookings`,
        headers: alice.headers,
        payload: { bookingId: aliceBooking, extra: 1 },
      }),
      400,
      'E_VALIDATION',
    );
    assertError(
      await app.inject({
        method: 'POST',
        url: `/api/trips/${aliceTrip.id}/bookings`,
        payload: { bookingId: aliceBooking },
      }),
      401,
    );
  });

  it('when listing my trips, then only mine come back newest first, each with its bookings, in one query', async () => {
    const { res, body } = await myTrips(alice, '?limit=100');
    assert.equal(res.statusCode, 200);
    assert.equal(queryCount(res.headers), 1);
    const { rows } = await db.pool.query<{ id: number }>(
      'SELECT id FROM trips WHERE user_id = $1 ORDER BY created_at DESC, id DESC',
      [alice.id],
    );
    assert.deepEqual(
      body.data.map((t) => t.id),
      rows.map((r) => r.id),
    );
    const summer = body.data.find((t) => t.name === 'Summer')!;
    assert.equal(summer.bookings.length, 2);
    const bobs = await myTrips(bob);
    assert.deepEqual(
      bobs.body.data.map((t) => t.name),
      ['Bobs'],
    );
    assert.deepEqual(bobs.body.data[0]!.bookings, []);
  });

  it('when a user has many trips with bookings, then listing them is still one query', async () => {
    const carol = await registerUser(app, 'Carol');
    const empty = await myTrips(carol);
    assert.deepEqual(empty.body.data, []);
    assert.equal(queryCount(empty.res.headers), 1);
    for (let i = 0; i < 8; i++) {
      const trip = (await createTrip(carol, { name: `Trip ${i}` })).json() as Trip;
      for (let j = 0; j < 3; j++)
        await attach(carol, trip.id, await booking(carol, 2 + i * 5 + j, 3 + i * 5 + j));
    }
    const full = await myTrips(carol);
    assert.equal(queryCount(full.res.headers), 1);
    assert.equal(full.body.data.length, 8);
    for (const t of full.body.data) assert.equal(t.bookings.length, 3);
  });

  it('when paging and filtering by status, then pages are disjoint and hasMore is right', async () => {
    const { body: all } = await myTrips(alice, '?limit=100');
    const p1 = await myTrips(alice, '?limit=2&page=1');
    const p2 = await myTrips(alice, '?limit=2&page=2');
    assert.equal(p1.body.hasMore, true);
    assert.deepEqual(
      [...p1.body.data, ...p2.body.data].map((t) => t.id),
      all.data.slice(0, 4).map((t) => t.id),
    );
    await db.pool.query(`UPDATE trips SET status = 'cancelled' WHERE id = $1`, [all.data[0]!.id]);
    const cancelled = await myTrips(alice, '?status=cancelled');
    assert.deepEqual(
      cancelled.body.data.map((t) => t.id),
      [all.data[0]!.id],
    );
    assert.equal(cancelled.body.hasMore, false);
    assertError((await myTrips(alice, '?status=unknown')).res, 400, 'E_VALIDATION');
    assertError((await myTrips(alice, '?page=0')).res, 400, 'E_VALIDATION');
    assertError((await myTrips(alice, '?bogus=1')).res, 400, 'E_VALIDATION');
    assertError(await app.inject({ method: 'GET', url: '/api/me/trips' }), 401);
  });
});
