import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { App } from '../src/app/build-app.ts';
import { assertError, startTestApp } from './support/app.ts';
import { registerUser, type TestUser } from './support/auth.ts';
import { createTestDatabase, lockWaiters, type TestDatabase } from './support/database.ts';
import { createHotel, isoDate, type TestHotel } from './support/fixtures.ts';
import { ensureTestServer } from './support/test-server.ts';

// The server stays up; only this file's own database connections are terminated, as a failover, an
// operator or an idle-session killer would. (Killing the embedded server itself: test/platform/embedded-supervision.test.ts.)
describe('when PostgreSQL drops the app connections', () => {
  let db: TestDatabase;
  let app: App;
  let address: string;
  let alice: TestUser;
  let hotel: TestHotel;
  let stopServer: () => Promise<void>;

  before(async () => {
    stopServer = await ensureTestServer();
    db = await createTestDatabase();
    app = await startTestApp(db.url, { DB_POOL_MAX: '12' });
    address = await app.listen({ host: '127.0.0.1', port: 0 });
    alice = await registerUser(app, 'Alice');
    hotel = await createHotel(db.pool, {
      rooms: [{ totalRooms: 400 }, { totalRooms: 1 }, { totalRooms: 1 }],
    });
  });

  after(async () => {
    await app?.close();
    await db?.drop();
    await stopServer?.();
  });

  /** Terminates every backend of the app; resolves to how many of them were running a statement or a transaction. */
  const terminateAppBackends = async () => {
    const { rows } = await db.pool.query<{ busy: boolean }>(
      `SELECT state <> 'idle' AS busy, pg_terminate_backend(pid) FROM pg_stat_activity
       WHERE datname = current_database() AND pid <> pg_backend_pid() AND application_name = 'innkeep'`,
    );
    return rows.filter((r) => r.busy).length;
  };

  const book = (body: Record<string, unknown>, key: string = randomUUID(), base = address) =>
    fetch(`${base}/api/bookings`, {
      method: 'POST',
      headers: { ...alice.headers, 'idempotency-key': key, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });

  const advisoryLocks = async () => {
    const { rows } = await db.pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM pg_locks l JOIN pg_database d ON d.oid = l.database
       WHERE l.locktype = 'advisory' AND d.datname = current_database()`,
    );
    return rows[0]!.n;
  };

  it('then the process survives, no request fails except with a standard 503, and the pool recovers', async () => {
    const roomTypeId = hotel.roomTypes[0]!.id;
    const statuses = new Map<number, number>();
    const unexpected: string[] = [];
    let stop = false;
    const worker = async (w: number) => {
      for (let i = 0; !stop; i++) {
        const night = 1 + ((w * 7 + i) % 40);
        const res = await book({
          roomTypeId,
          checkIn: isoDate(night),
          checkOut: isoDate(night + 1),
          guests: 1,
        });
        const text = await res.text();
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        if (res.status === 503) {
          const body = JSON.parse(text) as {
            code: string;
            requestId: string;
            timestamp: string;
            path: string;
          };
          assert.match(body.code, /^E_DB_(UNAVAILABLE|TIMEOUT)$/, text);
          assert.ok(body.requestId && body.timestamp && body.path, text);
        } else if (res.status !== 201) unexpected.push(`${res.status} ${text}`);
      }
    };
    const workers = Array.from({ length: 10 }, (_, w) => worker(w));
    await sleep(400);
    let busy = 0;
    for (let round = 0; round < 3; round++) {
      busy += await terminateAppBackends();
      await sleep(300);
    }
    stop = true;
    await Promise.all(workers);
    assert.deepEqual(unexpected, []);
    assert.ok((statuses.get(201) ?? 0) > 0, JSON.stringify([...statuses]));
    assert.ok(busy > 0, 'the terminations hit connections in use by requests');

    // The pool serves again, and nothing was half-written: rooms taken = bookings made.
    const after = await book({ roomTypeId, checkIn: isoDate(45), checkOut: isoDate(46), guests: 1 });
    assert.equal(after.status, 201, await after.text());
    const { rows } = await db.pool.query<{ taken: number; booked: number }>(
      `SELECT (SELECT sum(400 - available_rooms)::int FROM room_inventory WHERE room_type_id = $1) AS taken,
              (SELECT sum(end_date - start_date)::int FROM bookings WHERE room_type_id = $1 AND status = 'confirmed') AS booked`,
      [roomTypeId],
    );
    assert.equal(rows[0]!.taken, rows[0]!.booked);
    assert.equal((await app.inject('/health')).json().status, 'healthy');
    assert.equal(await advisoryLocks(), 0, 'no idempotency lock outlives its request');
  });

  /**
   * Holds the stay's night so a booking to `base` waits inside its transaction, then terminates every
   * connection of the app (idle ones too, as in a failover). `during` runs before the night is released.
   */
  const killMidTransaction = async (
    base: string,
    body: Record<string, unknown>,
    key: string,
    during: (answer: Promise<Response>) => Promise<void>,
  ) => {
    const blocker = await db.pool.connect();
    try {
      await blocker.query('BEGIN');
      await blocker.query('SELECT 1 FROM room_inventory WHERE room_type_id = $1 AND date = $2 FOR UPDATE', [
        body.roomTypeId,
        body.checkIn,
      ]);
      const answer = book(body, key, base);
      await lockWaiters(db.pool, 1);
      assert.ok((await terminateAppBackends()) > 0);
      await during(answer);
      await blocker.query('ROLLBACK');
      return await answer;
    } finally {
      blocker.release();
    }
  };

  const bookingsOf = async (roomTypeId: number) =>
    (await db.pool.query('SELECT 1 FROM bookings WHERE room_type_id = $1', [roomTypeId])).rowCount;

  it('then a booking whose connection died mid-transaction is retried on a fresh one and takes its own key over', async () => {
    const rt = hotel.roomTypes[1]!;
    const body = { roomTypeId: rt.id, checkIn: isoDate(20), checkOut: isoDate(21), guests: 1 };
    const key = randomUUID();
    // The retry claims the key again (the dead connection's lock is gone) and waits for the night.
    const res = await killMidTransaction(address, body, key, () => lockWaiters(db.pool, 1));
    assert.equal(res.status, 201, await res.text());
    const replay = await book(body, key);
    assert.equal(replay.headers.get('idempotent-replayed'), 'true');
    assert.equal(await bookingsOf(rt.id), 1);
  });

  it('then, without server-side retries, the client retrying with its key books at once', async () => {
    const rt = hotel.roomTypes[2]!;
    const body = { roomTypeId: rt.id, checkIn: isoDate(20), checkOut: isoDate(21), guests: 1 };
    const key = randomUUID();
    const noRetries = await startTestApp(db.url, { DB_QUERY_RETRIES: '0' });
    try {
      const base = await noRetries.listen({ host: '127.0.0.1', port: 0 });
      const res = await killMidTransaction(base, body, key, async (answer) => {
        const first = await answer;
        assert.equal(first.status, 503);
      });
      const text = await res.text();
      assert.equal((JSON.parse(text) as { code: string }).code, 'E_DB_UNAVAILABLE', text);
      // Before: 409 E_IDEMPOTENCY_IN_PROGRESS for 60 s, the claim left behind by the dead connection.
      // Now at once, or as soon as the terminated backend has finished exiting (a client honouring
      // Retry-After: 1 may see one 409 under load).
      const startedAt = Date.now();
      let retry = await book(body, key, base);
      while (retry.status === 409 && Date.now() - startedAt < 5_000) {
        await sleep(100);
        retry = await book(body, key, base);
      }
      assert.equal(retry.status, 201, await retry.text());
      assert.equal((await book(body, key, base)).headers.get('idempotent-replayed'), 'true');
      assert.equal(await bookingsOf(rt.id), 1);
    } finally {
      await noRetries.close();
    }
  });

  it('then a claim statement that times out while waiting for its row does not leave its lock on a pooled connection', async () => {
    const rt = hotel.roomTypes[0]!;
    const body = { roomTypeId: rt.id, checkIn: isoDate(47), checkOut: isoDate(48), guests: 1 };
    const key = randomUUID();
    const quick = await startTestApp(db.url, { DB_STATEMENT_TIMEOUT_MS: '300' });
    const blocker = await db.pool.connect();
    try {
      const base = await quick.listen({ host: '127.0.0.1', port: 0 });
      assert.equal((await book(body, key, base)).status, 201);
      // The key's row is locked elsewhere: the retry's claim takes the key's advisory lock, then
      // waits for the row until its statement timeout.
      await blocker.query('BEGIN');
      await blocker.query('SELECT 1 FROM idempotency_keys WHERE user_id = $1 AND key = $2 FOR UPDATE', [
        alice.id,
        key,
      ]);
      const res = await book(body, key, base);
      assert.equal(res.status, 503, await res.text());
      // A discarded connection's backend ends a moment after the client closes it; a pooled one never would.
      let held = await advisoryLocks();
      for (let i = 0; i < 40 && held > 0; i++) {
        await sleep(50);
        held = await advisoryLocks();
      }
      assert.equal(held, 0, 'the connection that may hold the lock was discarded');
    } finally {
      await blocker.query('ROLLBACK');
      blocker.release();
      await quick.close();
    }
  });

  it('then no request path leaves an idempotency lock on a pooled connection', async () => {
    const rt = hotel.roomTypes[1]!;
    const key = randomUUID();
    const body = { roomTypeId: rt.id, checkIn: isoDate(30), checkOut: isoDate(31), guests: 1 };
    assert.equal((await book(body, key)).status, 201);
    assert.equal((await book(body, key)).status, 201); // replay
    const mismatch = await app.inject({
      method: 'POST',
      url: '/api/bookings',
      headers: { ...alice.headers, 'idempotency-key': key },
      payload: { ...body, guests: 2 },
    });
    assertError(mismatch, 422, 'E_IDEMPOTENCY_MISMATCH');
    assert.equal((await book(body)).status, 409); // sold out (one room)
    const unknown = await book({ ...body, roomTypeId: 2_000_000 });
    assert.equal(unknown.status, 404);
    assert.equal(await advisoryLocks(), 0);
  });
});
