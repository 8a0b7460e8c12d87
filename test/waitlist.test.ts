import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type pg from 'pg';
import type { App } from '../src/app/build-app.ts';
import { MAX_OFFER_CANDIDATES, offerFreedRooms } from '../src/app/waitlist/waitlist-offers.ts';
import { withTransaction } from '../src/platform/db/index.ts';
import { assertError, queryCount, startTestApp } from './support/app.ts';
import { registerUser, type TestUser } from './support/auth.ts';
import { createTestDatabase, type TestDatabase } from './support/database.ts';
import { createHotel, isoDate, setAvailableRooms, type TestHotel } from './support/fixtures.ts';
import { ensureTestServer } from './support/test-server.ts';

interface Entry {
  id: number;
  roomTypeId: number;
  hotelId: number;
  hotelName: string;
  roomTypeName: string;
  checkIn: string;
  checkOut: string;
  guests: number;
  status: string;
  offeredAt: string | null;
  offerExpiresAt: string | null;
  createdAt: string;
}

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

describe('POST /api/waitlist, GET /api/me/waitlist, DELETE /api/waitlist/:id', () => {
  let alice: TestUser;
  let bob: TestUser;
  let hotel: TestHotel;

  before(async () => {
    alice = await registerUser(app, 'Alice');
    bob = await registerUser(app, 'Bob');
    hotel = await createHotel(db.pool, {
      name: 'Waitlist Towers',
      rooms: [
        { name: 'Double', capacity: 2, totalRooms: 1 },
        { name: 'Suite', capacity: 4, totalRooms: 1 },
      ],
    });
    // Sold out on every night of its inventory, so these tests may join the waitlist for any stay.
    for (const rt of hotel.roomTypes) await setAvailableRooms(db.pool, rt.id, isoDate(-1), isoDate(59), 0);
  });

  const join = (user: TestUser, payload: Record<string, unknown>) =>
    app.inject({ method: 'POST', url: '/api/waitlist', headers: user.headers, payload });

  it('when joining with a valid stay, then a 201 entry with names comes back and is stored as waiting', async () => {
    const roomTypeId = hotel.roomTypes[0]!.id;
    const res = await join(alice, { roomTypeId, checkIn: isoDate(5), checkOut: isoDate(7), guests: 2 });
    assert.equal(res.statusCode, 201, res.body);
    const entry = res.json() as Entry;
    assert.deepEqual(
      { ...entry, id: 0, createdAt: '' },
      {
        id: 0,
        roomTypeId,
        hotelId: hotel.id,
        hotelName: 'Waitlist Towers',
        roomTypeName: 'Double',
        checkIn: isoDate(5),
        checkOut: isoDate(7),
        guests: 2,
        status: 'waiting',
        offeredAt: null,
        offerExpiresAt: null,
        createdAt: '',
      },
    );
    assert.ok(!Number.isNaN(Date.parse(entry.createdAt)));
    assert.equal(queryCount(res.headers), 1);
    const { rows } = await db.pool.query('SELECT user_id, status, guests FROM waitlist WHERE id = $1', [
      entry.id,
    ]);
    assert.deepEqual(rows, [{ user_id: alice.id, status: 'waiting', guests: 2 }]);
  });

  it('when guests is omitted, then it defaults to 1', async () => {
    const res = await join(alice, {
      roomTypeId: hotel.roomTypes[1]!.id,
      checkIn: isoDate(5),
      checkOut: isoDate(6),
    });
    assert.equal(res.statusCode, 201, res.body);
    assert.equal((res.json() as Entry).guests, 1);
  });

  it('when joining twice for the same room type and dates, then the second is 409 E_ALREADY_WAITLISTED', async () => {
    const payload = { roomTypeId: hotel.roomTypes[0]!.id, checkIn: isoDate(10), checkOut: isoDate(12) };
    assert.equal((await join(alice, payload)).statusCode, 201);
    assertError(await join(alice, payload), 409, 'E_ALREADY_WAITLISTED');
    // Other dates, another user: not duplicates.
    assert.equal((await join(alice, { ...payload, checkOut: isoDate(13) })).statusCode, 201);
    assert.equal((await join(bob, payload)).statusCode, 201);
  });

  it('when the same join is sent concurrently, then exactly one entry is created', async () => {
    const payload = { roomTypeId: hotel.roomTypes[0]!.id, checkIn: isoDate(20), checkOut: isoDate(21) };
    const results = await Promise.all(Array.from({ length: 6 }, () => join(alice, payload)));
    const codes = results.map((r) => r.statusCode).sort();
    assert.deepEqual(codes, [201, 409, 409, 409, 409, 409]);
    const { rows } = await db.pool.query(
      `SELECT count(*)::int AS n FROM waitlist WHERE user_id = $1 AND room_type_id = $2 AND start_date = $3`,
      [alice.id, payload.roomTypeId, payload.checkIn],
    );
    assert.equal(rows[0].n, 1);
  });

  it('when an entry was cancelled, then the user can join again for the same stay', async () => {
    const payload = { roomTypeId: hotel.roomTypes[0]!.id, checkIn: isoDate(25), checkOut: isoDate(26) };
    const first = (await join(alice, payload)).json() as Entry;
    const del = await app.inject({
      method: 'DELETE',
      url: `/api/waitlist/${first.id}`,
      headers: alice.headers,
    });
    assert.equal(del.statusCode, 204);
    assert.equal(queryCount(del.headers), 1);
    const again = await join(alice, payload);
    assert.equal(again.statusCode, 201);
    assert.notEqual((again.json() as Entry).id, first.id);
  });

  it('when guests exceed the room capacity, then 422 E_CAPACITY_EXCEEDED and nothing is stored', async () => {
    const before = await db.pool.query('SELECT count(*)::int AS n FROM waitlist');
    const res = await join(alice, {
      roomTypeId: hotel.roomTypes[0]!.id,
      checkIn: isoDate(30),
      checkOut: isoDate(31),
      guests: 3,
    });
    assertError(res, 422, 'E_CAPACITY_EXCEEDED');
    const afterRows = await db.pool.query('SELECT count(*)::int AS n FROM waitlist');
    assert.equal(afterRows.rows[0].n, before.rows[0].n);
  });

  it('when the room type does not exist, then 404', async () => {
    assertError(
      await join(alice, { roomTypeId: 999_999, checkIn: isoDate(5), checkOut: isoDate(6) }),
      404,
      'E_NOT_FOUND',
    );
  });

  it('when checkIn is before the hotel-local today, then 422 E_DATE_IN_PAST; the local today itself is accepted', async () => {
    const east = await createHotel(db.pool, { timezone: 'Pacific/Kiritimati', rooms: [{ capacity: 2 }] });
    const { rows } = await db.pool.query<{ today: string; yesterday: string; after: string }>(
      `SELECT (now() AT TIME ZONE 'Pacific/Kiritimati')::date AS today,
              (now() AT TIME ZONE 'Pacific/Kiritimati')::date - 1 AS yesterday,
              (now() AT TIME ZONE 'Pacific/Kiritimati')::date + 1 AS after`,
    );
    const { today, yesterday, after: tomorrow } = rows[0]!;
    const roomTypeId = east.roomTypes[0]!.id;
    await setAvailableRooms(db.pool, roomTypeId, today, tomorrow, 0);
    assertError(
      await join(alice, { roomTypeId, checkIn: yesterday, checkOut: today }),
      422,
      'E_DATE_IN_PAST',
    );
    assert.equal((await join(alice, { roomTypeId, checkIn: today, checkOut: tomorrow })).statusCode, 201);
  });

  it('when the input is invalid, then a 4xx with the standard error body', async () => {
    const roomTypeId = hotel.roomTypes[0]!.id;
    const cases: [Record<string, unknown>, number, string?][] = [
      [{ roomTypeId, checkIn: isoDate(5), checkOut: isoDate(5) }, 422, 'E_INVALID_STAY'],
      [{ roomTypeId, checkIn: isoDate(6), checkOut: isoDate(5) }, 422, 'E_INVALID_STAY'],
      [{ roomTypeId, checkIn: isoDate(5), checkOut: isoDate(36) }, 422, 'E_STAY_TOO_LONG'],
      [{ roomTypeId, checkIn: isoDate(-5), checkOut: isoDate(-3) }, 422, 'E_DATE_IN_PAST'],
      [{ roomTypeId, checkIn: '2030-02-30', checkOut: '2030-03-02' }, 400, 'E_VALIDATION'],
      [{ roomTypeId, checkIn: 'tomorrow', checkOut: isoDate(5) }, 400, 'E_VALIDATION'],
      [{ roomTypeId: 2 ** 31, checkIn: isoDate(5), checkOut: isoDate(6) }, 400, 'E_VALIDATION'],
      [{ roomTypeId: 'abc', checkIn: isoDate(5), checkOut: isoDate(6) }, 400, 'E_VALIDATION'],
      [{ roomTypeId, checkIn: isoDate(5), checkOut: isoDate(6), guests: 0 }, 400, 'E_VALIDATION'],
      [{ roomTypeId, checkIn: isoDate(5), checkOut: isoDate(6), guests: 21 }, 400, 'E_VALIDATION'],
      [{ roomTypeId, checkIn: isoDate(5), checkOut: isoDate(6), extra: 1 }, 400, 'E_VALIDATION'],
      [{ checkIn: isoDate(5), checkOut: isoDate(6) }, 400, 'E_VALIDATION'],
    ];
    for (const [payload, status, code] of cases) assertError(await join(alice, payload), status, code);
    assertError(
      await app.inject({
        method: 'POST',
        url: '/api/waitlist',
        payload: { roomTypeId, checkIn: isoDate(5), checkOut: isoDate(6) },
      }),
      401,
    );
  });

  it('when listing my waitlist, then only my entries come back newest first with names, in one query', async () => {
    const res = await app.inject({ method: 'GET', url: '/api/me/waitlist?limit=100', headers: bob.headers });
    assert.equal(res.statusCode, 200);
    assert.equal(queryCount(res.headers), 1);
    const body = res.json() as { data: Entry[]; hasMore: boolean };
    assert.equal(body.data.length, 1);
    assert.equal(body.data[0]!.hotelName, 'Waitlist Towers');
    assert.equal(body.data[0]!.roomTypeName, 'Double');

    const mine = await app.inject({
      method: 'GET',
      url: '/api/me/waitlist?limit=100',
      headers: alice.headers,
    });
    const { rows } = await db.pool.query<{ id: number }>(
      'SELECT id FROM waitlist WHERE user_id = $1 ORDER BY created_at DESC, id DESC',
      [alice.id],
    );
    assert.deepEqual(
      (mine.json() as { data: Entry[] }).data.map((e) => e.id),
      rows.map((r) => r.id),
    );
  });

  it('when paging and filtering by status, then pages are disjoint and hasMore is right', async () => {
    const all = (
      await app.inject({ method: 'GET', url: '/api/me/waitlist?limit=100', headers: alice.headers })
    ).json() as {
      data: Entry[];
    };
    assert.ok(all.data.length >= 4);
    const p1 = (
      await app.inject({ method: 'GET', url: '/api/me/waitlist?limit=2&page=1', headers: alice.headers })
    ).json() as {
      data: Entry[];
      hasMore: boolean;
    };
    const p2 = (
      await app.inject({ method: 'GET', url: '/api/me/waitlist?limit=2&page=2', headers: alice.headers })
    ).json() as {
      data: Entry[];
    };
    assert.equal(p1.hasMore, true);
    assert.deepEqual(
      [...p1.data, ...p2.data].map((e) => e.id),
      all.data.slice(0, 4).map((e) => e.id),
    );
    const cancelled = (
      await app.inject({ method: 'GET', url: '/api/me/waitlist?status=cancelled', headers: alice.headers })
    ).json() as { data: Entry[]; hasMore: boolean };
    assert.equal(cancelled.data.length, 1);
    assert.equal(cancelled.data[0]!.status, 'cancelled');
    assert.equal(cancelled.hasMore, false);
    assertError(
      await app.inject({ method: 'GET', url: '/api/me/waitlist?status=nope', headers: alice.headers }),
      400,
    );
    assertError(
      await app.inject({ method: 'GET', url: '/api/me/waitlist?limit=101', headers: alice.headers }),
      400,
    );
    assertError(
      await app.inject({ method: 'GET', url: '/api/me/waitlist?foo=1', headers: alice.headers }),
      400,
    );
    assertError(await app.inject({ method: 'GET', url: '/api/me/waitlist' }), 401);
  });

  it('when cancelling, then 204, the entry is cancelled, and cancelling again is still 204', async () => {
    const entry = (
      await join(alice, { roomTypeId: hotel.roomTypes[1]!.id, checkIn: isoDate(40), checkOut: isoDate(41) })
    ).json() as Entry;
    const first = await app.inject({
      method: 'DELETE',
      url: `/api/waitlist/${entry.id}`,
      headers: alice.headers,
    });
    assert.equal(first.statusCode, 204);
    assert.equal(first.body, '');
    const { rows } = await db.pool.query('SELECT status FROM waitlist WHERE id = $1', [entry.id]);
    assert.equal(rows[0].status, 'cancelled');
    const second = await app.inject({
      method: 'DELETE',
      url: `/api/waitlist/${entry.id}`,
      headers: alice.headers,
    });
    assert.equal(second.statusCode, 204);
  });

  it("when cancelling someone else's or an unknown entry, then 404 and nothing changes", async () => {
    const entry = (
      await join(bob, { roomTypeId: hotel.roomTypes[1]!.id, checkIn: isoDate(42), checkOut: isoDate(43) })
    ).json() as Entry;
    assertError(
      await app.inject({ method: 'DELETE', url: `/api/waitlist/${entry.id}`, headers: alice.headers }),
      404,
      'E_NOT_FOUND',
    );
    const { rows } = await db.pool.query('SELECT status FROM waitlist WHERE id = $1', [entry.id]);
    assert.equal(rows[0].status, 'waiting');
    assertError(
      await app.inject({ method: 'DELETE', url: '/api/waitlist/999999', headers: alice.headers }),
      404,
    );
    assertError(
      await app.inject({ method: 'DELETE', url: `/api/waitlist/${2 ** 31}`, headers: alice.headers }),
      400,
    );
    assertError(
      await app.inject({ method: 'DELETE', url: '/api/waitlist/abc', headers: alice.headers }),
      400,
    );
    assertError(await app.inject({ method: 'DELETE', url: `/api/waitlist/${entry.id}` }), 401);
  });

  it('when the entry was already booked, then cancelling it is 409 and it stays booked', async () => {
    const entry = (
      await join(alice, { roomTypeId: hotel.roomTypes[1]!.id, checkIn: isoDate(44), checkOut: isoDate(45) })
    ).json() as Entry;
    await db.pool.query(`UPDATE waitlist SET status = 'booked' WHERE id = $1`, [entry.id]);
    assertError(
      await app.inject({ method: 'DELETE', url: `/api/waitlist/${entry.id}`, headers: alice.headers }),
      409,
      'E_CONFLICT',
    );
    const { rows } = await db.pool.query('SELECT status FROM waitlist WHERE id = $1', [entry.id]);
    assert.equal(rows[0].status, 'booked');
  });
});

describe('POST /api/waitlist: only for stays that cannot be booked now', () => {
  let carol: TestUser;
  let dave: TestUser;

  before(async () => {
    carol = await registerUser(app, 'Carol');
    dave = await registerUser(app, 'Dave');
  });

  /** A UTC hotel with one room type of `rooms` rooms, every night free (60 nights from yesterday). */
  const roomType = async (rooms = 2) =>
    (await createHotel(db.pool, { rooms: [{ capacity: 2, totalRooms: rooms }] })).roomTypes[0]!.id;
  const join = (user: TestUser, payload: Record<string, unknown>) =>
    app.inject({ method: 'POST', url: '/api/waitlist', headers: user.headers, payload });
  const entries = async (roomTypeId: number) =>
    (
      await db.pool.query<{ user_id: number; status: string }>(
        'SELECT user_id, status FROM waitlist WHERE room_type_id = $1 ORDER BY id',
        [roomTypeId],
      )
    ).rows;

  it('when a room is free on every night of the stay, then 409 E_ROOMS_AVAILABLE with a hint to book, in one query', async () => {
    const roomTypeId = await roomType();
    await setAvailableRooms(db.pool, roomTypeId, isoDate(5), isoDate(6), 1); // the last room: still free
    const res = await join(carol, { roomTypeId, checkIn: isoDate(4), checkOut: isoDate(7) });
    const body = assertError(res, 409, 'E_ROOMS_AVAILABLE');
    assert.match(String(body.hint), /POST \/api\/bookings/);
    assert.match(String(body.message), new RegExp(`${isoDate(4)} to ${isoDate(7)}`));
    assert.equal(queryCount(res.headers), 1);
    assert.deepEqual(await entries(roomTypeId), []);
  });

  it('when one night of the stay is full, then 201 and the entry is waiting', async () => {
    const roomTypeId = await roomType();
    await setAvailableRooms(db.pool, roomTypeId, isoDate(5), isoDate(6), 0);
    const res = await join(carol, { roomTypeId, checkIn: isoDate(4), checkOut: isoDate(7) });
    assert.equal(res.statusCode, 201, res.body);
    assert.equal(queryCount(res.headers), 1);
    assert.deepEqual(await entries(roomTypeId), [{ user_id: carol.id, status: 'waiting' }]);
  });

  it('when some night of the stay has no inventory yet, then it counts as not free and joining is 201', async () => {
    const roomTypeId = await roomType();
    // Inventory ends with the night of isoDate(58): the next two cannot be booked yet.
    const res = await join(carol, { roomTypeId, checkIn: isoDate(57), checkOut: isoDate(61) });
    assert.equal(res.statusCode, 201, res.body);
  });

  it('when the stay is free but the guests do not fit or it is past, then the 422 comes first', async () => {
    const roomTypeId = await roomType();
    assertError(
      await join(carol, { roomTypeId, checkIn: isoDate(4), checkOut: isoDate(5), guests: 3 }),
      422,
      'E_CAPACITY_EXCEEDED',
    );
    assertError(
      await join(carol, { roomTypeId, checkIn: isoDate(-1), checkOut: isoDate(1) }),
      422,
      'E_DATE_IN_PAST',
    );
  });

  it('when a sold-out stay is cancelled, then the waiting entry is offered and holds the room: no one else is told to book it', async () => {
    const roomTypeId = await roomType(1);
    const stay = { roomTypeId, checkIn: isoDate(15), checkOut: isoDate(17) };
    const booked = await app.inject({
      method: 'POST',
      url: '/api/bookings',
      headers: { ...dave.headers, 'idempotency-key': randomUUID() },
      payload: { ...stay, guests: 1 },
    });
    assert.equal(booked.statusCode, 201, booked.body);
    const joined = await join(carol, stay);
    assert.equal(joined.statusCode, 201, joined.body);
    const cancelled = await app.inject({
      method: 'POST',
      url: `/api/bookings/${(booked.json() as { id: number }).id}/cancel`,
      headers: dave.headers,
    });
    assert.equal(cancelled.statusCode, 200, cancelled.body);
    assert.deepEqual(await entries(roomTypeId), [{ user_id: carol.id, status: 'offered' }]);
    // The freed room is held for Carol: her entry is still active, and Dave can only wait behind her.
    assertError(await join(carol, stay), 409, 'E_ALREADY_WAITLISTED');
    assert.equal((await join(dave, stay)).statusCode, 201);
    assert.deepEqual(await entries(roomTypeId), [
      { user_id: carol.id, status: 'offered' },
      { user_id: dave.id, status: 'waiting' },
    ]);
  });
});

describe('offerFreedRooms', () => {
  /** A room type with `rooms` rooms and inventory for 60 nights from yesterday (UTC hotel). */
  const roomType = async (rooms: number) =>
    (await createHotel(db.pool, { rooms: [{ totalRooms: rooms }] })).roomTypes[0]!.id;

  const setAvailable = (roomTypeId: number, from: string, to: string, available: number) =>
    setAvailableRooms(db.pool, roomTypeId, from, to, available);

  /** A user made in SQL: the unique active-entry index allows one entry per user and stay. */
  const sqlUsers = async (n: number) => {
    const { rows } = await db.pool.query<{ id: number }>(
      `INSERT INTO users (email, password_hash, name)
       SELECT 'w-' || gen_random_uuid() || '@example.test', 'x', 'Waiter' FROM generate_series(1, $1)
       RETURNING id`,
      [n],
    );
    return rows.map((r) => r.id);
  };

  /** Inserts a waitlist entry (of a new user) created `minutesAgo` minutes ago (an offered one holds nothing). */
  const wait = async (
    roomTypeId: number,
    checkIn: string,
    checkOut: string,
    minutesAgo: number,
    status = 'waiting',
  ) => {
    const [user] = await sqlUsers(1);
    const { rows } = await db.pool.query<{ id: number }>(
      `INSERT INTO waitlist (user_id, room_type_id, start_date, end_date, status, created_at, offer_expires_at)
       VALUES ($1, $2, $3, $4, $5, now() - make_interval(mins => $6),
               CASE WHEN $5 = 'offered' THEN now() + interval '1 hour' END) RETURNING id`,
      [user, roomTypeId, checkIn, checkOut, status, minutesAgo],
    );
    return rows[0]!.id;
  };

  const HOLD = { holdMinutes: 30 };
  const offer = async (roomTypeId: number, checkIn: string, checkOut: string) =>
    (
      await withTransaction(db.pool, (client) =>
        offerFreedRooms(client, { roomTypeId, checkIn, checkOut }, HOLD),
      )
    ).waitlistIds;

  const available = async (roomTypeId: number, from: string, to: string) => {
    const { rows } = await db.pool.query<{ date: string; rooms: number }>(
      `SELECT date, available_rooms AS rooms FROM room_inventory
       WHERE room_type_id = $1 AND date >= $2 AND date < $3 ORDER BY date`,
      [roomTypeId, from, to],
    );
    return Object.fromEntries(rows.map((r) => [r.date, r.rooms]));
  };

  const statuses = async (ids: number[]) => {
    const { rows } = await db.pool.query<{ id: number; status: string; offered: boolean }>(
      'SELECT id, status, offered_at IS NOT NULL AS offered FROM waitlist WHERE id = ANY($1) ORDER BY id',
      [ids],
    );
    return Object.fromEntries(rows.map((r) => [r.id, r.offered ? `${r.status}+at` : r.status]));
  };

  it('when one room is freed and three wait for the same dates, then only the oldest is offered and the room is held', async () => {
    const rt = await roomType(1);
    await setAvailable(rt, isoDate(10), isoDate(12), 1); // restored by the cancellation
    const newest = await wait(rt, isoDate(10), isoDate(12), 1);
    const oldest = await wait(rt, isoDate(10), isoDate(12), 30);
    const middle = await wait(rt, isoDate(10), isoDate(12), 20);
    assert.deepEqual(await offer(rt, isoDate(10), isoDate(12)), [oldest]);
    assert.deepEqual(await statuses([newest, oldest, middle]), {
      [newest]: 'waiting',
      [oldest]: 'offered+at',
      [middle]: 'waiting',
    });
    assert.deepEqual(await available(rt, isoDate(9), isoDate(13)), {
      [isoDate(9)]: 1,
      [isoDate(10)]: 0,
      [isoDate(11)]: 0,
      [isoDate(12)]: 1,
    });
    const { rows } = await db.pool.query<{ minutes: number }>(
      `SELECT round(extract(epoch FROM offer_expires_at - offered_at) / 60)::int AS minutes FROM waitlist WHERE id = $1`,
      [oldest],
    );
    assert.deepEqual(rows, [{ minutes: 30 }]);
  });

  it('when entries were created at the same instant, then the lower id goes first', async () => {
    const rt = await roomType(1);
    await setAvailable(rt, isoDate(10), isoDate(11), 1);
    const { rows } = await db.pool.query<{ id: number }>(
      `INSERT INTO waitlist (user_id, room_type_id, start_date, end_date, created_at)
       SELECT u, $2, $3, $4, '2030-01-01T00:00:00Z' FROM unnest($1::int[]) u RETURNING id`,
      [await sqlUsers(3), rt, isoDate(10), isoDate(11)],
    );
    const ids = rows.map((r) => r.id).sort((a, b) => a - b);
    assert.deepEqual(await offer(rt, isoDate(10), isoDate(11)), [ids[0]]);
  });

  it('when two rooms are available and three wait, then the two oldest are offered, in order', async () => {
    const rt = await roomType(3);
    await setAvailable(rt, isoDate(10), isoDate(13), 2);
    const a = await wait(rt, isoDate(10), isoDate(13), 30);
    const b = await wait(rt, isoDate(11), isoDate(12), 20);
    const c = await wait(rt, isoDate(11), isoDate(13), 10); // night 11 is taken by a and b
    assert.deepEqual(await offer(rt, isoDate(10), isoDate(13)), [a, b]);
    assert.deepEqual(await statuses([c]), { [c]: 'waiting' });
    assert.deepEqual(await available(rt, isoDate(10), isoDate(13)), {
      [isoDate(10)]: 1,
      [isoDate(11)]: 0,
      [isoDate(12)]: 1,
    });
  });

  it('when entries only partly overlap the freed stay, then each offered one uses a room on each of its nights', async () => {
    const rt = await roomType(1);
    await setAvailable(rt, isoDate(8), isoDate(16), 1);
    const before = await wait(rt, isoDate(8), isoDate(10), 60); // ends on the freed check-in: no overlap
    const first = await wait(rt, isoDate(9), isoDate(11), 50); // overlaps night 10: offered, uses 9 and 10
    const clash = await wait(rt, isoDate(10), isoDate(12), 40); // night 10 already used: skipped
    const tail = await wait(rt, isoDate(12), isoDate(14), 30); // overlaps night 12: offered
    const afterStay = await wait(rt, isoDate(13), isoDate(15), 20); // starts on the freed check-out: no overlap
    assert.deepEqual(await offer(rt, isoDate(10), isoDate(13)), [first, tail]);
    assert.deepEqual(await statuses([before, clash, afterStay]), {
      [before]: 'waiting',
      [clash]: 'waiting',
      [afterStay]: 'waiting',
    });
  });

  it('when another night of an entry is sold out or has no inventory, then it is skipped for a younger one', async () => {
    const rt = await roomType(2);
    await setAvailable(rt, isoDate(11), isoDate(12), 0); // night 11 sold out
    const soldOut = await wait(rt, isoDate(10), isoDate(12), 40);
    const beyond = await wait(rt, isoDate(58), isoDate(62), 30); // nights after the inventory horizon
    const fits = await wait(rt, isoDate(10), isoDate(11), 20);
    assert.deepEqual(await offer(rt, isoDate(10), isoDate(11)), [fits]);
    assert.deepEqual(await offer(rt, isoDate(58), isoDate(59)), []);
    assert.deepEqual(await statuses([soldOut, beyond]), { [soldOut]: 'waiting', [beyond]: 'waiting' });
  });

  it('when entries are already offered, cancelled, past or of another room type, then they are not offered', async () => {
    const rt = await roomType(5);
    const other = await roomType(5);
    const offered = await wait(rt, isoDate(10), isoDate(11), 50, 'offered');
    await db.pool.query(`UPDATE waitlist SET offered_at = '2030-01-01T00:00:00Z' WHERE id = $1`, [offered]);
    const cancelled = await wait(rt, isoDate(10), isoDate(11), 45, 'cancelled');
    const past = await wait(rt, isoDate(-1), isoDate(11), 40); // check-in yesterday at the hotel
    const otherType = await wait(other, isoDate(10), isoDate(11), 35);
    const fresh = await wait(rt, isoDate(10), isoDate(11), 30);
    assert.deepEqual(await offer(rt, isoDate(10), isoDate(11)), [fresh]);
    const { rows } = await db.pool.query(`SELECT offered_at FROM waitlist WHERE id = $1`, [offered]);
    assert.equal((rows[0].offered_at as Date).toISOString(), '2030-01-01T00:00:00.000Z');
    assert.deepEqual(await statuses([cancelled, past, otherType]), {
      [cancelled]: 'cancelled',
      [past]: 'waiting',
      [otherType]: 'waiting',
    });
    // Called again for the same freed stay: nothing is offered twice.
    assert.deepEqual(await offer(rt, isoDate(10), isoDate(11)), []);
  });

  it(`when more than ${MAX_OFFER_CANDIDATES} entries wait, then only the oldest ${MAX_OFFER_CANDIDATES} are considered, in at most 3 statements`, async () => {
    const rt = await roomType(1);
    await setAvailable(rt, isoDate(21), isoDate(22), 0);
    // The 100 oldest need night 21 (sold out); the 101st would fit but is past the bound.
    await db.pool.query(
      `INSERT INTO waitlist (user_id, room_type_id, start_date, end_date, created_at)
       SELECT u.id, $2, $3, $4, now() - make_interval(mins => 1000 - u.n::int)
       FROM unnest($1::int[]) WITH ORDINALITY AS u(id, n)`,
      [await sqlUsers(MAX_OFFER_CANDIDATES), rt, isoDate(20), isoDate(22)],
    );
    const late = await wait(rt, isoDate(20), isoDate(21), 1);
    let statements = 0;
    const offered = await withTransaction(db.pool, (client) =>
      offerFreedRooms(
        {
          query: ((...args: Parameters<pg.PoolClient['query']>) => {
            statements++;
            return (client.query as (...a: unknown[]) => unknown)(...args);
          }) as pg.PoolClient['query'],
        },
        { roomTypeId: rt, checkIn: isoDate(20), checkOut: isoDate(21) },
        HOLD,
      ),
    );
    assert.deepEqual(offered.waitlistIds, []);
    assert.equal(statements, 2, 'nothing to offer: the candidates and their nights');
    assert.deepEqual(await statuses([late]), { [late]: 'waiting' });

    // Once the blockers leave, the same call offers the late entry with one more statement (the UPDATE).
    await db.pool.query(`UPDATE waitlist SET status = 'cancelled' WHERE room_type_id = $1 AND id <> $2`, [
      rt,
      late,
    ]);
    statements = 0;
    const second = await withTransaction(db.pool, (client) =>
      offerFreedRooms(
        {
          query: ((...args: Parameters<pg.PoolClient['query']>) => {
            statements++;
            return (client.query as (...a: unknown[]) => unknown)(...args);
          }) as pg.PoolClient['query'],
        },
        { roomTypeId: rt, checkIn: isoDate(20), checkOut: isoDate(21) },
        HOLD,
      ),
    );
    assert.deepEqual(second.waitlistIds, [late]);
    assert.equal(statements, 3);

    // Nothing waits any more: the candidate query only.
    statements = 0;
    const third = await withTransaction(db.pool, (client) =>
      offerFreedRooms(
        {
          query: ((...args: Parameters<pg.PoolClient['query']>) => {
            statements++;
            return (client.query as (...a: unknown[]) => unknown)(...args);
          }) as pg.PoolClient['query'],
        },
        { roomTypeId: rt, checkIn: isoDate(20), checkOut: isoDate(21) },
        HOLD,
      ),
    );
    assert.deepEqual(third.waitlistIds, []);
    assert.equal(statements, 1);
  });

  it('when two cancellations offer concurrently, then no entry is offered by both and no room twice', async () => {
    const rt = await roomType(2);
    await setAvailable(rt, isoDate(30), isoDate(31), 2);
    const ids = [await wait(rt, isoDate(30), isoDate(31), 30), await wait(rt, isoDate(30), isoDate(31), 20)];
    ids.push(await wait(rt, isoDate(30), isoDate(31), 10));
    const a = await db.pool.connect();
    const b = await db.pool.connect();
    try {
      await a.query('BEGIN');
      await b.query('BEGIN');
      const stay = { roomTypeId: rt, checkIn: isoDate(30), checkOut: isoDate(31) };
      const first = await offerFreedRooms(a, stay, HOLD);
      // b blocks on a's row locks until a commits, then re-checks the rows it waited for; the rooms
      // are held by a's offers by then.
      const secondPromise = offerFreedRooms(b, stay, HOLD);
      await new Promise((resolve) => setTimeout(resolve, 100));
      await a.query('COMMIT');
      const second = await secondPromise;
      await b.query('COMMIT');
      assert.deepEqual(first.waitlistIds, [ids[0], ids[1]]);
      assert.deepEqual(second.waitlistIds, []);
      assert.deepEqual(await available(rt, isoDate(30), isoDate(31)), { [isoDate(30)]: 0 });
      assert.deepEqual(await statuses([ids[2]!]), { [ids[2]!]: 'waiting' });
    } finally {
      a.release();
      b.release();
    }
  });
});
