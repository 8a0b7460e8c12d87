import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { App } from '../src/app/build-app.ts';
import { addDays, nightsOf } from '../src/app/common/stay.ts';
import { assertError, queryCount, startTestApp } from './support/app.ts';
import { createTestDatabase, type TestDatabase } from './support/database.ts';
import { createHotel, isoDate, type TestHotel } from './support/fixtures.ts';
import { ensureTestServer } from './support/test-server.ts';

interface RoomAvailability {
  roomTypeId: number;
  name: string;
  capacity: number;
  fitsGuests: boolean;
  available: boolean;
  roomsLeft: number;
  nights: { date: string; priceCents: number | null; availableRooms: number | null }[];
  totalCents: number | null;
}
interface HotelAvailability {
  hotelId: number;
  checkIn: string;
  checkOut: string;
  guests: number;
  currency: string;
  roomTypes: RoomAvailability[];
}
interface BatchItem {
  roomTypeId: number;
  checkIn: string;
  checkOut: string;
  found: boolean;
  available: boolean;
  roomsLeft: number;
  totalCents: number | null;
}

/** The fixture's nightly price: base, +20% on Fridays and Saturdays. */
function fixturePrice(base: number, date: string): number {
  const day = new Date(`${date}T00:00:00Z`).getUTCDay();
  return day === 5 || day === 6 ? Math.round(base * 1.2) : base;
}

describe('availability', () => {
  let db: TestDatabase;
  let app: App;
  let stopServer: () => Promise<void>;
  let hotel: TestHotel;
  let other: TestHotel;
  let inactive: TestHotel;
  const zones = ['UTC', 'Pacific/Kiritimati', 'Pacific/Pago_Pago'] as const;
  const zoneHotels = new Map<string, TestHotel>();
  // Never in the past in any zone (hotel-local today is at most UTC today + 1).
  const checkIn = isoDate(2);
  const checkOut = isoDate(5);

  before(async () => {
    stopServer = await ensureTestServer();
    db = await createTestDatabase();
    hotel = await createHotel(db.pool, {
      currency: 'USD',
      rooms: [
        { name: 'Family', capacity: 4, basePriceCents: 20_000, totalRooms: 3 },
        { name: 'Double', capacity: 2, basePriceCents: 10_000, totalRooms: 5 },
        { name: 'Sold out', capacity: 2, basePriceCents: 15_000, totalRooms: 2 },
        { name: 'Gap', capacity: 2, basePriceCents: 17_000, totalRooms: 2 },
      ],
    });
    const [, , soldOut, gap] = hotel.roomTypes;
    // "Sold out" has no room on the second night, one room on the first; "Gap" lacks the last night.
    await db.pool.query(
      'UPDATE room_inventory SET available_rooms = 0 WHERE room_type_id = $1 AND date = $2',
      [soldOut!.id, addDays(checkIn, 1)],
    );
    await db.pool.query(
      'UPDATE room_inventory SET available_rooms = 1 WHERE room_type_id = $1 AND date = $2',
      [soldOut!.id, checkIn],
    );
    await db.pool.query('DELETE FROM room_inventory WHERE room_type_id = $1 AND date = $2', [
      gap!.id,
      addDays(checkOut, -1),
    ]);
    other = await createHotel(db.pool, { rooms: [{ capacity: 3, basePriceCents: 9_000, totalRooms: 1 }] });
    inactive = await createHotel(db.pool);
    await db.pool.query('UPDATE hotels SET is_active = false WHERE id = $1', [inactive.id]);
    for (const zone of zones) zoneHotels.set(zone, await createHotel(db.pool, { timezone: zone }));
    app = await startTestApp(db.url);
  });

  after(async () => {
    await app?.close();
    await db?.drop();
    await stopServer?.();
  });

  /** PostgreSQL's own idea of today in a zone (the app must agree with it, not with the test's clock). */
  async function todayIn(zone: string): Promise<string> {
    const { rows } = await db.pool.query<{ d: string }>('SELECT (now() AT TIME ZONE $1)::date AS d', [zone]);
    return rows[0]!.d;
  }

  describe('GET /api/hotels/:id/availability', () => {
    const get = (id: number, query: string) =>
      app.inject({ method: 'GET', url: `/api/hotels/${id}/availability?${query}` });

    it('when a stay is asked, then every room type comes back by price with nights, rooms left and total, in one query', async () => {
      const res = await get(hotel.id, `checkIn=${checkIn}&checkOut=${checkOut}&guests=2`);
      assert.equal(res.statusCode, 200, res.body);
      assert.equal(queryCount(res.headers), 1);
      const body = res.json() as HotelAvailability;
      assert.deepEqual(
        { ...body, roomTypes: undefined },
        { hotelId: hotel.id, checkIn, checkOut, guests: 2, currency: 'USD', roomTypes: undefined },
      );
      assert.deepEqual(
        body.roomTypes.map((r) => [r.name, r.fitsGuests, r.available, r.roomsLeft]),
        [
          ['Double', true, true, 5],
          ['Sold out', true, false, 0],
          ['Gap', true, false, 0],
          ['Family', true, true, 3],
        ],
      );
      const double = body.roomTypes[0]!;
      const nights = nightsOf(checkIn, checkOut);
      assert.equal(double.roomTypeId, hotel.roomTypes[1]!.id);
      assert.equal(double.capacity, 2);
      assert.deepEqual(
        double.nights,
        nights.map((date) => ({ date, priceCents: fixturePrice(10_000, date), availableRooms: 5 })),
      );
      assert.equal(
        double.totalCents,
        nights.reduce((sum, d) => sum + fixturePrice(10_000, d), 0),
      );
      // Sold out on one night: a total still exists, since every night has a price.
      const soldOut = body.roomTypes[1]!;
      assert.deepEqual(
        soldOut.nights.map((n) => n.availableRooms),
        [1, 0, 2],
      );
      assert.equal(
        soldOut.totalCents,
        nights.reduce((sum, d) => sum + fixturePrice(15_000, d), 0),
      );
      // A night without inventory: listed with nulls, no total, nothing left.
      const gap = body.roomTypes[2]!;
      assert.deepEqual(gap.nights[2], { date: nights[2], priceCents: null, availableRooms: null });
      assert.equal(gap.nights.length, 3);
      assert.equal(gap.totalCents, null);
    });

    it('when a room is free on every night except one has a single room, then roomsLeft is the minimum', async () => {
      const res = await get(hotel.id, `checkIn=${checkIn}&checkOut=${addDays(checkIn, 1)}`);
      const soldOut = (res.json() as HotelAvailability).roomTypes.find((r) => r.name === 'Sold out')!;
      assert.equal(soldOut.available, true);
      assert.equal(soldOut.roomsLeft, 1);
      assert.equal(soldOut.nights.length, 1);
    });

    it('when there are more guests than a room takes, then it does not fit and is not available', async () => {
      const res = await get(hotel.id, `checkIn=${checkIn}&checkOut=${checkOut}&guests=3`);
      assert.equal(res.statusCode, 200);
      const body = res.json() as HotelAvailability;
      assert.equal(body.guests, 3);
      assert.deepEqual(
        body.roomTypes.map((r) => [r.name, r.fitsGuests, r.available, r.roomsLeft]),
        [
          ['Double', false, false, 5],
          ['Sold out', false, false, 0],
          ['Gap', false, false, 0],
          ['Family', true, true, 3],
        ],
      );
    });

    it('when guests is omitted, then it defaults to 1', async () => {
      const res = await get(other.id, `checkIn=${checkIn}&checkOut=${checkOut}`);
      assert.equal(res.statusCode, 200);
      assert.equal((res.json() as HotelAvailability).guests, 1);
    });

    it('when the stay is beyond the inventory, then nothing is available and totals are null', async () => {
      const res = await get(other.id, `checkIn=${isoDate(200)}&checkOut=${isoDate(202)}`);
      assert.equal(res.statusCode, 200);
      const [room] = (res.json() as HotelAvailability).roomTypes;
      assert.deepEqual(
        { available: room!.available, roomsLeft: room!.roomsLeft, totalCents: room!.totalCents },
        { available: false, roomsLeft: 0, totalCents: null },
      );
      assert.equal(room!.nights.length, 2);
    });

    for (const zone of zones) {
      it(`when the hotel is in ${zone}, then "today" is its local date, as PostgreSQL computes it`, async () => {
        const local = await todayIn(zone);
        const utcYesterday = addDays(await todayIn('UTC'), -1);
        const id = zoneHotels.get(zone)!.id;
        const today = await get(id, `checkIn=${local}&checkOut=${addDays(local, 1)}`);
        assert.equal(today.statusCode, 200, today.body);
        assert.equal((today.json() as HotelAvailability).roomTypes[0]!.available, true);
        const past = await get(id, `checkIn=${addDays(local, -1)}&checkOut=${addDays(local, 1)}`);
        assertError(past, 422, 'E_DATE_IN_PAST', 'checkIn');
        assert.equal(queryCount(past.headers), 1);
        // The UTC date minus one day: accepted only where the hotel's day has not yet moved past it.
        const edge = await get(id, `checkIn=${utcYesterday}&checkOut=${addDays(utcYesterday, 2)}`);
        assert.equal(
          edge.statusCode,
          utcYesterday >= local ? 200 : 422,
          `${zone}: local ${local} ${edge.body}`,
        );
      });
    }

    it('when the zones are compared, then Kiritimati is ahead of Pago Pago by a day or two', async () => {
      // Guards the time zone test above: the two hotels really disagree about "today".
      const ahead = await todayIn('Pacific/Kiritimati');
      const behind = await todayIn('Pacific/Pago_Pago');
      assert.ok(ahead > behind, `${ahead} vs ${behind}`);
    });

    it('when the hotel is unknown or inactive, then 404 E_NOT_FOUND', async () => {
      for (const id of [999_999, inactive.id]) {
        const res = await get(id, `checkIn=${checkIn}&checkOut=${checkOut}`);
        assertError(res, 404, 'E_NOT_FOUND');
        assert.equal(queryCount(res.headers), 1);
      }
    });

    const bad: [string, string, number, string, string][] = [
      [
        'checkOut before checkIn',
        `checkIn=${checkOut}&checkOut=${checkIn}`,
        422,
        'E_INVALID_STAY',
        'checkOut',
      ],
      [
        'checkOut equal to checkIn',
        `checkIn=${checkIn}&checkOut=${checkIn}`,
        422,
        'E_INVALID_STAY',
        'checkOut',
      ],
      [
        '31 nights',
        `checkIn=${checkIn}&checkOut=${addDays(checkIn, 31)}`,
        422,
        'E_STAY_TOO_LONG',
        'checkOut',
      ],
      ['a past checkIn', `checkIn=${isoDate(-5)}&checkOut=${isoDate(3)}`, 422, 'E_DATE_IN_PAST', 'checkIn'],
      ['a month 13', `checkIn=2030-13-01&checkOut=2030-13-03`, 400, 'E_VALIDATION', 'checkIn'],
      ['February 30th', `checkIn=2030-02-28&checkOut=2030-02-30`, 400, 'E_VALIDATION', 'checkOut'],
      ['a word for a date', `checkIn=tomorrow&checkOut=${checkOut}`, 400, 'E_VALIDATION', 'checkIn'],
      [
        'a timestamp for a date',
        `checkIn=${checkIn}T00:00:00Z&checkOut=${checkOut}`,
        400,
        'E_VALIDATION',
        'checkIn',
      ],
      ['no checkIn', `checkOut=${checkOut}`, 400, 'E_VALIDATION', 'checkIn'],
      ['guests 0', `checkIn=${checkIn}&checkOut=${checkOut}&guests=0`, 400, 'E_VALIDATION', 'guests'],
      ['guests 21', `checkIn=${checkIn}&checkOut=${checkOut}&guests=21`, 400, 'E_VALIDATION', 'guests'],
      ['guests "two"', `checkIn=${checkIn}&checkOut=${checkOut}&guests=two`, 400, 'E_VALIDATION', 'guests'],
      ['guests 1.5', `checkIn=${checkIn}&checkOut=${checkOut}&guests=1.5`, 400, 'E_VALIDATION', 'guests'],
      ['an unknown parameter', `checkIn=${checkIn}&checkOut=${checkOut}&room=1`, 400, 'E_VALIDATION', 'room'],
    ];
    for (const [label, query, status, code, field] of bad) {
      it(`when the query has ${label}, then ${status} ${code} names ${field}`, async () => {
        const res = await get(hotel.id, query);
        assertError(res, status, code, field);
        // Only the past check needs the hotel's zone, so only it costs a query.
        assert.equal(queryCount(res.headers), code === 'E_DATE_IN_PAST' ? 1 : 0);
      });
    }

    for (const id of ['0', '2147483648', 'abc']) {
      it(`when the hotel id is "${id}", then 400 names id`, async () => {
        const res = await app.inject({
          method: 'GET',
          url: `/api/hotels/${id}/availability?checkIn=${checkIn}&checkOut=${checkOut}`,
        });
        assertError(res, 400, 'E_VALIDATION', 'id');
      });
    }
  });

  describe('POST /api/availability/batch', () => {
    const post = (payload: unknown) =>
      app.inject({
        method: 'POST',
        url: '/api/availability/batch',
        payload: payload as Record<string, unknown>,
      });

    it('when several stays are asked, then each comes back in request order, unknown ones as not found, in one query', async () => {
      const [family, double, soldOut, gap] = hotel.roomTypes;
      const later = { checkIn: addDays(checkIn, 1), checkOut: addDays(checkIn, 3) };
      const items = [
        { roomTypeId: other.roomTypes[0]!.id, checkIn, checkOut },
        { roomTypeId: 2_000_000_000, checkIn, checkOut },
        { roomTypeId: double!.id, checkIn, checkOut },
        { roomTypeId: soldOut!.id, checkIn, checkOut },
        { roomTypeId: gap!.id, checkIn, checkOut },
        { roomTypeId: double!.id, ...later },
        { roomTypeId: family!.id, checkIn, checkOut },
        { roomTypeId: inactive.roomTypes[0]!.id, checkIn, checkOut },
      ];
      const res = await post({ items, guests: 2 });
      assert.equal(res.statusCode, 200, res.body);
      assert.equal(queryCount(res.headers), 1);
      const { data } = res.json() as { data: BatchItem[] };
      const total = (base: number, from: string, to: string) =>
        nightsOf(from, to).reduce((sum, d) => sum + fixturePrice(base, d), 0);
      assert.deepEqual(data, [
        {
          ...items[0],
          found: true,
          available: true,
          roomsLeft: 1,
          totalCents: total(9_000, checkIn, checkOut),
        },
        { ...items[1], found: false, available: false, roomsLeft: 0, totalCents: null },
        {
          ...items[2],
          found: true,
          available: true,
          roomsLeft: 5,
          totalCents: total(10_000, checkIn, checkOut),
        },
        {
          ...items[3],
          found: true,
          available: false,
          roomsLeft: 0,
          totalCents: total(15_000, checkIn, checkOut),
        },
        { ...items[4], found: true, available: false, roomsLeft: 0, totalCents: null },
        {
          ...items[5],
          found: true,
          available: true,
          roomsLeft: 5,
          totalCents: total(10_000, later.checkIn, later.checkOut),
        },
        {
          ...items[6],
          found: true,
          available: true,
          roomsLeft: 3,
          totalCents: total(20_000, checkIn, checkOut),
        },
        { ...items[7], found: false, available: false, roomsLeft: 0, totalCents: null },
      ]);
    });

    it('when guests exceed a room type, then it is found but not available', async () => {
      const res = await post({
        items: [
          { roomTypeId: hotel.roomTypes[1]!.id, checkIn, checkOut },
          { roomTypeId: hotel.roomTypes[0]!.id, checkIn, checkOut },
        ],
        guests: 4,
      });
      assert.equal(res.statusCode, 200);
      const { data } = res.json() as { data: BatchItem[] };
      assert.deepEqual(
        data.map((d) => [d.found, d.available, d.roomsLeft]),
        [
          [true, false, 5],
          [true, true, 3],
        ],
      );
    });

    it('when 100 items are asked, then 100 answers come back from one query', async () => {
      const items = Array.from({ length: 100 }, (_, i) => ({
        roomTypeId: hotel.roomTypes[i % 4]!.id,
        checkIn: addDays(checkIn, i % 10),
        checkOut: addDays(checkIn, (i % 10) + 2),
      }));
      const res = await post({ items });
      assert.equal(res.statusCode, 200);
      assert.equal(queryCount(res.headers), 1);
      const { data } = res.json() as { data: BatchItem[] };
      assert.deepEqual(
        data.map((d) => [d.roomTypeId, d.checkIn, d.checkOut]),
        items.map((i) => [i.roomTypeId, i.checkIn, i.checkOut]),
      );
    });

    it("when an item's checkIn is before its hotel's local today, then 422 E_DATE_IN_PAST names that item", async () => {
      const local = await todayIn('Pacific/Kiritimati');
      const kiritimati = zoneHotels.get('Pacific/Kiritimati')!;
      const res = await post({
        items: [
          { roomTypeId: hotel.roomTypes[0]!.id, checkIn, checkOut },
          {
            roomTypeId: kiritimati.roomTypes[0]!.id,
            checkIn: addDays(local, -1),
            checkOut: addDays(local, 1),
          },
        ],
      });
      assertError(res, 422, 'E_DATE_IN_PAST', 'items.1.checkIn');
      const ok = await post({
        items: [{ roomTypeId: kiritimati.roomTypes[0]!.id, checkIn: local, checkOut: addDays(local, 1) }],
      });
      assert.equal(ok.statusCode, 200, ok.body);
      assert.equal((ok.json() as { data: BatchItem[] }).data[0]!.available, true);
    });

    const good = () => ({ roomTypeId: hotel.roomTypes[0]!.id, checkIn, checkOut });
    const withItem = (item: unknown) => ({ items: [good(), good(), good(), item] });
    const bad: [string, () => unknown, number, string, string][] = [
      [
        'checkOut before checkIn at index 3',
        () => withItem({ ...good(), checkOut: checkIn, checkIn: checkOut }),
        422,
        'E_INVALID_STAY',
        'items.3.checkOut',
      ],
      [
        'a 31-night stay at index 3',
        () => withItem({ ...good(), checkOut: addDays(checkIn, 31) }),
        422,
        'E_STAY_TOO_LONG',
        'items.3.checkOut',
      ],
      [
        'a bad date at index 3',
        () => withItem({ ...good(), checkIn: '2030-02-30' }),
        400,
        'E_VALIDATION',
        'items.3.checkIn',
      ],
      [
        'a number for a date',
        () => withItem({ ...good(), checkOut: 20300101 }),
        400,
        'E_VALIDATION',
        'items.3.checkOut',
      ],
      [
        'an id beyond int4',
        () => withItem({ ...good(), roomTypeId: 2_147_483_648 }),
        400,
        'E_VALIDATION',
        'items.3.roomTypeId',
      ],
      [
        'a string id',
        () => withItem({ ...good(), roomTypeId: 'x1' }),
        400,
        'E_VALIDATION',
        'items.3.roomTypeId',
      ],
      [
        'an unknown item field',
        () => withItem({ ...good(), guests: 2 }),
        400,
        'E_VALIDATION',
        'items.3.guests',
      ],
      [
        'a missing checkOut',
        () => withItem({ roomTypeId: 1, checkIn }),
        400,
        'E_VALIDATION',
        'items.3.checkOut',
      ],
      ['101 items', () => ({ items: Array.from({ length: 101 }, good) }), 400, 'E_VALIDATION', 'items'],
      ['no items', () => ({ items: [] }), 400, 'E_VALIDATION', 'items'],
      ['items not an array', () => ({ items: good() }), 400, 'E_VALIDATION', 'items'],
      ['guests 0', () => ({ items: [good()], guests: 0 }), 400, 'E_VALIDATION', 'guests'],
      ['guests 21', () => ({ items: [good()], guests: 21 }), 400, 'E_VALIDATION', 'guests'],
      ['an unknown top-level field', () => ({ items: [good()], hotelId: 1 }), 400, 'E_VALIDATION', 'hotelId'],
    ];
    for (const [label, payload, status, code, field] of bad) {
      it(`when the body has ${label}, then ${status} ${code} names ${field} and no query runs`, async () => {
        const res = await post(payload());
        assertError(res, status, code, field);
        assert.equal(queryCount(res.headers), 0);
      });
    }

    it('when the body is not JSON, then 400 in the standard format', async () => {
      const res = await app.inject({
        method: 'POST',
        url: '/api/availability/batch',
        headers: { 'content-type': 'application/json' },
        payload: '{"items": [',
      });
      assertError(res, 400, 'E_BAD_JSON');
    });
  });
});
