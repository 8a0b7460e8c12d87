import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { App } from '../src/app/build-app.ts';
import { buildHotelSearch } from '../src/app/hotels/hotel-repository.ts';
import { ERROR_FIELDS, queryCount, startTestApp } from './support/app.ts';
import { createTestDatabase, type TestDatabase } from './support/database.ts';
import { ensureTestServer } from './support/test-server.ts';

interface Item {
  id: number;
  name: string;
  city: string;
  stars: number;
  rating: number;
  minPriceCents: number | null;
  cheapestRooms: { id: number; name: string; basePriceCents: number; capacity: number }[];
}
interface Page {
  data: Item[];
  page: number;
  limit: number;
  hasMore: boolean;
}

// name, city, country, stars, rating, active, description, room prices
const HOTELS: [string, string, string, number, number, boolean, string, number[]][] = [
  [
    'Grand Palace',
    'Paris',
    'France',
    5,
    4.8,
    true,
    'Luxury spa and rooftop bar near the Louvre',
    [42000, 30000, 55000, 28000, 90000],
  ],
  ['Hotel du Nord', 'Paris', 'France', 3, 4.1, true, 'Family hotel by the canal', [9000, 12000]],
  ['Le Petit', 'Paris', 'France', 2, 3.5, true, 'Budget rooms close to the metro', [5000]],
  [
    'Grandview Suites',
    'Paris',
    'France',
    4,
    4.5,
    true,
    'Business hotel with meeting rooms and a spa',
    [20000, 18000, 25000, 19000],
  ],
  ['Closed Inn', 'Paris', 'France', 4, 5.0, false, 'Closed for renovation, rooftop spa', [10000]],
  ['Maison Sans Chambres', 'Paris', 'France', 3, 4.3, true, 'Rooms not yet on sale', []],
  ['Alfama Views', 'Lisbon', 'Portugal', 4, 4.6, true, 'Rooftop terrace over the river', [11000, 13000]],
  ['Shinjuku Tower', 'Tokyo', 'Japan', 5, 4.9, true, 'Skyline spa and onsen', [35000, 40000, 38000]],
];

describe('GET /api/hotels/search', () => {
  let db: TestDatabase;
  let app: App;

  let stopServer: () => Promise<void>;

  before(async () => {
    stopServer = await ensureTestServer();
    db = await createTestDatabase();
    for (const [name, city, country, stars, rating, active, description, prices] of HOTELS) {
      const { rows } = await db.pool.query<{ id: number }>(
        `INSERT INTO hotels (name, city, country, stars, rating, review_count, is_active, description)
         VALUES ($1, $2, $3, $4, $5, 10, $6, $7) RETURNING id`,
        [name, city, country, stars, rating, active, description],
      );
      for (const [i, price] of prices.entries()) {
        await db.pool.query(
          'INSERT INTO room_types (hotel_id, name, capacity, base_price_cents, total_rooms) VALUES ($1, $2, 2, $3, 5)',
          [rows[0]!.id, `Room ${i + 1}`, price],
        );
      }
    }
    await db.pool.query('ANALYZE');
    app = await startTestApp(db.url);
  });

  after(async () => {
    await app?.close();
    await db?.drop();
    await stopServer?.();
  });

  const search = async (query: string) => {
    const res = await app.inject({ method: 'GET', url: `/api/hotels/search?${query}` });
    return { res, body: res.json() as Page };
  };

  it('when searching a city in any case, then only its active hotels come back by rating, in one query', async () => {
    const { res, body } = await search('city=pARIS');
    assert.equal(res.statusCode, 200);
    assert.deepEqual(
      body.data.map((h) => h.name),
      ['Grand Palace', 'Grandview Suites', 'Maison Sans Chambres', 'Hotel du Nord', 'Le Petit'],
    );
    assert.equal(queryCount(res.headers), 1);
    const dbMs = Number(/db;dur=([\d.]+)/.exec(String(res.headers['server-timing']))?.[1]);
    assert.ok(dbMs > 0, `db time is measured: ${res.headers['server-timing']}`);
    assert.equal(body.hasMore, false);
  });

  it('when a hotel has more than 3 room types, then the 3 cheapest are returned in price order', async () => {
    const { body } = await search('city=paris&name=grand%20palace');
    assert.equal(body.data.length, 1);
    const palace = body.data[0]!;
    assert.deepEqual(
      palace.cheapestRooms.map((r) => r.basePriceCents),
      [28000, 30000, 42000],
    );
    assert.equal(palace.minPriceCents, 28000);
    const { body: all } = await search('city=paris');
    assert.deepEqual(all.data.find((h) => h.name === 'Maison Sans Chambres')!.cheapestRooms, []);
  });

  it('when sorting by price, then the cheapest hotel is first and hotels without rooms are last', async () => {
    const { body } = await search('city=Paris&sort=price');
    assert.deepEqual(
      body.data.map((h) => h.minPriceCents),
      [5000, 9000, 18000, 28000, null],
    );
  });

  it('when sorting by stars, then higher classes come first and ties go by rating', async () => {
    const { body } = await search('sort=stars&limit=4');
    assert.deepEqual(
      body.data.map((h) => h.name),
      ['Shinjuku Tower', 'Grand Palace', 'Alfama Views', 'Grandview Suites'],
    );
  });

  it('when filtering by minimum stars and rating, then every result satisfies both', async () => {
    const { body } = await search('stars=4&minRating=4.6');
    assert.deepEqual(
      body.data.map((h) => h.name),
      ['Shinjuku Tower', 'Grand Palace', 'Alfama Views'],
    );
    for (const h of body.data) assert.ok(h.stars >= 4 && h.rating >= 4.6);
  });

  it('when searching text, then matches rank by relevance and inactive hotels never appear', async () => {
    const { res, body } = await search('q=rooftop%20spa');
    assert.equal(res.statusCode, 200);
    assert.deepEqual(
      body.data.map((h) => h.name),
      ['Grand Palace'],
    );
    const { body: spa } = await search('q=spa');
    assert.deepEqual(spa.data.map((h) => h.name).sort(), [
      'Grand Palace',
      'Grandview Suites',
      'Shinjuku Tower',
    ]);
  });

  it('when a name prefix is given, then it matches case-insensitively and treats % and _ literally', async () => {
    const { body } = await search('name=GRAND');
    assert.deepEqual(
      body.data.map((h) => h.name),
      ['Grand Palace', 'Grandview Suites'],
    );
    const { body: wild } = await search('name=%25');
    assert.deepEqual(wild.data, []);
  });

  it('when paging, then pages are disjoint, ordered, cover the whole result and hasMore is right', async () => {
    const { body: full } = await search('limit=100');
    assert.equal(full.data.length, 7);
    const seen: string[] = [];
    for (let page = 1; page <= 4; page++) {
      const { body } = await search(`limit=2&page=${page}`);
      assert.equal(body.page, page);
      assert.equal(body.limit, 2);
      assert.equal(body.hasMore, page < 4);
      seen.push(...body.data.map((h) => h.name));
    }
    assert.deepEqual(
      seen,
      full.data.map((h) => h.name),
    );
  });

  it('when searching by rating or stars, with or without a city, then hotels are read from an index in the ORDER BY order', async () => {
    type PlanNode = {
      'Node Type': string;
      'Relation Name'?: string;
      'Index Name'?: string;
      Plans?: PlanNode[];
    };
    const scans = (node: PlanNode): PlanNode[] => [
      ...(node['Relation Name'] === 'hotels' ? [node] : []),
      ...(node.Plans ?? []).flatMap(scans),
    ];
    const cases: [Parameters<typeof buildHotelSearch>[0], string][] = [
      [{ sort: 'rating', limit: 20, offset: 0 }, 'hotels_active_rating_idx'],
      [{ sort: 'rating', minRating: 4, limit: 20, offset: 0 }, 'hotels_active_rating_idx'],
      [{ sort: 'rating', city: 'Paris', limit: 20, offset: 0 }, 'hotels_active_city_rating_idx'],
      [
        { sort: 'rating', city: 'Paris', minStars: 4, limit: 20, offset: 20 },
        'hotels_active_city_rating_idx',
      ],
      [{ sort: 'stars', city: 'Paris', limit: 20, offset: 0 }, 'hotels_active_city_stars_idx'],
    ];
    for (const [filter, index] of cases) {
      const q = buildHotelSearch(filter);
      const client = await db.pool.connect();
      try {
        await client.query('BEGIN');
        // Sorting priced out: only an index in the ORDER BY's exact order (NULLS placement too) is left,
        // instead of reading and sorting every active hotel for the default search.
        await client.query('SET LOCAL enable_sort = off');
        const { rows } = await client.query(`EXPLAIN (FORMAT JSON) ${q.text}`, [...(q.values ?? [])]);
        const plan = (rows[0] as { 'QUERY PLAN': { Plan: PlanNode }[] })['QUERY PLAN'][0]!.Plan;
        assert.deepEqual(
          scans(plan).map((n) => n['Index Name']),
          [index],
          `${q.name}: ${JSON.stringify(plan)}`,
        );
      } finally {
        await client.query('ROLLBACK');
        client.release();
      }
    }
  });

  it('when any combination of filters and sort is used, then exactly one SQL statement runs', async () => {
    const filters = [
      '',
      'city=paris',
      'stars=3',
      'minRating=4',
      'q=spa',
      'name=gr',
      'city=paris&stars=3&minRating=4&q=spa&name=gr',
    ];
    for (const filter of filters) {
      for (const sort of ['rating', 'price', 'stars', 'relevance']) {
        const { res } = await search(`${filter}&sort=${sort}`);
        assert.equal(res.statusCode, 200, `${filter} ${sort}`);
        assert.equal(queryCount(res.headers), 1, `${filter} sort=${sort}`);
      }
    }
  });

  const badQueries: [string, string][] = [
    ['sort=cheapest', 'sort'],
    ['stars=9', 'stars'],
    ['stars=four', 'stars'],
    ['minRating=7', 'minRating'],
    ['page=0', 'page'],
    ['limit=1000', 'limit'],
    ['page=200&limit=100', 'page'],
    ['city=', 'city'],
    ['colour=red', 'colour'],
    [`q=${'x'.repeat(201)}`, 'q'],
  ];
  for (const [query, field] of badQueries) {
    it(`when the query is "${query.slice(0, 30)}", then 400 names ${field} in the standard error format`, async () => {
      const res = await app.inject({
        method: 'GET',
        url: `/api/hotels/search?${query}`,
        headers: { 'x-request-id': 'req-42' },
      });
      assert.equal(res.statusCode, 400);
      const body = res.json();
      for (const key of ERROR_FIELDS) assert.ok(key in body, `missing ${key}`);
      assert.equal(body.success, false);
      assert.equal(body.code, 'E_VALIDATION');
      assert.equal(body.statusCode, 400);
      assert.equal(body.error, 'Bad Request');
      assert.equal(body.requestId, 'req-42');
      assert.equal(body.path, `/api/hotels/search?${query}`);
      assert.ok(!('stack' in body));
      assert.ok(
        body.details.some((d: { field?: string }) => d.field === field),
        JSON.stringify(body.details),
      );
    });
  }
});
