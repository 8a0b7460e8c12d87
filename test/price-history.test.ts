import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { App } from '../src/app/build-app.ts';
import { addDays } from '../src/app/common/stay.ts';
import { assertError, queryCount, startTestApp } from './support/app.ts';
import { createTestDatabase, type TestDatabase } from './support/database.ts';
import { createHotel, type TestHotel } from './support/fixtures.ts';
import { ensureTestServer } from './support/test-server.ts';

interface History {
  roomTypeId: number;
  currency: string;
  from: string;
  to: string;
  points: { priceCents: number; stayDate: string | null; recordedAt: string }[];
}

describe('GET /api/hotels/:id/price-history', () => {
  let db: TestDatabase;
  let app: App;
  let stopServer: () => Promise<void>;
  let hotel: TestHotel;
  let other: TestHotel;
  let inactive: TestHotel;
  /** Today in UTC according to PostgreSQL. */
  let today: string;

  const record = async (
    entityType: string,
    entityId: number,
    priceCents: number,
    createdAt: string,
    stayDate: string | null = null,
  ) => {
    await db.pool.query(
      `INSERT INTO price_history (entity_type, entity_id, price_cents, currency, stay_date, created_at)
       VALUES ($1, $2, $3, 'JPY', $4, $5)`,
      [entityType, entityId, priceCents, stayDate, createdAt],
    );
  };

  before(async () => {
    stopServer = await ensureTestServer();
    db = await createTestDatabase();
    hotel = await createHotel(db.pool, { currency: 'JPY', rooms: [{}, {}], inventoryNights: 1 });
    other = await createHotel(db.pool, { inventoryNights: 1 });
    inactive = await createHotel(db.pool, { inventoryNights: 1 });
    await db.pool.query('UPDATE hotels SET is_active = false WHERE id = $1', [inactive.id]);
    const { rows } = await db.pool.query<{ d: string }>(`SELECT (now() AT TIME ZONE 'UTC')::date AS d`);
    today = rows[0]!.d;
    const rt = hotel.roomTypes[0]!.id;
    // Inside the default window (today - 90 .. today, UTC days, both included).
    await record('room_type', rt, 1_000, `${addDays(today, -90)}T00:00:00Z`);
    await record('room_type', rt, 1_100, `${addDays(today, -30)}T12:00:00Z`);
    await record('room_type', rt, 1_200, `${today}T00:00:00Z`, addDays(today, 20));
    await record('room_type', rt, 1_300, `${today}T00:00:00Z`, addDays(today, 21));
    // Outside it: the second before, and tomorrow.
    await record('room_type', rt, 900, `${addDays(today, -91)}T23:59:59Z`);
    await record('room_type', rt, 1_400, `${addDays(today, 1)}T00:00:00Z`);
    // Same id, other entity type; and the sibling room type: never in this room type's history.
    await record('hotel', rt, 5_000, `${addDays(today, -1)}T00:00:00Z`);
    await record('room_type', hotel.roomTypes[1]!.id, 7_000, `${addDays(today, -1)}T00:00:00Z`);
    // An explicit range: [2030-01-10, 2030-01-12] in UTC.
    await record('room_type', rt, 2_000, '2030-01-09T23:59:59.999Z');
    await record('room_type', rt, 2_001, '2030-01-10T00:00:00Z');
    await record('room_type', rt, 2_002, '2030-01-11T08:00:00+05:00');
    await record('room_type', rt, 2_003, '2030-01-12T23:59:59.999Z');
    await record('room_type', rt, 2_004, '2030-01-13T00:00:00Z');
    app = await startTestApp(db.url);
  });

  after(async () => {
    await app?.close();
    await db?.drop();
    await stopServer?.();
  });

  const get = (hotelId: number, query: string) =>
    app.inject({ method: 'GET', url: `/api/hotels/${hotelId}/price-history?${query}` });

  it('when no range is given, then the last 90 UTC days come back newest first, in one query', async () => {
    const res = await get(hotel.id, `roomTypeId=${hotel.roomTypes[0]!.id}`);
    assert.equal(res.statusCode, 200, res.body);
    assert.equal(queryCount(res.headers), 1);
    const body = res.json() as History;
    assert.equal(body.roomTypeId, hotel.roomTypes[0]!.id);
    assert.equal(body.currency, 'JPY');
    assert.deepEqual([body.from, body.to], [addDays(today, -90), today]);
    assert.deepEqual(
      body.points.map((p) => [p.priceCents, p.stayDate]),
      [
        [1_300, addDays(today, 21)],
        [1_200, addDays(today, 20)],
        [1_100, null],
        [1_000, null],
      ],
    );
    assert.equal(body.points[3]!.recordedAt, `${addDays(today, -90)}T00:00:00.000Z`);
  });

  it('when from and to are given, then both UTC days are included and nothing outside', async () => {
    const res = await get(hotel.id, `roomTypeId=${hotel.roomTypes[0]!.id}&from=2030-01-10&to=2030-01-12`);
    assert.equal(res.statusCode, 200, res.body);
    const body = res.json() as History;
    assert.deepEqual([body.from, body.to], ['2030-01-10', '2030-01-12']);
    assert.deepEqual(
      body.points.map((p) => [p.priceCents, p.recordedAt]),
      [
        [2_003, '2030-01-12T23:59:59.999Z'],
        [2_002, '2030-01-11T03:00:00.000Z'],
        [2_001, '2030-01-10T00:00:00.000Z'],
      ],
    );
  });

  it('when there are more points than limit, then the newest come back and truncated says so', async () => {
    const url = `roomTypeId=${hotel.roomTypes[0]!.id}&from=2030-01-10&to=2030-01-12`;
    const cut = (await get(hotel.id, `${url}&limit=2`)).json() as History & { truncated: boolean };
    assert.deepEqual(
      cut.points.map((p) => p.priceCents),
      [2_003, 2_002],
    );
    assert.equal(cut.truncated, true);
    const all = (await get(hotel.id, `${url}&limit=3`)).json() as History & { truncated: boolean };
    assert.equal(all.points.length, 3);
    assert.equal(all.truncated, false);
    assert.equal((await get(hotel.id, `${url}&limit=1001`)).statusCode, 400);
  });

  it('when only to is given, then from is 90 days before it', async () => {
    const res = await get(hotel.id, `roomTypeId=${hotel.roomTypes[0]!.id}&to=2030-01-10`);
    const body = res.json() as History;
    assert.deepEqual([body.from, body.to], [addDays('2030-01-10', -90), '2030-01-10']);
    assert.deepEqual(
      body.points.map((p) => p.priceCents),
      [2_001, 2_000],
    );
  });

  it('when only from is given, then to is today (UTC)', async () => {
    const res = await get(hotel.id, `roomTypeId=${hotel.roomTypes[0]!.id}&from=${addDays(today, -30)}`);
    const body = res.json() as History;
    assert.deepEqual([body.from, body.to], [addDays(today, -30), today]);
    assert.deepEqual(
      body.points.map((p) => p.priceCents),
      [1_300, 1_200, 1_100],
    );
  });

  it('when the room type has no history in the range, then an empty list', async () => {
    const res = await get(other.id, `roomTypeId=${other.roomTypes[0]!.id}`);
    assert.equal(res.statusCode, 200);
    assert.deepEqual((res.json() as History).points, []);
    assert.equal((res.json() as History).currency, 'EUR');
  });

  it('when the booking module records nightly prices, then they appear with their nights', async () => {
    const rt = other.roomTypes[0]!.id;
    await db.pool.query(
      `INSERT INTO price_history (entity_type, entity_id, price_cents, currency, stay_date)
       SELECT 'room_type', $1, 12000 + i, 'EUR', $2::date + i FROM generate_series(0, 2) i`,
      [rt, addDays(today, 10)],
    );
    const res = await get(other.id, `roomTypeId=${rt}`);
    const points = (res.json() as History).points;
    assert.deepEqual(points.map((p) => [p.priceCents, p.stayDate]).sort(), [
      [12_000, addDays(today, 10)],
      [12_001, addDays(today, 11)],
      [12_002, addDays(today, 12)],
    ]);
  });

  it('when the room type is of another hotel, unknown, or the hotel is unknown or inactive, then 404', async () => {
    const cases: [number, number][] = [
      [hotel.id, other.roomTypes[0]!.id],
      [hotel.id, 999_999],
      [999_999, hotel.roomTypes[0]!.id],
      [inactive.id, inactive.roomTypes[0]!.id],
    ];
    for (const [hotelId, roomTypeId] of cases) {
      const res = await get(hotelId, `roomTypeId=${roomTypeId}`);
      assertError(res, 404, 'E_NOT_FOUND');
      assert.equal(queryCount(res.headers), 1);
    }
  });

  const rt = () => `roomTypeId=${hotel.roomTypes[0]!.id}`;
  const bad: [string, () => string, number, string, string][] = [
    ['to before from', () => `${rt()}&from=2030-01-10&to=2030-01-09`, 422, 'E_INVALID_RANGE', 'to'],
    ['367 days', () => `${rt()}&from=2030-01-01&to=2031-01-03`, 422, 'E_DATE_RANGE_TOO_LONG', 'to'],
    ['a month 13', () => `${rt()}&from=2030-13-01`, 400, 'E_VALIDATION', 'from'],
    ['a word for a date', () => `${rt()}&to=yesterday`, 400, 'E_VALIDATION', 'to'],
    ['no roomTypeId', () => 'from=2030-01-01', 400, 'E_VALIDATION', 'roomTypeId'],
    ['a roomTypeId beyond int4', () => 'roomTypeId=2147483648', 400, 'E_VALIDATION', 'roomTypeId'],
    ['a roomTypeId of 0', () => 'roomTypeId=0', 400, 'E_VALIDATION', 'roomTypeId'],
    ['a text roomTypeId', () => 'roomTypeId=suite', 400, 'E_VALIDATION', 'roomTypeId'],
    ['an unknown parameter', () => `${rt()}&currency=EUR`, 400, 'E_VALIDATION', 'currency'],
  ];
  for (const [label, query, status, code, field] of bad) {
    it(`when the query has ${label}, then ${status} ${code} names ${field} and no query runs`, async () => {
      const res = await get(hotel.id, query());
      assertError(res, status, code, field);
      assert.equal(queryCount(res.headers), 0);
    });
  }

  it('when only from is given and it is too far back or in the future, then 422 against today (UTC)', async () => {
    const tooOld = await get(hotel.id, `${rt()}&from=${addDays(today, -367)}`);
    assertError(tooOld, 422, 'E_DATE_RANGE_TOO_LONG', 'to');
    const future = await get(hotel.id, `${rt()}&from=${addDays(today, 1)}`);
    assertError(future, 422, 'E_INVALID_RANGE', 'to');
    const longest = await get(hotel.id, `${rt()}&from=${addDays(today, -366)}`);
    assert.equal(longest.statusCode, 200);
  });

  it('when the hotel id is beyond int4, then 400 names id', async () => {
    const res = await get(2_147_483_648, rt());
    assertError(res, 400, 'E_VALIDATION', 'id');
  });
});
