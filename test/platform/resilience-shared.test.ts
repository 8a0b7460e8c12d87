import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import {
  connectSharedBreakers,
  DependencyHttpError,
  Resilience,
  type ResilienceConfig,
} from '../../src/platform/resilience/index.ts';
import { ci, type RedisServer, redisUnreachable, startRedisServer } from '../support/redis-server.ts';
import { recordingLogger } from '../support/silent-logger.ts';

// Breaker state shared through Redis between two registries, each with its own connections (as two
// API processes would have): propagation of an open, one probe across the cluster, the local fallback
// when Redis dies and the re-sync when it comes back.

const REDIS = 'redis://127.0.0.1:6379';
const POLL_MS = 300;
const CONFIG: ResilienceConfig = {
  failureThreshold: 1,
  halfOpenAfterMs: 30_000,
  successThreshold: 1,
  retries: 0,
  baseDelayMs: 10,
  maxDelayMs: 100,
  timeoutMs: 1_000,
};

const unreachable = await redisUnreachable(REDIS);
if (unreachable && ci) throw new Error(`CI needs Redis at ${REDIS}: ${unreachable}`);

/** One clock for both instances, moved by hand (the probe time is compared across them). */
let now = Date.now();
const clock = () => now;

async function instance(url: string, prefix: string) {
  const link = await connectSharedBreakers({ url, prefix, pollMs: POLL_MS, now: clock }, recordingLogger());
  const resilience = new Resilience(CONFIG, {
    log: recordingLogger(),
    shared: link.shared,
    onClose: link.close,
    now: clock,
  });
  return { resilience, link, policy: resilience.policy('payments') };
}

async function until(what: string, check: () => boolean, boundMs: number): Promise<number> {
  const start = performance.now();
  while (!check()) {
    if (performance.now() - start > boundMs) assert.fail(`${what} not within ${boundMs} ms`);
    await sleep(5);
  }
  return performance.now() - start;
}

const fail503 = async () => {
  throw new DependencyHttpError('payments', 503);
};

describe('shared breaker state (Redis at 127.0.0.1:6379)', { skip: unreachable }, () => {
  const prefix = `test-breakers-${randomBytes(4).toString('hex')}`;
  let a: Awaited<ReturnType<typeof instance>>;
  let b: Awaited<ReturnType<typeof instance>>;

  before(async () => {
    a = await instance(REDIS, prefix);
    b = await instance(REDIS, prefix);
  });

  after(async () => {
    await a?.resilience.close();
    await b?.resilience.close();
    const redis = new Redis(REDIS);
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
  });

  it('when instance A opens a breaker, then B learns it within the poll bound, with the same next probe time', async () => {
    await assert.rejects(a.policy.execute(fail503));
    assert.equal(a.policy.breaker.state, 'open');
    await until('B sees open', () => b.policy.breaker.state === 'open', POLL_MS * 3);
    assert.equal(b.policy.breaker.snapshot().nextProbeAt, a.policy.breaker.snapshot().nextProbeAt);
    assert.equal(b.policy.breaker.snapshot().shared, true);
    // B fails fast without calling the dependency
    let called = false;
    await assert.rejects(
      b.policy.execute(async () => {
        called = true;
      }),
      (err: { code?: string; headers?: Record<string, string> }) =>
        err.code === 'E_DEPENDENCY_UNAVAILABLE' && Number(err.headers?.['retry-after']) >= 1,
    );
    assert.equal(called, false);
  });

  it('when the open period is over, then exactly one instance in the cluster sends the probe, and both close', async () => {
    now += CONFIG.halfOpenAfterMs;
    let probes = 0;
    const call = async () => {
      probes += 1;
      await sleep(50);
      return 'ok';
    };
    const results = await Promise.allSettled([
      ...Array.from({ length: 5 }, () => a.policy.execute(call)),
      ...Array.from({ length: 5 }, () => b.policy.execute(call)),
    ]);
    assert.equal(probes, 1, 'one probe across both instances');
    assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
    await until('A closed', () => a.policy.breaker.state === 'closed', POLL_MS * 3);
    await until('B closed', () => b.policy.breaker.state === 'closed', POLL_MS * 3);
  });
});

describe('shared breaker state when Redis dies', { skip: unreachable }, () => {
  const prefix = `test-breakers-kill-${randomBytes(4).toString('hex')}`;
  let server: RedisServer;
  let a: Awaited<ReturnType<typeof instance>>;
  let b: Awaited<ReturnType<typeof instance>>;

  before(async () => {
    server = await startRedisServer();
    a = await instance(server.url, prefix);
    b = await instance(server.url, prefix);
    a.resilience.policy('mail');
    b.resilience.policy('mail');
  });

  after(async () => {
    await a?.resilience.close();
    await b?.resilience.close();
    await server?.stop();
  });

  it('when Redis is killed, then each instance keeps its own state and calls never wait on Redis', async () => {
    await server.kill();
    const mailA = a.resilience.policy('mail');
    await assert.rejects(mailA.execute(fail503));
    assert.equal(mailA.breaker.state, 'open');
    await assert.rejects(
      mailA.execute(async () => 'x'),
      { code: 'E_DEPENDENCY_UNAVAILABLE' },
    );
    await sleep(POLL_MS * 2);
    assert.equal(b.resilience.policy('mail').breaker.state, 'closed', 'B cannot learn it without Redis');
    assert.equal(await b.resilience.policy('mail').execute(async () => 'live'), 'live');
    assert.equal(a.link.shared.up, false);
    // the half-open step does not wait for Redis either: the local breaker decides
    now += CONFIG.halfOpenAfterMs;
    assert.equal(await mailA.execute(async () => 'probe'), 'probe');
    assert.equal(mailA.breaker.state, 'closed');
    await assert.rejects(mailA.execute(fail503));
    assert.equal(mailA.breaker.state, 'open');
  });

  it('when Redis comes back, then the open decided meanwhile is pushed and the other instance learns it', async () => {
    await server.restart();
    await until('B learns the open', () => b.resilience.policy('mail').breaker.state === 'open', 5_000);
    await until('A sees redis up', () => a.link.shared.up, 5_000);
  });
});
