import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { App } from '../src/app/build-app.ts';
import { assertError, queryCount, startTestApp } from './support/app.ts';
import { registerAdmin, registerUser, type TestUser } from './support/auth.ts';
import { createTestDatabase, type TestDatabase } from './support/database.ts';
import { createHotel, type TestHotel } from './support/fixtures.ts';
import { ensureTestServer } from './support/test-server.ts';

describe('admin reports', () => {
  let db: TestDatabase;
  let app: App;
  let stopServer: () => Promise<void>;
  let admin: TestUser;
  let user: TestUser;
  let alpha: TestHotel;
  let beta: TestHotel;
  let gamma: TestHotel;
  let delta: TestHotel;
  let occ: TestHotel;

  before(async () => {
    stopServer = await ensureTestServer();
    db = await createTestDatabase();
    app = await startTestApp(db.url);
    admin = await registerAdmin(app);
    user = await registerUser(app);
    const noInventory = { inventoryNights: 1, fromDate: '2030-01-01' };
    alpha = await createHotel(db.pool, {
      name: 'Alpha',
      city: 'Lisbon',
      country: 'Portugal',
      ...noInventory,
    });
    beta = await createHotel(db.pool, { name: 'Beta', city: 'Porto', country: 'Portugal', ...noInventory });
    gamma = await createHotel(db.pool, {
      name: 'Gamma',
      city: 'Lisbon',
      country: 'Portugal',
      ...noInventory,
    });
    delta = await createHotel(db.pool, {
      name: 'Delta',
      city: 'Lisbon',
      country: 'Portugal',
      currency: 'USD',
      ...noInventory,
    });
    // hotel, check-in, check-out, status, total, currency
    const bookings: [TestHotel, string, string, string, number, string][] = [
      [alpha, '2030-05-01', '2030-05-03', 'confirmed', 20_000, 'EUR'],
      [alpha, '2030-05-01', '2030-05-02', 'cancelled', 10_000, 'EUR'],
      [alpha, '2030-05-02', '2030-05-05', 'completed', 30_000, 'EUR'],
      [alpha, '2030-05-02', '2030-05-04', 'pending', 15_000, 'EUR'],
      [beta, '2030-05-01', '2030-05-04', 'confirmed', 45_000, 'EUR'],
      [beta, '2030-05-03', '2030-05-04', 'cancelled', 9_000, 'EUR'],
      [gamma, '2030-05-03', '2030-05-05', 'confirmed', 22_000, 'EUR'],
      [delta, '2030-05-02', '2030-05-03', 'confirmed', 11_000, 'USD'],
      // Outside [2030-05-01, 2030-05-03] by check-in (the first one overlaps the range but starts before it).
      [alpha, '2030-04-30', '2030-05-02', 'confirmed', 99_999, 'EUR'],
      [beta, '2030-05-04', '2030-05-06', 'confirmed', 88_888, 'EUR'],
    ];
    for (const [h, checkIn, checkOut, status, total, currency] of bookings) {
      await db.pool.query(
        `INSERT INTO bookings (user_id, hotel_id, room_type_id, start_date, end_date, guests, status, total_cents, currency)
         VALUES ($1, $2, $3, $4, $5, 1, $6, $7, $8)`,
        [user.id, h.id, h.roomTypes[0]!.id, checkIn, checkOut, status, total, currency],
      );
    }

    // Occupancy: two room types of 3 rooms (6 in all), inventory for 2030-03-01..03.
    occ = await createHotel(db.pool, {
      name: 'Occupied',
      rooms: [{ totalRooms: 3 }, { totalRooms: 3 }],
      fromDate: '2030-03-01',
      inventoryNights: 3,
    });
    const available: [number, string, number][] = [
      [0, '2030-03-01', 1], // 2 booked
      [0, '2030-03-02', 3], // 0 booked
      [0, '2030-03-03', 0], // 3 booked
      [1, '2030-03-01', 3], // 0 booked
      [1, '2030-03-02', 2], // 1 booked
      [1, '2030-03-03', 0], // 3 booked
    ];
    for (const [rt, date, rooms] of available) {
      await db.pool.query(
        'UPDATE room_inventory SET available_rooms = $3 WHERE room_type_id = $1 AND date = $2',
        [occ.roomTypes[rt]!.id, date, rooms],
      );
    }
  });

  after(async () => {
    await app?.close();
    await db?.drop();
    await stopServer?.();
  });

  const get = (url: string, who: TestUser | null = admin) =>
    app.inject({ method: 'GET', url: `/api/admin${url}`, headers: who ? who.headers : {} });

  const RANGE = 'from=2030-05-01&to=2030-05-03';

  it('when grouping bookings by day, then counts, nights and revenue match the hand computation, in one query', async () => {
    const res = await get(`/reports/bookings?${RANGE}`);
    assert.equal(res.statusCode, 200, res.body);
    assert.equal(queryCount(res.headers), 1);
    assert.deepEqual(res.json(), {
      from: '2030-05-01',
      to: '2030-05-03',
      groupBy: 'day',
      truncated: false,
      rows: [
        { key: '2030-05-01', currency: 'EUR', bookings: 3, cancelled: 1, nights: 5, revenueCents: 65_000 },
        { key: '2030-05-02', currency: 'EUR', bookings: 2, cancelled: 0, nights: 5, revenueCents: 45_000 },
        { key: '2030-05-02', currency: 'USD', bookings: 1, cancelled: 0, nights: 1, revenueCents: 11_000 },
        { key: '2030-05-03', currency: 'EUR', bookings: 2, cancelled: 1, nights: 2, revenueCents: 22_000 },
      ],
    });
  });

  it('when grouping by hotel, then one row per hotel by revenue, highest first', async () => {
    const res = await get(`/reports/bookings?${RANGE}&groupBy=hotel`);
    assert.equal(res.statusCode, 200, res.body);
    assert.equal(queryCount(res.headers), 1);
    const row = (h: TestHotel, name: string) => ({ key: String(h.id), hotelId: h.id, hotelName: name });
    assert.deepEqual((res.json() as { rows: unknown[] }).rows, [
      { ...row(alpha, 'Alpha'), currency: 'EUR', bookings: 4, cancelled: 1, nights: 7, revenueCents: 65_000 },
      { ...row(beta, 'Beta'), currency: 'EUR', bookings: 2, cancelled: 1, nights: 3, revenueCents: 45_000 },
      { ...row(gamma, 'Gamma'), currency: 'EUR', bookings: 1, cancelled: 0, nights: 2, revenueCents: 22_000 },
      { ...row(delta, 'Delta'), currency: 'USD', bookings: 1, cancelled: 0, nights: 1, revenueCents: 11_000 },
    ]);
  });

  it('when grouping by city, then currencies are never added together', async () => {
    const res = await get(`/reports/bookings?${RANGE}&groupBy=city`);
    assert.equal(res.statusCode, 200, res.body);
    assert.equal(queryCount(res.headers), 1);
    assert.deepEqual((res.json() as { rows: unknown[] }).rows, [
      {
        key: 'Lisbon',
        country: 'Portugal',
        currency: 'EUR',
        bookings: 5,
        cancelled: 1,
        nights: 9,
        revenueCents: 87_000,
      },
      {
        key: 'Porto',
        country: 'Portugal',
        currency: 'EUR',
        bookings: 2,
        cancelled: 1,
        nights: 3,
        revenueCents: 45_000,
      },
      {
        key: 'Lisbon',
        country: 'Portugal',
        currency: 'USD',
        bookings: 1,
        cancelled: 0,
        nights: 1,
        revenueCents: 11_000,
      },
    ]);
  });

  it('when the range is one day or holds no bookings, then only that day or no rows', async () => {
    const one = (await get('/reports/bookings?from=2030-05-03&to=2030-05-03')).json() as {
      rows: { key: string }[];
    };
    assert.deepEqual(
      one.rows.map((r) => r.key),
      ['2030-05-03'],
    );
    const none = await get('/reports/bookings?from=2029-01-01&to=2029-12-31&groupBy=hotel');
    assert.equal(none.statusCode, 200);
    assert.deepEqual((none.json() as { rows: unknown[] }).rows, []);
  });

  it('when asking for occupancy, then one row per day with booked = total - available, and the average', async () => {
    const res = await get(`/reports/occupancy?hotelId=${occ.id}&from=2030-02-28&to=2030-03-03`);
    assert.equal(res.statusCode, 200, res.body);
    assert.equal(queryCount(res.headers), 1);
    assert.deepEqual(res.json(), {
      hotelId: occ.id,
      from: '2030-02-28',
      to: '2030-03-03',
      rows: [
        { date: '2030-02-28', totalRooms: 6, bookedRooms: 0, occupancy: 0 }, // no inventory row: nothing booked
        { date: '2030-03-01', totalRooms: 6, bookedRooms: 2, occupancy: 0.3333 },
        { date: '2030-03-02', totalRooms: 6, bookedRooms: 1, occupancy: 0.1667 },
        { date: '2030-03-03', totalRooms: 6, bookedRooms: 6, occupancy: 1 },
      ],
      average: 0.375, // 9 booked room nights / 24
    });
  });

  it('when the range is the longest allowed, then every day has a row', async () => {
    const res = await get(`/reports/occupancy?hotelId=${occ.id}&from=2030-01-01&to=2031-01-02`);
    assert.equal(res.statusCode, 200, res.body);
    const body = res.json() as { rows: { date: string }[]; average: number };
    assert.equal(body.rows.length, 367);
    assert.equal(body.rows.at(-1)!.date, '2031-01-02');
    assert.equal(body.average, Math.round((9 / (367 * 6)) * 10_000) / 10_000);
    assert.equal((await get('/reports/bookings?from=2030-01-01&to=2031-01-02')).statusCode, 200);
  });

  it('when the hotel does not exist, then 404', async () => {
    assertError(
      await get('/reports/occupancy?hotelId=999999&from=2030-03-01&to=2030-03-02'),
      404,
      'E_NOT_FOUND',
    );
  });

  it('when the query is invalid, then a 4xx with the standard error body', async () => {
    const cases: [string, number, string][] = [
      ['/reports/bookings?from=2030-05-03&to=2030-05-01', 422, 'E_INVALID_RANGE'],
      ['/reports/bookings?from=2030-01-01&to=2031-01-03', 422, 'E_DATE_RANGE_TOO_LONG'],
      ['/reports/bookings?from=2030-01-01', 400, 'E_VALIDATION'],
      ['/reports/bookings?from=2030-02-30&to=2030-03-01', 400, 'E_VALIDATION'],
      ['/reports/bookings?from=2030-01-01&to=2030-01-02&groupBy=week', 400, 'E_VALIDATION'],
      ['/reports/bookings?from=2030-01-01&to=2030-01-02&extra=1', 400, 'E_VALIDATION'],
      [`/reports/occupancy?hotelId=${occ.id}&from=2030-03-02&to=2030-03-01`, 422, 'E_INVALID_RANGE'],
      [`/reports/occupancy?hotelId=${occ.id}&from=2030-01-01&to=2031-01-03`, 422, 'E_DATE_RANGE_TOO_LONG'],
      [`/reports/occupancy?hotelId=${2 ** 31}&from=2030-03-01&to=2030-03-02`, 400, 'E_VALIDATION'],
      ['/reports/occupancy?hotelId=abc&from=2030-03-01&to=2030-03-02', 400, 'E_VALIDATION'],
      ['/reports/occupancy?from=2030-03-01&to=2030-03-02', 400, 'E_VALIDATION'],
    ];
    for (const [url, status, code] of cases) assertError(await get(url), status, code);
  });

  it('when a normal user asks, then 404; anonymous gets 401', async () => {
    for (const url of [`/reports/bookings?${RANGE}`, `/reports/occupancy?hotelId=${occ.id}&${RANGE}`]) {
      assertError(await get(url, user), 404);
      assertError(await get(url, null), 401);
    }
  });
});
