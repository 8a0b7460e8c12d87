import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { checkInventoryConsistency } from '../bench/lib/consistency.ts';
import { bookingOutcomes } from '../src/app/bookings/booking-outcomes.ts';
import { bookingRepository } from '../src/app/bookings/booking-repository.ts';
import { BookingService } from '../src/app/bookings/booking-service.ts';
import type { App } from '../src/app/build-app.ts';
import type { DomainCache } from '../src/app/common/cache.ts';
import { IdempotentRequests } from '../src/app/idempotency/idempotent-requests.ts';
import type { NotificationQueue } from '../src/app/notifications/notification-queue.ts';
import { PayAtPropertyProvider } from '../src/app/payments/payment-provider.ts';
import { DEFAULT_OFFER_HOLD_MINUTES, expireWaitlistOffers } from '../src/app/waitlist/waitlist-expiry.ts';
import { offerFreedRooms } from '../src/app/waitlist/waitlist-offers.ts';
import { waitlistRepository } from '../src/app/waitlist/waitlist-repository.ts';
import { WaitlistService } from '../src/app/waitlist/waitlist-service.ts';
import { withTransaction } from '../src/platform/db/index.ts';
import { assertError, queryCount, startTestApp } from './support/app.ts';
import { registerUser, type TestUser } from './support/auth.ts';
import { createTestDatabase, type TestDatabase } from './support/database.ts';
import { createHotel, isoDate } from './support/fixtures.ts';
import { ensureTestServer } from './support/test-server.ts';

let db: TestDatabase;
let app: App;
let stopServer: () => Promise<void>;

before(async () => {
  stopServer = await ensureTestServer();
  db = await createTestDatabase();
  app = await startTestApp(db.url, { DB_POOL_MAX: '20' });
});

after(async () => {
  await app?.close();
  await db?.drop();
  await stopServer?.();
});

interface Stay {
  roomTypeId: number;
  checkIn: string;
  checkOut: string;
}

const book = (user: TestUser, stay: Stay, guests = 1) =>
  app.inject({
    method: 'POST',
    url: '/api/bookings',
    headers: { ...user.headers, 'idempotency-key': randomUUID() },
    payload: { ...stay, guests },
  });
const cancelBooking = (user: TestUser, id: number) =>
  app.inject({ method: 'POST', url: `/api/bookings/${id}/cancel`, headers: user.headers });
const join = (user: TestUser, stay: Stay) =>
  app.inject({ method: 'POST', url: '/api/waitlist', headers: user.headers, payload: stay });
const leave = (user: TestUser, id: number) =>
  app.inject({ method: 'DELETE', url: `/api/waitlist/${id}`, headers: user.headers });
const bookOffer = (user: TestUser, id: number, payload?: Record<string, unknown>) =>
  app.inject({
    method: 'POST',
    url: `/api/waitlist/${id}/book`,
    headers: user.headers,
    ...(payload ? { payload } : {}),
  });

const available = async (roomTypeId: number) => {
  const { rows } = await db.pool.query<{ date: string; rooms: number }>(
    'SELECT date, available_rooms AS rooms FROM room_inventory WHERE room_type_id = $1 ORDER BY date',
    [roomTypeId],
  );
  return Object.fromEntries(rows.map((r) => [r.date, r.rooms]));
};

const entry = async (id: number) => {
  const { rows } = await db.pool.query<{ status: string; expiresAt: Date | null }>(
    'SELECT status, offer_expires_at AS "expiresAt" FROM waitlist WHERE id = $1',
    [id],
  );
  return rows[0]!;
};

/** The notifications of a type about waitlist entry `id`. */
const notesAbout = async (type: string, id: number) => {
  const { rows } = await db.pool.query<{ id: number; user_id: number; payload: Record<string, unknown> }>(
    `SELECT id, user_id, payload FROM notifications WHERE type = $1 AND (payload->>'waitlistId')::int = $2 ORDER BY id`,
    [type, id],
  );
  return rows;
};

/** Makes the entries' offers lapse a minute ago (the expiry job has not run yet). */
const lapse = (ids: number[]) =>
  db.pool.query(`UPDATE waitlist SET offer_expires_at = now() - interval '1 minute' WHERE id = ANY($1)`, [
    ids,
  ]);

/** Nights of the room type where total = available + confirmed bookings + offer holds does not hold. */
const inconsistentNights = async (roomTypeId: number) => {
  const { rows } = await db.pool.query(
    `SELECT ri.date, rt.total_rooms AS total, ri.available_rooms AS available,
       (SELECT count(*)::int FROM bookings b WHERE b.room_type_id = ri.room_type_id AND b.status = 'confirmed'
          AND ri.date >= b.start_date AND ri.date < b.end_date) AS booked,
       (SELECT count(*)::int FROM waitlist w WHERE w.room_type_id = ri.room_type_id AND w.status = 'offered'
          AND ri.date >= w.start_date AND ri.date < w.end_date) AS held
     FROM room_inventory ri JOIN room_types rt ON rt.id = ri.room_type_id
     WHERE ri.room_type_id = $1
     ORDER BY ri.date`,
    [roomTypeId],
  );
  return rows.filter((r) => r.available < 0 || r.total !== r.available + r.booked + r.held);
};

/**
 * One room, booked for nights 10-11 by a booker; a waiter joins the waitlist and the booker cancels:
 * the waiter's entry is offered and holds the room.
 */
async function offeredRoom(name: string) {
  const hotel = await createHotel(db.pool, { name, rooms: [{ name: 'Attic', totalRooms: 1, capacity: 2 }] });
  const stay = { roomTypeId: hotel.roomTypes[0]!.id, checkIn: isoDate(10), checkOut: isoDate(12) };
  const [booker, waiter] = await Promise.all([registerUser(app, 'Booker'), registerUser(app, 'Waiter')]);
  const booked = await book(booker, stay);
  assert.equal(booked.statusCode, 201, booked.body);
  const joined = await join(waiter, stay);
  assert.equal(joined.statusCode, 201, joined.body);
  const entryId = (joined.json() as { id: number }).id;
  assert.equal((await cancelBooking(booker, (booked.json() as { id: number }).id)).statusCode, 200);
  assert.equal((await entry(entryId)).status, 'offered');
  return { hotel, stay, booker, waiter, entryId };
}

describe('waitlist offers hold their room', () => {
  it('when a cancellation offers the room, then it is held: another guest gets 409 E_SOLD_OUT and the offer is notified', async () => {
    const { stay, waiter, entryId } = await offeredRoom('Hold Inn');
    const inv = await available(stay.roomTypeId);
    assert.equal(inv[isoDate(10)], 0);
    assert.equal(inv[isoDate(11)], 0);
    assert.equal(inv[isoDate(12)], 1);
    const other = await registerUser(app, 'Other');
    assertError(await book(other, stay), 409, 'E_SOLD_OUT');

    const { expiresAt } = await entry(entryId);
    const minutes = ((expiresAt?.getTime() ?? 0) - Date.now()) / 60_000;
    assert.ok(
      minutes > DEFAULT_OFFER_HOLD_MINUTES - 1 && minutes <= DEFAULT_OFFER_HOLD_MINUTES,
      String(minutes),
    );
    const notes = await notesAbout('waitlist_offer', entryId);
    assert.deepEqual(
      notes.map((n) => [n.user_id, n.payload]),
      [
        [
          waiter.id,
          {
            waitlistId: entryId,
            roomTypeId: stay.roomTypeId,
            checkIn: stay.checkIn,
            checkOut: stay.checkOut,
            expiresAt: expiresAt?.toISOString(),
            hotelName: 'Hold Inn',
            roomName: 'Attic',
          },
        ],
      ],
    );
    const mine = await app.inject({ url: '/api/me/waitlist', headers: waiter.headers });
    const listed = (mine.json() as { data: { id: number; status: string; offerExpiresAt: string }[] }).data;
    assert.deepEqual(
      listed.map((e) => [e.id, e.status, e.offerExpiresAt]),
      [[entryId, 'offered', expiresAt?.toISOString()]],
    );
    assert.deepEqual(await inconsistentNights(stay.roomTypeId), []);
  });

  it('when a cancellation makes two offers, then its notifications’ three e-mail jobs are one statement', async () => {
    const hotel = await createHotel(db.pool, { name: 'Split Inn', rooms: [{ totalRooms: 1, capacity: 2 }] });
    const roomTypeId = hotel.roomTypes[0]!.id;
    const booker = await registerUser(app, 'Booker');
    const first = await registerUser(app, 'First night');
    const second = await registerUser(app, 'Second night');
    const booked = await book(booker, { roomTypeId, checkIn: isoDate(10), checkOut: isoDate(12) });
    assert.equal(booked.statusCode, 201, booked.body);
    const a = await join(first, { roomTypeId, checkIn: isoDate(10), checkOut: isoDate(11) });
    const b = await join(second, { roomTypeId, checkIn: isoDate(11), checkOut: isoDate(12) });
    assert.deepEqual([a.statusCode, b.statusCode], [201, 201]);
    const res = await cancelBooking(booker, (booked.json() as { id: number }).id);
    assert.equal(res.statusCode, 200, res.body);
    for (const r of [a, b]) assert.equal((await entry((r.json() as { id: number }).id)).status, 'offered');
    // Without the batch, three job inserts: 12.
    assert.equal(queryCount(res.headers), 10, 'the cancellation and both offers’ e-mail jobs in one insert');
    assert.deepEqual(await inconsistentNights(roomTypeId), []);
  });

  it('when the holder books through the offer, then 201 with the booking, its rows are written and the inventory does not move', async () => {
    const { stay, waiter, entryId } = await offeredRoom('Book Inn');
    const before = await available(stay.roomTypeId);
    const res = await bookOffer(waiter, entryId);
    assert.equal(res.statusCode, 201, res.body);
    const booking = res.json() as {
      id: number;
      status: string;
      checkIn: string;
      checkOut: string;
      guests: number;
      nights: number;
      totalCents: number;
      roomType: { id: number; name: string };
      payment: { status: string; amountCents: number };
    };
    assert.equal(res.headers.location, `/api/bookings/${booking.id}`);
    assert.equal(queryCount(res.headers), 5, 'BEGIN, lock the offer, the booking, its e-mail job, COMMIT');
    assert.deepEqual(
      [
        booking.status,
        booking.checkIn,
        booking.checkOut,
        booking.nights,
        booking.guests,
        booking.roomType.id,
      ],
      ['confirmed', stay.checkIn, stay.checkOut, 2, 1, stay.roomTypeId],
    );
    assert.equal(booking.payment.amountCents, booking.totalCents);
    assert.deepEqual(await available(stay.roomTypeId), before);
    assert.equal((await entry(entryId)).status, 'booked');
    const { rows } = await db.pool.query(
      `SELECT (SELECT count(*)::int FROM payments WHERE booking_id = $1) AS payments,
              (SELECT count(*)::int FROM notifications WHERE type = 'booking_confirmed' AND (payload->>'bookingId')::int = $1) AS notes,
              (SELECT count(*)::int FROM price_history WHERE entity_type = 'room_type' AND entity_id = $2) AS prices`,
      [booking.id, stay.roomTypeId],
    );
    // Two prices of the booker's cancelled booking, two of this one.
    assert.deepEqual(rows[0], { payments: 1, notes: 1, prices: 4 });
    const read = await app.inject({ url: `/api/bookings/${booking.id}`, headers: waiter.headers });
    assert.equal(read.statusCode, 200);
    assert.deepEqual(await inconsistentNights(stay.roomTypeId), []);

    // Booked once: the offer is gone.
    const again = assertError(await bookOffer(waiter, entryId), 409, 'E_OFFER_UNAVAILABLE');
    assert.match(String(again.message), /booked/);
  });

  it('when the holder books through the offer with more guests than fit, then 422 and the hold stays; with fewer, they are the booking’s', async () => {
    const { stay, waiter, entryId } = await offeredRoom('Guests Inn');
    assertError(await bookOffer(waiter, entryId, { guests: 3 }), 422, 'E_CAPACITY_EXCEEDED');
    assertError(await bookOffer(waiter, entryId, { guests: 0 }), 400, 'E_VALIDATION');
    assertError(await bookOffer(waiter, entryId, { nights: 2 }), 400, 'E_VALIDATION');
    assert.equal((await entry(entryId)).status, 'offered');
    const res = await bookOffer(waiter, entryId, { guests: 2 });
    assert.equal(res.statusCode, 201, res.body);
    assert.equal((res.json() as { guests: number }).guests, 2);
    assert.deepEqual(await inconsistentNights(stay.roomTypeId), []);
  });

  it('when someone else books through the offer or the entry does not exist, then 404 and the hold stays', async () => {
    const { stay, booker, entryId } = await offeredRoom('Mine Inn');
    assertError(await bookOffer(booker, entryId), 404, 'E_NOT_FOUND');
    assertError(await bookOffer(booker, 999_999), 404, 'E_NOT_FOUND');
    assertError(await bookOffer(booker, 2 ** 31), 400, 'E_VALIDATION');
    assertError(await app.inject({ method: 'POST', url: `/api/waitlist/${entryId}/book` }), 401);
    assert.equal((await entry(entryId)).status, 'offered');
    assert.equal((await available(stay.roomTypeId))[isoDate(10)], 0);
  });

  it('when the holder books the same stay with POST /api/bookings, then the held room is used, not another', async () => {
    const { stay, waiter, entryId } = await offeredRoom('Same Inn');
    const res = await book(waiter, stay);
    assert.equal(res.statusCode, 201, res.body);
    assert.equal((await entry(entryId)).status, 'booked');
    assert.equal((await available(stay.roomTypeId))[isoDate(10)], 0);
    assert.deepEqual(await inconsistentNights(stay.roomTypeId), []);
  });

  it('when the offer has expired or was never made, then booking through it is 409 E_OFFER_UNAVAILABLE', async () => {
    const { stay, waiter, entryId } = await offeredRoom('Late Inn');
    await lapse([entryId]);
    const late = assertError(await bookOffer(waiter, entryId), 409, 'E_OFFER_UNAVAILABLE');
    assert.match(String(late.message), /expired/);
    // Until the expiry job runs the room stays held, for no one: the normal endpoint finds it full.
    assertError(await book(waiter, stay), 409, 'E_SOLD_OUT');
    assert.equal((await entry(entryId)).status, 'offered');

    const latecomer = await registerUser(app, 'Latecomer');
    const waiting = (await join(latecomer, stay)).json() as { id: number };
    const never = assertError(await bookOffer(latecomer, waiting.id), 409, 'E_OFFER_UNAVAILABLE');
    assert.match(String(never.message), /no offer yet/);

    // The job runs: the latecomer is next in line and gets the hold.
    assert.deepEqual(await expireWaitlistOffers(app.innkeep.db), { expired: 1, offered: 1, batches: 1 });
    assert.equal((await bookOffer(latecomer, waiting.id)).statusCode, 201);
    assert.deepEqual(await inconsistentNights(stay.roomTypeId), []);
  });

  it('when expireWaitlistOffers runs, then the lapsed offer is expired, its room goes to the next in line, and both are notified', async () => {
    const { hotel, stay, waiter, entryId } = await offeredRoom('Next Inn');
    const next = await registerUser(app, 'Next');
    const nextEntry = ((await join(next, stay)).json() as { id: number }).id;
    await lapse([entryId]);
    const report = await expireWaitlistOffers(app.innkeep.db);
    assert.deepEqual(report, { expired: 1, offered: 1, batches: 1 });
    assert.equal((await entry(entryId)).status, 'expired');
    assert.equal((await entry(nextEntry)).status, 'offered');
    assert.equal((await available(stay.roomTypeId))[isoDate(10)], 0, 'the hold moved, the room stayed taken');
    assert.deepEqual(
      (await notesAbout('waitlist_offer_expired', entryId)).map((n) => [n.user_id, n.payload]),
      [
        [
          waiter.id,
          {
            waitlistId: entryId,
            checkIn: stay.checkIn,
            checkOut: stay.checkOut,
            hotelName: 'Next Inn',
            roomName: 'Attic',
          },
        ],
      ],
    );
    const offers = await notesAbout('waitlist_offer', nextEntry);
    assert.deepEqual(
      offers.map((n) => n.user_id),
      [next.id],
    );
    assert.equal(offers[0]!.payload.hotelName, 'Next Inn');
    assertError(await bookOffer(waiter, entryId), 409, 'E_OFFER_UNAVAILABLE');
    assert.equal((await bookOffer(next, nextEntry)).statusCode, 201);
    assert.deepEqual(await inconsistentNights(stay.roomTypeId), []);
    assert.ok(hotel.id > 0);

    // Nothing lapsed any more: a run changes nothing.
    assert.deepEqual(await expireWaitlistOffers(app.innkeep.db), { expired: 0, offered: 0, batches: 0 });
  });

  it('when a lapsed offer has no one next in line, then its room is back on sale', async () => {
    const { stay, entryId } = await offeredRoom('Empty Inn');
    await lapse([entryId]);
    assert.deepEqual(await expireWaitlistOffers(app.innkeep.db), { expired: 1, offered: 0, batches: 1 });
    assert.equal((await available(stay.roomTypeId))[isoDate(10)], 1);
    const walkIn = await registerUser(app, 'Walk-in');
    assert.equal((await book(walkIn, stay)).statusCode, 201);
    assert.deepEqual(await inconsistentNights(stay.roomTypeId), []);
  });

  it('when an offered entry is cancelled, then its hold goes to the next in line, and cancelling again is still 204', async () => {
    const { stay, waiter, entryId } = await offeredRoom('Leave Inn');
    const next = await registerUser(app, 'Next');
    const nextEntry = ((await join(next, stay)).json() as { id: number }).id;
    assert.equal((await leave(waiter, entryId)).statusCode, 204);
    assert.equal((await entry(entryId)).status, 'cancelled');
    assert.equal((await entry(nextEntry)).status, 'offered');
    assert.equal((await notesAbout('waitlist_offer', nextEntry)).length, 1);
    assert.deepEqual(await notesAbout('waitlist_offer_expired', entryId), []);
    assert.equal((await available(stay.roomTypeId))[isoDate(10)], 0);
    assert.equal((await leave(waiter, entryId)).statusCode, 204);
    assertError(await bookOffer(waiter, entryId), 409, 'E_OFFER_UNAVAILABLE');

    // The next one leaves too: nobody waits, the room is back on sale.
    assert.equal((await leave(next, nextEntry)).statusCode, 204);
    assert.equal((await available(stay.roomTypeId))[isoDate(10)], 1);
    assert.deepEqual(await inconsistentNights(stay.roomTypeId), []);
  });
});

describe('notification ids are handed to the NotificationQueue inside the writing transaction', () => {
  /** Records the ids; checks they are visible in the transaction and not yet outside it. */
  const recordingQueue = () => {
    const queued: number[][] = [];
    const problems: string[] = [];
    const queue: NotificationQueue = {
      async queue(tx, ids) {
        queued.push([...ids]);
        const inside = await tx.query<{ n: number }>(
          'SELECT count(*)::int AS n FROM notifications WHERE id = ANY($1)',
          [ids],
        );
        const outside = await db.pool.query<{ n: number }>(
          'SELECT count(*)::int AS n FROM notifications WHERE id = ANY($1)',
          [ids],
        );
        if (inside.rows[0]!.n !== ids.length) problems.push(`only ${inside.rows[0]!.n} of ${ids} inside`);
        if (outside.rows[0]!.n !== 0) problems.push(`${ids} visible before the commit`);
      },
    };
    return { queue, queued, problems };
  };
  const cache: DomainCache = { ns: {} as DomainCache['ns'], invalidate: async () => undefined };
  const types = async (ids: number[]) => {
    const { rows } = await db.pool.query<{ type: string }>(
      'SELECT type FROM notifications WHERE id = ANY($1) ORDER BY id',
      [ids],
    );
    return rows.map((r) => r.type);
  };

  it('when bookings are made and cancelled and offers booked, cancelled or expired, then every notification row is queued once', async () => {
    const { queue, queued, problems } = recordingQueue();
    const services = {
      db: app.innkeep.db,
      cache,
      offerHoldMinutes: 30,
      notifications: queue,
    };
    const bookings = new BookingService({
      ...services,
      bookings: bookingRepository,
      payments: new PayAtPropertyProvider(),
      outcomes: bookingOutcomes(undefined),
    });
    const waitlist = new WaitlistService({ ...services, waitlist: waitlistRepository });
    const idempotent = new IdempotentRequests(app.innkeep.db);
    const hotel = await createHotel(db.pool, { rooms: [{ totalRooms: 1 }] });
    const stay = { roomTypeId: hotel.roomTypes[0]!.id, checkIn: isoDate(20), checkOut: isoDate(21) };
    const [a, b, c] = await Promise.all([
      registerUser(app, 'A'),
      registerUser(app, 'B'),
      registerUser(app, 'C'),
    ]);
    const user = (u: TestUser) => ({ id: u.id, role: 'user' as const });

    const created = await idempotent.run(
      { userId: a.id, key: randomUUID(), fingerprint: 'test' },
      (claim) => bookings.create(user(a), { ...stay, guests: 1 }, claim),
      { subject: 'booking', storesFailure: (_err): _err is never => false, render: () => ({}) },
    );
    const bookingId = (JSON.parse(created.json) as { id: number }).id;
    assert.deepEqual(await types(queued.flat()), ['booking_confirmed']);

    const bEntry = ((await join(b, stay)).json() as { id: number }).id;
    const cEntry = ((await join(c, stay)).json() as { id: number }).id;
    await bookings.cancel(user(a), bookingId);
    assert.deepEqual(await types(queued.at(-1)!), ['booking_cancelled', 'waitlist_offer']);
    assert.deepEqual(
      (await notesAbout('waitlist_offer', bEntry)).map((n) => n.id),
      queued.at(-1)!.slice(1),
    );

    await waitlist.cancel(b.id, bEntry); // C is offered the hold
    assert.deepEqual(await types(queued.at(-1)!), ['waitlist_offer']);
    await lapse([cEntry]);
    await expireWaitlistOffers(app.innkeep.db, new Date(), { notifications: queue });
    assert.deepEqual(await types(queued.at(-1)!), ['waitlist_offer_expired']);

    // A fresh offer for A, booked through.
    const aEntry = await db.pool.query<{ id: number }>(
      `INSERT INTO waitlist (user_id, room_type_id, start_date, end_date) VALUES ($1, $2, $3, $4) RETURNING id`,
      [a.id, stay.roomTypeId, stay.checkIn, stay.checkOut],
    );
    await withTransaction(db.pool, (tx) => offerFreedRooms(tx, stay, { holdMinutes: 30 }));
    await bookings.bookOffer(user(a), aEntry.rows[0]!.id, undefined);
    assert.deepEqual(await types(queued.at(-1)!), ['booking_confirmed']);

    const all = queued.flat();
    assert.equal(new Set(all).size, all.length, 'no id queued twice');
    assert.deepEqual(problems, []);
    assert.deepEqual(await inconsistentNights(stay.roomTypeId), []);
  });
});

describe('concurrency', () => {
  /** `n` users made in SQL (the waitlist allows one active entry per user and stay). */
  const sqlUsers = async (n: number) => {
    const { rows } = await db.pool.query<{ id: number }>(
      `INSERT INTO users (email, password_hash, name)
       SELECT 'h-' || gen_random_uuid() || '@example.test', 'x', 'Holder' FROM generate_series(1, $1)
       RETURNING id`,
      [n],
    );
    return rows.map((r) => r.id);
  };
  const waitFor = async (users: number[], stay: Stay) => {
    const { rows } = await db.pool.query<{ id: number }>(
      `INSERT INTO waitlist (user_id, room_type_id, start_date, end_date, created_at)
       SELECT u.id, $2, $3, $4, now() + make_interval(secs => u.n::int)
       FROM unnest($1::int[]) WITH ORDINALITY AS u(id, n)
       RETURNING id`,
      [users, stay.roomTypeId, stay.checkIn, stay.checkOut],
    );
    return rows.map((r) => r.id).sort((x, y) => x - y);
  };

  it('when two expireWaitlistOffers run at once, then each lapsed offer is expired once and its room offered once', async () => {
    const rooms = 12;
    const hotel = await createHotel(db.pool, { rooms: [{ totalRooms: rooms }] });
    const stay = { roomTypeId: hotel.roomTypes[0]!.id, checkIn: isoDate(30), checkOut: isoDate(32) };
    const first = await waitFor(await sqlUsers(rooms), stay);
    const offered = await withTransaction(db.pool, (tx) => offerFreedRooms(tx, stay, { holdMinutes: 30 }));
    assert.deepEqual(offered.waitlistIds, first);
    const second = await waitFor(await sqlUsers(rooms), stay);
    await lapse(first);

    const queued: number[] = [];
    const queue: NotificationQueue = {
      queue: async (_tx, ids) => {
        queued.push(...ids);
      },
    };
    const run = () =>
      expireWaitlistOffers(app.innkeep.db, new Date(), { batchSize: 2, notifications: queue });
    const reports = await Promise.all([run(), run()]);
    assert.equal(reports[0]!.expired + reports[1]!.expired, rooms, JSON.stringify(reports));
    assert.equal(reports[0]!.offered + reports[1]!.offered, rooms, JSON.stringify(reports));

    const { rows } = await db.pool.query<{ id: number; status: string; expired: number; offers: number }>(
      `SELECT w.id, w.status,
         (SELECT count(*)::int FROM notifications n WHERE n.type = 'waitlist_offer_expired' AND (n.payload->>'waitlistId')::int = w.id) AS expired,
         (SELECT count(*)::int FROM notifications n WHERE n.type = 'waitlist_offer' AND (n.payload->>'waitlistId')::int = w.id) AS offers
       FROM waitlist w WHERE w.id = ANY($1) ORDER BY w.id`,
      [[...first, ...second]],
    );
    assert.deepEqual(
      rows.map((r) => [r.status, r.expired, r.offers]),
      [...first.map(() => ['expired', 1, 1]), ...second.map(() => ['offered', 0, 1])],
    );
    assert.equal(new Set(queued).size, rooms * 2, 'each notification queued once');
    assert.equal((await available(stay.roomTypeId))[isoDate(30)], 0);
    assert.deepEqual(await inconsistentNights(stay.roomTypeId), []);
  });

  it('when bookings, cancellations, waitlist joins and leaves, bookings through offers and expiries race, then every night adds up exactly', async (t) => {
    const rooms = 3;
    const hotel = await createHotel(db.pool, { rooms: [{ totalRooms: rooms }] });
    const roomTypeId = hotel.roomTypes[0]!.id;
    const users = await Promise.all(Array.from({ length: 16 }, (_, i) => registerUser(app, `Racer ${i}`)));
    // A fixed pseudo-random sequence: stays of 1-3 nights starting on days 40-44.
    let seed = 7;
    const random = (n: number) => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed % n;
    };
    const stayFor = () => {
      const from = 40 + random(5);
      return { roomTypeId, checkIn: isoDate(from), checkOut: isoDate(from + 1 + random(3)) };
    };
    const deadlocks = async () => {
      // Statistics reach pg_stat_database within a second of each transaction's end.
      await new Promise((resolve) => setTimeout(resolve, 1_100));
      const { rows } = await db.pool.query<{ n: number }>(
        'SELECT deadlocks::int AS n FROM pg_stat_database WHERE datname = current_database()',
      );
      return rows[0]!.n;
    };
    const deadlocksBefore = await deadlocks();
    const codes: number[] = [];
    const booked: { user: TestUser; id: number }[] = [];
    const waiting: { user: TestUser; id: number }[] = [];
    const later = () => new Date(Date.now() + 60 * 60_000); // every offer made so far has lapsed by then

    /** Books a stay, or joins its waitlist when it is full. */
    const bookOrWait = async (user: TestUser) => {
      const stay = stayFor();
      const res = await book(user, stay);
      codes.push(res.statusCode);
      if (res.statusCode === 201) {
        booked.push({ user, id: (res.json() as { id: number }).id });
        return;
      }
      const joined = await join(user, stay);
      codes.push(joined.statusCode);
      if (joined.statusCode === 201) waiting.push({ user, id: (joined.json() as { id: number }).id });
    };

    for (let round = 0; round < 4; round++) {
      await Promise.all(users.map(bookOrWait));
      const cancels = booked.splice(0, Math.ceil(booked.length / 2));
      const entries = waiting.splice(0);
      await Promise.all([
        ...cancels.map(async ({ user, id }) => codes.push((await cancelBooking(user, id)).statusCode)),
        ...entries.map(async ({ user, id }, i) => {
          const res = i % 3 === 2 ? await leave(user, id) : await bookOffer(user, id);
          codes.push(res.statusCode);
          if (res.statusCode === 201) booked.push({ user, id: (res.json() as { id: number }).id });
        }),
        expireWaitlistOffers(app.innkeep.db, later(), { batchSize: 2 }),
        expireWaitlistOffers(app.innkeep.db, later(), { batchSize: 3 }),
        ...users.slice(0, 4).map(bookOrWait),
      ]);
      assert.deepEqual(await inconsistentNights(roomTypeId), [], `after round ${round}`);
    }
    await expireWaitlistOffers(app.innkeep.db, later());

    const unexpected = codes.filter((c) => ![200, 201, 204, 409].includes(c));
    assert.deepEqual(unexpected, [], 'only successes and 409s');
    assert.ok(codes.includes(409), 'some stays were full');
    const { rows } = await db.pool.query<{ booked: number; offered: number; expired: number }>(
      `SELECT (SELECT count(*)::int FROM bookings WHERE room_type_id = $1 AND status = 'confirmed') AS booked,
              (SELECT count(*)::int FROM waitlist WHERE room_type_id = $1 AND offered_at IS NOT NULL) AS offered,
              (SELECT count(*)::int FROM waitlist WHERE room_type_id = $1 AND status = 'expired') AS expired`,
      [roomTypeId],
    );
    t.diagnostic(JSON.stringify({ ...rows[0], deadlocks: (await deadlocks()) - deadlocksBefore }));
    assert.ok(rows[0]!.offered > 0, 'some entries were offered');
    assert.deepEqual(await inconsistentNights(roomTypeId), []);
    // No night has more confirmed bookings than rooms, and every offer was notified exactly once.
    const { rows: notes } = await db.pool.query<{ id: number; n: number }>(
      `SELECT w.id, (SELECT count(*)::int FROM notifications n WHERE n.type = 'waitlist_offer'
                       AND (n.payload->>'waitlistId')::int = w.id) AS n
       FROM waitlist w WHERE w.room_type_id = $1 AND w.offered_at IS NOT NULL`,
      [roomTypeId],
    );
    assert.deepEqual(
      notes.filter((r) => r.n !== 1),
      [],
    );
    const report = await checkInventoryConsistency(db.pool);
    assert.equal(report.ok, true, JSON.stringify(report.samples));
  });
});
