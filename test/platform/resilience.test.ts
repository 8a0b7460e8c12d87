import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { loadConfig } from '../../src/platform/config/index.ts';
import type { AppError } from '../../src/platform/errors/index.ts';
import { createHttpServer, type HttpServer } from '../../src/platform/http/index.ts';
import { Metrics } from '../../src/platform/observability/index.ts';
import {
  BreakerOpenError,
  Chaos,
  CircuitBreaker,
  classify,
  DependencyHttpError,
  econnreset,
  OutboundHttpClient,
  parseRetryAfter,
  Resilience,
  type ResilienceConfig,
} from '../../src/platform/resilience/index.ts';
import { ERROR_FIELDS } from '../support/app.ts';
import { recordingLogger } from '../support/silent-logger.ts';

/** A clock the test moves by hand: no real 30 s waits. */
function manualClock(start = Date.parse('2026-01-01T00:00:00Z')) {
  let t = start;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

const DEFAULTS: ResilienceConfig = {
  failureThreshold: 5,
  halfOpenAfterMs: 30_000,
  successThreshold: 2,
  retries: 0,
  baseDelayMs: 1_000,
  maxDelayMs: 30_000,
  timeoutMs: 1_000,
};

function registry(config: Partial<ResilienceConfig> = {}, extra: { sleeps?: number[] } = {}) {
  const clock = manualClock();
  const log = recordingLogger();
  const metrics = new Metrics({ nodeMetrics: false });
  const resilience = new Resilience(
    { ...DEFAULTS, ...config },
    {
      log,
      metrics,
      now: clock.now,
      hooks: {
        random: () => 1,
        sleep: async (ms: number) => {
          extra.sleeps?.push(ms);
          clock.advance(ms);
        },
      },
    },
  );
  return { resilience, clock, log, metrics };
}

const fail = (status: number, retryAfterMs?: number) => async () => {
  throw new DependencyHttpError('dep', status, retryAfterMs);
};

async function rejects(p: Promise<unknown>): Promise<AppError> {
  try {
    await p;
  } catch (err) {
    return err as AppError;
  }
  assert.fail('expected a rejection');
}

describe('circuit breaker', () => {
  it('when 5 consecutive failures are recorded, then it opens, half-opens after 30 s and closes after 2 probes', async () => {
    const clock = manualClock();
    const moves: string[] = [];
    const b = new CircuitBreaker('dep', {
      failureThreshold: 5,
      halfOpenAfterMs: 30_000,
      successThreshold: 2,
      now: clock.now,
    });
    b.onTransition((from, to) => moves.push(`${from}>${to}`));
    for (let i = 0; i < 4; i++) b.record(await b.acquire(), false, 'http 503');
    assert.equal(b.state, 'closed');
    b.record(await b.acquire(), false, 'http 503');
    assert.equal(b.state, 'open');
    await assert.rejects(
      b.acquire(),
      (err: unknown) => err instanceof BreakerOpenError && err.retryAfterMs === 30_000,
    );
    clock.advance(29_999);
    await assert.rejects(b.acquire(), BreakerOpenError);
    clock.advance(1);
    const probe = await b.acquire();
    assert.equal(probe, 'probe');
    assert.equal(b.state, 'half-open');
    await assert.rejects(b.acquire(), BreakerOpenError, 'one probe at a time');
    b.record(probe, true);
    assert.equal(b.state, 'half-open');
    b.record(await b.acquire(), true);
    assert.equal(b.state, 'closed');
    assert.deepEqual(moves, ['closed>open', 'open>half-open', 'half-open>closed']);
    const snap = b.snapshot();
    assert.equal(snap.failures, 5);
    assert.equal(snap.lastFailure?.reason, 'http 503');
  });

  it('when a half-open probe fails, then it opens again for a full period', async () => {
    const clock = manualClock();
    const b = new CircuitBreaker('dep', {
      failureThreshold: 1,
      halfOpenAfterMs: 1_000,
      successThreshold: 2,
      now: clock.now,
    });
    b.record(await b.acquire(), false);
    clock.advance(1_000);
    b.record(await b.acquire(), false, 'timeout');
    assert.equal(b.state, 'open');
    assert.equal(b.retryAfterMs, 1_000);
    assert.equal(b.snapshot().nextProbeAt, new Date(clock.now() + 1_000).toISOString());
  });

  it('when a success comes between failures, then the consecutive count starts again', async () => {
    const b = new CircuitBreaker('dep', { failureThreshold: 3, halfOpenAfterMs: 1_000, successThreshold: 1 });
    for (const ok of [false, false, true, false, false]) b.record(await b.acquire(), ok);
    assert.equal(b.state, 'closed');
  });

  it('when sampling is configured, then a failure ratio over the window opens it', async () => {
    const clock = manualClock();
    const b = new CircuitBreaker('dep', {
      failureThreshold: 1_000,
      halfOpenAfterMs: 1_000,
      successThreshold: 1,
      sampling: { ratio: 0.5, windowMs: 10_000, minCalls: 4 },
      now: clock.now,
    });
    for (const ok of [true, false, true]) b.record(await b.acquire(), ok);
    assert.equal(b.state, 'closed');
    b.record(await b.acquire(), false);
    assert.equal(b.state, 'open');
  });
});

describe('counting rules', () => {
  it('when errors are classified, then timeouts, connection errors, 429 and 5xx count and other 4xx do not', () => {
    for (const s of [429, 500, 502, 503, 504])
      assert.equal(classify(new DependencyHttpError('d', s)).counts, true, String(s));
    for (const s of [400, 401, 403, 404, 409, 422]) {
      const c = classify(new DependencyHttpError('d', s));
      assert.equal(c.counts || c.retryable, false, String(s));
    }
    for (const code of ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT']) {
      assert.equal(classify(Object.assign(new Error('x'), { code })).counts, true, code);
    }
    // fetch wraps the socket error in a TypeError's cause
    assert.equal(classify(new TypeError('fetch failed', { cause: econnreset() })).reason, 'econnreset');
    assert.equal(classify(new Error('a bug')).counts, false);
  });

  it('when a dependency answers 404 ten times, then the breaker stays closed; 503 five times opens it', async () => {
    const { resilience } = registry();
    const policy = resilience.policy('dep');
    for (let i = 0; i < 10; i++) await assert.rejects(policy.execute(fail(404)), DependencyHttpError);
    assert.equal(policy.breaker.state, 'closed');
    for (let i = 0; i < 5; i++) await rejects(policy.execute(fail(503)));
    assert.equal(policy.breaker.state, 'open');
  });

  it('when Retry-After is sent as seconds or as an HTTP date, then it is read in ms', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    assert.equal(parseRetryAfter('3'), 3_000);
    assert.equal(parseRetryAfter('Thu, 01 Jan 2026 00:00:10 GMT', now), 10_000);
    assert.equal(parseRetryAfter('soon'), undefined);
    assert.equal(parseRetryAfter(null), undefined);
  });
});

describe('retry', () => {
  it('when failures are retryable, then each retry waits a full-jitter backoff below the cap', async () => {
    const sleeps: number[] = [];
    const { resilience } = registry({ retries: 3, failureThreshold: 100 }, { sleeps });
    await rejects(resilience.policy('dep').execute(fail(503)));
    // random() = 1: the top of each full-jitter range
    assert.deepEqual(sleeps, [1_000, 2_000, 4_000]);
  });

  it('when a 404 comes back, then it is not retried', async () => {
    const sleeps: number[] = [];
    const { resilience } = registry({ retries: 3 }, { sleeps });
    let calls = 0;
    await assert.rejects(
      resilience.policy('dep').execute(async () => {
        calls += 1;
        throw new DependencyHttpError('dep', 404);
      }),
    );
    assert.equal(calls, 1);
    assert.deepEqual(sleeps, []);
  });

  it('when a 429 carries Retry-After, then the retry waits at least that long', async () => {
    const sleeps: number[] = [];
    const { resilience } = registry({ retries: 1 }, { sleeps });
    let calls = 0;
    const value = await resilience.policy('dep').execute(async () => {
      calls += 1;
      if (calls === 1) throw new DependencyHttpError('dep', 429, 7_000);
      return 'ok';
    });
    assert.equal(value, 'ok');
    assert.deepEqual(sleeps, [7_000]);
  });

  it('when Retry-After exceeds the max delay or the remaining budget, then it gives up at once', async () => {
    const sleeps: number[] = [];
    const { resilience, clock } = registry({ retries: 3, maxDelayMs: 5_000 }, { sleeps });
    const err = await rejects(resilience.policy('dep').execute(fail(429, 60_000)));
    assert.equal(err.code, 'E_DEPENDENCY_UNAVAILABLE');
    const err2 = await rejects(
      resilience.policy('dep2').execute(fail(503, 3_000), { deadline: clock.now() + 2_000 }),
    );
    assert.equal(err2.code, 'E_DEPENDENCY_UNAVAILABLE');
    assert.deepEqual(sleeps, []);
  });
});

describe('timeout, bulkhead, fallback', () => {
  it('when a call hangs, then it is cut at the timeout with its signal aborted, and counts', async () => {
    const { resilience } = registry({ timeoutMs: 30, failureThreshold: 1 });
    let aborted = false;
    const chaos = new Chaos().alwaysHang();
    const err = await rejects(
      resilience.policy('slow').execute((signal) => {
        signal.addEventListener('abort', () => {
          aborted = true;
        });
        return chaos.run(async () => 1, signal);
      }),
    );
    assert.equal(err.code, 'E_DEPENDENCY_UNAVAILABLE');
    assert.equal(aborted, true);
    assert.equal(resilience.policy('slow').breaker.state, 'open');
    assert.equal(resilience.breakers()[0]?.lastFailure?.reason, 'timeout');
  });

  it('when the breaker is open and a fallback is given, then the fallback answers', async () => {
    const { resilience } = registry({ failureThreshold: 1 });
    const policy = resilience.policy('dep');
    await rejects(policy.execute(fail(500)));
    let called = false;
    const value = await policy.execute(
      async () => {
        called = true;
        return 'live';
      },
      { fallback: () => 'cached' },
    );
    assert.equal(value, 'cached');
    assert.equal(called, false);
  });

  it('when the bulkhead is full, then the extra call is rejected without counting', async () => {
    const { resilience } = registry({ overrides: { bulk: { maxConcurrent: 1, maxQueue: 0 } } });
    const policy = resilience.policy('bulk');
    let release = () => {};
    const first = policy.execute(() => new Promise<void>((r) => (release = r)));
    const err = await rejects(policy.execute(async () => undefined));
    assert.equal(err.code, 'E_DEPENDENCY_UNAVAILABLE');
    release();
    await first;
    assert.equal(policy.breaker.snapshot().failures, 0);
  });

  it('when overrides name a dependency, then its breaker uses them', async () => {
    const { resilience, clock } = registry({
      overrides: { llm: { failures: 2, halfOpenAfterMs: 60_000, successes: 3 } },
    });
    const policy = resilience.policy('llm');
    for (let i = 0; i < 2; i++) await rejects(policy.execute(fail(502)));
    assert.equal(policy.breaker.state, 'open');
    assert.equal(policy.breaker.retryAfterMs, 60_000);
    clock.advance(60_000);
    for (let i = 0; i < 2; i++) await policy.execute(async () => 1);
    assert.equal(policy.breaker.state, 'half-open');
    await policy.execute(async () => 1);
    assert.equal(policy.breaker.state, 'closed');
  });
});

describe('registry: logs and metrics', () => {
  it('when a breaker changes state, then the change is logged with context and counted in the metrics', async () => {
    const { resilience, log, metrics } = registry({ failureThreshold: 1 });
    await rejects(resilience.policy('payments').execute(fail(503)));
    const entry = log.entries.find((e) => (e.obj as { to?: string }).to === 'open');
    assert.ok(entry);
    assert.equal(entry.level, 'warn');
    assert.deepEqual(
      { ...(entry.obj as object), reason: undefined },
      { breaker: 'payments', from: 'closed', to: 'open', reason: undefined, shared: false },
    );
    const text = await metrics.text();
    assert.match(text, /innkeep_breaker_state\{breaker="payments"\} 2/);
    assert.match(text, /innkeep_breaker_transitions_total\{breaker="payments",to="open"\} 1/);
  });
});

describe('fail fast through a Fastify route and the outbound client', () => {
  let app: HttpServer;
  let provider: Server;
  let status = 200;
  let retryAfter: string | undefined;
  const SECRET = 'provider-internal-detail db=10.1.2.3:5432';
  const resilience = new Resilience(
    { ...DEFAULTS, failureThreshold: 2, retries: 0 },
    { log: recordingLogger() },
  );

  before(async () => {
    provider = createServer((_req, res) => {
      res.writeHead(status, {
        'content-type': 'application/json',
        ...(retryAfter ? { 'retry-after': retryAfter } : {}),
      });
      res.end(status === 200 ? '{"ok":true}' : JSON.stringify({ error: SECRET }));
    });
    await new Promise<void>((r) => provider.listen(0, '127.0.0.1', r));
    const base = `http://127.0.0.1:${(provider.address() as AddressInfo).port}`;
    const client = new OutboundHttpClient(resilience.policy('places'), base);
    app = createHttpServer(
      loadConfig({ env: { LOG_LEVEL: 'silent', NODE_ENV: 'development' }, envFile: false }),
      {},
    );
    app.get('/t/places', async () => client.json({ path: '/search' }));
    await app.ready();
  });

  after(async () => {
    await app?.close();
    await new Promise((r) => provider?.close(r));
  });

  it('when the provider is healthy, then the JSON passes through', async () => {
    status = 200;
    const res = await app.inject({ url: '/t/places' });
    assert.equal(res.statusCode, 200);
    assert.deepEqual(res.json(), { ok: true });
  });

  it('when the breaker is open, then the route answers 503 E_DEPENDENCY_UNAVAILABLE with Retry-After, naming only the dependency', async () => {
    status = 503;
    retryAfter = undefined;
    for (let i = 0; i < 2; i++) {
      const res = await app.inject({ url: '/t/places' });
      assert.equal(res.statusCode, 503);
      assert.ok(!res.body.includes(SECRET) && !res.body.includes('127.0.0.1'), res.body);
    }
    const res = await app.inject({ url: '/t/places' });
    assert.equal(res.statusCode, 503);
    const body = res.json() as Record<string, unknown> & { details: { dependency: string }[] };
    for (const key of ERROR_FIELDS) assert.ok(key in body, key);
    assert.equal(body.code, 'E_DEPENDENCY_UNAVAILABLE');
    assert.equal(body.details[0]?.dependency, 'places');
    const seconds = Number(res.headers['retry-after']);
    assert.ok(seconds >= 1 && seconds <= 30, String(res.headers['retry-after']));
    assert.ok(
      !res.body.includes(SECRET) && !res.body.includes('127.0.0.1') && !res.body.includes('http://'),
      res.body,
    );
    const snap = resilience.breakers()[0];
    assert.equal(snap?.state, 'open');
    assert.equal(snap?.lastFailure?.reason, 'http 503');
  });
});

describe('caller gives up', () => {
  it("when the caller's signal aborts a half-open probe, then nothing is counted and the next call may probe", async () => {
    const { resilience, clock } = registry({ failureThreshold: 1, timeoutMs: 1_000 });
    const policy = resilience.policy('dep');
    await rejects(policy.execute(fail(503)));
    clock.advance(30_000);
    const controller = new AbortController();
    const hung = policy.execute((signal) => new Chaos().alwaysHang().run(async () => 1, signal), {
      signal: controller.signal,
    });
    controller.abort(new Error('budget over'));
    await assert.rejects(hung);
    assert.equal(policy.breaker.state, 'half-open');
    assert.equal(policy.breaker.snapshot().failures, 1);
    assert.equal(await policy.execute(async () => 'ok'), 'ok');
  });
});
