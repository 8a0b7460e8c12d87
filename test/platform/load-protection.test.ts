// Load shedding, time budgets and edge protection on the platform's own parts: a server made by
// createHttpServer with test routes, the database opened by openDatabase on the test server.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { type Database, openDatabase } from '../../src/platform/db/index.ts';
import {
  createHttpServer,
  type HttpServer,
  registerEdgeProtection,
  registerLoadShedding,
} from '../../src/platform/http/index.ts';
import { Metrics } from '../../src/platform/observability/index.ts';
import { Resilience } from '../../src/platform/resilience/index.ts';
import { assertError, testConfig } from '../support/app.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { recordingLogger } from '../support/silent-logger.ts';
import { ensureTestServer } from '../support/test-server.ts';

const SHEDDING = {
  maxInFlight: 0,
  maxInFlightExpensive: 0,
  maxEventLoopDelayMs: 0,
  maxEventLoopUtilization: 0,
  maxHeapUsedMb: 0,
  maxRssMb: 0,
  sampleIntervalMs: 50,
};

function busyWait(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // the synthetic event-loop block
  }
}

describe('load shedding', () => {
  it('when the event loop is blocked past its limit, then requests get 503 E_OVERLOADED with Retry-After and /healthz and /ready still answer', async () => {
    const metrics = new Metrics({ nodeMetrics: false });
    const app = createHttpServer(testConfig());
    await registerLoadShedding(app, { ...SHEDDING, maxEventLoopDelayMs: 100 }, metrics);
    app.get('/healthz', async () => ({ status: 'ok' }));
    app.get('/ready', async () => ({ status: 'ready' }));
    app.get('/api/work', async () => ({ ok: true }));
    app.post('/api/block', async () => {
      busyWait(1500);
      return { blocked: true };
    });
    await app.ready();
    try {
      await sleep(250); // past the start-up grace (two samples)
      assert.equal((await app.inject({ method: 'GET', url: '/api/work' })).statusCode, 200);
      await app.inject({ method: 'POST', url: '/api/block' });
      // The first sample after the block sees it (the one after that sees a free loop again).
      let shed = await app.inject({ method: 'GET', url: '/api/work' });
      for (let i = 0; i < 200 && shed.statusCode === 200; i++) {
        await sleep(5);
        shed = await app.inject({ method: 'GET', url: '/api/work' });
      }
      const body = assertError(shed, 503, 'E_OVERLOADED');
      assert.equal(shed.headers['retry-after'], '1');
      assert.deepEqual(body.details, [
        { message: 'the request was shed before any work', reason: 'event_loop_delay' },
      ]);
      assert.equal((await app.inject({ method: 'GET', url: '/healthz' })).statusCode, 200);
      assert.equal((await app.inject({ method: 'GET', url: '/ready' })).statusCode, 200);
      assert.match(await metrics.text(), /innkeep_shed_requests_total\{reason="event_loop_delay"\} [1-9]/);
      // Once the loop is free again, requests are served.
      let served = false;
      for (let i = 0; i < 40 && !served; i++) {
        await sleep(50);
        served = (await app.inject({ method: 'GET', url: '/api/work' })).statusCode === 200;
      }
      assert.ok(served, 'served again after the block');
    } finally {
      await app.close();
    }
  });

  it('when memory is over its limit, then every request but the probes is shed, counted by reason', async () => {
    const metrics = new Metrics({ nodeMetrics: false });
    const app = createHttpServer(testConfig());
    // Any live process uses more than 1 MiB of heap: permanently "under pressure".
    await registerLoadShedding(app, { ...SHEDDING, maxHeapUsedMb: 1 }, metrics);
    app.get('/healthz', async () => ({ status: 'ok' }));
    app.get('/ready', async () => ({ status: 'ready' }));
    app.get('/api/work', async () => ({ ok: true }));
    app.post('/api/work', async () => ({ ok: true }));
    await app.ready();
    try {
      await sleep(250);
      for (const method of ['GET', 'POST'] as const) {
        const res = await app.inject({ method, url: '/api/work' });
        assertError(res, 503, 'E_OVERLOADED');
        assert.equal(res.headers['retry-after'], '1');
      }
      assertError(await app.inject({ method: 'GET', url: '/api/unknown' }), 503, 'E_OVERLOADED');
      for (let i = 0; i < 5; i++) {
        assert.equal((await app.inject({ method: 'GET', url: '/healthz' })).statusCode, 200);
        assert.equal((await app.inject({ method: 'GET', url: '/ready' })).statusCode, 200);
      }
      assert.match(await metrics.text(), /innkeep_shed_requests_total\{reason="heap"\} 3/);
    } finally {
      await app.close();
    }
  });

  it('when more expensive requests arrive than their cap, then exactly the cap is admitted and the rest get 503 at once', async () => {
    const app = createHttpServer(testConfig());
    await registerLoadShedding(app, { ...SHEDDING, maxInFlight: 100, maxInFlightExpensive: 3 });
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    let started = 0;
    app.get('/api/report', { config: { routeClass: 'expensive' } }, async () => {
      started++;
      await gate;
      return { ok: true };
    });
    app.get('/api/cheap', async () => ({ ok: true }));
    app.get('/healthz', async () => ({ status: 'ok' }));
    await app.listen({ port: 0, host: '127.0.0.1' });
    const base = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
    try {
      const slow = Array.from({ length: 3 }, () => fetch(`${base}/api/report`));
      while (started < 3) await sleep(5);
      const refused = await Promise.all(Array.from({ length: 5 }, () => fetch(`${base}/api/report`)));
      for (const res of refused) {
        assert.equal(res.status, 503);
        assert.equal(res.headers.get('retry-after'), '1');
        assert.equal(((await res.json()) as { code: string }).code, 'E_OVERLOADED');
      }
      assert.equal(started, 3, 'refused requests never reached the handler');
      // Other classes are not held by the expensive cap.
      assert.equal((await fetch(`${base}/api/cheap`)).status, 200);
      release();
      for (const res of await Promise.all(slow)) assert.equal(res.status, 200);
      // The slots were given back: the cap admits again.
      assert.equal((await fetch(`${base}/api/report`)).status, 200);
    } finally {
      release();
      await app.close();
    }
  });

  it('when the global cap is reached, then further requests are refused but probes are still served', async () => {
    const app = createHttpServer(testConfig());
    const shedding = await registerLoadShedding(app, { ...SHEDDING, maxInFlight: 2 });
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    app.get('/api/slow', async () => {
      await gate;
      return { ok: true };
    });
    app.get('/healthz', async () => ({ status: 'ok' }));
    await app.listen({ port: 0, host: '127.0.0.1' });
    const base = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
    try {
      const slow = [fetch(`${base}/api/slow`), fetch(`${base}/api/slow`)];
      while (shedding.inFlight().all < 2) await sleep(5);
      assert.equal((await fetch(`${base}/api/slow`)).status, 503);
      assert.equal((await fetch(`${base}/healthz`)).status, 200);
      release();
      await Promise.all(slow);
      while (shedding.inFlight().all > 0) await sleep(5);
    } finally {
      release();
      await app.close();
    }
  });
});

describe('time budgets', () => {
  let stopServer: () => Promise<void>;
  let tdb: TestDatabase;
  let db: Database;

  before(async () => {
    stopServer = await ensureTestServer();
    tdb = await createTestDatabase({ migrate: false });
    db = await openDatabase(testConfig({ DATABASE_URL: tdb.url }).db, recordingLogger());
  });
  after(async () => {
    await db?.close();
    await tdb?.drop();
    await stopServer?.();
  });

  async function running(marker: string): Promise<number> {
    const { rows } = await tdb.pool.query(
      `SELECT count(*)::int AS n FROM pg_stat_activity WHERE query LIKE $1 AND pid <> pg_backend_pid()`,
      [`%${marker}%`],
    );
    return (rows[0] as { n: number }).n;
  }

  it('when a request runs past its budget, then 504 E_TIMEOUT at the budget, its statement is cancelled and nothing after it runs', async () => {
    const app: HttpServer = createHttpServer(testConfig({ HTTP_TIME_BUDGET_MS: '300' }));
    let after = 'not reached';
    app.get('/api/sleepy', async () => {
      try {
        await db.read((q) => q.query('SELECT pg_sleep(5) /* budget-marker-1 */'));
      } catch (err) {
        after = 'failed';
        // A statement after the budget fails at once, without reaching the server.
        await db
          .read((q) => q.query('SELECT 1 /* budget-marker-2 */'))
          .then(
            () => {
              after = 'ran';
            },
            (e: { code?: string }) => {
              after = `refused ${e.code}`;
            },
          );
        throw err;
      }
      return { ok: true };
    });
    await app.ready();
    try {
      const startedAt = performance.now();
      const res = await app.inject({ method: 'GET', url: '/api/sleepy' });
      const elapsed = performance.now() - startedAt;
      const body = assertError(res, 504, 'E_TIMEOUT');
      assert.match(String(body.message), /300 ms/);
      assert.ok(elapsed < 2000, `answered at the budget, not after the statement (${elapsed} ms)`);
      let left = 1;
      for (let i = 0; i < 50 && left > 0; i++) {
        left = await running('budget-marker-1');
        if (left > 0) await sleep(20);
      }
      assert.equal(left, 0, 'the statement is no longer running on the server');
      for (let i = 0; i < 50 && after === 'failed'; i++) await sleep(10);
      assert.equal(after, 'refused E_TIMEOUT');
      // The connection that ran the cancelled statement is still usable.
      const { rows } = await db.read((q) => q.query<{ one: number }>('SELECT 1 AS one'));
      assert.equal(rows[0]?.one, 1);
    } finally {
      await app.close();
    }
  });

  it('when a transaction runs past the budget, then it is rolled back', async () => {
    await tdb.pool.query('CREATE TABLE IF NOT EXISTS budget_t (n int)');
    const app: HttpServer = createHttpServer(testConfig({ HTTP_TIME_BUDGET_MS: '300' }));
    app.post('/api/slow-write', async () => {
      await db.transaction(async (tx) => {
        await tx.query('INSERT INTO budget_t VALUES (1)');
        await tx.query('SELECT pg_sleep(5)');
      });
      return { ok: true };
    });
    await app.ready();
    try {
      assertError(await app.inject({ method: 'POST', url: '/api/slow-write' }), 504, 'E_TIMEOUT');
      await sleep(200);
      const { rows } = await tdb.pool.query('SELECT count(*)::int AS n FROM budget_t');
      assert.equal((rows[0] as { n: number }).n, 0);
    } finally {
      await app.close();
    }
  });

  it('when an outbound call runs past the budget, then it is aborted through its policy and the client gets 504', async () => {
    const quiet = recordingLogger();
    const resilience = new Resilience(
      {
        failureThreshold: 5,
        halfOpenAfterMs: 30_000,
        successThreshold: 2,
        retries: 3,
        baseDelayMs: 10,
        maxDelayMs: 100,
        timeoutMs: 30_000,
      },
      { log: quiet },
    );
    const app: HttpServer = createHttpServer(testConfig({ HTTP_TIME_BUDGET_MS: '200' }));
    let aborted: unknown;
    let outcome = 'pending';
    app.get('/api/outbound', async () => {
      try {
        return await resilience.policy('supplier').execute(
          (signal) =>
            new Promise((_resolve, reject) => {
              signal.addEventListener('abort', () => {
                aborted = signal.reason;
                reject(new Error('aborted'));
              });
            }),
        );
      } catch (err) {
        outcome = (err as { code?: string }).code ?? 'other';
        throw err;
      }
    });
    await app.ready();
    try {
      assertError(await app.inject({ method: 'GET', url: '/api/outbound' }), 504, 'E_TIMEOUT');
      for (let i = 0; i < 50 && outcome === 'pending'; i++) await sleep(10);
      assert.ok(aborted !== undefined, 'the outbound call saw its signal abort');
      assert.equal(outcome, 'E_TIMEOUT', 'the policy rethrows the budget, not a cancellation');
      assert.equal(resilience.policy('supplier').breaker.snapshot().failures, 0, 'a budget is not a failure');
    } finally {
      await app.close();
      await resilience.close();
    }
  });

  it('when a route declares its own budget or is a probe, then that budget applies', async () => {
    const app: HttpServer = createHttpServer(testConfig({ HTTP_TIME_BUDGET_MS: '100' }));
    const slow = async () => {
      await sleep(300);
      return { ok: true };
    };
    app.get('/api/long', { config: { timeBudgetMs: 2000 } }, slow);
    app.get('/api/short', slow);
    app.get('/healthz', slow);
    await app.ready();
    try {
      assert.equal((await app.inject({ method: 'GET', url: '/api/long' })).statusCode, 200);
      assertError(await app.inject({ method: 'GET', url: '/api/short' }), 504, 'E_TIMEOUT');
      assert.equal((await app.inject({ method: 'GET', url: '/healthz' })).statusCode, 200);
    } finally {
      await app.close();
    }
  });
});

describe('edge protection', () => {
  async function edgeApp(env: Record<string, string> = {}, production = false) {
    const config = testConfig(env);
    const app = createHttpServer(config);
    await registerEdgeProtection(app, {
      production,
      corsOrigins: config.http.corsOrigins,
      authBodyLimitBytes: config.http.authBodyLimitBytes,
      htmlPrefixes: ['/docs'],
    });
    app.get('/api/thing', async () => ({ ok: true }));
    app.post('/api/auth/login', async () => ({ ok: true }));
    app.post('/api/bookings', async () => ({ ok: true }));
    app.get('/api/boom', async () => {
      throw new Error('boom');
    });
    app.get('/docs', async (_req, reply) => reply.type('text/html').send('<html></html>'));
    await app.ready();
    return app;
  }

  it('when any answer leaves, then it carries the security headers: 200, 404, 500', async () => {
    const app = await edgeApp();
    try {
      for (const url of ['/api/thing', '/api/nope', '/api/boom']) {
        const res = await app.inject({ method: 'GET', url });
        assert.equal(res.headers['x-content-type-options'], 'nosniff', url);
        assert.equal(res.headers['x-frame-options'], 'DENY', url);
        assert.match(
          String(res.headers['content-security-policy']),
          /default-src 'none'.*frame-ancestors 'none'/,
          url,
        );
        assert.equal(res.headers['strict-transport-security'], undefined, 'no HSTS outside production');
      }
      const docs = await app.inject({ method: 'GET', url: '/docs' });
      const csp = String(docs.headers['content-security-policy']);
      assert.match(csp, /script-src 'self'/);
      assert.match(csp, /style-src 'self' 'unsafe-inline'/);
    } finally {
      await app.close();
    }
    const prod = await edgeApp({}, true);
    try {
      const res = await prod.inject({ method: 'GET', url: '/api/thing' });
      assert.match(String(res.headers['strict-transport-security']), /max-age=31536000/);
    } finally {
      await prod.close();
    }
  });

  it('when CORS_ORIGINS is unset, then no origin gets CORS headers; when set, only the listed origins do, without credentials', async () => {
    const none = await edgeApp();
    try {
      const res = await none.inject({
        method: 'GET',
        url: '/api/thing',
        headers: { origin: 'https://evil.example' },
      });
      assert.equal(res.headers['access-control-allow-origin'], undefined);
    } finally {
      await none.close();
    }
    const app = await edgeApp({ CORS_ORIGINS: 'https://app.example.com, https://admin.example.com' });
    try {
      const preflight = await app.inject({
        method: 'OPTIONS',
        url: '/api/bookings',
        headers: {
          origin: 'https://app.example.com',
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'content-type,idempotency-key',
        },
      });
      assert.equal(preflight.statusCode, 204);
      assert.equal(preflight.headers['access-control-allow-origin'], 'https://app.example.com');
      assert.equal(preflight.headers['access-control-allow-credentials'], undefined);
      const other = await app.inject({
        method: 'GET',
        url: '/api/thing',
        headers: { origin: 'https://evil.example' },
      });
      assert.equal(other.headers['access-control-allow-origin'], undefined);
    } finally {
      await app.close();
    }
  });

  it('when CORS_ORIGINS holds something that is not an origin, then the configuration is refused', () => {
    assert.throws(() => testConfig({ CORS_ORIGINS: 'https://app.example.com/path' }), /CORS_ORIGINS/);
    assert.throws(() => testConfig({ CORS_ORIGINS: '*' }), /CORS_ORIGINS/);
  });

  it('when an auth route gets a body over its own limit, then 413, while other routes take it', async () => {
    const app = await edgeApp({ HTTP_AUTH_BODY_LIMIT_BYTES: '2048' });
    try {
      const payload = JSON.stringify({ email: 'a@b.c', password: 'x'.repeat(4000) });
      const headers = { 'content-type': 'application/json' };
      assertError(
        await app.inject({ method: 'POST', url: '/api/auth/login', payload, headers }),
        413,
        'E_PAYLOAD_TOO_LARGE',
      );
      assert.equal(
        (await app.inject({ method: 'POST', url: '/api/bookings', payload, headers })).statusCode,
        200,
      );
    } finally {
      await app.close();
    }
  });
});
