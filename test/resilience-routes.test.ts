import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import type { App } from '../src/app/build-app.ts';
import { DependencyHttpError } from '../src/platform/resilience/index.ts';
import { assertError, startTestApp } from './support/app.ts';
import { registerAdmin, registerUser, type TestUser } from './support/auth.ts';
import { createTestDatabase, type TestDatabase } from './support/database.ts';
import { ci, redisUnreachable } from './support/redis-server.ts';
import { ensureTestServer } from './support/test-server.ts';

// The registry wired into the app: GET /api/admin/breakers (admin only, and on the internal
// listener), the breakers section of /health/detailed, breaker state shared by two app instances.

const REDIS = 'redis://127.0.0.1:6379';
const unreachable = await redisUnreachable(REDIS);
if (unreachable && ci) throw new Error(`CI needs Redis at ${REDIS}: ${unreachable}`);
const prefix = `test-breaker-routes-${randomBytes(4).toString('hex')}`;

let stopServer: () => Promise<void>;
before(async () => {
  stopServer = await ensureTestServer();
});
after(async () => {
  await stopServer?.();
});

describe('breakers in the app', { skip: unreachable }, () => {
  let db: TestDatabase;
  let a: App;
  let b: App;
  let admin: TestUser;
  let user: TestUser;

  before(async () => {
    db = await createTestDatabase();
    const env = {
      REDIS_URL: REDIS,
      CACHE_PREFIX: prefix,
      BREAKER_FAILURE_THRESHOLD: '2',
      RETRY_ATTEMPTS: '0',
    };
    a = await startTestApp(db.url, env);
    b = await startTestApp(db.url, env);
    admin = await registerAdmin(a);
    user = await registerUser(a);
  });

  after(async () => {
    await a?.close();
    await b?.close();
    await db?.drop();
    const redis = new Redis(REDIS);
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
  });

  it('when a dependency fails on instance A, then both instances list its breaker as open', async () => {
    const fail = async () => {
      throw new DependencyHttpError('places', 503);
    };
    b.innkeep.resilience.policy('places');
    for (let i = 0; i < 2; i++) await assert.rejects(a.innkeep.resilience.policy('places').execute(fail));
    for (const app of [a, b]) {
      let breaker: { name: string; state: string; nextProbeAt: string | null } | undefined;
      for (let i = 0; i < 200 && breaker?.state !== 'open'; i++) {
        const res = await app.inject({ url: '/api/admin/breakers', headers: admin.headers });
        assert.equal(res.statusCode, 200, res.body);
        const body = res.json() as { shared: boolean; breakers: (typeof breaker)[] };
        assert.equal(body.shared, true);
        breaker = body.breakers.find((x) => x?.name === 'places');
        if (breaker?.state !== 'open') await new Promise((r) => setTimeout(r, 10));
      }
      assert.equal(breaker?.state, 'open');
      assert.ok(breaker?.nextProbeAt);
    }
  });

  it('when the caller is not an admin, then the breakers route answers 401 (no token) or 404 (a user token)', async () => {
    assertError(await a.inject({ url: '/api/admin/breakers' }), 401, 'E_UNAUTHORIZED');
    assertError(await a.inject({ url: '/api/admin/breakers', headers: user.headers }), 404);
  });

  it('when /health/detailed is read, then it has a breakers section naming the open one', async () => {
    const res = await a.inject({ url: '/health/detailed', headers: admin.headers });
    const body = res.json() as { breakers: { open: string[]; shared: boolean; redis: string } };
    assert.deepEqual(body.breakers.open, ['places']);
    assert.equal(body.breakers.shared, true);
    assert.equal(body.breakers.redis, 'up');
  });

  it('when the internal listener is asked, then it lists the breakers without a token', async () => {
    const res = await a.innkeep.internal.inject({ url: '/api/admin/breakers' });
    assert.equal(res.statusCode, 200, res.body);
  });
});
