import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { App } from '../src/app/build-app.ts';
import { assertError, startTestApp } from './support/app.ts';
import { registerUser } from './support/auth.ts';
import { createTestDatabase, type TestDatabase } from './support/database.ts';
import { type RedisServer, startRedisServer } from './support/redis-server.ts';
import { ensureTestServer } from './support/test-server.ts';

const SHARED_REDIS = 'redis://127.0.0.1:6379';
/** A unique key prefix per run of this file, on the shared Redis. */
const PREFIX = `rltest-${process.pid}-${randomBytes(3).toString('hex')}`;
let addresses = 0;
/** A fresh client address per call (each test gets its own buckets). */
const ip = () => {
  addresses += 1;
  return `198.51.${Math.floor(addresses / 250)}.${(addresses % 250) + 1}`;
};

describe('rate limiting', () => {
  let db: TestDatabase;
  let stopServer: (() => Promise<void>) | undefined;
  const apps: App[] = [];
  const start = async (env: Record<string, string> = {}) => {
    const app = await startTestApp(db.url, {
      RATE_LIMIT_ENABLED: 'true',
      CACHE_PREFIX: PREFIX,
      ...env,
    });
    apps.push(app);
    return app;
  };
  const get = (app: App, url: string, remoteAddress: string, headers: Record<string, string> = {}) =>
    app.inject({ method: 'GET', url, remoteAddress, headers });
  const burst = async (app: App, n: number, remoteAddress: string, url = '/api/nothing-here') => {
    const results = await Promise.all(Array.from({ length: n }, () => get(app, url, remoteAddress)));
    return results.map((r) => r.statusCode);
  };

  before(async () => {
    stopServer = await ensureTestServer();
    db = await createTestDatabase();
  });
  after(async () => {
    for (const app of apps) await app.close();
    await db?.drop();
    await stopServer?.();
  });

  for (const backend of ['memory', 'redis'] as const) {
    it(`when 50 requests from one address arrive at once over a limit of 20 (${backend}), then exactly 20 pass and 30 get 429`, async () => {
      const app = await start({
        RATE_LIMIT_READ_POINTS: '20',
        ...(backend === 'redis' ? { REDIS_URL: SHARED_REDIS } : {}),
      });
      const codes = await burst(app, 50, ip());
      assert.equal(codes.filter((c) => c === 404).length, 20, codes.join(','));
      assert.equal(codes.filter((c) => c === 429).length, 30, codes.join(','));
    });
  }

  it('when two instances share Redis, then a burst spread over both gets exactly the limit', async () => {
    const env = { RATE_LIMIT_READ_POINTS: '20', REDIS_URL: SHARED_REDIS };
    const [a, b] = [await start(env), await start(env)];
    const address = ip();
    const results = await Promise.all(
      Array.from({ length: 60 }, (_, i) => get(i % 2 ? a : b, '/api/nothing-here', address)),
    );
    const codes = results.map((r) => r.statusCode);
    assert.equal(codes.filter((c) => c === 404).length, 20, codes.join(','));
    assert.equal(codes.filter((c) => c === 429).length, 40, codes.join(','));
  });

  it('when the limit is used up, then 429 E_RATE_LIMITED with Retry-After and RateLimit headers; successes carry them too', async () => {
    const app = await start({ RATE_LIMIT_READ_POINTS: '3', RATE_LIMIT_READ_DURATION_S: '30' });
    const address = ip();
    const first = await get(app, '/api/nothing-here', address);
    assert.equal(first.headers['ratelimit-limit'], '3');
    assert.equal(first.headers['ratelimit-remaining'], '2');
    const reset = Number(first.headers['ratelimit-reset']);
    assert.ok(reset >= 1 && reset <= 30, String(reset));
    await burst(app, 2, address);
    const res = await get(app, '/api/nothing-here', address);
    assertError(res, 429, 'E_RATE_LIMITED');
    assert.equal(res.headers['ratelimit-remaining'], '0');
    const retryAfter = Number(res.headers['retry-after']);
    assert.ok(Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= 30, String(retryAfter));
  });

  it('when users are authenticated, then each has its own bucket, apart from the address', async () => {
    const app = await start({ RATE_LIMIT_READ_POINTS: '3' });
    // Registering is the auth class: its own bucket.
    const [alice, bob] = [await registerUser(app), await registerUser(app)];
    const address = ip();
    const me = (headers: Record<string, string>) => get(app, '/api/me', address, headers);
    for (let i = 0; i < 3; i++) assert.equal((await me(alice.headers)).statusCode, 200);
    assertError(await me(alice.headers), 429, 'E_RATE_LIMITED');
    // Same address, other user: fresh; anonymous from that address: fresh too.
    assert.equal((await me(bob.headers)).statusCode, 200);
    assert.equal((await get(app, '/api/nothing-here', address)).statusCode, 404);
  });

  it('when probes are hammered, then they are never limited', async () => {
    const app = await start({ RATE_LIMIT_READ_POINTS: '1' });
    const address = ip();
    const codes = await Promise.all(
      Array.from({ length: 20 }, (_, i) => get(app, i % 2 ? '/healthz' : '/ready', address)),
    );
    assert.deepEqual(
      codes.map((r) => r.statusCode),
      Array(20).fill(200),
    );
    assert.equal(codes[0]?.headers['ratelimit-limit'], undefined);
  });

  it('when one class is used up, then the other classes still answer', async () => {
    const app = await start({ RATE_LIMIT_READ_POINTS: '1', RATE_LIMIT_WRITE_POINTS: '1' });
    const address = ip();
    assert.equal((await get(app, '/api/nothing-here', address)).statusCode, 404);
    assert.equal((await get(app, '/api/nothing-here', address)).statusCode, 429);
    // A booking is the write class (anonymous: 401 after the limiter let it through).
    const post = await app.inject({
      method: 'POST',
      url: '/api/bookings',
      remoteAddress: address,
      payload: {},
    });
    assert.equal(post.statusCode, 401, post.body);
    assert.equal(post.headers['ratelimit-limit'], '1');
  });

  it('when a client keeps going past the abuse threshold, then it is blocked on every class and a security event is recorded', async () => {
    const app = await start({
      RATE_LIMIT_READ_POINTS: '2',
      RATE_LIMIT_ABUSE_THRESHOLD: '3',
      RATE_LIMIT_BLOCK_S: '120',
      METRICS_ENABLED: 'true',
    });
    const address = ip();
    const codes = [];
    for (let i = 0; i < 5; i++) codes.push((await get(app, '/api/hotels', address)).statusCode);
    assert.deepEqual(codes.slice(2), [429, 429, 429]);
    const blocked = await get(app, '/api/hotels', address);
    assertError(blocked, 429, 'E_RATE_LIMITED');
    assert.ok(Number(blocked.headers['retry-after']) > 60, String(blocked.headers['retry-after']));
    // Blocked on writes too, although it never wrote.
    const post = await app.inject({
      method: 'POST',
      url: '/api/bookings',
      remoteAddress: address,
      payload: {},
    });
    assertError(post, 429, 'E_RATE_LIMITED');
    const { rows } = await db.pool.query<{
      ip: string;
      userId: number | null;
      details: Record<string, unknown>;
    }>(
      `SELECT host(ip) AS ip, user_id AS "userId", details FROM security_events WHERE type = 'rate_limit_blocked' AND ip = $1::inet`,
      [address],
    );
    assert.equal(rows.length, 1, 'one event per block');
    assert.equal(rows[0]?.details.route, '/api/hotels');
    assert.equal(rows[0]?.details.routeClass, 'read');
    const metrics = await app.inject({ method: 'GET', url: '/metrics' });
    const text = metrics.statusCode === 200 ? metrics.body : await scrape(app);
    assert.match(text, /innkeep_rate_limit_rejections_total\{limiter="read"\} 3/);
    assert.match(text, /innkeep_rate_limit_rejections_total\{limiter="blocked"\} 2/);
  });

  it('when TRUST_PROXY is off, then a spoofed X-Forwarded-For does not give a fresh bucket', async () => {
    const app = await start({ RATE_LIMIT_READ_POINTS: '2', TRUST_PROXY: 'false' });
    const address = ip();
    await burst(app, 2, address);
    const spoofed = await get(app, '/api/nothing-here', address, { 'x-forwarded-for': ip() });
    assertError(spoofed, 429, 'E_RATE_LIMITED');
  });

  it('when TRUST_PROXY is on, then the forwarded client address is the key', async () => {
    const app = await start({ RATE_LIMIT_READ_POINTS: '2', TRUST_PROXY: 'true' });
    const proxy = ip();
    const [alice, bob] = [ip(), ip()];
    const via = (client: string) => get(app, '/api/nothing-here', proxy, { 'x-forwarded-for': client });
    assert.equal((await via(alice)).statusCode, 404);
    assert.equal((await via(alice)).statusCode, 404);
    assertError(await via(alice), 429, 'E_RATE_LIMITED');
    assert.equal((await via(bob)).statusCode, 404, 'another client behind the same proxy');
  });

  it('when 30 wrong passwords for one account arrive at once over Redis, then exactly LOGIN_MAX_FAILURES are verified', async () => {
    const app = await start({ REDIS_URL: SHARED_REDIS, RATE_LIMIT_AUTH_POINTS: '1000' });
    const user = await registerUser(app);
    const results = await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        app.inject({
          method: 'POST',
          url: '/api/auth/login',
          payload: { email: user.email, password: `guess-${i}` },
          remoteAddress: ip(),
        }),
      ),
    );
    const codes = results.map((r) => r.statusCode);
    assert.equal(codes.filter((c) => c === 401).length, 5, codes.join(','));
    assert.equal(codes.filter((c) => c === 429).length, 25, codes.join(','));
    const { rows } = await db.pool.query(
      `SELECT 1 FROM security_events WHERE type = 'login_failed' AND user_id = $1`,
      [user.id],
    );
    assert.equal(rows.length, 5);
  });

  describe('when the Redis it uses is killed', () => {
    let redis: RedisServer;
    before(async () => {
      redis = await startRedisServer();
    });
    after(async () => {
      await redis?.stop();
    });

    it('then the same limits are kept in memory, never unlimited', async () => {
      const app = await start({ RATE_LIMIT_READ_POINTS: '5', REDIS_URL: redis.url });
      const address = ip();
      assert.equal((await get(app, '/api/nothing-here', address)).statusCode, 404);
      await redis.kill();
      const codes = await burst(app, 20, address);
      assert.equal(codes.filter((c) => c === 404).length, 5, codes.join(','));
      assert.equal(codes.filter((c) => c === 429).length, 15, codes.join(','));
    });
  });
});

async function scrape(app: App): Promise<string> {
  const res = await app.innkeep.internal.inject({ method: 'GET', url: '/metrics' });
  return res.body;
}
