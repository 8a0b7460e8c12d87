import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type pg from 'pg';
import type { App } from '../src/app/build-app.ts';
import { ProcessSamples } from '../src/platform/observability/index.ts';
import { DEFAULT_THRESHOLDS, type Recommendation, recommend } from '../src/platform/ops/index.ts';
import { assertError, startTestApp } from './support/app.ts';
import { registerAdmin, registerUser, type TestUser } from './support/auth.ts';
import { createTestDatabase, lockWaiters, type TestDatabase, testTarget } from './support/database.ts';
import { createHotel, isoDate } from './support/fixtures.ts';
import { ensureTestServer } from './support/test-server.ts';

interface Report {
  routes: {
    '1m': { routes: { method: string; route: string; requests: number; p50Ms: number; p95Ms: number }[] };
  };
  statements: {
    available: boolean;
    reason?: string;
    statements?: { name?: string; query: string; calls: number; meanMs: number }[];
  };
  tables: { available: boolean; seqScansSinceStart: { table: string; seqScans: number }[] };
  pool: { max: number; saturation: number; waitingForMs: number };
  memory: { rssBytes: number; heapUsedBytes: number };
  eventLoop: { '1m': { p99Ms: number } };
  recommendations: Recommendation[];
}

/** Runs `sql` on its own connection and makes that backend publish its statistics at once. */
async function runAndFlushStats(pool: pg.Pool, sql: string, times = 1): Promise<void> {
  const client = await pool.connect();
  try {
    for (let i = 0; i < times; i++) await client.query(sql);
    await client.query('SELECT pg_stat_force_next_flush()');
    await client.query('SELECT 1');
  } finally {
    client.release();
  }
}

describe('performance report', () => {
  let db: TestDatabase;
  let clean: App;
  let tuned: App | undefined;
  let admin: TestUser;
  let tunedAdmin: TestUser;
  let stopServer: () => Promise<void>;

  const report = async (app: App, who: TestUser) => {
    const res = await app.inject({ url: '/api/performance', headers: who.headers });
    assert.equal(res.statusCode, 200, res.body);
    return res.json() as Report;
  };
  const kinds = (r: Report) => r.recommendations.map((x) => x.kind);

  /** Polls the report until `predicate` finds a recommendation (stats and samples lag a little). */
  const eventually = async (app: App, who: TestUser, predicate: (r: Recommendation) => boolean) => {
    const deadline = Date.now() + 15_000;
    for (;;) {
      const r = await report(app, who);
      const found = r.recommendations.find(predicate);
      if (found) return found;
      assert.ok(Date.now() < deadline, `never recommended: ${JSON.stringify(r.recommendations)}`);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  };

  before(async () => {
    stopServer = await ensureTestServer();
    db = await createTestDatabase();
    // One app per process at a time while the clean state is judged: building another app blocks
    // this one's event loop (schema compilation), which its lag figures would rightly report.
    clean = await startTestApp(db.url);
    admin = await registerAdmin(clean);
  });

  after(async () => {
    await clean?.close();
    await tuned?.close();
    await db?.drop();
    await stopServer?.();
  });

  /** The app whose thresholds let each condition be provoked within a test; built after the clean checks. */
  const tunedApp = async () => {
    if (!tuned) {
      tuned = await startTestApp(db.url, {
        DB_POOL_MAX: '25',
        PERF_ROUTE_P95_TARGET_MS: '50',
        PERF_UNUSED_INDEX_MIN_AGE_S: '0',
        PERF_POOL_WAITING_MS: '1000',
        PERF_EVENT_LOOP_LAG_MS: '60',
      });
      tunedAdmin = await registerAdmin(tuned);
    }
    return tuned;
  };

  it('when the app runs normally, then the report has per-route percentiles, the pool, memory and no recommendation', async () => {
    const hotel = await createHotel(db.pool);
    for (let i = 0; i < 25; i++) {
      assert.equal((await clean.inject({ url: `/api/hotels/${hotel.id}` })).statusCode, 200);
      assert.equal((await clean.inject({ url: '/api/hotels/search?city=testville' })).statusCode, 200);
    }
    const r = await report(clean, admin);
    const detail = r.routes['1m'].routes.find((x) => x.route === '/api/hotels/:id' && x.method === 'GET');
    assert.ok(detail && detail.requests >= 25, JSON.stringify(r.routes['1m']));
    assert.ok(detail.p50Ms > 0 && detail.p95Ms >= detail.p50Ms);
    assert.equal(r.pool.max, 10);
    assert.ok(r.memory.rssBytes > 0 && r.memory.heapUsedBytes > 0);
    assert.deepEqual(r.recommendations, []);
    if (testTarget() === 'embedded') {
      // The embedded server preloads pg_stat_statements; the report creates the extension.
      assert.equal(r.statements.available, true, JSON.stringify(r.statements));
      const detail = r.statements.statements!.find((s) => s.name === 'hotel_detail');
      assert.ok(detail && detail.calls >= 25 && detail.meanMs > 0, JSON.stringify(r.statements));
    } else {
      assert.equal(r.statements.available, false);
      assert.match(r.statements.reason!, /shared_preload_libraries/);
    }
  });

  it('when the caller is not an admin, then /api/performance, /api/metrics and /health/detailed do not exist for them', async () => {
    const user = await registerUser(clean);
    for (const url of ['/api/performance', '/api/metrics', '/health/detailed']) {
      assertError(await clean.inject({ url }), 401, 'E_UNAUTHORIZED');
      assertError(await clean.inject({ url, headers: user.headers }), 404, 'E_ROUTE_NOT_FOUND');
    }
  });

  it('when a route is slower than its target, then it is recommended with its p95 and request count', async () => {
    const tuned = await tunedApp();
    const user = await registerUser(tuned);
    const hotel = await createHotel(db.pool, { rooms: [{ totalRooms: 50 }] });
    const rt = hotel.roomTypes[0]!;
    const blocker = await db.pool.connect();
    await blocker.query('BEGIN');
    await blocker.query('SELECT 1 FROM room_inventory WHERE room_type_id = $1 FOR UPDATE', [rt.id]);
    const bookings = Array.from({ length: 20 }, () =>
      tuned.inject({
        method: 'POST',
        url: '/api/bookings',
        headers: { ...user.headers, 'idempotency-key': randomUUID() },
        payload: { roomTypeId: rt.id, checkIn: isoDate(5), checkOut: isoDate(6), guests: 1 },
      }),
    );
    try {
      await lockWaiters(db.pool, 20);
      await new Promise((resolve) => setTimeout(resolve, 150));
    } finally {
      await blocker.query('ROLLBACK');
      blocker.release();
    }
    for (const res of await Promise.all(bookings)) assert.equal(res.statusCode, 201, res.body);
    const found = await eventually(
      tuned,
      tunedAdmin,
      (x) => x.kind === 'route_latency' && x.evidence.route === '/api/bookings',
    );
    assert.equal(found.evidence.method, 'POST');
    assert.ok(Number(found.evidence.p95Ms) > 50);
    assert.ok(Number(found.evidence.requests) >= 20);
  });

  it('when a large table is read by sequential scans, then it is recommended with the table, its size and the scans', async () => {
    const tuned = await tunedApp();
    await db.pool.query('CREATE TABLE perf_big (id int, v int)');
    await db.pool.query('INSERT INTO perf_big SELECT g, g % 100 FROM generate_series(1, 20000) g');
    await db.pool.query('ANALYZE perf_big');
    await runAndFlushStats(db.pool, 'SELECT count(*) FROM perf_big WHERE v = 7', 3);
    const found = await eventually(
      tuned,
      tunedAdmin,
      (x) => x.kind === 'sequential_scan' && x.evidence.table === 'perf_big',
    );
    assert.ok(Number(found.evidence.liveRows) >= 20_000);
    assert.ok(Number(found.evidence.seqScans) >= 3);
    if (testTarget() === 'embedded') {
      const statements = found.evidence.statements as { query: string }[];
      assert.ok(
        statements.some((s) => /perf_big/.test(s.query)),
        JSON.stringify(found.evidence),
      );
    }
  });

  it('when an index has not been used since statistics were reset (and they are old enough), then it is recommended', async () => {
    const tuned = await tunedApp();
    await db.pool.query('CREATE TABLE perf_other (x int)');
    await db.pool.query('CREATE INDEX perf_unused_idx ON perf_other (x)');
    // An index that only supports a foreign key is never "unused": the parent's deletes need it.
    await db.pool.query('CREATE TABLE perf_parent (id int PRIMARY KEY)');
    await db.pool.query('CREATE TABLE perf_child (parent_id int REFERENCES perf_parent (id))');
    await db.pool.query('CREATE INDEX perf_child_parent_idx ON perf_child (parent_id)');
    const found = await eventually(
      tuned,
      tunedAdmin,
      (x) => x.kind === 'unused_index' && x.evidence.index === 'perf_unused_idx',
    );
    assert.equal(found.evidence.table, 'perf_other');
    const unused = (await report(tuned, tunedAdmin)).recommendations.filter((x) => x.kind === 'unused_index');
    assert.ok(!unused.some((x) => x.evidence.index === 'perf_child_parent_idx'), JSON.stringify(unused));
    // The clean app waits 7 days of statistics before calling an index unused.
    assert.ok(!kinds(await report(clean, admin)).includes('unused_index'));
  });

  it('when callers wait for a pool connection without a break, then it is recommended with how long', async () => {
    const tuned = await tunedApp();
    const held = await Promise.all(Array.from({ length: 25 }, () => tuned.innkeep.db.pool.connect()));
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      for (const c of held) c.release();
    };
    try {
      const waiting = tuned.inject({ url: '/api/hotels/search?city=testville' });
      await new Promise((resolve) => setTimeout(resolve, 2_500));
      const pending = report(tuned, tunedAdmin);
      await new Promise((resolve) => setTimeout(resolve, 100));
      release();
      const r = await pending;
      const found = r.recommendations.find((x) => x.kind === 'pool_waiting');
      assert.ok(found, JSON.stringify(r.recommendations));
      assert.ok(Number(found.evidence.waitingForMs) >= 1000);
      assert.equal((await waiting).statusCode, 200);
    } finally {
      release();
    }
  });

  it('when the event loop is blocked, then it is recommended with the delay', async () => {
    const tuned = await tunedApp();
    for (let i = 0; i < 30; i++) {
      const until = performance.now() + 120;
      while (performance.now() < until) {
        // busy: nothing else runs
      }
      await new Promise((resolve) => setImmediate(resolve));
    }
    const found = await eventually(tuned, tunedAdmin, (x) => x.kind === 'event_loop_lag');
    assert.ok(Number(found.evidence.lagP99Ms) > 60, JSON.stringify(found.evidence));
  });
});

describe('event-loop samples', () => {
  /** Blocks the loop `times` times for `ms` each, letting it turn once in between. */
  const block = async (times: number, ms: number) => {
    for (let i = 0; i < times; i++) {
      const until = performance.now() + ms;
      while (performance.now() < until) {
        // busy
      }
      await new Promise((resolve) => setImmediate(resolve));
    }
  };

  it('when an interval has few loop turns, then it counts once it lasted 5 s: a loop blocked all the time is reported, a fresh start is not', async () => {
    let now = 1_000_000;
    const samples = new ProcessSamples({ sampleEveryMs: 3_600_000, now: () => now });
    samples.start();
    try {
      await block(3, 250);
      assert.equal(samples.eventLoop(60_000).p99Ms, 0, 'a handful of turns just after start says nothing');
      now += 6_000;
      const lag = samples.eventLoop(60_000);
      assert.ok(lag.p99Ms > 200 && lag.turns < 200, JSON.stringify(lag));
    } finally {
      samples.stop();
    }
  });
});

describe('recommendation rules', () => {
  it('when a cache namespace with enough reads hits less than 70%, then it is recommended; a warm or idle one is not', () => {
    const found = recommend(
      {
        cache: [
          { namespace: 'hotels', hits: 60, misses: 40 },
          { namespace: 'search', hits: 95, misses: 5 },
          { namespace: 'rare', hits: 1, misses: 9 },
        ],
      },
      DEFAULT_THRESHOLDS,
    );
    assert.deepEqual(
      found.map((r) => [r.kind, r.evidence.namespace, r.evidence.hitRate]),
      [['cache_hit_rate', 'hotels', 0.6]],
    );
  });

  it('when evidence is below every threshold, then nothing is recommended', () => {
    assert.deepEqual(
      recommend(
        {
          routes5m: [
            {
              method: 'GET',
              route: '/x',
              requests: 1000,
              ratePerSecond: 3,
              p50Ms: 4,
              p95Ms: 499,
              p99Ms: 900,
              errorRate: 0,
              clientErrorRate: 0,
            },
          ],
          tableScans: [{ table: 't', liveRows: 1_000_000, seqScans: 10, seqRowsRead: 100, indexScans: 5 }],
          unusedIndexes: [{ table: 't', index: 'i', bytes: 8192 }],
          statsAgeSeconds: 3600,
          pool: { waitingForMs: 59_000, waiting: 2, max: 10 },
          eventLoop1m: { p99Ms: 150, maxMs: 900 },
        },
        DEFAULT_THRESHOLDS,
      ),
      [],
    );
  });
});

describe('detailed health and JSON metrics', () => {
  let db: TestDatabase;
  let app: App;
  let admin: TestUser;
  let stopServer: () => Promise<void>;

  before(async () => {
    stopServer = await ensureTestServer();
    db = await createTestDatabase();
    app = await startTestApp(db.url);
    admin = await registerAdmin(app);
  });

  after(async () => {
    await app?.close();
    await db?.drop();
    await stopServer?.();
  });

  it('when an admin asks, then /health/detailed has the database with latency and version, pool, migrations, memory, uptime and error rates', async () => {
    await app.inject({ url: '/no/such/page' });
    const res = await app.inject({ url: '/health/detailed', headers: admin.headers });
    assert.equal(res.statusCode, 200, res.body);
    const body = res.json() as {
      status: string;
      uptimeSeconds: number;
      process: { node: string; memory: { rssBytes: number } };
      dependencies: {
        database: { status: string; latencyMs: number; version: string; pool: { max: number } };
      };
      migrations: { pending: number; total: number };
      errors: { '1m': { requests: number; errorRate: number }; '5m': { requests: number } };
    };
    assert.equal(body.status, 'healthy');
    assert.equal(body.dependencies.database.status, 'up');
    assert.match(body.dependencies.database.version, /^PostgreSQL \d+/);
    assert.ok(body.dependencies.database.latencyMs >= 0);
    assert.equal(body.dependencies.database.pool.max, 10);
    assert.equal(body.migrations.pending, 0);
    assert.ok(body.migrations.total > 0);
    assert.ok(body.process.memory.rssBytes > 0);
    assert.equal(body.process.node, process.version);
    assert.ok(body.errors['1m'].requests >= 1);
    assert.equal(body.errors['1m'].errorRate, 0);
  });

  it('when asked on the internal listener, then /health/detailed needs no token', async () => {
    const res = await app.innkeep.internal.inject({ url: '/health/detailed' });
    assert.equal(res.statusCode, 200, res.body);
    assert.equal((res.json() as { status: string }).status, 'healthy');
  });

  it('when an admin asks for /api/metrics, then it is the Prometheus figures as JSON', async () => {
    const res = await app.inject({ url: '/api/metrics', headers: admin.headers });
    assert.equal(res.statusCode, 200, res.body);
    const body = res.json() as {
      metrics: { name: string; type: string; values: { labels: Record<string, string> }[] }[];
    };
    const http = body.metrics.find((m) => m.name === 'innkeep_http_request_duration_seconds');
    assert.equal(http?.type, 'histogram');
    assert.ok(http.values.some((v) => v.labels.route === '/api/auth/login'));
    assert.ok(body.metrics.some((m) => m.name === 'process_resident_memory_bytes'));
  });
});
