import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { App } from '../src/app/build-app.ts';
import { ERROR_FIELDS, queryCount, startTestApp } from './support/app.ts';
import { registerUser, type TestUser } from './support/auth.ts';
import { createTestDatabase, type TestDatabase } from './support/database.ts';
import { createHotel, isoDate, type TestHotel } from './support/fixtures.ts';
import { ensureTestServer } from './support/test-server.ts';

interface Dashboard {
  upcomingBookings: {
    id: number;
    checkIn: string;
    checkOut: string;
    guests: number;
    status: string;
    totalCents: number;
    currency: string;
    hotel: { id: number; name: string; city: string };
    roomType: { id: number; name: string };
  }[];
  waitlist: { id: number; status: string; hotelName: string; roomTypeName: string; checkIn: string }[];
  recentReviews: {
    id: number;
    rating: number;
    title: string;
    createdAt: string;
    hotel: { id: number; name: string };
  }[];
}

describe('GET /api/me/dashboard', () => {
  let db: TestDatabase;
  let app: App;
  let stopServer: () => Promise<void>;
  let hotels: TestHotel[];

  before(async () => {
    stopServer = await ensureTestServer();
    db = await createTestDatabase();
    app = await startTestApp(db.url);
    hotels = [];
    for (let i = 0; i < 7; i++) {
      hotels.push(
        await createHotel(db.pool, {
          name: `Dash ${i}`,
          city: i % 2 ? 'Porto' : 'Faro',
          rooms: [{ name: `Room ${i}` }],
        }),
      );
    }
  });

  after(async () => {
    await app?.close();
    await db?.drop();
    await stopServer?.();
  });

  const dashboard = async (user: TestUser) => {
    const res = await app.inject({ method: 'GET', url: '/api/me/dashboard', headers: user.headers });
    assert.equal(res.statusCode, 200, res.body);
    return { res, body: res.json() as Dashboard };
  };

  const booking = async (
    user: TestUser,
    h: TestHotel,
    checkIn: number,
    checkOut: number,
    status = 'confirmed',
  ) => {
    const { rows } = await db.pool.query<{ id: number }>(
      `INSERT INTO bookings (user_id, hotel_id, room_type_id, start_date, end_date, guests, status, total_cents, currency)
       VALUES ($1, $2, $3, $4, $5, 2, $6, 12345, 'EUR') RETURNING id`,
      [user.id, h.id, h.roomTypes[0]!.id, isoDate(checkIn), isoDate(checkOut), status],
    );
    return rows[0]!.id;
  };

  const waitlist = async (user: TestUser, h: TestHotel, checkIn: number, status: string) => {
    const { rows } = await db.pool.query<{ id: number }>(
      `INSERT INTO waitlist (user_id, room_type_id, start_date, end_date, status, offer_expires_at)
       VALUES ($1, $2, $3, $4, $5, CASE WHEN $5 = 'offered' THEN now() + interval '30 minutes' END) RETURNING id`,
      [user.id, h.roomTypes[0]!.id, isoDate(checkIn), isoDate(checkIn + 1), status],
    );
    return rows[0]!.id;
  };

  const review = async (user: TestUser, h: TestHotel, minutesAgo: number) => {
    const { rows } = await db.pool.query<{ id: number }>(
      `INSERT INTO reviews (user_id, entity_type, entity_id, rating, title, created_at)
       VALUES ($1, 'hotel', $2, 4, $3, now() - make_interval(mins => $4)) RETURNING id`,
      [user.id, h.id, `Review of ${h.id}`, minutesAgo],
    );
    return rows[0]!.id;
  };

  it('when the user has nothing yet, then three empty lists in one query', async () => {
    const user = await registerUser(app);
    const { res, body } = await dashboard(user);
    assert.deepEqual(body, { upcomingBookings: [], waitlist: [], recentReviews: [] });
    assert.equal(queryCount(res.headers), 1);
  });

  it('when the user has a lot of history, then bounded lists in the right order, still in one query', async () => {
    const user = await registerUser(app);
    const other = await registerUser(app);
    const h0 = hotels[0]!;
    // 12 upcoming bookings, inserted out of order; only the 10 soonest come back.
    const upcoming: number[] = [];
    for (const day of [15, 3, 27, 9, 21, 6, 30, 12, 18, 24, 33, 36])
      upcoming.push(await booking(user, h0, day, day + 2));
    const pending = await booking(user, hotels[1]!, 1, 2, 'pending');
    const checkingOutToday = await booking(user, h0, -2, 0); // checkOut == today (UTC hotel): still upcoming
    await booking(user, h0, -3, -1); // checked out yesterday
    await booking(user, h0, 4, 5, 'cancelled');
    await booking(user, h0, -5, -3, 'completed');
    await booking(other, h0, 1, 2);

    const wOffered = await waitlist(user, hotels[2]!, 8, 'offered');
    const wWaiting = await waitlist(user, hotels[3]!, 5, 'waiting');
    await waitlist(user, hotels[4]!, 6, 'cancelled');
    await waitlist(user, hotels[5]!, 7, 'booked');
    await waitlist(other, hotels[2]!, 3, 'waiting');

    const reviewIds: number[] = [];
    for (const [i, h] of hotels.entries()) reviewIds.push(await review(user, h, 10 * (i + 1)));
    await review(other, h0, 0);

    const { res, body } = await dashboard(user);
    assert.equal(queryCount(res.headers), 1, 'same statement count as with no data');

    const byDay = await db.pool.query<{ id: number }>(
      `SELECT id FROM bookings WHERE id = ANY($1) ORDER BY start_date, id LIMIT 10`,
      [[...upcoming, pending, checkingOutToday]],
    );
    assert.deepEqual(
      body.upcomingBookings.map((b) => b.id),
      byDay.rows.map((r) => r.id),
    );
    assert.equal(body.upcomingBookings[0]!.id, checkingOutToday);
    assert.equal(body.upcomingBookings[1]!.id, pending);
    assert.deepEqual(body.upcomingBookings[1], {
      id: pending,
      checkIn: isoDate(1),
      checkOut: isoDate(2),
      guests: 2,
      status: 'pending',
      totalCents: 12345,
      currency: 'EUR',
      hotel: { id: hotels[1]!.id, name: 'Dash 1', city: 'Porto' },
      roomType: { id: hotels[1]!.roomTypes[0]!.id, name: 'Room 1' },
    });

    assert.deepEqual(
      body.waitlist.map((w) => [w.id, w.status, w.hotelName, w.roomTypeName]),
      [
        [wWaiting, 'waiting', 'Dash 3', 'Room 3'],
        [wOffered, 'offered', 'Dash 2', 'Room 2'],
      ],
    );

    assert.deepEqual(
      body.recentReviews.map((r) => r.id),
      reviewIds.slice(0, 5),
    );
    assert.deepEqual(
      { ...body.recentReviews[0], createdAt: '' },
      {
        id: reviewIds[0],
        rating: 4,
        title: `Review of ${h0.id}`,
        createdAt: '',
        hotel: { id: h0.id, name: 'Dash 0' },
      },
    );
    assert.ok(!Number.isNaN(Date.parse(body.recentReviews[0]!.createdAt)));
  });

  it('when the dashboard is requested anonymously or with a bad token, then 401', async () => {
    for (const headers of [{}, { authorization: 'Bearer nope' }]) {
      const res = await app.inject({ method: 'GET', url: '/api/me/dashboard', headers });
      assert.equal(res.statusCode, 401);
      for (const key of ERROR_FIELDS) assert.ok(key in (res.json() as object));
    }
  });
});
