import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { App } from '../src/app/build-app.ts';
import { queuePriceDropAlerts } from '../src/app/pricing/price-drops.ts';
import { startTestApp } from './support/app.ts';
import { registerUser, type TestUser } from './support/auth.ts';
import { createTestDatabase, type TestDatabase } from './support/database.ts';
import { createHotel, isoDate, setAvailableRooms, type TestHotel } from './support/fixtures.ts';
import { ensureTestServer } from './support/test-server.ts';

interface Alert {
  userId: number;
  payload: {
    hotelName: string;
    roomName: string;
    oldPriceCents: number;
    newPriceCents: number;
    currency: string;
    checkIn: string;
  };
}

describe('queuePriceDropAlerts', () => {
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

  const checkIn = isoDate(10);
  const checkOut = isoDate(12);

  const book = async (user: TestUser, roomTypeId: number) => {
    const res = await app.inject({
      method: 'POST',
      url: '/api/bookings',
      headers: { ...user.headers, 'idempotency-key': randomUUID() },
      payload: { roomTypeId, checkIn, checkOut, guests: 1 },
    });
    assert.equal(res.statusCode, 201, res.body);
    return res.json() as { id: number; totalCents: number };
  };

  /** Multiplies the room type's nightly prices by `factor` (0.8: a 20% cut). */
  const reprice = (roomTypeId: number, factor: number) =>
    db.pool.query(
      'UPDATE room_inventory SET price_cents = round(price_cents * $2::numeric) WHERE room_type_id = $1',
      [roomTypeId, factor],
    );

  const alerts = async (ids: number[]) => {
    const { rows } = await db.pool.query<Alert & { type: string }>(
      'SELECT user_id AS "userId", type, payload FROM notifications WHERE id = ANY($1) ORDER BY id',
      [ids],
    );
    for (const row of rows) assert.equal(row.type, 'price_drop');
    return rows;
  };

  const hotelWith = (name: string): Promise<TestHotel> =>
    createHotel(db.pool, { name, rooms: [{ name: `${name} Room`, basePriceCents: 10_000 }] });

  it('when a room type gets cheaper, then each affected guest gets one alert, a cancelled one none, and a second run none', async () => {
    const hotel = await hotelWith('Drop Hotel');
    const roomTypeId = hotel.roomTypes[0]!.id;
    const alice = await registerUser(app, 'Alice');
    const bob = await registerUser(app, 'Bob');
    const carol = await registerUser(app, 'Carol');
    const dave = await registerUser(app, 'Dave');
    const paid = (await book(alice, roomTypeId)).totalCents;
    await book(bob, roomTypeId);
    // Two bookings of the same room type: still one alert for Bob.
    await book(bob, roomTypeId);
    const cancelled = await book(carol, roomTypeId);
    const cancel = await app.inject({
      method: 'POST',
      url: `/api/bookings/${cancelled.id}/cancel`,
      headers: carol.headers,
    });
    assert.equal(cancel.statusCode, 200, cancel.body);
    // Dave waits for a full stay: the price when he joined is what he is compared with.
    await setAvailableRooms(db.pool, roomTypeId, isoDate(20), isoDate(21), 0);
    const joined = await app.inject({
      method: 'POST',
      url: '/api/waitlist',
      headers: dave.headers,
      payload: { roomTypeId, checkIn: isoDate(20), checkOut: isoDate(22), guests: 1 },
    });
    assert.equal(joined.statusCode, 201, joined.body);

    await reprice(roomTypeId, 0.8);
    const queued: number[] = [];
    const { notificationIds } = await queuePriceDropAlerts(app.innkeep.db, {
      notifications: { queue: async (_tx, ids) => void queued.push(...ids) },
    });
    assert.deepEqual(queued, notificationIds, 'the ids are queued for sending in the same transaction');
    const rows = await alerts(notificationIds);
    assert.deepEqual(rows.map((r) => r.userId).sort(), [alice.id, bob.id, dave.id].sort());
    const forAlice = rows.find((r) => r.userId === alice.id)!;
    assert.deepEqual(
      { ...forAlice.payload, hotelId: undefined, roomTypeId: undefined },
      {
        hotelId: undefined,
        roomTypeId: undefined,
        hotelName: 'Drop Hotel',
        roomName: 'Drop Hotel Room',
        oldPriceCents: paid,
        newPriceCents: Math.round(paid * 0.8),
        currency: 'EUR',
        checkIn,
        checkOut,
      },
    );
    assert.equal(rows.find((r) => r.userId === dave.id)!.payload.checkIn, isoDate(20));

    assert.deepEqual((await queuePriceDropAlerts(app.innkeep.db)).notificationIds, [], 'no second alert');

    // A further cut is news: one more alert each.
    await reprice(roomTypeId, 0.9);
    const further = await alerts((await queuePriceDropAlerts(app.innkeep.db)).notificationIds);
    assert.deepEqual(further.map((r) => r.userId).sort(), [alice.id, bob.id, dave.id].sort());
    assert.deepEqual((await queuePriceDropAlerts(app.innkeep.db)).notificationIds, []);
  });

  it('when a price rises or falls by less than the threshold, then no alert', async () => {
    const hotel = await hotelWith('Rise Hotel');
    const roomTypeId = hotel.roomTypes[0]!.id;
    const erin = await registerUser(app, 'Erin');
    await book(erin, roomTypeId);

    await reprice(roomTypeId, 1.25);
    assert.deepEqual((await queuePriceDropAlerts(app.innkeep.db)).notificationIds, []);
    // Back to 1.25 * 0.78 = 97.5%: a 2.5% drop from what Erin paid.
    await reprice(roomTypeId, 0.78);
    assert.deepEqual((await queuePriceDropAlerts(app.innkeep.db)).notificationIds, []);
    // Alerted only from 10% down with minDropPct 2.
    const ids = (await queuePriceDropAlerts(app.innkeep.db, { minDropPct: 2 })).notificationIds;
    assert.deepEqual(
      (await alerts(ids)).map((r) => r.userId),
      [erin.id],
    );
  });

  it('when the de-duplication window has passed, then the same price is alerted again', async () => {
    const hotel = await hotelWith('Window Hotel');
    const roomTypeId = hotel.roomTypes[0]!.id;
    const frank = await registerUser(app, 'Frank');
    await book(frank, roomTypeId);
    await reprice(roomTypeId, 0.5);
    assert.equal((await queuePriceDropAlerts(app.innkeep.db)).notificationIds.length, 1);
    const later = new Date(Date.now() + 1000);
    const again = (await queuePriceDropAlerts(app.innkeep.db, { since: later })).notificationIds;
    // Everyone still below what they paid is told again (the earlier tests' guests too): Frank once.
    assert.equal((await alerts(again)).filter((r) => r.userId === frank.id).length, 1);
  });

  it('when minDropPct is out of range, then it throws before touching the database', async () => {
    for (const minDropPct of [0, -1, 100, Number.NaN]) {
      await assert.rejects(queuePriceDropAlerts(app.innkeep.db, { minDropPct }), RangeError);
    }
  });
});
