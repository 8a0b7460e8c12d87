import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { App } from '../src/app/build-app.ts';
import { ERROR_FIELDS, queryCount, startTestApp } from './support/app.ts';
import { registerUser, type TestUser } from './support/auth.ts';
import { createTestDatabase, lockWaiters, type TestDatabase } from './support/database.ts';
import { createHotel, isoDate, type TestHotel } from './support/fixtures.ts';
import { ensureTestServer } from './support/test-server.ts';

interface BookingBody {
  id: number;
  status: string;
  checkIn: string;
  checkOut: string;
  nights: number;
  totalCents: number;
  currency: string;
  hotel: { id: number; name: string };
  roomType: { id: number; name: string };
  payment: { provider: string; status: string; amountCents: number } | null;
  cancelledAt: string | null;
}

describe('bookings', () => {
  let db: TestDatabase;
  let app: App;
  let stopServer: () => Promise<void>;
  let alice: TestUser;
  let bob: TestUser;

  before(async () => {
    stopServer = await ensureTestServer();
    db = await createTestDatabase();
    app = await startTestApp(db.url, { DB_POOL_MAX: '20' });
    alice = await registerUser(app, 'Alice');
    bob = await registerUser(app, 'Bob');
  });

  after(async () => {
    await app?.close();
    await db?.drop();
    await stopServer?.();
  });

  const book = (user: TestUser, body: Record<string, unknown>, key: string | null = randomUUID()) =>
    app.inject({
      method: 'POST',
      url: '/api/bookings',
      headers: { ...user.headers, ...(key === null ? {} : { 'idempotency-key': key }) },
      payload: body,
    });

  /** Sends the request twice with one key: the second answer is the first one, replayed. */
  const assertReplayed = async (
    user: TestUser,
    body: Record<string, unknown>,
    key: string,
    status: number,
  ) => {
    const first = await book(user, body, key);
    const again = await book(user, body, key);
    assert.equal(first.statusCode, status, first.body);
    assert.equal(again.statusCode, status);
    assert.equal(again.body, first.body);
    assert.equal(first.headers['idempotent-replayed'], undefined);
    assert.equal(again.headers['idempotent-replayed'], 'true');
    return again;
  };

  const inventory = async (roomTypeId: number) => {
    const { rows } = await db.pool.query<{ date: string; available: number }>(
      'SELECT date, available_rooms AS available FROM room_inventory WHERE room_type_id = $1 ORDER BY date',
      [roomTypeId],
    );
    return new Map(rows.map((r) => [r.date, r.available]));
  };

  const stay = (from: number, nights: number) => ({
    checkIn: isoDate(from),
    checkOut: isoDate(from + nights),
  });

  it('when a room is free every night, then one booking, its payment, notification, prices and e-mail job are written in 8 statements', async () => {
    const hotel = await createHotel(db.pool, { rooms: [{ totalRooms: 2, basePriceCents: 10_000 }] });
    const rt = hotel.roomTypes[0]!;
    const res = await book(alice, { roomTypeId: rt.id, ...stay(3, 3), guests: 2 });
    assert.equal(res.statusCode, 201, res.body);
    const body = res.json() as BookingBody;
    assert.equal(body.status, 'confirmed');
    assert.equal(body.nights, 3);
    assert.equal(res.headers.location, `/api/bookings/${body.id}`);
    const { rows: nights } = await db.pool.query<{ price: number }>(
      `SELECT price_cents AS price FROM room_inventory WHERE room_type_id = $1 AND date >= $2 AND date < $3`,
      [rt.id, body.checkIn, body.checkOut],
    );
    assert.equal(
      body.totalCents,
      nights.reduce((s, n) => s + n.price, 0),
    );
    assert.deepEqual(body.payment, {
      provider: 'pay_at_property',
      status: 'due_at_property',
      amountCents: body.totalCents,
    });
    const inv = await inventory(rt.id);
    assert.equal(inv.get(body.checkIn), 1);
    assert.equal(inv.get(isoDate(5)), 1);
    assert.equal(inv.get(body.checkOut), 2, 'the check-out day is not a booked night');
    const { rows } = await db.pool.query(
      `SELECT (SELECT count(*)::int FROM payments WHERE booking_id = $1) AS payments,
              (SELECT count(*)::int FROM notifications WHERE payload->>'bookingId' = $1::text AND type = 'booking_confirmed') AS notes,
              (SELECT count(*)::int FROM price_history WHERE entity_type = 'room_type' AND entity_id = $2) AS prices`,
      [body.id, rt.id],
    );
    assert.deepEqual(rows[0], { payments: 1, notes: 1, prices: 3 });
    // The 7 of the booking itself, and the confirmation e-mail's job inserted in its transaction.
    assert.equal(queryCount(res.headers), 8);
  });

  it('when N users race for K rooms on one night, then exactly K bookings succeed and inventory ends at zero', async () => {
    const K = 3;
    const N = 12;
    const hotel = await createHotel(db.pool, { rooms: [{ totalRooms: K }] });
    const rt = hotel.roomTypes[0]!;
    const users = await Promise.all(Array.from({ length: N }, (_, i) => registerUser(app, `Racer ${i}`)));
    const results = await Promise.all(
      users.map((u) => book(u, { roomTypeId: rt.id, ...stay(10, 1), guests: 1 })),
    );
    const codes = results.map((r) => r.statusCode).sort();
    assert.deepEqual(codes, [...Array(K).fill(201), ...Array(N - K).fill(409)]);
    for (const r of results.filter((r) => r.statusCode === 409)) {
      const err = r.json() as { code: string; hint: string };
      assert.equal(err.code, 'E_SOLD_OUT');
      assert.match(err.hint, /waitlist/);
    }
    assert.equal((await inventory(rt.id)).get(isoDate(10)), 0);
  });

  it('when overlapping stays race, then no night is oversold and every night matches its bookings', async () => {
    const total = 2;
    const hotel = await createHotel(db.pool, { rooms: [{ totalRooms: total }] });
    const rt = hotel.roomTypes[0]!;
    // 16 stays of 1-4 nights starting on days 20-25: many overlap, most nights are contended.
    const stays = Array.from({ length: 16 }, (_, i) => stay(20 + (i % 6), 1 + ((i * 7) % 4)));
    const users = await Promise.all(stays.map((_, i) => registerUser(app, `Overlap ${i}`)));
    const results = await Promise.all(
      users.map((u, i) => book(u, { roomTypeId: rt.id, ...stays[i]!, guests: 1 })),
    );
    for (const r of results) assert.ok([201, 409].includes(r.statusCode), r.body);
    assert.ok(results.some((r) => r.statusCode === 201));
    assert.ok(results.some((r) => r.statusCode === 409));
    const { rows } = await db.pool.query<{ date: string; available: number; booked: number }>(
      `SELECT ri.date, ri.available_rooms AS available,
              (SELECT count(*)::int FROM bookings b WHERE b.room_type_id = ri.room_type_id AND b.status = 'confirmed'
                 AND ri.date >= b.start_date AND ri.date < b.end_date) AS booked
       FROM room_inventory ri WHERE ri.room_type_id = $1`,
      [rt.id],
    );
    for (const r of rows) {
      assert.ok(r.available >= 0);
      assert.equal(r.available + r.booked, total, `night ${r.date}`);
    }
  });

  it('when one night of the stay is full, then nothing is taken and the sold-out nights are named', async () => {
    const hotel = await createHotel(db.pool, { rooms: [{ totalRooms: 1 }] });
    const rt = hotel.roomTypes[0]!;
    assert.equal((await book(alice, { roomTypeId: rt.id, ...stay(12, 1), guests: 1 })).statusCode, 201);
    const res = await book(bob, { roomTypeId: rt.id, ...stay(10, 4), guests: 1 });
    assert.equal(res.statusCode, 409);
    const err = res.json() as { code: string; details: { date: string }[] };
    assert.equal(err.code, 'E_SOLD_OUT');
    assert.deepEqual(
      err.details.map((d) => d.date),
      [isoDate(12)],
    );
    const inv = await inventory(rt.id);
    for (const d of [10, 11, 13]) assert.equal(inv.get(isoDate(d)), 1, `day ${d} untouched`);
  });

  describe('Idempotency-Key', () => {
    let hotel: TestHotel;
    before(async () => {
      hotel = await createHotel(db.pool, { rooms: [{ totalRooms: 5 }] });
    });

    it('when a request is repeated with its key, then it is replayed with the same body and one booking exists', async () => {
      const key = randomUUID();
      const body = { roomTypeId: hotel.roomTypes[0]!.id, ...stay(4, 2), guests: 1 };
      const second = await assertReplayed(alice, body, key, 201);
      assert.equal(queryCount(second.headers), 1);
      const { rows } = await db.pool.query(
        'SELECT count(*)::int AS n FROM bookings WHERE user_id = $1 AND room_type_id = $2',
        [alice.id, hotel.roomTypes[0]!.id],
      );
      assert.equal(rows[0].n, 1);
    });

    it('when the same key is sent concurrently, then one booking is made and every completed answer is identical', async () => {
      const key = randomUUID();
      const body = { roomTypeId: hotel.roomTypes[0]!.id, ...stay(8, 1), guests: 1 };
      const results = await Promise.all(Array.from({ length: 8 }, () => book(bob, body, key)));
      const created = results.filter((r) => r.statusCode === 201);
      const busy = results.filter((r) => r.statusCode === 409);
      assert.equal(created.length + busy.length, 8);
      for (const r of busy) assert.equal((r.json() as { code: string }).code, 'E_IDEMPOTENCY_IN_PROGRESS');
      for (const r of busy) assert.equal(r.headers['retry-after'], '1');
      const retried = await Promise.all(busy.map(() => book(bob, body, key)));
      const answers = new Set([...created, ...retried].map((r) => r.body));
      assert.equal(answers.size, 1);
      const { rows } = await db.pool.query(
        `SELECT count(*)::int AS n FROM bookings WHERE user_id = $1 AND start_date = $2`,
        [bob.id, body.checkIn],
      );
      assert.equal(rows[0].n, 1);
    });

    it('when the first request is still running, then a duplicate gets 409 E_IDEMPOTENCY_IN_PROGRESS', async () => {
      const key = randomUUID();
      const rt = hotel.roomTypes[0]!;
      const body = { roomTypeId: rt.id, ...stay(15, 1), guests: 1 };
      const blocker = await db.pool.connect();
      try {
        await blocker.query('BEGIN');
        await blocker.query('SELECT 1 FROM room_inventory WHERE room_type_id = $1 AND date = $2 FOR UPDATE', [
          rt.id,
          body.checkIn,
        ]);
        const first = book(alice, body, key);
        for (let i = 0; i < 100; i++) {
          const { rows } = await db.pool.query(
            'SELECT 1 FROM idempotency_keys WHERE user_id = $1 AND key = $2',
            [alice.id, key],
          );
          if (rows.length > 0) break;
          await new Promise((r) => setTimeout(r, 20));
        }
        const duplicate = await book(alice, body, key);
        assert.equal(duplicate.statusCode, 409);
        assert.equal((duplicate.json() as { code: string }).code, 'E_IDEMPOTENCY_IN_PROGRESS');
        await blocker.query('COMMIT');
        const done = await first;
        assert.equal(done.statusCode, 201);
        const replay = await book(alice, body, key);
        assert.equal(replay.body, done.body);
      } finally {
        blocker.release();
      }
    });

    it('when a slow first request loses its claim to a retry, then only one of them books', async () => {
      const key = randomUUID();
      const rt = hotel.roomTypes[0]!;
      const body = { roomTypeId: rt.id, ...stay(16, 1), guests: 1 };
      const blocker = await db.pool.connect();
      try {
        await blocker.query('BEGIN');
        await blocker.query('SELECT 1 FROM room_inventory WHERE room_type_id = $1 AND date = $2 FOR UPDATE', [
          rt.id,
          body.checkIn,
        ]);
        const first = book(alice, body, key);
        await lockWaiters(db.pool, 1, 2000);
        // The first request looks abandoned (its claim is older than ABANDONED_CLAIM_SECONDS): a retry takes it over.
        await db.pool.query(
          `UPDATE idempotency_keys SET created_at = created_at - interval '2 minutes' WHERE user_id = $1 AND key = $2`,
          [alice.id, key],
        );
        const second = book(alice, body, key);
        await lockWaiters(db.pool, 2, 2000);
        await blocker.query('COMMIT');
        const answers = await Promise.all([first, second]);
        const { rows } = await db.pool.query(
          'SELECT count(*)::int AS n FROM bookings WHERE user_id = $1 AND room_type_id = $2 AND start_date = $3',
          [alice.id, rt.id, body.checkIn],
        );
        assert.equal(rows[0].n, 1, answers.map((a) => `${a.statusCode} ${a.body}`).join('\n'));
        const created = answers.filter((a) => a.statusCode === 201);
        assert.equal(created.length, 1);
        const other = answers.find((a) => a !== created[0])!;
        assert.equal((other.json() as { code: string }).code, 'E_IDEMPOTENCY_IN_PROGRESS');
        assert.equal((await book(alice, body, key)).body, created[0]!.body);
      } finally {
        blocker.release();
      }
    });

    it('when a key is reused with other parameters, then 422 E_IDEMPOTENCY_MISMATCH and nothing is booked', async () => {
      const key = randomUUID();
      const rt = hotel.roomTypes[0]!;
      assert.equal(
        (await book(alice, { roomTypeId: rt.id, ...stay(20, 1), guests: 1 }, key)).statusCode,
        201,
      );
      const res = await book(alice, { roomTypeId: rt.id, ...stay(20, 1), guests: 2 }, key);
      assert.equal(res.statusCode, 422);
      assert.equal((res.json() as { code: string }).code, 'E_IDEMPOTENCY_MISMATCH');
      assert.equal((await inventory(rt.id)).get(isoDate(20)), 4);
    });

    it('when keys are scoped per user, then another user may use the same key for their own booking', async () => {
      const key = randomUUID();
      const body = { roomTypeId: hotel.roomTypes[0]!.id, ...stay(25, 1), guests: 1 };
      const a = await book(alice, body, key);
      const b = await book(bob, body, key);
      assert.equal(a.statusCode, 201);
      assert.equal(b.statusCode, 201);
      assert.notEqual((a.json() as BookingBody).id, (b.json() as BookingBody).id);
    });

    it('when validation fails, then nothing is stored and the key can still be used', async () => {
      const key = randomUUID();
      const rt = hotel.roomTypes[0]!;
      const bad = await book(
        alice,
        { roomTypeId: rt.id, checkIn: isoDate(30), checkOut: isoDate(29), guests: 1 },
        key,
      );
      assert.equal(bad.statusCode, 422);
      const tooMany = await book(alice, { roomTypeId: rt.id, ...stay(30, 1), guests: 9 }, key);
      assert.equal((tooMany.json() as { code: string }).code, 'E_CAPACITY_EXCEEDED');
      const { rows } = await db.pool.query('SELECT 1 FROM idempotency_keys WHERE user_id = $1 AND key = $2', [
        alice.id,
        key,
      ]);
      assert.equal(rows.length, 0);
      assert.equal(
        (await book(alice, { roomTypeId: rt.id, ...stay(30, 1), guests: 1 }, key)).statusCode,
        201,
      );
    });

    it('when a sold-out answer is repeated with its key, then the same 409 is replayed', async () => {
      const full = await createHotel(db.pool, { rooms: [{ totalRooms: 0 }] });
      const key = randomUUID();
      const body = { roomTypeId: full.roomTypes[0]!.id, ...stay(5, 1), guests: 1 };
      await assertReplayed(alice, body, key, 409);
    });

    it('when the key is missing or malformed, then 400 E_IDEMPOTENCY_KEY_REQUIRED', async () => {
      const body = { roomTypeId: hotel.roomTypes[0]!.id, ...stay(5, 1), guests: 1 };
      const missing = await book(alice, body, null);
      assert.equal(missing.statusCode, 400);
      assert.equal((missing.json() as { code: string }).code, 'E_IDEMPOTENCY_KEY_REQUIRED');
      for (const key of ['k'.repeat(256), 'has space', 'tab\there', '']) {
        const res = await book(alice, body, key);
        assert.equal(res.statusCode, 400, res.body);
        assert.equal(
          (res.json() as { code: string }).code,
          'E_IDEMPOTENCY_KEY_REQUIRED',
          JSON.stringify(key),
        );
      }
    });
  });

  describe('cancel', () => {
    it('when a booking is cancelled, then every night returns, payment is cancelled, and cancelling again changes nothing', async () => {
      const hotel = await createHotel(db.pool, { rooms: [{ totalRooms: 1 }] });
      const rt = hotel.roomTypes[0]!;
      const created = (
        await book(alice, { roomTypeId: rt.id, ...stay(6, 3), guests: 1 })
      ).json() as BookingBody;
      assert.equal((await inventory(rt.id)).get(isoDate(7)), 0);
      const res = await app.inject({
        method: 'POST',
        url: `/api/bookings/${created.id}/cancel`,
        headers: alice.headers,
      });
      assert.equal(res.statusCode, 200, res.body);
      const cancelled = res.json() as BookingBody;
      assert.equal(cancelled.status, 'cancelled');
      assert.ok(cancelled.cancelledAt);
      assert.equal(cancelled.payment?.status, 'cancelled');
      // BEGIN, lock, mark cancelled, return rooms, waitlist candidates (none to offer), the
      // cancellation e-mail's job, COMMIT, read back.
      assert.equal(queryCount(res.headers), 8);
      const inv = await inventory(rt.id);
      for (const d of [6, 7, 8]) assert.equal(inv.get(isoDate(d)), 1);
      const again = await app.inject({
        method: 'POST',
        url: `/api/bookings/${created.id}/cancel`,
        headers: alice.headers,
      });
      assert.equal(again.statusCode, 200);
      assert.equal((again.json() as BookingBody).cancelledAt, cancelled.cancelledAt);
      assert.equal(queryCount(again.headers), 4);
      assert.equal((await inventory(rt.id)).get(isoDate(7)), 1, 'a second cancel does not add a room');
      // Rebook the freed room.
      assert.equal((await book(bob, { roomTypeId: rt.id, ...stay(6, 3), guests: 1 })).statusCode, 201);
    });

    it('when a cancellation frees a room, then the oldest matching waitlist entry is offered in the same transaction', async () => {
      const hotel = await createHotel(db.pool, { rooms: [{ totalRooms: 1 }] });
      const rt = hotel.roomTypes[0]!;
      const created = (
        await book(alice, { roomTypeId: rt.id, ...stay(9, 2), guests: 1 })
      ).json() as BookingBody;
      const waiters = await Promise.all([registerUser(app, 'W1'), registerUser(app, 'W2')]);
      const ids: number[] = [];
      for (const w of waiters) {
        const { rows } = await db.pool.query<{ id: number }>(
          `INSERT INTO waitlist (user_id, room_type_id, start_date, end_date) VALUES ($1, $2, $3, $4) RETURNING id`,
          [w.id, rt.id, isoDate(9), isoDate(11)],
        );
        ids.push(rows[0]!.id);
      }
      const res = await app.inject({
        method: 'POST',
        url: `/api/bookings/${created.id}/cancel`,
        headers: alice.headers,
      });
      assert.equal(res.statusCode, 200);
      const { rows } = await db.pool.query<{ id: number; status: string }>(
        'SELECT id, status FROM waitlist WHERE id = ANY($1) ORDER BY id',
        [ids],
      );
      assert.deepEqual(
        rows.map((r) => r.status),
        ['offered', 'waiting'],
      );
      const { rows: notes } = await db.pool.query<{ user_id: number }>(
        `SELECT user_id FROM notifications WHERE type = 'waitlist_offer' AND (payload->>'waitlistId')::int = ANY($1)`,
        [ids],
      );
      assert.deepEqual(
        notes.map((n) => n.user_id),
        [waiters[0]!.id],
      );
      // The offered guest books: their entry is closed in the booking's transaction.
      const taken = await book(waiters[0]!, {
        roomTypeId: rt.id,
        checkIn: isoDate(9),
        checkOut: isoDate(11),
        guests: 1,
      });
      assert.equal(taken.statusCode, 201, taken.body);
      const { rows: after } = await db.pool.query<{ status: string }>(
        'SELECT status FROM waitlist WHERE id = $1',
        [ids[0]],
      );
      assert.equal(after[0]!.status, 'booked');
    });

    it("when someone else's booking is read or cancelled, then 404 and nothing changes", async () => {
      const hotel = await createHotel(db.pool, { rooms: [{ totalRooms: 1 }] });
      const created = (
        await book(alice, { roomTypeId: hotel.roomTypes[0]!.id, ...stay(3, 1), guests: 1 })
      ).json() as BookingBody;
      const read = await app.inject({ url: `/api/bookings/${created.id}`, headers: bob.headers });
      const cancel = await app.inject({
        method: 'POST',
        url: `/api/bookings/${created.id}/cancel`,
        headers: bob.headers,
      });
      assert.equal(read.statusCode, 404);
      assert.equal(cancel.statusCode, 404);
      const mine = await app.inject({ url: `/api/bookings/${created.id}`, headers: alice.headers });
      assert.equal(mine.statusCode, 200);
      assert.equal((mine.json() as BookingBody).status, 'confirmed');
      assert.equal(queryCount(mine.headers), 1);
    });
  });

  it('when listing my bookings, then only mine come back newest first, filtered by status, in one statement', async () => {
    const carol = await registerUser(app, 'Carol');
    const hotel = await createHotel(db.pool, { rooms: [{ totalRooms: 3 }] });
    const rt = hotel.roomTypes[0]!;
    const ids: number[] = [];
    for (const d of [2, 4, 6]) {
      ids.push(
        ((await book(carol, { roomTypeId: rt.id, ...stay(d, 1), guests: 1 })).json() as BookingBody).id,
      );
    }
    await app.inject({ method: 'POST', url: `/api/bookings/${ids[0]}/cancel`, headers: carol.headers });
    const all = await app.inject({ url: '/api/me/bookings', headers: carol.headers });
    assert.equal(all.statusCode, 200);
    const page = all.json() as { data: BookingBody[]; hasMore: boolean };
    assert.deepEqual(
      page.data.map((b) => b.id),
      [...ids].reverse(),
    );
    assert.equal(queryCount(all.headers), 1);
    const confirmed = (
      await app.inject({ url: '/api/me/bookings?status=confirmed&limit=1', headers: carol.headers })
    ).json() as {
      data: BookingBody[];
      hasMore: boolean;
    };
    assert.deepEqual(
      confirmed.data.map((b) => b.id),
      [ids[2]],
    );
    assert.equal(confirmed.hasMore, true);
  });

  it('when listing my bookings, then the page is read in index order instead of sorting all my bookings', async () => {
    const pool = app.innkeep.db.pool;
    const query = pool.query;
    const captured = new Map<string, { text: string; values: unknown[] }>();
    pool.query = ((config: { name?: string; text: string; values: unknown[] }, ...rest: unknown[]) => {
      if (config?.name?.startsWith('booking_list_mine')) captured.set(config.name, config);
      return (query as (...args: unknown[]) => unknown).call(pool, config, ...rest);
    }) as unknown as typeof pool.query;
    try {
      for (const url of ['/api/me/bookings', '/api/me/bookings?status=confirmed']) {
        assert.equal((await app.inject({ url, headers: alice.headers })).statusCode, 200);
      }
    } finally {
      pool.query = query;
    }
    assert.equal(captured.size, 2);
    type PlanNode = { 'Node Type': string; 'Sort Key'?: string[]; Plans?: PlanNode[] };
    const fullSorts = (node: PlanNode): string[] => [
      ...(node['Node Type'] === 'Sort' ? (node['Sort Key'] ?? []) : []),
      ...(node.Plans ?? []).flatMap(fullSorts),
    ];
    const client = await db.pool.connect();
    try {
      await client.query('BEGIN');
      // With sorting priced out, only an index in the ORDER BY's exact order (NULLS placement too) avoids
      // reading and sorting every booking of the user.
      await client.query('SET LOCAL enable_sort = off');
      for (const [name, q] of captured) {
        const { rows } = await client.query(`EXPLAIN (FORMAT JSON) ${q.text}`, q.values);
        const plan = (rows[0] as { 'QUERY PLAN': { Plan: PlanNode }[] })['QUERY PLAN'][0]!.Plan;
        assert.deepEqual(
          fullSorts(plan).filter((key) => key.includes('created_at')),
          [],
          `${name}: ${JSON.stringify(plan)}`,
        );
      }
    } finally {
      await client.query('ROLLBACK');
      client.release();
    }
  });

  describe('bad input', () => {
    let rtId: number;
    before(async () => {
      rtId = (await createHotel(db.pool, { rooms: [{ totalRooms: 1, capacity: 2 }] })).roomTypes[0]!.id;
    });
    const cases: [string, () => Record<string, unknown>, number, string][] = [
      [
        'checkOut before checkIn',
        () => ({ roomTypeId: rtId, checkIn: isoDate(5), checkOut: isoDate(4), guests: 1 }),
        422,
        'E_INVALID_STAY',
      ],
      [
        'checkOut equal to checkIn',
        () => ({ roomTypeId: rtId, checkIn: isoDate(5), checkOut: isoDate(5), guests: 1 }),
        422,
        'E_INVALID_STAY',
      ],
      ['31 nights', () => ({ roomTypeId: rtId, ...stay(1, 31), guests: 1 }), 422, 'E_STAY_TOO_LONG'],
      ['a past checkIn', () => ({ roomTypeId: rtId, ...stay(-3, 2), guests: 1 }), 422, 'E_DATE_IN_PAST'],
      [
        'an impossible date',
        () => ({ roomTypeId: rtId, checkIn: '2027-02-30', checkOut: '2027-03-02', guests: 1 }),
        400,
        'E_VALIDATION',
      ],
      [
        'a timestamp instead of a date',
        () => ({ roomTypeId: rtId, checkIn: `${isoDate(3)}T10:00:00Z`, checkOut: isoDate(5), guests: 1 }),
        400,
        'E_VALIDATION',
      ],
      ['an unknown room type', () => ({ roomTypeId: 999_999, ...stay(3, 1), guests: 1 }), 404, 'E_NOT_FOUND'],
      ['an id beyond int4', () => ({ roomTypeId: 2 ** 31, ...stay(3, 1), guests: 1 }), 400, 'E_VALIDATION'],
      ['guests as a string', () => ({ roomTypeId: rtId, ...stay(3, 1), guests: 'two' }), 400, 'E_VALIDATION'],
      [
        'guests as a numeric string (bodies are not coerced)',
        () => ({ roomTypeId: rtId, ...stay(3, 1), guests: '1' }),
        400,
        'E_VALIDATION',
      ],
      [
        'too many guests for the room',
        () => ({ roomTypeId: rtId, ...stay(3, 1), guests: 3 }),
        422,
        'E_CAPACITY_EXCEEDED',
      ],
      [
        'an unknown field',
        () => ({ roomTypeId: rtId, ...stay(3, 1), guests: 1, price: 1 }),
        400,
        'E_VALIDATION',
      ],
      ['a missing field', () => ({ roomTypeId: rtId, ...stay(3, 1) }), 400, 'E_VALIDATION'],
    ];
    for (const [name, body, status, code] of cases) {
      it(`when the booking has ${name}, then ${status} ${code} in the standard format`, async () => {
        const res = await book(alice, body());
        assert.equal(res.statusCode, status, res.body);
        const err = res.json() as Record<string, unknown>;
        assert.equal(err.code, code);
        for (const f of ERROR_FIELDS) assert.ok(f in err, `error body has ${f}`);
      });
    }

    it('when the body is too large, then 413', async () => {
      const res = await book(alice, { roomTypeId: rtId, ...stay(3, 1), guests: 1, pad: 'x'.repeat(200_000) });
      assert.equal(res.statusCode, 413);
    });

    it('when there is no token, then 401 for every booking route', async () => {
      for (const [method, url] of [
        ['POST', '/api/bookings'],
        ['GET', '/api/bookings/1'],
        ['POST', '/api/bookings/1/cancel'],
        ['GET', '/api/me/bookings'],
      ] as const) {
        const res = await app.inject({ method, url, payload: method === 'POST' ? {} : undefined });
        assert.equal(res.statusCode, 401, `${method} ${url}`);
      }
    });

    it('when booking ids are out of range, then 400 not 500', async () => {
      const res = await app.inject({ url: `/api/bookings/${2 ** 31}`, headers: alice.headers });
      assert.equal(res.statusCode, 400);
      const neg = await app.inject({ url: '/api/bookings/-1', headers: alice.headers });
      assert.equal(neg.statusCode, 400);
    });
  });

  it('when the hotel is far east or west of UTC, then "past" is judged by the hotel-local date', async () => {
    for (const timezone of ['Pacific/Kiritimati', 'Pacific/Pago_Pago']) {
      const hotel = await createHotel(db.pool, {
        timezone,
        fromDate: isoDate(-3),
        rooms: [{ totalRooms: 3 }],
      });
      const { rows } = await db.pool.query<{ today: string }>(
        `SELECT (now() AT TIME ZONE $1)::date::text AS today`,
        [timezone],
      );
      const today = rows[0]!.today;
      const dayBefore = new Date(Date.parse(`${today}T00:00:00Z`) - 86_400_000).toISOString().slice(0, 10);
      const dayAfter = new Date(Date.parse(`${today}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);
      const ok = await book(alice, {
        roomTypeId: hotel.roomTypes[0]!.id,
        checkIn: today,
        checkOut: dayAfter,
        guests: 1,
      });
      assert.equal(ok.statusCode, 201, `${timezone}: ${ok.body}`);
      const late = await book(alice, {
        roomTypeId: hotel.roomTypes[0]!.id,
        checkIn: dayBefore,
        checkOut: today,
        guests: 1,
      });
      assert.equal(late.statusCode, 422, timezone);
      assert.equal((late.json() as { code: string }).code, 'E_DATE_IN_PAST');
    }
  });
});
