import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { App } from '../src/app/build-app.ts';
import { assertError, startTestApp } from './support/app.ts';
import { registerUser, type TestUser } from './support/auth.ts';
import { createTestDatabase, lockWaiters, type TestDatabase } from './support/database.ts';
import { createHotel, isoDate } from './support/fixtures.ts';
import { ensureTestServer } from './support/test-server.ts';

const TOKEN = 'metrics-token-0123456789';

/** The series lines of a Prometheus text scrape (no comments), e.g. `name{a="b"} 1`. */
function series(text: string): string[] {
  return text.split('\n').filter((line) => line !== '' && !line.startsWith('#'));
}

/** The value of the one series whose name and labels contain every part of `match`. */
function value(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  const parts = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  const line = series(text).find(
    (l) => (l.startsWith(`${name}{`) || l.startsWith(`${name} `)) && parts.every((p) => l.includes(p)),
  );
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

describe('metrics', () => {
  let db: TestDatabase;
  let app: App;
  let stopServer: () => Promise<void>;
  let alice: TestUser;

  const scrape = async () => {
    const res = await app.innkeep.internal.inject({ method: 'GET', url: '/metrics' });
    assert.equal(res.statusCode, 200, res.body);
    assert.match(String(res.headers['content-type']), /^text\/plain; version=0\.0\.4/);
    return res.body;
  };

  before(async () => {
    stopServer = await ensureTestServer();
    db = await createTestDatabase();
    app = await startTestApp(db.url, { METRICS_TOKEN: TOKEN });
    alice = await registerUser(app, 'Alice');
  });

  after(async () => {
    await app?.close();
    await db?.drop();
    await stopServer?.();
  });

  it('when requests are answered, then their durations are recorded by route template, method and status class', async () => {
    const hotel = await createHotel(db.pool);
    assert.equal((await app.inject({ url: `/api/hotels/${hotel.id}` })).statusCode, 200);
    assert.equal((await app.inject({ url: '/api/hotels/999999999' })).statusCode, 404);
    const text = await scrape();
    const ok = { route: '/api/hotels/:id', method: 'GET', status_class: '2xx' };
    assert.ok((value(text, 'innkeep_http_request_duration_seconds_count', ok) ?? 0) >= 1, text);
    assert.ok(
      (value(text, 'innkeep_http_request_duration_seconds_count', { ...ok, status_class: '4xx' }) ?? 0) >= 1,
    );
    assert.ok((value(text, 'innkeep_http_request_duration_seconds_bucket', { ...ok, le: '+Inf' }) ?? 0) >= 1);
    // The detail is one named statement; statements per request are recorded by route.
    assert.ok(
      (value(text, 'innkeep_db_statement_duration_seconds_count', { statement: 'hotel_detail' }) ?? 0) >= 2,
    );
    assert.ok(
      (value(text, 'innkeep_db_statements_per_request_count', { route: '/api/hotels/:id' }) ?? 0) >= 2,
    );
    assert.equal(
      value(text, 'innkeep_db_statements_per_request_bucket', { route: '/api/hotels/:id', le: '0' }),
      0,
    );
  });

  it('when scraped, then the pool, in-flight requests and Node figures are there', async () => {
    const text = await scrape();
    assert.equal(value(text, 'innkeep_db_pool_max'), app.innkeep.config.db.poolMax);
    for (const name of ['innkeep_db_pool_connections', 'innkeep_db_pool_idle', 'innkeep_db_pool_waiting']) {
      assert.ok(value(text, name) !== undefined, `${name} missing`);
    }
    assert.equal(value(text, 'innkeep_http_requests_in_flight'), 0);
    for (const name of [
      'process_cpu_seconds_total',
      'process_resident_memory_bytes',
      'nodejs_heap_size_used_bytes',
      'nodejs_eventloop_lag_p99_seconds',
    ]) {
      assert.ok(value(text, name) !== undefined, `${name} missing`);
    }
    assert.match(text, /# TYPE nodejs_gc_duration_seconds histogram/);
  });

  it('when 1,000 distinct URLs are requested, then no series is added: labels are route templates, never URLs', async () => {
    const hotel = await createHotel(db.pool);
    const batch = (from: number) =>
      Array.from({ length: 10 }, (_, i) => [
        app.inject({ url: `/api/hotels/${from + i}` }),
        app.inject({ url: `/api/hotels/${hotel.id}?x=${from + i}` }),
        app.inject({ url: `/no/such/route/${from + i}` }),
        app.inject({ url: `/api/hotels/search?city=city-${from + i}` }),
      ]).flat();
    // Warm every route/status combination first, so the count compares like with like.
    await Promise.all(batch(1_000_000));
    const before = series(await scrape()).filter((l) => l.startsWith('innkeep_')).length;
    for (let from = 0; from < 250; from += 10) await Promise.all(batch(2_000_000 + from));
    const afterText = await scrape();
    const afterCount = series(afterText).filter((l) => l.startsWith('innkeep_')).length;
    assert.equal(afterCount, before, 'series were added by distinct URLs');
    assert.ok(
      (value(afterText, 'innkeep_http_request_duration_seconds_count', { route: 'unmatched' }) ?? 0) >= 250,
    );
    assert.doesNotMatch(afterText, /no\/such\/route|city-2/);
  });

  it('when the router rejects a URL before any hook runs, then the 400 is still counted, as unmatched', async () => {
    const labels = { route: 'unmatched', method: 'GET', status_class: '4xx' };
    const before = value(await scrape(), 'innkeep_http_request_duration_seconds_count', labels) ?? 0;
    assert.equal((await app.inject({ url: '/api/hotels/%E0%A4%A' })).statusCode, 400);
    assert.equal((await app.inject({ url: `/api/hotels/${'9'.repeat(300)}` })).statusCode, 400);
    const after = value(await scrape(), 'innkeep_http_request_duration_seconds_count', labels) ?? 0;
    assert.equal(after - before, 2);
  });

  it('when bookings are created, replayed, sold out and cancelled, then each outcome is counted', async () => {
    const hotel = await createHotel(db.pool, { rooms: [{ totalRooms: 1 }] });
    const rt = hotel.roomTypes[0]!;
    const body = { roomTypeId: rt.id, checkIn: isoDate(10), checkOut: isoDate(12), guests: 1 };
    const book = (key: string) =>
      app.inject({
        method: 'POST',
        url: '/api/bookings',
        headers: { ...alice.headers, 'idempotency-key': key },
        payload: body,
      });
    const count = async (outcome: string) =>
      value(await scrape(), 'innkeep_bookings_total', { outcome }) ?? 0;
    const before = Object.fromEntries(
      await Promise.all(
        ['created', 'replayed', 'sold_out', 'cancelled'].map(async (o) => [o, await count(o)]),
      ),
    );
    const key = randomUUID();
    const created = await book(key);
    assert.equal(created.statusCode, 201, created.body);
    assert.equal((await book(key)).statusCode, 201);
    assert.equal((await book(randomUUID())).statusCode, 409);
    const id = (created.json() as { id: number }).id;
    const cancel = () =>
      app.inject({ method: 'POST', url: `/api/bookings/${id}/cancel`, headers: alice.headers });
    assert.equal((await cancel()).statusCode, 200);
    // Cancelling a cancelled booking changes nothing, so it is not a second cancellation.
    assert.equal((await cancel()).statusCode, 200);
    assert.equal((await count('created')) - before.created, 1);
    assert.equal((await count('replayed')) - before.replayed, 1);
    assert.equal((await count('sold_out')) - before.sold_out, 1);
    assert.equal((await count('cancelled')) - before.cancelled, 1);
  });

  it('when METRICS_TOKEN is set, then /metrics on the main port needs it as a bearer token, and counts itself in flight', async () => {
    assertError(await app.inject({ url: '/metrics' }), 401, 'E_UNAUTHORIZED');
    const wrong = await app.inject({ url: '/metrics', headers: { authorization: 'Bearer wrong' } });
    assertError(wrong, 401, 'E_UNAUTHORIZED');
    assert.match(String(wrong.headers['www-authenticate']), /^Bearer/);
    const res = await app.inject({ url: '/metrics', headers: { authorization: `Bearer ${TOKEN}` } });
    assert.equal(res.statusCode, 200);
    assert.equal(value(res.body, 'innkeep_http_requests_in_flight'), 1);
  });

  it('when a request waits and its client goes away, then it is in flight while it waits and leaves the gauge after', async () => {
    const hotel = await createHotel(db.pool, { rooms: [{ totalRooms: 5 }] });
    const rt = hotel.roomTypes[0]!;
    await app.listen({ host: '127.0.0.1', port: 0 });
    const { port } = app.server.address() as { port: number };
    // The booking queues behind this transaction's row locks on its nights.
    const blocker = await db.pool.connect();
    await blocker.query('BEGIN');
    await blocker.query('SELECT 1 FROM room_inventory WHERE room_type_id = $1 FOR UPDATE', [rt.id]);
    const controller = new AbortController();
    const pending = fetch(`http://127.0.0.1:${port}/api/bookings`, {
      method: 'POST',
      headers: { ...alice.headers, 'idempotency-key': randomUUID(), 'content-type': 'application/json' },
      body: JSON.stringify({ roomTypeId: rt.id, checkIn: isoDate(20), checkOut: isoDate(21), guests: 1 }),
      signal: controller.signal,
    }).catch(() => undefined);
    try {
      await lockWaiters(db.pool, 1);
      assert.equal(value(await scrape(), 'innkeep_http_requests_in_flight'), 1);
      controller.abort();
      await pending;
    } finally {
      await blocker.query('ROLLBACK');
      blocker.release();
    }
    const deadline = Date.now() + 5000;
    while (value(await scrape(), 'innkeep_http_requests_in_flight') !== 0) {
      assert.ok(Date.now() < deadline, 'in-flight gauge never went back to 0');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  });
});

describe('metrics configuration', () => {
  let db: TestDatabase;
  let stopServer: () => Promise<void>;

  before(async () => {
    stopServer = await ensureTestServer();
    db = await createTestDatabase();
  });

  after(async () => {
    await db?.drop();
    await stopServer?.();
  });

  it('when METRICS_TOKEN is unset, then the main port has no /metrics at all', async () => {
    const app = await startTestApp(db.url);
    try {
      assertError(await app.inject({ url: '/metrics' }), 404, 'E_ROUTE_NOT_FOUND');
      assert.equal((await app.innkeep.internal.inject({ url: '/metrics' })).statusCode, 200);
    } finally {
      await app.close();
    }
  });

  it('when METRICS_ENABLED=false, then nothing is recorded and no listener serves /metrics', async () => {
    const app = await startTestApp(db.url, { METRICS_ENABLED: 'false', METRICS_TOKEN: TOKEN });
    try {
      assert.equal(app.innkeep.metrics, undefined);
      assertError(await app.innkeep.internal.inject({ url: '/metrics' }), 404, 'E_ROUTE_NOT_FOUND');
      assertError(
        await app.inject({ url: '/metrics', headers: { authorization: `Bearer ${TOKEN}` } }),
        404,
        'E_ROUTE_NOT_FOUND',
      );
    } finally {
      await app.close();
    }
  });

  it('when METRICS_TOKEN is shorter than 16 characters, then the configuration is refused', async () => {
    await assert.rejects(startTestApp(db.url, { METRICS_TOKEN: 'short' }), /METRICS_TOKEN/);
  });
});
