import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { App } from '../src/app/build-app.ts';
import { ERROR_FIELDS, queryCount, startTestApp } from './support/app.ts';
import { createTestDatabase, type TestDatabase } from './support/database.ts';
import { createHotel, type TestHotel } from './support/fixtures.ts';
import { ensureTestServer } from './support/test-server.ts';

interface Detail {
  id: number;
  name: string;
  timezone: string;
  currency: string;
  rating: number;
  reviewCount: number;
  createdAt: string;
  roomTypes: { id: number; name: string; basePriceCents: number; capacity: number; totalRooms: number }[];
  ratingSummary: { average: number | null; count: number; distribution: Record<string, number> };
}

describe('GET /api/hotels/:id', () => {
  let db: TestDatabase;
  let app: App;
  let stopServer: () => Promise<void>;
  let hotel: TestHotel;
  let empty: TestHotel;
  let inactive: TestHotel;

  before(async () => {
    stopServer = await ensureTestServer();
    db = await createTestDatabase();
    hotel = await createHotel(db.pool, {
      name: 'Detail Palace',
      timezone: 'Europe/Paris',
      rooms: [
        { name: 'Suite', basePriceCents: 30_000, capacity: 4 },
        { name: 'Single', basePriceCents: 8_000, capacity: 1 },
        { name: 'Double', basePriceCents: 12_000, capacity: 2 },
      ],
      inventoryNights: 1,
    });
    empty = await createHotel(db.pool, { rooms: [], inventoryNights: 1 });
    inactive = await createHotel(db.pool, { inventoryNights: 1 });
    await db.pool.query('UPDATE hotels SET is_active = false WHERE id = $1', [inactive.id]);
    // Ratings 5, 5, 4, 2, 1 from five users: average 3.40.
    await db.pool.query(
      `WITH u AS (
         INSERT INTO users (email, password_hash, name)
         SELECT 'detail-' || i || '@example.test', 'x', 'Reviewer ' || i FROM generate_series(1, 5) i
         RETURNING id, name
       )
       INSERT INTO reviews (user_id, entity_type, entity_id, rating, title, body)
       SELECT u.id, 'hotel', $1, (ARRAY[5, 5, 4, 2, 1])[right(u.name, 1)::int], 't', 'b' FROM u`,
      [hotel.id],
    );
    app = await startTestApp(db.url);
  });

  after(async () => {
    await app?.close();
    await db?.drop();
    await stopServer?.();
  });

  it('when the hotel exists, then it comes with every room type by price and a rating summary, in one query', async () => {
    const res = await app.inject({ method: 'GET', url: `/api/hotels/${hotel.id}` });
    assert.equal(res.statusCode, 200);
    assert.equal(queryCount(res.headers), 1);
    const body = res.json() as Detail;
    assert.equal(body.id, hotel.id);
    assert.equal(body.name, 'Detail Palace');
    assert.equal(body.timezone, 'Europe/Paris');
    assert.equal(body.currency, 'EUR');
    assert.ok(!Number.isNaN(Date.parse(body.createdAt)));
    assert.deepEqual(
      body.roomTypes.map((r) => [r.name, r.basePriceCents, r.capacity]),
      [
        ['Single', 8_000, 1],
        ['Double', 12_000, 2],
        ['Suite', 30_000, 4],
      ],
    );
    assert.deepEqual(body.ratingSummary, {
      average: 3.4,
      count: 5,
      distribution: { '1': 1, '2': 1, '3': 0, '4': 1, '5': 2 },
    });
    assert.ok(!('searchVector' in body) && !('search_vector' in body) && !('isActive' in body));
  });

  it('when the hotel has no rooms and no reviews, then both are empty and the average is null', async () => {
    const res = await app.inject({ method: 'GET', url: `/api/hotels/${empty.id}` });
    assert.equal(res.statusCode, 200);
    const body = res.json() as Detail;
    assert.deepEqual(body.roomTypes, []);
    assert.deepEqual(body.ratingSummary, {
      average: null,
      count: 0,
      distribution: { '1': 0, '2': 0, '3': 0, '4': 0, '5': 0 },
    });
  });

  it('when the path is /search, then it still reaches the search route', async () => {
    const res = await app.inject({ method: 'GET', url: '/api/hotels/search?name=detail' });
    assert.equal(res.statusCode, 200);
    const body = res.json() as { data: { id: number }[] };
    assert.deepEqual(
      body.data.map((h) => h.id),
      [hotel.id],
    );
  });

  for (const [label, id] of [
    ['unknown', () => 999_999],
    ['inactive', () => inactive.id],
  ] as const) {
    it(`when the hotel is ${label}, then 404 E_NOT_FOUND in the standard error format`, async () => {
      const res = await app.inject({ method: 'GET', url: `/api/hotels/${id()}` });
      assert.equal(res.statusCode, 404);
      const body = res.json();
      for (const key of ERROR_FIELDS) assert.ok(key in body, `missing ${key}`);
      assert.equal(body.code, 'E_NOT_FOUND');
      assert.equal(queryCount(res.headers), 1);
    });
  }

  it('when an unknown query parameter is given, then 400 names it', async () => {
    const res = await app.inject({ method: 'GET', url: `/api/hotels/${hotel.id}?expand=all` });
    assert.equal(res.statusCode, 400);
    const body = res.json();
    for (const key of ERROR_FIELDS) assert.ok(key in body, `missing ${key}`);
    assert.ok(body.details.some((d: { field?: string }) => d.field === 'expand'));
  });

  for (const id of ['abc', '0', '-1', '2147483648', '99999999999999999999', '1.5']) {
    it(`when the id is "${id}", then 400 E_VALIDATION names id and no query runs`, async () => {
      const res = await app.inject({ method: 'GET', url: `/api/hotels/${id}` });
      assert.equal(res.statusCode, 400);
      const body = res.json();
      for (const key of ERROR_FIELDS) assert.ok(key in body, `missing ${key}`);
      assert.equal(body.code, 'E_VALIDATION');
      assert.ok(
        body.details.some((d: { field?: string }) => d.field === 'id'),
        JSON.stringify(body.details),
      );
      assert.equal(queryCount(res.headers), 0);
    });
  }
});
