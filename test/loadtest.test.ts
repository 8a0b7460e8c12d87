import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { checkInventoryConsistency, type InventoryMismatch } from '../bench/lib/consistency.ts';
import { StaleReadCheck } from '../bench/lib/stale-reads.ts';
import { runLoadTest } from '../bench/loadtest.ts';
import type { App } from '../src/app/build-app.ts';
import { seedDatabase } from '../src/app/seed/seed.ts';
import { startTestApp } from './support/app.ts';
import { createTestDatabase, type TestDatabase } from './support/database.ts';
import { ensureTestServer } from './support/test-server.ts';

/** An inventory row `ri` no waitlist offer holds a room on (the load's cancellations make offers). */
const NOT_HELD = `NOT EXISTS (SELECT 1 FROM waitlist w WHERE w.status = 'offered' AND w.room_type_id = ri.room_type_id
                    AND ri.date >= w.start_date AND ri.date < w.end_date)`;

describe('load test (bench/loadtest.ts)', () => {
  let db: TestDatabase;
  let app: App;
  let url: string;
  let stopServer: () => Promise<void>;

  before(async () => {
    stopServer = await ensureTestServer();
    db = await createTestDatabase();
    await seedDatabase(db.pool, { scale: 'small' });
    app = await startTestApp(db.url);
    url = await app.listen({ host: '127.0.0.1', port: 0 });
  });

  after(async () => {
    await app?.close();
    await db?.drop();
    await stopServer?.();
  });

  it('when the mix runs for 3 s on 4 connections, then it books rooms without errors and the inventory stays consistent', async (t) => {
    const result = await runLoadTest({ url, durationS: 3, connections: 4, users: 5, databaseUrl: db.url });
    t.diagnostic(
      `${result.requests} requests, ${result.requestsPerSecond} req/s, ${result.bookings.created} bookings, ${result.bookings.cancelled} cancelled`,
    );

    assert.ok(result.requests >= 100, `only ${result.requests} requests completed`);
    assert.deepEqual(
      {
        connection: result.errors.connection,
        timeouts: result.errors.timeouts,
        server5xx: result.errors.server5xx,
      },
      { connection: 0, timeouts: 0, server5xx: 0 },
    );
    assert.equal(result.errors.unexpected4xx, 0, JSON.stringify(result.errors.byCode));
    assert.ok(result.bookings.created >= 1, JSON.stringify(result.byKind.book));
    assert.ok(
      result.byKind.search.requests > result.byKind.hotel.requests,
      'search is the most common request',
    );
    assert.equal(result.setup.users, 5);
    assert.ok(result.consistency, result.consistencySkipped);
    assert.equal(result.consistency.ok, true, JSON.stringify(result.consistency));
    assert.ok(result.consistency.inventoryRows > 0);
    assert.equal(result.ok, true);
  });

  it('when the cache is on, then a warm-up pass runs first, hit rates come from the server and no availability answer is stale', async () => {
    const cached = await startTestApp(db.url, { CACHE_ENABLED: 'true' });
    try {
      const cachedUrl = await cached.listen({ host: '127.0.0.1', port: 0 });
      const result = await runLoadTest({
        url: cachedUrl,
        durationS: 2,
        warmupS: 1,
        connections: 4,
        users: 5,
        databaseUrl: db.url,
        pid: process.pid,
      });

      assert.equal(result.ok, true, JSON.stringify({ errors: result.errors, stale: result.staleReads }));
      assert.ok(result.warmup && result.warmup.requests > 0, 'the warm-up pass ran');
      assert.equal(result.options.warmupS, 1);
      assert.ok(result.cache, result.cacheSkipped);
      assert.equal(result.cache.tiers, 'l1');
      const search = result.cache.namespaces.find((n) => n.namespace === 'search');
      assert.ok(search && search.hits > 0, 'searches repeat: some are hits');
      assert.ok(
        result.cache.total.hitRate !== null && result.cache.total.hitRate > 0.5,
        String(result.cache.total.hitRate),
      );
      assert.equal(
        result.cache.total.hits,
        result.cache.namespaces.reduce((n, ns) => n + ns.hits, 0),
      );
      assert.ok((result.cache.inputs.search?.requests ?? 0) > 0);
      assert.ok(result.staleReads, result.staleReadsSkipped);
      assert.equal(result.staleReads.stale, 0, JSON.stringify(result.staleReads.samples));
      assert.ok(result.staleReads.reads > 0 && result.staleReads.baselineNights > 0);
      // Every 201 is followed by a read of its stay (the last ones may still be queued at the end).
      assert.ok(result.byKind.recheck.requests > 0, JSON.stringify(result.byKind.book));
      assert.ok(result.byKind.recheck.requests <= result.staleReads.bookings);
      assert.ok(result.memory.rss && result.memory.rss.peak > 0);
      assert.ok(result.memory.l1?.withinBounds);
    } finally {
      await cached.close();
    }
  });

  it('when rows are off by one, above total_rooms or negative, then the check reports exactly those rows', async () => {
    const before = await checkInventoryConsistency(db.pool);
    assert.equal(before.ok, true, JSON.stringify(before));
    // Three rows of distinct room types: one booked night, then two more.
    const { rows } = await db.pool.query<InventoryMismatch>(
      `SELECT DISTINCT ON (ri.room_type_id) ri.room_type_id AS "roomTypeId", ri.date::text AS date,
         rt.total_rooms AS "totalRooms", ri.available_rooms AS "availableRooms",
         rt.total_rooms - ri.available_rooms AS booked, 0 AS held
       FROM room_inventory ri JOIN room_types rt ON rt.id = ri.room_type_id
       WHERE ri.available_rooms BETWEEN 1 AND rt.total_rooms - 1 AND ${NOT_HELD}
       ORDER BY ri.room_type_id, ri.date
       LIMIT 3`,
    );
    assert.equal(rows.length, 3);
    const [offByOne, aboveTotal, negative] = rows as [
      InventoryMismatch,
      InventoryMismatch,
      InventoryMismatch,
    ];
    const set = (row: InventoryMismatch, available: number) =>
      db.pool.query('UPDATE room_inventory SET available_rooms = $3 WHERE room_type_id = $1 AND date = $2', [
        row.roomTypeId,
        row.date,
        available,
      ]);
    await set(offByOne, offByOne.availableRooms - 1);
    await set(aboveTotal, aboveTotal.totalRooms + 1);
    // The table's CHECK forbids a negative row; this database is thrown away after the file.
    await db.pool.query('ALTER TABLE room_inventory DROP CONSTRAINT room_inventory_available_ck');
    await set(negative, -1);

    const report = await checkInventoryConsistency(db.pool);

    assert.deepEqual(
      {
        ok: report.ok,
        negative: report.negative,
        overTotal: report.overTotal,
        mismatched: report.mismatched,
      },
      { ok: false, negative: 1, overTotal: 1, mismatched: 3 },
    );
    assert.equal(report.inventoryRows, before.inventoryRows);
    assert.deepEqual(report.samples, [
      { ...offByOne, availableRooms: offByOne.availableRooms - 1 },
      { ...aboveTotal, availableRooms: aboveTotal.totalRooms + 1 },
      { ...negative, availableRooms: -1 },
    ]);
  });

  it('when a booked night has its inventory row back at total_rooms, then that night is a mismatch', async () => {
    const { rows } = await db.pool.query<{
      roomTypeId: number;
      date: string;
      totalRooms: number;
      booked: number;
      held: number;
    }>(
      `SELECT ri.room_type_id AS "roomTypeId", ri.date::text AS date, rt.total_rooms AS "totalRooms",
         rt.total_rooms - ri.available_rooms AS booked, 0 AS held
       FROM room_inventory ri JOIN room_types rt ON rt.id = ri.room_type_id
       WHERE ri.available_rooms BETWEEN 0 AND rt.total_rooms - 1 AND ${NOT_HELD}
       ORDER BY ri.room_type_id DESC, ri.date DESC
       LIMIT 1`,
    );
    const row = rows[0]!;
    await db.pool.query(
      'UPDATE room_inventory SET available_rooms = $3 WHERE room_type_id = $1 AND date = $2',
      [row.roomTypeId, row.date, row.totalRooms],
    );

    const report = await checkInventoryConsistency(db.pool);

    assert.equal(report.mismatched, 4);
    assert.deepEqual(report.samples.at(-1), { ...row, availableRooms: row.totalRooms });
  });

  it('when a waitlist offer holds a room, then its night adds up; an offer that took no room makes it a mismatch', async () => {
    const before = await checkInventoryConsistency(db.pool);
    // A consistent night with rooms to spare, no offer on it yet.
    const { rows } = await db.pool.query<InventoryMismatch>(
      `SELECT * FROM (
         SELECT ri.room_type_id AS "roomTypeId", ri.date::text AS date, rt.total_rooms AS "totalRooms",
           ri.available_rooms AS "availableRooms",
           (SELECT count(*)::int FROM bookings b WHERE b.room_type_id = ri.room_type_id AND b.status = 'confirmed'
              AND ri.date >= b.start_date AND ri.date < b.end_date) AS booked, 0 AS held
         FROM room_inventory ri JOIN room_types rt ON rt.id = ri.room_type_id
         WHERE ri.available_rooms >= 2 AND ${NOT_HELD}) n
       WHERE "totalRooms" = "availableRooms" + booked
       ORDER BY "roomTypeId", date LIMIT 1`,
    );
    const night = rows[0]!;
    const offer = () =>
      db.pool.query(
        `WITH u AS (INSERT INTO users (email, password_hash, name)
                    VALUES ('hold-' || gen_random_uuid() || '@example.test', 'x', 'Holder') RETURNING id)
         INSERT INTO waitlist (user_id, room_type_id, start_date, end_date, status, offered_at, offer_expires_at)
         SELECT u.id, $1, $2::date, $2::date + 1, 'offered', now(), now() + interval '30 minutes' FROM u`,
        [night.roomTypeId, night.date],
      );
    await offer();
    await db.pool.query(
      'UPDATE room_inventory SET available_rooms = available_rooms - 1 WHERE room_type_id = $1 AND date = $2',
      [night.roomTypeId, night.date],
    );
    assert.equal(
      (await checkInventoryConsistency(db.pool)).mismatched,
      before.mismatched,
      'the hold took its room',
    );

    await offer(); // holds nothing
    const report = await checkInventoryConsistency(db.pool);
    assert.equal(report.mismatched, before.mismatched + 1);
    assert.ok(
      report.samples.some((s) => s.roomTypeId === night.roomTypeId && s.date === night.date),
      JSON.stringify(report.samples),
    );
    assert.deepEqual(
      report.samples.find((s) => s.roomTypeId === night.roomTypeId && s.date === night.date),
      { ...night, availableRooms: night.availableRooms - 1, held: 2 },
    );
  });
});

describe('stale-read check (bench/lib/stale-reads.ts)', () => {
  // Room type 7 has 5 rooms free on 2030-01-01 and 2030-01-02 before the load.
  const baseline = () => ({
    firstNight: '2030-01-01',
    byRoomType: new Map([[7, Int32Array.from([5, 5, -1])]]),
    nights: 2,
  });
  const stay = { roomTypeId: 7, checkIn: '2030-01-01', checkOut: '2030-01-03' };
  const answer = (free: number) =>
    JSON.stringify({
      roomTypes: [
        {
          roomTypeId: 7,
          nights: [
            { date: '2030-01-01', availableRooms: free },
            { date: '2030-01-02', availableRooms: free },
          ],
        },
        // Not in the baseline: never compared.
        { roomTypeId: 8, nights: [{ date: '2030-01-01', availableRooms: 99 }] },
      ],
    });

  it("when a read sent after a booking's 201 still shows its room free, then it is stale", () => {
    const check = new StaleReadCheck(baseline());
    check.booked(1, stay);
    const sent = check.planned();
    check.read(sent, '/api/hotels/3/availability', answer(5));
    const report = check.report();
    assert.equal(report.stale, 1);
    assert.deepEqual(report.samples[0], {
      path: '/api/hotels/3/availability',
      roomTypeId: 7,
      date: '2030-01-01',
      availableRooms: 5,
      bound: 4,
    });
    assert.equal(report.informative, 1);
  });

  it('when the read reflects the booking, or was sent before its 201, or its cancel was sent, then it is not stale', () => {
    const check = new StaleReadCheck(baseline());
    const early = check.planned();
    check.booked(1, stay);
    // Sent before the 201 arrived: the server may have answered before the booking committed.
    check.read(early, '/a', answer(5));
    check.read(check.planned(), '/a', answer(4));
    // A booking by someone else (or one whose answer was lost) only lowers what is free.
    check.read(check.planned(), '/a', answer(2));
    const sent = check.planned();
    check.cancelPlanned(1);
    check.read(sent, '/a', answer(5));
    const report = check.report();
    assert.equal(report.stale, 0, JSON.stringify(report.samples));
    assert.equal(report.reads, 4);
    assert.equal(report.cancelled, 1);
    assert.equal(report.nights, 8);
  });
});
