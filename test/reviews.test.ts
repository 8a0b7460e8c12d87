import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { App } from '../src/app/build-app.ts';
import { assertError, queryCount, startTestApp } from './support/app.ts';
import { registerUser, type TestUser } from './support/auth.ts';
import { createTestDatabase, type TestDatabase } from './support/database.ts';
import { createHotel, givePastStay, isoDate, type TestHotel } from './support/fixtures.ts';
import { ensureTestServer } from './support/test-server.ts';

interface Review {
  id: number;
  rating: number;
  title: string;
  body: string;
  createdAt: string;
  author: { id: number; name: string };
}
interface ReviewPage {
  data: Review[];
  page: number;
  limit: number;
  hasMore: boolean;
}

describe('reviews', () => {
  let db: TestDatabase;
  let app: App;
  let stopServer: () => Promise<void>;
  let inactive: TestHotel;

  before(async () => {
    stopServer = await ensureTestServer();
    db = await createTestDatabase();
    inactive = await createHotel(db.pool, { inventoryNights: 1 });
    await db.pool.query('UPDATE hotels SET is_active = false WHERE id = $1', [inactive.id]);
    app = await startTestApp(db.url);
  });

  after(async () => {
    await app?.close();
    await db?.drop();
    await stopServer?.();
  });

  const hotelState = async (id: number) => {
    const { rows } = await db.pool.query<{ rating: number; reviewCount: number }>(
      'SELECT rating, review_count AS "reviewCount" FROM hotels WHERE id = $1',
      [id],
    );
    return rows[0]!;
  };

  describe('GET /api/hotels/:id/reviews', () => {
    let hotel: TestHotel;
    let quiet: TestHotel;
    // id order is not date order, so a sort by id would fail these tests.
    const SEEDED: [rating: number, daysAgo: number][] = [
      [3, 5],
      [5, 1],
      [1, 9],
      [5, 3],
      [2, 2],
      [4, 7],
    ];
    let ids: number[] = [];

    before(async () => {
      hotel = await createHotel(db.pool, { inventoryNights: 1 });
      quiet = await createHotel(db.pool, { inventoryNights: 1 });
      const { rows } = await db.pool.query<{ id: number }>(
        `WITH s AS (
           SELECT ord, rating, days FROM unnest($2::int[], $3::int[]) WITH ORDINALITY AS s(rating, days, ord)
         ), u AS (
           INSERT INTO users (email, password_hash, name)
           SELECT 'list-' || ord || '@example.test', 'x', 'Author ' || ord FROM s ORDER BY ord
           RETURNING id, name
         )
         INSERT INTO reviews (user_id, entity_type, entity_id, rating, title, body, created_at)
         SELECT u.id, 'hotel', $1, s.rating, 'Title ' || s.ord, 'Body ' || s.ord, now() - make_interval(days => s.days)
         FROM s JOIN u ON u.name = 'Author ' || s.ord
         ORDER BY s.ord
         RETURNING id`,
        [hotel.id, SEEDED.map(([r]) => r), SEEDED.map(([, d]) => d)],
      );
      ids = rows.map((r) => r.id);
      // Another hotel's review must never leak into this list.
      await db.pool.query(
        `INSERT INTO reviews (user_id, entity_type, entity_id, rating)
         SELECT id, 'hotel', $1, 5 FROM users WHERE name = 'Author 1'`,
        [quiet.id + 1000],
      );
    });

    const list = (id: number, query = '') =>
      app.inject({ method: 'GET', url: `/api/hotels/${id}/reviews?${query}` });
    // 1-based positions in SEEDED.
    const titles = (page: ReviewPage) => page.data.map((r) => Number(r.title.replace('Title ', '')));

    it('when listing without options, then the newest come first with their authors, in one query', async () => {
      const res = await list(hotel.id);
      assert.equal(res.statusCode, 200);
      assert.equal(queryCount(res.headers), 1);
      const body = res.json() as ReviewPage;
      assert.deepEqual(titles(body), [2, 5, 4, 1, 6, 3]);
      assert.deepEqual(
        { page: body.page, limit: body.limit, hasMore: body.hasMore },
        { page: 1, limit: 20, hasMore: false },
      );
      const first = body.data[0]!;
      assert.equal(first.id, ids[1]);
      assert.deepEqual(
        { rating: first.rating, body: first.body, authorName: first.author.name },
        { rating: 5, body: 'Body 2', authorName: 'Author 2' },
      );
      assert.equal(typeof first.author.id, 'number');
      assert.match(first.createdAt, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/);
    });

    it('when sorting by highest or lowest, then ratings are ordered and ties go newest first', async () => {
      const highest = (await list(hotel.id, 'sort=highest')).json() as ReviewPage;
      assert.deepEqual(titles(highest), [2, 4, 6, 1, 5, 3]);
      const lowest = (await list(hotel.id, 'sort=lowest')).json() as ReviewPage;
      assert.deepEqual(titles(lowest), [3, 5, 1, 6, 2, 4]);
    });

    it('when paging, then pages are disjoint, in order, and hasMore is right', async () => {
      const seen: number[] = [];
      for (const page of [1, 2, 3]) {
        const res = await list(hotel.id, `limit=2&page=${page}&sort=newest`);
        assert.equal(queryCount(res.headers), 1);
        const body = res.json() as ReviewPage;
        assert.equal(body.page, page);
        assert.equal(body.limit, 2);
        assert.equal(body.hasMore, page < 3);
        seen.push(...titles(body));
      }
      assert.deepEqual(seen, [2, 5, 4, 1, 6, 3]);
      const beyond = (await list(hotel.id, 'limit=2&page=4')).json() as ReviewPage;
      assert.deepEqual(beyond, { data: [], page: 4, limit: 2, hasMore: false });
    });

    it('when the hotel has no reviews, then an empty page, not a 404', async () => {
      const res = await list(quiet.id);
      assert.equal(res.statusCode, 200);
      assert.deepEqual(res.json(), { data: [], page: 1, limit: 20, hasMore: false });
    });

    it('when the hotel is unknown or inactive, then 404 E_NOT_FOUND from the same single query', async () => {
      for (const id of [999_999, inactive.id]) {
        const res = await list(id);
        assertError(res, 404, 'E_NOT_FOUND');
        assert.equal(queryCount(res.headers), 1);
      }
    });

    const bad: [string, string][] = [
      ['sort=best', 'sort'],
      ['page=0', 'page'],
      ['page=1001', 'page'],
      ['limit=0', 'limit'],
      ['limit=101', 'limit'],
      ['limit=ten', 'limit'],
      ['rating=5', 'rating'],
    ];
    for (const [query, field] of bad) {
      it(`when the query is ${query}, then 400 names ${field} and no query runs`, async () => {
        const res = await list(hotel.id, query);
        assertError(res, 400, 'E_VALIDATION', field);
        assert.equal(queryCount(res.headers), 0);
      });
    }

    it('when the hotel id is beyond int4 or not a number, then 400 names id', async () => {
      for (const id of ['2147483648', 'x']) {
        const res = await app.inject({ method: 'GET', url: `/api/hotels/${id}/reviews` });
        assertError(res, 400, 'E_VALIDATION', 'id');
      }
    });
  });

  describe('POST /api/hotels/:id/reviews', () => {
    let author: TestUser;
    let hotel: TestHotel;

    before(async () => {
      author = await registerUser(app, 'Ada Reviewer');
      hotel = await createHotel(db.pool, { inventoryNights: 1 });
      await givePastStay(db.pool, author.id, hotel.id);
    });

    /** A new user with a completed stay at each of the hotels: allowed to review them. */
    const guest = async (name: string, ...hotels: TestHotel[]) => {
      const user = await registerUser(app, name);
      for (const h of hotels) await givePastStay(db.pool, user.id, h.id);
      return user;
    };

    const post = (id: number, payload: unknown, user: TestUser | null = author) =>
      app.inject({
        method: 'POST',
        url: `/api/hotels/${id}/reviews`,
        headers: user ? user.headers : {},
        payload: payload as Record<string, unknown>,
      });

    it('when a user reviews a hotel, then 201 with the review, and the rating moves, in one transaction', async () => {
      const res = await post(hotel.id, { rating: 4, title: 'Quiet', body: 'Slept well.' });
      assert.equal(res.statusCode, 201, res.body);
      assert.equal(queryCount(res.headers), 4, 'BEGIN, lock hotel, insert + update, COMMIT');
      const review = res.json() as Review;
      assert.deepEqual(
        { ...review, id: undefined, createdAt: undefined },
        {
          id: undefined,
          createdAt: undefined,
          rating: 4,
          title: 'Quiet',
          body: 'Slept well.',
          author: { id: author.id, name: 'Ada Reviewer' },
        },
      );
      assert.ok(Math.abs(Date.parse(review.createdAt) - Date.now()) < 60_000);
      const { rows } = await db.pool.query(
        'SELECT user_id, entity_type, entity_id, rating, title, body FROM reviews WHERE id = $1',
        [review.id],
      );
      assert.deepEqual(rows, [
        {
          user_id: author.id,
          entity_type: 'hotel',
          entity_id: hotel.id,
          rating: 4,
          title: 'Quiet',
          body: 'Slept well.',
        },
      ]);
      assert.deepEqual(await hotelState(hotel.id), { rating: 4, reviewCount: 1 });
      const listed = (
        await app.inject({ method: 'GET', url: `/api/hotels/${hotel.id}/reviews` })
      ).json() as ReviewPage;
      assert.deepEqual(listed.data, [review]);
    });

    it('when the same user reviews the hotel again, then 409 E_ALREADY_REVIEWED and nothing changes', async () => {
      const res = await post(hotel.id, { rating: 1 });
      assertError(res, 409, 'E_ALREADY_REVIEWED');
      assert.equal(queryCount(res.headers), 4, 'BEGIN, lock hotel, insert + update, ROLLBACK');
      assert.deepEqual(await hotelState(hotel.id), { rating: 4, reviewCount: 1 });
      const { rows } = await db.pool.query('SELECT count(*)::int AS n FROM reviews WHERE entity_id = $1', [
        hotel.id,
      ]);
      assert.equal(rows[0].n, 1);
    });

    it('when reviews arrive one after another, then the running rating follows the formula to the cent', async () => {
      const fresh = await createHotel(db.pool, { inventoryNights: 1 });
      const expected: [number, number][] = [
        [5, 5],
        [4, 4.5],
        [3, 4],
        [1, 3.25],
        [2, 3],
      ];
      for (const [i, [rating, average]] of expected.entries()) {
        const user = await guest(`Seq ${i}`, fresh);
        const res = await post(fresh.id, { rating }, user);
        assert.equal(res.statusCode, 201, res.body);
        assert.deepEqual(await hotelState(fresh.id), { rating: average, reviewCount: i + 1 });
      }
    });

    it('when a hotel already has many reviews, then a new one still moves its rating to the true mean', async () => {
      const busy = await createHotel(db.pool, { inventoryNights: 1 });
      // 100 reviews averaging 4.50, and the hotel row agreeing with them (as the seed leaves it).
      await db.pool.query(
        `WITH u AS (
           INSERT INTO users (email, password_hash, name)
           SELECT 'many-' || $1::int || '-' || g || '@example.test', 'x', 'Many ' || g FROM generate_series(1, 100) g
           RETURNING id
         )
         INSERT INTO reviews (user_id, entity_type, entity_id, rating)
         SELECT id, 'hotel', $1, 4 + (id % 2) FROM u`,
        [busy.id],
      );
      await db.pool.query('UPDATE hotels SET rating = 4.5, review_count = 100 WHERE id = $1', [busy.id]);
      for (let i = 0; i < 5; i++) {
        const res = await post(busy.id, { rating: 5 }, await guest(`Fan ${i}`, busy));
        assert.equal(res.statusCode, 201, res.body);
      }
      // (450 + 5 x 5) / 105 = 4.5238. A running average rounded to 2 decimals stays at 4.50 forever:
      // each step moves it by less than 0.005.
      assert.deepEqual(await hotelState(busy.id), { rating: 4.52, reviewCount: 105 });
      const detail = (await app.inject({ method: 'GET', url: `/api/hotels/${busy.id}` })).json() as {
        rating: number;
        ratingSummary: { average: number; count: number };
      };
      assert.equal(detail.rating, detail.ratingSummary.average);
    });

    it('when title and body are omitted, then they are empty strings', async () => {
      const fresh = await createHotel(db.pool, { inventoryNights: 1 });
      await givePastStay(db.pool, author.id, fresh.id);
      const res = await post(fresh.id, { rating: 3 });
      assert.equal(res.statusCode, 201, res.body);
      const review = res.json() as Review;
      assert.equal(review.title, '');
      assert.equal(review.body, '');
    });

    it('when 10 users review one hotel concurrently, then no update is lost', async () => {
      const fresh = await createHotel(db.pool, { inventoryNights: 1 });
      // The hotel already has 10 reviews averaging 4.00.
      await db.pool.query(
        `WITH u AS (
           INSERT INTO users (email, password_hash, name)
           SELECT 'crowd-' || $1::int || '-' || g || '@example.test', 'x', 'Earlier ' || g FROM generate_series(1, 10) g
           RETURNING id
         )
         INSERT INTO reviews (user_id, entity_type, entity_id, rating) SELECT id, 'hotel', $1, 4 FROM u`,
        [fresh.id],
      );
      await db.pool.query('UPDATE hotels SET rating = 4, review_count = 10 WHERE id = $1', [fresh.id]);
      const users = await Promise.all(Array.from({ length: 10 }, (_, i) => guest(`Crowd ${i}`, fresh)));
      const ratings = [1, 1, 2, 1, 1, 1, 2, 1, 1, 1];
      const responses = await Promise.all(
        users.map((user, i) => post(fresh.id, { rating: ratings[i] }, user)),
      );
      assert.deepEqual(
        responses.map((r) => r.statusCode),
        Array(10).fill(201),
      );
      const state = await hotelState(fresh.id);
      assert.equal(state.reviewCount, 20);
      // Exactly the mean of all 20: a lost review would move it by more than 0.07.
      const mean = (40 + ratings.reduce((a, b) => a + b, 0)) / 20;
      assert.equal(state.rating, mean);
      const { rows } = await db.pool.query('SELECT count(*)::int AS n FROM reviews WHERE entity_id = $1', [
        fresh.id,
      ]);
      assert.equal(rows[0].n, 20);
    });

    it('when one user posts twice at the same time, then exactly one review is created and the other is 409', async () => {
      const fresh = await createHotel(db.pool, { inventoryNights: 1 });
      const user = await guest('Double Clicker', fresh);
      const responses = await Promise.all([
        post(fresh.id, { rating: 5 }, user),
        post(fresh.id, { rating: 2 }, user),
      ]);
      assert.deepEqual(responses.map((r) => r.statusCode).sort(), [201, 409]);
      const created = responses.find((r) => r.statusCode === 201)!.json() as Review;
      assert.deepEqual(await hotelState(fresh.id), { rating: created.rating, reviewCount: 1 });
    });

    it('when the hotel is unknown or inactive, then 404 E_NOT_FOUND (not 403) and no review is stored', async () => {
      // A stay at the inactive hotel does not make it reviewable; the unknown one cannot have stays.
      await givePastStay(db.pool, author.id, inactive.id);
      for (const id of [999_999, inactive.id]) {
        const res = await post(id, { rating: 5 });
        assertError(res, 404, 'E_NOT_FOUND');
      }
      const { rows } = await db.pool.query(
        'SELECT count(*)::int AS n FROM reviews WHERE entity_id IN (999999, $1)',
        [inactive.id],
      );
      assert.equal(rows[0].n, 0);
      assert.equal((await hotelState(inactive.id)).reviewCount, 0);
    });

    it('when there is no token or a bad one, then 401 and nothing is stored', async () => {
      const anonymous = await post(hotel.id, { rating: 5 }, null);
      assertError(anonymous, 401, 'E_UNAUTHORIZED');
      const forged = await app.inject({
        method: 'POST',
        url: `/api/hotels/${hotel.id}/reviews`,
        headers: { authorization: 'Bearer a.b.c' },
        payload: { rating: 5 },
      });
      assertError(forged, 401, 'E_INVALID_TOKEN');
      assert.equal((await hotelState(hotel.id)).reviewCount, 1);
    });

    describe('who may review: a guest whose check-in at the hotel has come', () => {
      const reviewCount = async (hotelId: number) =>
        (
          await db.pool.query<{ n: number }>(
            `SELECT count(*)::int AS n FROM reviews WHERE entity_type = 'hotel' AND entity_id = $1`,
            [hotelId],
          )
        ).rows[0]!.n;

      /** 403 E_REVIEW_NOT_ALLOWED with a hint, in the usual 4 statements, and nothing stored. */
      const assertNotAllowed = async (hotelId: number, user: TestUser) => {
        const res = await post(hotelId, { rating: 5 }, user);
        const body = assertError(res, 403, 'E_REVIEW_NOT_ALLOWED');
        assert.match(String(body.message), new RegExp(`hotel ${hotelId}`));
        assert.match(String(body.hint), /booking/);
        assert.equal(queryCount(res.headers), 4, 'BEGIN, lock hotel, insert if allowed, ROLLBACK');
        assert.equal(await reviewCount(hotelId), 0);
        assert.deepEqual(await hotelState(hotelId), { rating: 0, reviewCount: 0 });
      };

      it('when the user has no booking at the hotel, then 403 E_REVIEW_NOT_ALLOWED and nothing changes', async () => {
        const fresh = await createHotel(db.pool, { inventoryNights: 1 });
        await assertNotAllowed(fresh.id, await registerUser(app, 'Never Stayed'));
      });

      it('when the user only has a booking that starts in the future, then 403', async () => {
        const fresh = await createHotel(db.pool);
        const user = await registerUser(app, 'Soon Guest');
        const booked = await app.inject({
          method: 'POST',
          url: '/api/bookings',
          headers: { ...user.headers, 'idempotency-key': randomUUID() },
          payload: {
            roomTypeId: fresh.roomTypes[0]!.id,
            checkIn: isoDate(5),
            checkOut: isoDate(7),
            guests: 1,
          },
        });
        assert.equal(booked.statusCode, 201, booked.body);
        await assertNotAllowed(fresh.id, user);
      });

      it('when the user only has a cancelled booking whose check-in has passed, then 403', async () => {
        const fresh = await createHotel(db.pool, { inventoryNights: 1 });
        const user = await registerUser(app, 'Cancelled Guest');
        await givePastStay(db.pool, user.id, fresh.id, { status: 'cancelled', checkInDays: -10 });
        await assertNotAllowed(fresh.id, user);
      });

      it('when the user stayed at another hotel only, then 403 at this one', async () => {
        const fresh = await createHotel(db.pool, { inventoryNights: 1 });
        const elsewhere = await createHotel(db.pool, { inventoryNights: 1 });
        const user = await registerUser(app, 'Elsewhere Guest');
        await givePastStay(db.pool, user.id, elsewhere.id);
        await assertNotAllowed(fresh.id, user);
      });

      for (const status of ['confirmed', 'pending', 'completed'] as const) {
        it(`when the user has a ${status} booking whose check-in has passed, then 201`, async () => {
          const fresh = await createHotel(db.pool, { inventoryNights: 1 });
          const user = await registerUser(app, `Past ${status}`);
          // A cancelled stay next to the valid one changes nothing.
          await givePastStay(db.pool, user.id, fresh.id, { status: 'cancelled' });
          await givePastStay(db.pool, user.id, fresh.id, {
            status,
            checkInDays: status === 'completed' ? -5 : -1,
            nights: 3,
          });
          const res = await post(fresh.id, { rating: 4 }, user);
          assert.equal(res.statusCode, 201, res.body);
          assert.equal(queryCount(res.headers), 4);
          assert.deepEqual(await hotelState(fresh.id), { rating: 4, reviewCount: 1 });
        });
      }

      // At any UTC time one of them is on another date than UTC: Kiritimati from 10:00 UTC on,
      // Pago Pago before 11:00 UTC; so judging by the UTC date fails one of them.
      for (const timezone of ['Pacific/Kiritimati', 'Pacific/Pago_Pago']) {
        it(`when check-in is the hotel-local today at ${timezone}, then 201; the local tomorrow, then 403`, async () => {
          const far = await createHotel(db.pool, { timezone, inventoryNights: 1 });
          const today = await registerUser(app, 'Arrives Today');
          await givePastStay(db.pool, today.id, far.id, { status: 'confirmed', checkInDays: 0 });
          const tomorrow = await registerUser(app, 'Arrives Tomorrow');
          await givePastStay(db.pool, tomorrow.id, far.id, { status: 'confirmed', checkInDays: 1 });
          const denied = await post(far.id, { rating: 2 }, tomorrow);
          assertError(denied, 403, 'E_REVIEW_NOT_ALLOWED');
          const res = await post(far.id, { rating: 5 }, today);
          assert.equal(res.statusCode, 201, res.body);
          assert.deepEqual(await hotelState(far.id), { rating: 5, reviewCount: 1 });
        });
      }

      it('when checks collide, then an unknown hotel is 404, a guest without a stay 403 and a second review 409', async () => {
        const fresh = await createHotel(db.pool, { inventoryNights: 1 });
        const stranger = await registerUser(app, 'Stranger');
        assertError(await post(999_998, { rating: 5 }, stranger), 404, 'E_NOT_FOUND');
        // A review left before the rule existed does not turn a missing stay into a 409.
        await db.pool.query(
          `INSERT INTO reviews (user_id, entity_type, entity_id, rating) VALUES ($1, 'hotel', $2, 3)`,
          [stranger.id, fresh.id],
        );
        assertError(await post(fresh.id, { rating: 5 }, stranger), 403, 'E_REVIEW_NOT_ALLOWED');
        const guestUser = await guest('Returning Guest', fresh);
        assert.equal((await post(fresh.id, { rating: 5 }, guestUser)).statusCode, 201);
        const again = await post(fresh.id, { rating: 1 }, guestUser);
        assertError(again, 409, 'E_ALREADY_REVIEWED');
        assert.equal(await reviewCount(fresh.id), 2);
      });
    });

    const bad: [string, unknown, string][] = [
      ['rating 0', { rating: 0 }, 'rating'],
      ['rating 6', { rating: 6 }, 'rating'],
      ['rating 4.5', { rating: 4.5 }, 'rating'],
      ['rating "five"', { rating: 'five' }, 'rating'],
      ['no rating', { title: 'Nice' }, 'rating'],
      ['a 201-character title', { rating: 3, title: 'x'.repeat(201) }, 'title'],
      ['a 5001-character body', { rating: 3, body: 'x'.repeat(5001) }, 'body'],
      ['an object for a title', { rating: 3, title: { text: 'hi' } }, 'title'],
      ['an unknown field', { rating: 3, userId: 1 }, 'userId'],
    ];
    for (const [label, payload, field] of bad) {
      it(`when the body has ${label}, then 400 names ${field} and no query runs`, async () => {
        const res = await post(hotel.id, payload);
        assertError(res, 400, 'E_VALIDATION', field);
        assert.equal(queryCount(res.headers), 0);
      });
    }

    it('when the hotel id is beyond int4, then 400 names id', async () => {
      const res = await post(2_147_483_648, { rating: 5 });
      assertError(res, 400, 'E_VALIDATION', 'id');
    });
  });
});
