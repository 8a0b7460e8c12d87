// The cache platform (src/platform/cache) on its real parts: bentocache's memory tier, Redis as the
// second tier and bus (the machine's shared Redis, under a prefix of this file's own), and, for the
// fault tests, a redis-server of the test's own that it kills and restarts. The "database" is a
// variable the loaders read.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import {
  Cache,
  type CacheNamespace,
  type CacheOptions,
  type NamespacePolicy,
} from '../../src/platform/cache/index.ts';
import { l2Serializer } from '../../src/platform/cache/serializer.ts';
import { spawnNode } from '../support/process.ts';
import {
  ci,
  redisServerAvailable,
  redisUnreachable,
  startRedisServer,
  startTcpProxy,
} from '../support/redis-server.ts';
import { recordingLogger } from '../support/silent-logger.ts';

const SHARED_REDIS = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
/** Every key this file writes to the shared Redis starts with this (removed at the end). */
const FILE_PREFIX = `innkeep-cachetest-${process.pid}`;
const TTL = { veryShort: 60, short: 300, medium: 1800, long: 3600, veryLong: 86400 };

const sharedProblem = await redisUnreachable(SHARED_REDIS);
/** Skipped only outside CI: under CI=true an unreachable Redis fails the tests that need it. */
const skipShared =
  sharedProblem !== undefined && !ci
    ? `Redis at ${SHARED_REDIS} is not reachable (${sharedProblem}); under CI=true this fails`
    : false;
const skipOwnServer =
  !redisServerAvailable() && !ci ? 'redis-server is not on PATH; under CI=true this fails' : false;

const HOTEL: NamespacePolicy = {
  name: 'hotel',
  ttl: 'LONG',
  mode: 'graceful',
  grace: 'VERY_LONG',
  description: 'test: graceful',
};
const AVAIL: NamespacePolicy = { name: 'avail', ttl: 'SHORT', mode: 'strict', description: 'test: strict' };

let prefixes = 0;
/** A prefix of its own for each group of caches (instances meant to share entries share one). */
function uniquePrefix(what: string): string {
  prefixes += 1;
  return `${FILE_PREFIX}-${what}-${prefixes}`;
}

function cacheOptions(prefix: string, extra: Partial<CacheOptions> = {}): CacheOptions {
  return {
    enabled: true,
    prefix,
    l1MaxMb: 8,
    l1MaxEntries: 10_000,
    ttl: TTL,
    compressMinBytes: 1024,
    l2TimeoutMs: 250,
    l2BreakerMs: 200,
    ...extra,
  };
}

/** Opens caches for a group of tests and closes all of them in its after hook. */
function cacheTracker() {
  const open: Cache[] = [];
  return {
    async open(options: CacheOptions, log = recordingLogger(), { waitForRedis = true } = {}): Promise<Cache> {
      const cache = new Cache(options, log);
      open.push(cache);
      if (waitForRedis && options.redisUrl && options.enabled) {
        assert.equal(await cache.ready(), true, `the cache did not reach Redis at ${options.redisUrl}`);
      }
      return cache;
    },
    async closeAll(): Promise<void> {
      await Promise.all(open.splice(0).map((c) => c.close()));
    },
  };
}

function deferred<T = void>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((res) => {
    resolve = res;
  });
  return { promise, resolve };
}

/** The counters a lookup moves (entries, bytes, evictions and errors are checked where they matter). */
function counts(ns: CacheNamespace) {
  const { hitsL1, hitsL2, misses, stale, coalesced, bypassed, discarded } = ns.stats;
  return { hitsL1, hitsL2, misses, stale, coalesced, bypassed, discarded };
}
const NONE = { hitsL1: 0, hitsL2: 0, misses: 0, stale: 0, coalesced: 0, bypassed: 0, discarded: 0 };

async function until(what: string, timeoutMs: number, check: () => boolean | Promise<boolean>) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) assert.fail(`${what}: not within ${timeoutMs} ms`);
    await sleep(5);
  }
}

/** A failure of the database (no statusCode): graceful namespaces answer from grace. */
function dbDown(): Error {
  return Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
}

/** An answer that is an error (4xx): never cached, never hidden by grace. */
function outcome(statusCode: number): Error & { statusCode: number } {
  return Object.assign(new Error(`outcome ${statusCode}`), { statusCode });
}

async function keysOf(redis: Redis, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    cursor = next;
    keys.push(...batch);
  } while (cursor !== '0');
  return keys;
}

after(async () => {
  if (sharedProblem !== undefined) return;
  const redis = new Redis(SHARED_REDIS);
  try {
    const keys = await keysOf(redis, `${FILE_PREFIX}-`);
    if (keys.length > 0) await redis.unlink(...keys);
  } finally {
    await redis.quit();
  }
});

/** Most behaviour must hold with and without Redis. */
const TIERS = [
  { tier: 'memory only', redisUrl: undefined, skip: false },
  { tier: 'memory and Redis', redisUrl: SHARED_REDIS, skip: skipShared },
] as const;

// ---- 1. stampede ---------------------------------------------------------------------------------

for (const { tier, redisUrl, skip } of TIERS) {
  describe(`cache stampede (${tier})`, { skip }, () => {
    const caches = cacheTracker();
    after(() => caches.closeAll());

    it('when 100 callers miss one key at once, then the loader runs once and 99 are counted as coalesced', async () => {
      const prefix = uniquePrefix('stampede');
      const cache = await caches.open(cacheOptions(prefix, { redisUrl }));
      const ns = cache.namespace(HOTEL);
      let calls = 0;
      const gate = deferred();
      const load = async () => {
        calls += 1;
        await gate.promise;
        return { id: 1, name: 'Grand Hotel' };
      };
      const pending = Array.from({ length: 100 }, () => ns.getOrSet('1', load, { tags: ['hotel:1'] }));
      await sleep(20);
      gate.resolve();
      const values = await Promise.all(pending);
      assert.equal(calls, 1);
      assert.deepEqual(values[0], { id: 1, name: 'Grand Hotel' });
      assert.ok(
        values.every((v) => v === values[0]),
        'every caller got the one loaded value',
      );
      assert.deepEqual(counts(ns), { ...NONE, misses: 1, coalesced: 99 });

      // The 101st caller is answered from memory.
      assert.deepEqual(await ns.getOrSet('1', load, { tags: ['hotel:1'] }), values[0]);
      assert.equal(calls, 1);
      assert.deepEqual(counts(ns), { ...NONE, misses: 1, coalesced: 99, hitsL1: 1 });

      if (redisUrl) {
        // Another instance: one caller reads Redis, the 99 others wait for it; nobody runs the loader.
        const other = await caches.open(cacheOptions(prefix, { redisUrl }));
        const otherNs = other.namespace(HOTEL);
        const fromOther = await Promise.all(
          Array.from({ length: 100 }, () => otherNs.getOrSet('1', load, { tags: ['hotel:1'] })),
        );
        assert.equal(calls, 1);
        assert.ok(fromOther.every((v) => v === fromOther[0]));
        assert.deepEqual(fromOther[0], { id: 1, name: 'Grand Hotel' });
        assert.deepEqual(counts(otherNs), { ...NONE, hitsL2: 1, coalesced: 99 });
      }
    });
  });
}

// ---- 2-4. invalidation, failures, outcomes, straddling loads ------------------------------------

for (const { tier, redisUrl, skip } of TIERS) {
  describe(`cache invalidation and failing loads (${tier})`, { skip }, () => {
    const caches = cacheTracker();
    let cache: Cache;
    let hotels: CacheNamespace;
    let avail: CacheNamespace;
    before(async () => {
      cache = await caches.open(cacheOptions(uniquePrefix('invalidation'), { redisUrl }));
      hotels = cache.namespace(HOTEL);
      avail = cache.namespace(AVAIL);
    });
    after(() => caches.closeAll());

    it('when a graceful entry’s tag is invalidated, then the next read runs the loader and returns the new value (bentocache #71)', async () => {
      let version = 1;
      let calls = 0;
      const load = async () => {
        calls += 1;
        return { version };
      };
      const before = counts(hotels);
      assert.deepEqual(await hotels.getOrSet('71', load, { tags: ['hotel:71'] }), { version: 1 });
      version = 2;
      await cache.invalidate(['hotel:71']);
      assert.deepEqual(await hotels.getOrSet('71', load, { tags: ['hotel:71'] }), { version: 2 });
      assert.equal(calls, 2);
      assert.equal(hotels.stats.stale - before.stale, 0);
      assert.equal(hotels.stats.misses - before.misses, 2);
    });

    it('when a graceful entry was invalidated and its loader then fails, then the old value is served and counted as stale', async () => {
      const before = counts(hotels);
      assert.deepEqual(await hotels.getOrSet('72', async () => ({ version: 1 }), { tags: ['hotel:72'] }), {
        version: 1,
      });
      await cache.invalidate(['hotel:72']);
      const served = await hotels.getOrSet(
        '72',
        async () => {
          throw dbDown();
        },
        { tags: ['hotel:72'] },
      );
      assert.deepEqual(served, { version: 1 });
      assert.equal(hotels.stats.stale - before.stale, 1);
      assert.equal(hotels.stats.misses - before.misses, 2, 'the failing loader was tried');
      // Once the database answers again, the invalidated value is replaced.
      assert.deepEqual(await hotels.getOrSet('72', async () => ({ version: 2 }), { tags: ['hotel:72'] }), {
        version: 2,
      });
    });

    it('when a graceful entry expired and its loader fails (5xx), then the old value is served and counted as stale', async () => {
      const before = counts(hotels);
      await hotels.getOrSet('73', async () => 'first', { tags: ['hotel:73'], maxTtlMs: 30 });
      await sleep(60);
      const served = await hotels.getOrSet(
        '73',
        async () => {
          throw outcome(503);
        },
        { tags: ['hotel:73'], maxTtlMs: 30 },
      );
      assert.equal(served, 'first');
      assert.equal(hotels.stats.stale - before.stale, 1);
    });

    it('when a strict entry was invalidated and its loader fails, then the caller gets the loader’s error, not the old value', async () => {
      const before = counts(avail);
      assert.equal(await avail.getOrSet('1', async () => 'free', { tags: ['avail:1'] }), 'free');
      await cache.invalidate(['avail:1']);
      const failure = dbDown();
      await assert.rejects(
        avail.getOrSet(
          '1',
          async () => {
            throw failure;
          },
          { tags: ['avail:1'] },
        ),
        (err) => err === failure,
      );
      // Expired (not invalidated) strict entries are not served stale either.
      await avail.getOrSet('2', async () => 'free', { tags: ['avail:2'], maxTtlMs: 30 });
      await sleep(60);
      await assert.rejects(
        avail.getOrSet(
          '2',
          async () => {
            throw failure;
          },
          { tags: ['avail:2'] },
        ),
        (err) => err === failure,
      );
      assert.equal(avail.stats.stale - before.stale, 0);
      assert.deepEqual(await avail.getOrSet('1', async () => 'booked', { tags: ['avail:1'] }), 'booked');
    });

    it('when a loader throws a 4xx outcome, then the same error object is rethrown, nothing is cached and grace does not hide it', async () => {
      const before = counts(hotels);
      let calls = 0;
      const notFound = outcome(404);
      const missing = async () => {
        calls += 1;
        throw notFound;
      };
      await assert.rejects(hotels.getOrSet('404', missing), (err) => err === notFound);
      await assert.rejects(hotels.getOrSet('404', missing), (err) => err === notFound);
      assert.equal(calls, 2, 'the outcome was not cached: the second call ran the loader again');
      // Concurrent callers share the one load and all get the outcome.
      const all = await Promise.allSettled(Array.from({ length: 5 }, () => hotels.getOrSet('404', missing)));
      assert.equal(calls, 3);
      assert.ok(all.every((r) => r.status === 'rejected' && r.reason === notFound));
      // Once it exists, it is cached.
      assert.equal(await hotels.getOrSet('404', async () => 'now there'), 'now there');
      assert.equal(await hotels.getOrSet('404', missing), 'now there');
      assert.equal(calls, 3);

      // A graceful entry that expired, or was invalidated, is not served for an outcome.
      await hotels.getOrSet('410', async () => 'was there', { tags: ['hotel:410'], maxTtlMs: 30 });
      await sleep(60);
      const gone = outcome(410);
      await assert.rejects(
        hotels.getOrSet(
          '410',
          async () => {
            throw gone;
          },
          { tags: ['hotel:410'] },
        ),
        (err) => err === gone,
      );
      await hotels.getOrSet('409', async () => 'was there', { tags: ['hotel:409'] });
      await cache.invalidate(['hotel:409']);
      const conflict = outcome(409);
      await assert.rejects(
        hotels.getOrSet(
          '409',
          async () => {
            throw conflict;
          },
          { tags: ['hotel:409'] },
        ),
        (err) => err === conflict,
      );
      assert.equal(hotels.stats.stale - before.stale, 0);
    });

    it('when a load started before an invalidation of its tag and ends after it, then its callers get its value but it is not kept', async () => {
      const before = counts(hotels);
      let db = 'old';
      let calls = 0;
      const started = deferred();
      const gate = deferred();
      const slow = async () => {
        calls += 1;
        const read = db;
        started.resolve();
        await gate.promise;
        return read;
      };
      const first = hotels.getOrSet('straddle', slow, { tags: ['hotel:s'] });
      const joined = hotels.getOrSet('straddle', slow, { tags: ['hotel:s'] });
      await started.promise;
      db = 'new';
      await cache.invalidate(['hotel:s']);
      await sleep(5);
      gate.resolve();
      assert.equal(await first, 'old', 'the caller gets what its load read');
      assert.equal(await joined, 'old', 'a caller that joined before the invalidation too');
      assert.equal(hotels.stats.discarded - before.discarded, 1);
      assert.equal(hotels.stats.coalesced - before.coalesced, 1);
      // Not kept: the next read loads again.
      assert.equal(
        await hotels.getOrSet('straddle', async () => db, { tags: ['hotel:s'] }),
        'new',
        'the value read before the invalidation was not kept',
      );
      assert.equal(calls, 1);
      assert.equal(hotels.stats.misses - before.misses, 2);
    });

    it('when callers arrive after an invalidation while an older load still runs, then they do not join it and get the new value', async () => {
      const before = counts(hotels);
      let db = 'old';
      const started = deferred();
      const gate = deferred();
      let oldCalls = 0;
      let newCalls = 0;
      const oldLoad = hotels.getOrSet(
        'late',
        async () => {
          oldCalls += 1;
          const read = db;
          started.resolve();
          await gate.promise;
          return read;
        },
        { tags: ['hotel:late'] },
      );
      await started.promise;
      db = 'new';
      await cache.invalidate(['hotel:late']);
      const late = Array.from({ length: 3 }, () =>
        hotels.getOrSet(
          'late',
          async () => {
            newCalls += 1;
            return db;
          },
          { tags: ['hotel:late'] },
        ),
      );
      await sleep(5);
      gate.resolve();
      assert.equal(await oldLoad, 'old');
      assert.deepEqual(await Promise.all(late), ['new', 'new', 'new']);
      assert.equal(oldCalls, 1);
      assert.equal(newCalls, 1, 'the late callers shared one new load');
      assert.equal(hotels.stats.discarded - before.discarded, 1);
      assert.equal(hotels.stats.coalesced - before.coalesced, 2);
      // What is kept is the new value.
      assert.equal(await hotels.getOrSet('late', async () => 'unused', { tags: ['hotel:late'] }), 'new');
    });

    it('when a namespace or the whole cache is cleared while a load runs, then that load is not kept', async () => {
      const clears = { namespace: () => hotels.clear(), all: () => cache.clear() };
      for (const [what, clear] of Object.entries(clears)) {
        const key = `cleared-${what}`;
        const before = counts(hotels);
        const started = deferred();
        const gate = deferred();
        const load = hotels.getOrSet(
          key,
          async () => {
            started.resolve();
            await gate.promise;
            return 'before the clear';
          },
          { tags: ['hotel:cleared'] },
        );
        await started.promise;
        await clear();
        await sleep(5);
        gate.resolve();
        assert.equal(await load, 'before the clear');
        assert.equal(hotels.stats.discarded - before.discarded, 1, `${what}: the load was not kept`);
        assert.equal(
          await hotels.getOrSet(key, async () => 'after the clear', { tags: ['hotel:cleared'] }),
          'after the clear',
        );
      }
    });
  });
}

// ---- 5. two instances on one Redis ---------------------------------------------------------------

describe('two instances sharing Redis', { skip: skipShared }, () => {
  const caches = cacheTracker();
  let a: Cache;
  let b: Cache;
  let redis: Redis;
  let prefix: string;
  before(async () => {
    assert.equal(sharedProblem, undefined, `Redis at ${SHARED_REDIS}`);
    prefix = uniquePrefix('pair');
    a = await caches.open(cacheOptions(prefix, { redisUrl: SHARED_REDIS }));
    b = await caches.open(cacheOptions(prefix, { redisUrl: SHARED_REDIS }));
    redis = new Redis(SHARED_REDIS);
  });
  after(async () => {
    await caches.closeAll();
    await redis?.quit();
  });

  it('when A loads an entry, then B reads it from Redis; when A invalidates it, then B reads the new value (bus latency measured)', async (t) => {
    const nsA = a.namespace(HOTEL);
    const nsB = b.namespace(HOTEL);
    let db = 0;
    let calls = 0;
    const load = async () => {
      calls += 1;
      return { version: db };
    };
    const opts = { tags: ['hotel:1'] };
    assert.deepEqual(await nsA.getOrSet('1', load, opts), { version: 0 });
    assert.deepEqual(await nsB.getOrSet('1', load, opts), { version: 0 });
    assert.equal(calls, 1, 'B read what A loaded');
    assert.deepEqual(counts(nsA), { ...NONE, misses: 1 });
    assert.deepEqual(counts(nsB), { ...NONE, hitsL2: 1 });

    const latencies: number[] = [];
    for (let round = 1; round <= 20; round++) {
      assert.deepEqual(await nsB.getOrSet('1', load, opts), { version: db }, 'B holds the entry in memory');
      db = round;
      await a.invalidate(['hotel:1']);
      const invalidatedAt = performance.now();
      // A's own memory no longer answers with it once invalidate() resolved.
      assert.deepEqual(await nsA.getOrSet('1', load, opts), { version: round });
      for (;;) {
        const seen = (await nsB.getOrSet('1', load, opts)) as { version: number };
        if (seen.version === round) break;
        assert.equal(seen.version, round - 1);
        if (performance.now() - invalidatedAt > 2_000) assert.fail(`B still had version ${seen.version}`);
        await sleep(1);
      }
      latencies.push(performance.now() - invalidatedAt);
    }
    latencies.sort((x, y) => x - y);
    const p50 = latencies[Math.floor(latencies.length / 2)] ?? 0;
    const max = latencies.at(-1) ?? 0;
    const line = `bus latency A.invalidate() -> B sees new data over ${latencies.length} rounds: p50 ${p50.toFixed(1)} ms, max ${max.toFixed(1)} ms`;
    console.log(line);
    t.diagnostic(line);
    assert.ok(max < 1_000, line);
    assert.equal(b.snapshot().invalidations.remote >= 20, true);
  });

  it('when B’s slow load (200 ms) read the database before A’s write and ends after A’s invalidation, then both soon answer the new value', async () => {
    const nsA = a.namespace(AVAIL);
    const nsB = b.namespace(AVAIL);
    let db = 'old';
    const started = deferred();
    const discardedBefore = nsB.stats.discarded;
    const slow = nsB.getOrSet(
      'slow',
      async () => {
        const read = db;
        started.resolve();
        await sleep(200);
        return read;
      },
      { tags: ['avail:slow'] },
    );
    await started.promise;
    db = 'new';
    await a.invalidate(['avail:slow']);
    assert.equal(await slow, 'old', 'B’s caller gets what its load read');
    assert.equal(nsB.stats.discarded - discardedBefore, 1, 'the bus told B before its load ended');
    const load = async () => db;
    await until('A and B answer the new value', 1_000, async () => {
      const [fromA, fromB] = [
        await nsA.getOrSet('slow', load, { tags: ['avail:slow'] }),
        await nsB.getOrSet('slow', load, { tags: ['avail:slow'] }),
      ];
      return fromA === 'new' && fromB === 'new';
    });
  });

  it('when A empties the whole cache while B’s load runs, then B’s load is not kept and both answer the new value', async () => {
    const nsA = a.namespace(AVAIL);
    const nsB = b.namespace(AVAIL);
    let db = 'before the clear';
    const started = deferred();
    const discardedBefore = nsB.stats.discarded;
    const remoteBefore = b.snapshot().invalidations.remote;
    const slow = nsB.getOrSet(
      'cleared',
      async () => {
        const read = db;
        started.resolve();
        await sleep(100);
        return read;
      },
      { tags: ['avail:cleared'] },
    );
    await started.promise;
    db = 'after the clear';
    await a.clear();
    assert.equal(await slow, 'before the clear');
    const load = async () => db;
    assert.equal(await nsA.getOrSet('cleared', load, { tags: ['avail:cleared'] }), 'after the clear');
    assert.equal(await nsB.getOrSet('cleared', load, { tags: ['avail:cleared'] }), 'after the clear');
    assert.equal(b.snapshot().invalidations.remote, remoteBefore + 1, 'B heard of the clear');
    assert.equal(nsB.stats.discarded - discardedBefore, 1);
  });

  it('when B stores a value read before A’s write just after A’s invalidation reached Redis, then the bus message deletes it and both answer the new value', async (t) => {
    // B's load returns the moment A's invalidation is in Redis, before A's bus message reaches B:
    // B stores an entry stamped after the invalidation, and only the recent-writes sweep removes it.
    const nsA = a.namespace(AVAIL);
    const nsB = b.namespace(AVAIL);
    let swept = 0;
    for (let round = 0; round < 10 && swept === 0; round++) {
      const tag = `avail:race-${round}`;
      // bentocache keeps a tag's invalidation time under `<prefix>:___bc:t:<tag>`.
      const tagKey = `${prefix}:___bc:t:${tag}`;
      let db = 'old';
      const started = deferred();
      const discardedBefore = nsB.stats.discarded;
      const racing = nsB.getOrSet(
        `race-${round}`,
        async () => {
          const read = db;
          started.resolve();
          const giveUp = Date.now() + 2_000;
          while ((await redis.exists(tagKey)) === 0 && Date.now() < giveUp) await Promise.resolve();
          return read;
        },
        { tags: [tag] },
      );
      await started.promise;
      db = 'new';
      await a.invalidate([tag]);
      assert.equal(await racing, 'old');
      const stored = nsB.stats.discarded === discardedBefore;
      if (stored) swept += 1;
      const load = async () => db;
      await until(`round ${round}: A and B answer the new value`, 1_000, async () => {
        const fromA = await nsA.getOrSet(`race-${round}`, load, { tags: [tag] });
        const fromB = await nsB.getOrSet(`race-${round}`, load, { tags: [tag] });
        return fromA === 'new' && fromB === 'new';
      });
    }
    t.diagnostic(`rounds where B stored the stale value and the sweep removed it: ${swept}`);
    assert.ok(swept > 0, 'the race was never reproduced: B never stored before the bus message');
  });
});

// ---- 6. getMany / setMany ------------------------------------------------------------------------

for (const { tier, redisUrl, skip } of TIERS) {
  describe(`cache getMany and setMany (${tier})`, { skip }, () => {
    const caches = cacheTracker();
    let cache: Cache;
    let rooms: CacheNamespace;
    before(async () => {
      cache = await caches.open(cacheOptions(uniquePrefix('many'), { redisUrl }));
      rooms = cache.namespace({ name: 'room', ttl: 'MEDIUM', mode: 'strict', description: 'test: rooms' });
    });
    after(() => caches.closeAll());

    const item = (id: number) => ({ key: `${id}`, tags: [`room:${id}`] });
    const row = (id: number, version = 1) => ({ id, version });

    it('when some keys are cached, then loadMissing gets exactly the missing indexes, in order, and they are kept', async () => {
      await rooms.setMany([
        { key: '1', value: row(1), tags: ['room:1'] },
        { key: '3', value: row(3), tags: ['room:3'] },
      ]);
      const asked: number[][] = [];
      const items = [0, 1, 2, 3, 4].map(item);
      const loadMissing = async (missing: number[]) => {
        asked.push(missing);
        return missing.map((i) => row(i));
      };
      assert.deepEqual(
        await rooms.getMany(items, loadMissing),
        [0, 1, 2, 3, 4].map((i) => row(i)),
      );
      assert.deepEqual(asked, [[0, 2, 4]]);
      assert.equal(rooms.stats.misses, 3);
      // Everything is cached now: loadMissing is not called at all.
      assert.deepEqual(
        await rooms.getMany(items, loadMissing),
        [0, 1, 2, 3, 4].map((i) => row(i)),
      );
      assert.deepEqual(asked, [[0, 2, 4]]);
      assert.equal(rooms.stats.misses, 3);
      assert.equal(rooms.stats.hitsL1, 2 + 5);
      // getOrSet sees what getMany kept.
      assert.deepEqual(await rooms.getOrSet('4', async () => row(4, 99), { tags: ['room:4'] }), row(4));
    });

    it('when an item’s tag is invalidated, then only that item is loaded again', async () => {
      await cache.invalidate(['room:2']);
      const asked: number[][] = [];
      const values = await rooms.getMany([0, 1, 2, 3, 4].map(item), async (missing) => {
        asked.push(missing);
        return missing.map((i) => row(i, 2));
      });
      assert.deepEqual(asked, [[2]]);
      assert.deepEqual(values, [row(0), row(1), row(2, 2), row(3), row(4)]);
    });

    it('when a tag (or the namespace) is invalidated while loadMissing runs, then its values are returned but not kept', async () => {
      for (const [what, invalidate] of Object.entries({
        tag: () => cache.invalidate(['room:10']),
        namespace: () => rooms.clear(),
      })) {
        const ids = what === 'tag' ? [10, 11] : [20, 21];
        const items = ids.map(item);
        const gate = deferred();
        const started = deferred();
        const discardedBefore = rooms.stats.discarded;
        const pending = rooms.getMany(items, async (missing) => {
          started.resolve();
          await gate.promise;
          return missing.map((i) => row(ids[i] ?? -1));
        });
        await started.promise;
        await invalidate();
        await sleep(5);
        gate.resolve();
        assert.deepEqual(
          await pending,
          ids.map((id) => row(id)),
          `${what}: the values are returned`,
        );
        const asked: number[][] = [];
        await rooms.getMany(items, async (missing) => {
          asked.push(missing);
          return missing.map((i) => row(ids[i] ?? -1));
        });
        const notKept = what === 'tag' ? [0] : [0, 1];
        assert.deepEqual(asked, [notKept], `${what}: what was invalidated meanwhile was not kept`);
        assert.equal(rooms.stats.discarded - discardedBefore, notKept.length);
      }
    });
  });
}

// ---- 7. the Redis tier's serializer --------------------------------------------------------------

describe('L2 serializer', () => {
  const s = l2Serializer(1024);

  it('when a value is below compressMinBytes as JSON, then it is stored as "j" + JSON', () => {
    const value = { value: { d: 'x'.repeat(900) }, createdAt: 1 };
    const text = s.serialize(value);
    assert.equal(text, `j${JSON.stringify(value)}`);
    assert.deepEqual(s.deserialize(text), value);
  });

  it('when a value reaches compressMinBytes, then it is stored as "b" + base64 Brotli, much smaller, and round-trips', () => {
    const justBelow = 'y'.repeat(1024 - JSON.stringify('').length - 1);
    assert.equal(s.serialize(justBelow).charAt(0), 'j', `${JSON.stringify(justBelow).length} chars`);
    const atThreshold = `${justBelow}y`;
    assert.equal(JSON.stringify(atThreshold).length, 1024);
    assert.equal(s.serialize(atThreshold).charAt(0), 'b');

    const rows = Array.from({ length: 200 }, (_, i) => ({
      id: i,
      name: `Hotel ${i}`,
      city: 'Lisbon',
      stars: 4,
    }));
    const json = JSON.stringify(rows);
    const text = s.serialize(rows);
    assert.match(text, /^b[A-Za-z0-9+/]+=*$/);
    assert.ok(text.length < json.length / 4, `${text.length} vs ${json.length}`);
    assert.deepEqual(s.deserialize(text), rows);
  });

  it('when a value holds Buffers (top level, nested, empty), then they come back as equal Buffers, compressed or not', () => {
    const binary = Buffer.from(Array.from({ length: 3000 }, (_, i) => (i * 37) % 256));
    for (const value of [
      Buffer.from('hello'),
      { body: Buffer.from('gzip bytes'), parts: [Buffer.alloc(0), Buffer.from([0, 255])], etag: '"1"' },
      { body: binary, headers: { 'content-encoding': 'br' } },
    ]) {
      const text = s.serialize(value);
      const back = s.deserialize(text);
      assert.deepEqual(back, value);
    }
    const big = s.deserialize(s.serialize({ body: binary })) as { body: Buffer };
    assert.ok(Buffer.isBuffer(big.body));
    assert.ok(big.body.equals(binary));
  });

  it('when the text has no marker (written by plain JSON), then it is read as JSON; compressMinBytes 0 always compresses', () => {
    assert.deepEqual(s.deserialize('{"a":1}'), { a: 1 });
    assert.deepEqual(s.deserialize('[1,2]'), [1, 2]);
    const always = l2Serializer(0);
    assert.equal(always.serialize({ a: 1 }).charAt(0), 'b');
    assert.deepEqual(always.deserialize(always.serialize({ a: 1 })), { a: 1 });
    assert.deepEqual(s.deserialize(s.serialize('ünïcødé ✓ 🏨')), 'ünïcødé ✓ 🏨');
  });
});

describe('values through Redis: compression and Buffers', { skip: skipShared }, () => {
  const caches = cacheTracker();
  let redis: Redis;
  after(async () => {
    await caches.closeAll();
    await redis?.quit();
  });

  it('when a 20 KB value and a value holding Buffers are stored, then another instance reads them intact and Redis holds them compressed', async () => {
    assert.equal(sharedProblem, undefined, `Redis at ${SHARED_REDIS}`);
    redis = new Redis(SHARED_REDIS);
    const prefix = uniquePrefix('zip');
    const writer = await caches.open(cacheOptions(prefix, { redisUrl: SHARED_REDIS }));
    const reader = await caches.open(cacheOptions(prefix, { redisUrl: SHARED_REDIS }));
    const pages = {
      name: 'page',
      ttl: 'SHORT',
      mode: 'graceful',
      grace: 'LONG',
      description: 'test',
    } as const;

    const big = {
      hotels: Array.from({ length: 230 }, (_, i) => ({
        id: i,
        name: `Hotel number ${i}`,
        city: ['Lisbon', 'Porto', 'Faro'][i % 3],
        amenities: ['wifi', 'pool', 'parking'],
      })),
    };
    const bigJson = JSON.stringify(big);
    assert.ok(bigJson.length >= 20_000 && bigJson.length < 25_000, `${bigJson.length} chars`);
    const binary = Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 131 + 7) % 256));
    const body = { status: 200, body: binary, small: Buffer.from('ok'), headers: { etag: '"abc"' } };
    const small = { id: 1, name: 'tiny' };

    const store = writer.namespace(pages);
    await store.getOrSet('big', async () => big);
    await store.getOrSet('body', async () => body);
    await store.getOrSet('small', async () => small);

    const read = reader.namespace(pages);
    const never = async (): Promise<never> => assert.fail('the reader must not load: the value is in Redis');
    assert.deepEqual(await read.getOrSet('big', never), big);
    const gotBody = (await read.getOrSet('body', never)) as typeof body;
    assert.ok(Buffer.isBuffer(gotBody.body) && gotBody.body.equals(binary), 'the Buffer survived');
    assert.ok(Buffer.isBuffer(gotBody.small) && gotBody.small.equals(Buffer.from('ok')));
    assert.deepEqual(gotBody, body);
    assert.deepEqual(await read.getOrSet('small', never), small);
    assert.equal(read.stats.hitsL2, 3);

    const keys = await keysOf(redis, `${prefix}:`);
    const keyOf = (name: string) => {
      const found = keys.find((k) => k.endsWith(`page:${name}`));
      assert.ok(found, `a Redis key for page:${name} among ${keys.join(', ')}`);
      return found;
    };
    const storedBig = await redis.get(keyOf('big'));
    const storedBody = await redis.get(keyOf('body'));
    const storedSmall = await redis.get(keyOf('small'));
    assert.ok(storedBig && storedBody && storedSmall);
    assert.equal(storedBig.charAt(0), 'b');
    assert.ok(
      storedBig.length < bigJson.length / 5,
      `stored ${storedBig.length} chars for ${bigJson.length}`,
    );
    assert.equal(storedBody.charAt(0), 'b', 'the Buffer value is over compressMinBytes as JSON');
    assert.equal(storedSmall.charAt(0), 'j');
    assert.ok(storedSmall.includes('"tiny"'));
  });
});

// ---- 8. memory bounds ----------------------------------------------------------------------------

describe('memory tier bounds and per-namespace figures', () => {
  const caches = cacheTracker();
  after(() => caches.closeAll());

  /** The figures per namespace must add up to the memory tier's own. */
  function assertConsistent(cache: Cache) {
    const snap = cache.snapshot();
    for (const ns of snap.namespaces) {
      assert.ok(ns.entries >= 0, `${ns.namespace}: ${ns.entries} entries`);
      assert.ok(ns.bytes >= 0, `${ns.namespace}: ${ns.bytes} bytes`);
    }
    const entries = snap.namespaces.reduce((sum, ns) => sum + ns.entries, 0);
    const bytes = snap.namespaces.reduce((sum, ns) => sum + ns.bytes, 0);
    assert.equal(entries, snap.memory.entries, 'entries per namespace add up');
    assert.equal(bytes, snap.memory.bytes, 'bytes per namespace add up');
    assert.ok(snap.memory.entries <= snap.memory.maxEntries, `${snap.memory.entries} entries`);
    assert.ok(snap.memory.bytes <= snap.memory.maxBytes, `${snap.memory.bytes} bytes`);
    return snap;
  }

  it('when more entries than l1MaxEntries are filled, then the oldest are evicted and counted', async () => {
    const cache = await caches.open(cacheOptions(uniquePrefix('bound'), { l1MaxEntries: 10 }));
    const hotels = cache.namespace(HOTEL);
    for (let i = 0; i < 30; i++) await hotels.getOrSet(`${i}`, async () => ({ id: i }));
    const snap = assertConsistent(cache);
    assert.equal(snap.memory.entries, 10);
    assert.equal(hotels.stats.entries, 10);
    assert.equal(hotels.stats.evictions, 20);
    // The newest are kept, the oldest went.
    let calls = 0;
    await hotels.getOrSet('29', async () => {
      calls += 1;
      return { id: 29 };
    });
    await hotels.getOrSet('0', async () => {
      calls += 1;
      return { id: 0 };
    });
    assert.equal(calls, 1);
    assertConsistent(cache);
  });

  it('when more bytes than l1MaxMb are filled, then entries are evicted by size; one larger than a quarter is not kept at all', async () => {
    const cache = await caches.open(cacheOptions(uniquePrefix('bytes'), { l1MaxMb: 1, l1MaxEntries: 1000 }));
    const pages = cache.namespace({ name: 'page', ttl: 'SHORT', mode: 'strict', description: 'test' });
    const hotels = cache.namespace(HOTEL);
    const text = (n: number, c: string) => c.repeat(n);
    for (let i = 0; i < 8; i++) await pages.getOrSet(`${i}`, async () => text(200_000, 'p'));
    await hotels.getOrSet('1', async () => ({ id: 1 }));
    let snap = assertConsistent(cache);
    // Each page is charged its JSON's length (200 002) plus its key: five fit in 1 MiB, six do not.
    assert.equal(pages.stats.evictions, 3);
    assert.equal(pages.stats.entries, 5);
    assert.ok(snap.memory.bytes > 800_000, `${snap.memory.bytes} bytes`);

    // 300 000 bytes is over a quarter of 1 MiB: answered, never kept in memory.
    let calls = 0;
    const huge = async () => {
      calls += 1;
      return text(300_000, 'h');
    };
    const entriesBefore = snap.memory.entries;
    assert.equal((await pages.getOrSet('huge', huge)).length, 300_000);
    assert.equal(cache.snapshot().memory.entries, entriesBefore);
    assertConsistent(cache);
    // (With Redis it would be read from there; memory only, it is loaded again.)
    await pages.getOrSet('huge', huge);
    assert.equal(calls, 2);

    // A caller that knows a value's size (the response cache: its buffers) has it charged that size;
    // a `size` field in the value itself means nothing.
    await hotels.getOrSet('sized', async () => ({ bytes: 150_000, body: 'short' }), {
      sizeOf: (v: { bytes: number }) => v.bytes,
    });
    await hotels.getOrSet('claims', async () => ({ size: 10_000_000, body: 'short' }));
    snap = assertConsistent(cache);
    assert.ok(hotels.stats.bytes >= 150_000, `${hotels.stats.bytes} bytes`);
    assert.ok(hotels.stats.bytes < 200_000, `a size field is not trusted: ${hotels.stats.bytes} bytes`);
  });

  it('when a cached value has a `size` field that is not a whole number of bytes, then it is cached all the same', async () => {
    const cache = await caches.open(cacheOptions(uniquePrefix('odd-size')));
    const rooms = cache.namespace({ name: 'room', ttl: 'LONG', mode: 'strict', description: 'test' });
    const values = [
      { name: 'Suite', size: 120.5 },
      { name: 'Loft', size: -3 },
      { name: 'Attic', size: Number.NaN },
      { name: 'Hall', size: Number.POSITIVE_INFINITY },
    ];
    for (const [i, value] of values.entries()) {
      assert.deepEqual(await rooms.getOrSet(`${i}`, async () => value), value);
      assert.deepEqual(await rooms.getOrSet(`${i}`, async () => assert.fail('kept')), value);
    }
    assert.equal(rooms.stats.entries, values.length);
    assertConsistent(cache);
  });

  it('when entries are replaced, expire or are cleared, then entries and bytes per namespace stay exact', async () => {
    const cache = await caches.open(cacheOptions(uniquePrefix('replace'), { l1MaxEntries: 1000 }));
    const pages = cache.namespace({ name: 'page', ttl: 'SHORT', mode: 'strict', description: 'test' });
    await pages.setMany([{ key: 'a', value: 'x'.repeat(5000) }]);
    const first = assertConsistent(cache);
    await pages.setMany([{ key: 'a', value: 'x'.repeat(100) }]);
    const replaced = assertConsistent(cache);
    assert.equal(pages.stats.entries, 1);
    assert.equal(replaced.memory.entries, first.memory.entries);
    assert.ok(pages.stats.bytes < 1000, `${pages.stats.bytes} bytes after replacing 5000 by 100`);
    await pages.setMany([{ key: 'a', value: 'x'.repeat(5000) }]);
    assert.equal(pages.stats.bytes, first.namespaces.find((n) => n.namespace === 'page')?.bytes);

    // Expired entries leave memory when they are next read.
    await pages.getOrSet('short', async () => 'y'.repeat(2000), { maxTtlMs: 20 });
    assert.equal(pages.stats.entries, 2);
    await sleep(40);
    await pages.getOrSet('short', async () => 'z', { maxTtlMs: 20 });
    assertConsistent(cache);
    assert.equal(pages.stats.entries, 2);

    // Invalidation and the namespace's clear keep the figures exact; a full clear empties them.
    await pages.getOrSet('t', async () => 'tagged', { tags: ['t:1'] });
    await cache.invalidate(['t:1']);
    await pages.getOrSet('t', async () => 'tagged again', { tags: ['t:1'] });
    await pages.clear();
    await pages.getOrSet('a', async () => 'reloaded');
    assertConsistent(cache);
    await cache.clear();
    const empty = assertConsistent(cache);
    assert.equal(empty.memory.entries, 0);
    assert.equal(empty.memory.bytes, 0);
    for (const ns of empty.namespaces)
      assert.deepEqual([ns.namespace, ns.entries, ns.bytes], [ns.namespace, 0, 0]);
  });
});

// ---- 9. Redis killed and restored ----------------------------------------------------------------

/**
 * Records what would reach the terminal or crash the process meanwhile: ioredis prints
 * "[ioredis] Unhandled error event" (console.error) for a connection without an error listener.
 */
function watchProcessNoise() {
  const noise: string[] = [];
  const originalError = console.error;
  const originalWrite = process.stderr.write;
  console.error = (...args: unknown[]) => {
    noise.push(`console.error: ${args.map(String).join(' ')}`);
  };
  process.stderr.write = ((chunk: string | Uint8Array, ...rest: never[]) => {
    const text = chunk.toString();
    if (/ioredis|Unhandled error event/i.test(text)) noise.push(`stderr: ${text}`);
    return originalWrite.call(process.stderr, chunk, ...rest);
  }) as typeof process.stderr.write;
  const onRejection = (reason: unknown) => noise.push(`unhandledRejection: ${String(reason)}`);
  const onException = (err: Error) => noise.push(`uncaughtException: ${err.stack ?? err.message}`);
  process.on('unhandledRejection', onRejection);
  process.on('uncaughtException', onException);
  return {
    noise,
    stop() {
      console.error = originalError;
      process.stderr.write = originalWrite;
      process.off('unhandledRejection', onRejection);
      process.off('uncaughtException', onException);
    },
  };
}

describe('Redis killed and restored', { skip: skipOwnServer }, () => {
  const caches = cacheTracker();
  let server: Awaited<ReturnType<typeof startRedisServer>>;
  let watch: ReturnType<typeof watchProcessNoise>;
  before(async () => {
    server = await startRedisServer();
    watch = watchProcessNoise();
  });
  after(async () => {
    await caches.closeAll();
    watch?.stop();
    await server?.stop();
  });

  it('when Redis is killed, then both instances keep answering, strict namespaces read the loader, and after the restart nobody serves what was invalidated meanwhile', async () => {
    const prefix = uniquePrefix('fault');
    // A long command timeout: a lookup that waited on Redis while it is away would show.
    const options = cacheOptions(prefix, { redisUrl: server.url, l2TimeoutMs: 1_000, l2BreakerMs: 200 });
    const a = await caches.open(options);
    const b = await caches.open(options);
    const db = { hotel1: 'hotel 1 v1', hotel2: 'hotel 2 v1', avail1: 'avail 1 v1' };
    let loads = 0;
    const read = (key: keyof typeof db) => async () => {
      loads += 1;
      return db[key];
    };
    const lookups = (cache: Cache) => ({
      hotel1: () => cache.namespace(HOTEL).getOrSet('1', read('hotel1'), { tags: ['hotel:1'] }),
      hotel2: () => cache.namespace(HOTEL).getOrSet('2', read('hotel2'), { tags: ['hotel:2'] }),
      avail1: () => cache.namespace(AVAIL).getOrSet('1', read('avail1'), { tags: ['avail:1'] }),
    });
    const onA = lookups(a);
    const onB = lookups(b);
    // Seed both memory tiers (B reads what A loaded, through Redis).
    for (const lookup of [onA, onB]) {
      assert.equal(await lookup.hotel1(), 'hotel 1 v1');
      assert.equal(await lookup.hotel2(), 'hotel 2 v1');
      assert.equal(await lookup.avail1(), 'avail 1 v1');
    }
    assert.equal(loads, 3);
    assert.equal(b.namespace(HOTEL).stats.hitsL2, 2);

    await server.kill();
    const killedAt = Date.now();
    await until('both instances see Redis down', 3_000, () => a.redis === 'down' && b.redis === 'down');
    const detectedMs = Date.now() - killedAt;
    assert.equal(a.coherent, false);
    assert.equal(b.coherent, false);

    // While it is away: nothing throws; graceful entries come from memory, strict ones from the loader.
    const slowest = { ms: 0, what: '' };
    const timed = async <T>(what: string, run: () => Promise<T>): Promise<T> => {
      const started = performance.now();
      const value = await run();
      const ms = performance.now() - started;
      if (ms > slowest.ms) Object.assign(slowest, { ms, what });
      return value;
    };
    for (const [name, lookup, cache] of [
      ['A', onA, a],
      ['B', onB, b],
    ] as const) {
      const strict = cache.namespace(AVAIL).stats;
      const bypassedBefore = strict.bypassed;
      const loadsBefore: number = loads;
      assert.equal(await timed(`${name} graceful`, lookup.hotel1), 'hotel 1 v1');
      assert.equal(loads, loadsBefore, `${name}: the graceful entry came from memory`);
      assert.equal(await timed(`${name} strict`, lookup.avail1), 'avail 1 v1');
      assert.equal(loads, loadsBefore + 1, `${name}: the strict lookup went to the loader`);
      assert.equal(strict.bypassed, bypassedBefore + 1);
      assert.equal(
        await timed(`${name} new key`, () =>
          cache.namespace(HOTEL).getOrSet(`new-${name}`, async () => 'loaded while away'),
        ),
        'loaded while away',
      );
    }

    // Lookups that could not read Redis invalidated nothing: there is nothing to write back yet.
    assert.equal(a.snapshot().invalidations.pendingReplay, 0);
    assert.equal(b.snapshot().invalidations.pendingReplay, 0);

    // A writes hotel 2 and invalidates it while Redis is away.
    db.hotel2 = 'hotel 2 v2';
    await timed('A invalidate', () => a.invalidate(['hotel:2']));
    assert.equal(a.snapshot().invalidations.pendingReplay, 1);
    assert.equal(await timed('A invalidated read', onA.hotel2), 'hotel 2 v2', 'A itself knows at once');
    await timed('A invalidated read again', onA.hotel2);
    assert.ok(
      slowest.ms < 500,
      `a lookup took ${slowest.ms.toFixed(0)} ms while Redis was away (${slowest.what})`,
    );

    await sleep(300);
    await server.restart();
    const restartedAt = Date.now();
    assert.equal(await a.ready(6_000), true, 'A is back');
    assert.equal(await b.ready(6_000), true, 'B is back');
    const backMs = Date.now() - restartedAt;
    assert.equal(a.redis, 'up');
    assert.equal(b.redis, 'up');
    assert.equal(a.snapshot().invalidations.pendingReplay, 0, 'A wrote its invalidation to Redis');

    // Neither serves the entry invalidated while Redis was away.
    assert.equal(await onA.hotel2(), 'hotel 2 v2');
    assert.equal(await onB.hotel2(), 'hotel 2 v2');
    // Strict namespaces use the cache again.
    const strictB = b.namespace(AVAIL).stats;
    const bypassed = strictB.bypassed;
    await onB.avail1();
    await onB.avail1();
    assert.equal(strictB.bypassed, bypassed);
    assert.ok(strictB.hitsL1 + strictB.hitsL2 >= 1);
    console.log(`redis down detected in ${detectedMs} ms; both instances up ${backMs} ms after the restart`);
    assert.deepEqual(watch.noise, []);
  });

  it('when Redis stalls without going away, then an entry invalidated just before is not served, during the stall or after it', async () => {
    const options = cacheOptions(uniquePrefix('stall'), {
      redisUrl: server.url,
      l2TimeoutMs: 100,
      l2BreakerMs: 200,
    });
    const a = await caches.open(options);
    const b = await caches.open(options);
    let db = 'v1';
    const load = async () => db;
    const strict = { tags: ['avail:stall'] };
    const graceful = { tags: ['hotel:stall'] };
    assert.equal(await a.namespace(AVAIL).getOrSet('stall', load, strict), 'v1');
    assert.equal(await a.namespace(HOTEL).getOrSet('stall', load, graceful), 'v1');
    // B reads both through Redis: they are in its memory now, and so are their tags' times.
    assert.equal(await b.namespace(AVAIL).getOrSet('stall', load, strict), 'v1');
    assert.equal(await b.namespace(HOTEL).getOrSet('stall', load, graceful), 'v1');
    db = 'v2';
    const heard = b.snapshot().invalidations.remote;
    await a.invalidate(['avail:stall', 'hotel:stall']);
    await until('B heard of the invalidation', 1_000, () => b.snapshot().invalidations.remote > heard);

    const admin = new Redis(server.url);
    try {
      // Redis answers nothing for 400 ms; the connections stay up. B must read the tags' new times
      // from Redis, and cannot within its 100 ms timeout.
      await admin.client('PAUSE', 400, 'ALL');
      assert.equal(
        await b.namespace(AVAIL).getOrSet('stall', load, strict),
        'v2',
        'strict, during the stall',
      );
      assert.equal(b.redis, 'up', 'the connections stayed up');
      await sleep(500);
      assert.equal(await b.namespace(AVAIL).getOrSet('stall', load, strict), 'v2', 'strict, after the stall');
      assert.equal(await b.ready(3_000), true, 'B trusts its memory again');
      assert.equal(await b.namespace(AVAIL).getOrSet('stall', load, strict), 'v2', 'strict, once resynced');
      assert.equal(
        await b.namespace(HOTEL).getOrSet('stall', load, graceful),
        'v2',
        'graceful, once resynced',
      );
    } finally {
      await admin.quit();
    }
    assert.deepEqual(watch.noise, []);
  });

  it('when an instance invalidates while its breaker skips a stalled Redis, then the other instance is told once Redis answers', async () => {
    const options = cacheOptions(uniquePrefix('breaker'), {
      redisUrl: server.url,
      l2TimeoutMs: 100,
      l2BreakerMs: 300,
    });
    const a = await caches.open(options);
    const b = await caches.open(options);
    let db = 'v1';
    const load = async () => db;
    const opts = { tags: ['hotel:breaker'] };
    assert.equal(await a.namespace(HOTEL).getOrSet('breaker', load, opts), 'v1');
    assert.equal(await b.namespace(HOTEL).getOrSet('breaker', load, opts), 'v1');

    const admin = new Redis(server.url);
    try {
      await admin.client('PAUSE', 150, 'ALL');
      // A's lookup of a key it does not hold times out on Redis: A's breaker opens for 300 ms.
      assert.equal(await a.namespace(HOTEL).getOrSet('other', async () => 'x'), 'x');
      assert.ok(a.namespace(HOTEL).stats.errors + a.stats.of('tags').errors > 0, 'A saw Redis fail');
      // A writes and invalidates while its breaker still skips Redis (the link is up all along).
      db = 'v2';
      await a.invalidate(['hotel:breaker']);
      assert.equal(await a.namespace(HOTEL).getOrSet('breaker', load, opts), 'v2');
      assert.equal(await a.ready(3_000), true);
      await until('B answers what A invalidated while its breaker was open', 1_000, async () => {
        return (await b.namespace(HOTEL).getOrSet('breaker', load, opts)) === 'v2';
      });
    } finally {
      await admin.quit();
    }
    assert.deepEqual(watch.noise, []);
  });

  it('when a cache starts while Redis is away, then it answers without crashing and, once Redis is up, hears other instances', async () => {
    await server.kill();
    const options = cacheOptions(uniquePrefix('late'), { redisUrl: server.url });
    const late = await caches.open(options, recordingLogger(), { waitForRedis: false });
    assert.equal(await late.ready(300), false);
    assert.equal(late.redis, 'down');
    let db = 'v1';
    let loads = 0;
    const load = async () => {
      loads += 1;
      return db;
    };
    const opts = { tags: ['hotel:late'] };
    assert.equal(await late.namespace(HOTEL).getOrSet('late', load, opts), 'v1');
    assert.equal(await late.namespace(AVAIL).getOrSet('late', load, opts), 'v1');
    assert.equal(late.namespace(AVAIL).stats.bypassed, 1);
    // Past the first reconnect attempts (where the bus's SUBSCRIBE used to be rejected, unhandled).
    await sleep(700);
    assert.deepEqual(watch.noise, []);

    await server.restart();
    assert.equal(await late.ready(6_000), true, 'it reached Redis once Redis was back');
    const other = await caches.open(options);
    assert.equal(await late.namespace(HOTEL).getOrSet('late', load, opts), 'v1');
    const loadsBefore = loads;
    assert.equal(await late.namespace(HOTEL).getOrSet('late', load, opts), 'v1');
    assert.equal(loads, loadsBefore, 'kept');
    db = 'v2';
    await other.invalidate(['hotel:late']);
    await until('the late starter hears the other instance’s invalidation', 1_000, async () => {
      return (await late.namespace(HOTEL).getOrSet('late', load, opts)) === 'v2';
    });
    assert.deepEqual(watch.noise, []);
  });

  it('when a cache that never reached Redis is closed, then close() resolves promptly', async () => {
    await server.kill();
    const cache = new Cache(cacheOptions(uniquePrefix('never'), { redisUrl: server.url }), recordingLogger());
    assert.equal(await cache.namespace(HOTEL).getOrSet('1', async () => 'v'), 'v');
    await cache.invalidate(['hotel:1']);
    await sleep(400);
    const started = performance.now();
    await cache.close();
    const ms = performance.now() - started;
    assert.ok(ms < 1_000, `close() took ${ms.toFixed(0)} ms`);
    await sleep(400);
    await server.restart();
    assert.deepEqual(watch.noise, []);
  });

  it('when a cache is closed while Redis is away, then close() resolves promptly', async () => {
    const cache = await caches.open(cacheOptions(uniquePrefix('close-down'), { redisUrl: server.url }));
    await cache.namespace(HOTEL).getOrSet('1', async () => 'v', { tags: ['hotel:1'] });
    await server.kill();
    await until('Redis down', 3_000, () => cache.redis === 'down');
    await cache.invalidate(['hotel:1']);
    await cache.namespace(HOTEL).getOrSet('1', async () => 'v2', { tags: ['hotel:1'] });
    const started = performance.now();
    await cache.close();
    const ms = performance.now() - started;
    assert.ok(ms < 1_000, `close() took ${ms.toFixed(0)} ms`);
    await server.restart();
    assert.deepEqual(watch.noise, []);
  });
});

describe('one instance loses its network to Redis while the other keeps it', { skip: skipOwnServer }, () => {
  const caches = cacheTracker();
  let server: Awaited<ReturnType<typeof startRedisServer>>;
  let proxy: Awaited<ReturnType<typeof startTcpProxy>>;
  before(async () => {
    server = await startRedisServer();
    proxy = await startTcpProxy(server.port);
  });
  after(async () => {
    await caches.closeAll();
    await proxy?.close();
    await server?.stop();
  });

  it('when A invalidates while only A is cut off, then on reconnect A’s replayed invalidation reaches B', async () => {
    const prefix = uniquePrefix('partition');
    const a = await caches.open(cacheOptions(prefix, { redisUrl: proxy.url }));
    const b = await caches.open(cacheOptions(prefix, { redisUrl: server.url }));
    let db = 'v1';
    const load = async () => db;
    const opts = { tags: ['hotel:9'] };
    assert.equal(await a.namespace(HOTEL).getOrSet('9', load, opts), 'v1');
    assert.equal(await b.namespace(HOTEL).getOrSet('9', load, opts), 'v1');

    await proxy.cut();
    await until('A sees Redis down', 3_000, () => a.redis === 'down');
    assert.equal(b.redis, 'up');
    db = 'v2';
    await a.invalidate(['hotel:9']);
    assert.equal(await a.namespace(HOTEL).getOrSet('9', load, opts), 'v2');
    // B cannot know yet (Redis never heard of it); it is told once A is back.
    assert.equal(await b.namespace(HOTEL).getOrSet('9', load, opts), 'v1');

    await proxy.restore();
    assert.equal(await a.ready(6_000), true, 'A is back');
    await until('B answers the value A invalidated while it was cut off', 1_000, async () => {
      return (await b.namespace(HOTEL).getOrSet('9', load, opts)) === 'v2';
    });
    assert.equal(await a.namespace(HOTEL).getOrSet('9', load, opts), 'v2');
  });
});

// ---- 10. disabled --------------------------------------------------------------------------------

describe('disabled cache', () => {
  it('when the cache is disabled, then every lookup runs the loader and nothing is counted', async () => {
    const cache = new Cache(
      cacheOptions(uniquePrefix('off'), { enabled: false, redisUrl: SHARED_REDIS }),
      recordingLogger(),
    );
    try {
      const hotels = cache.namespace(HOTEL);
      let calls = 0;
      const load = async () => {
        calls += 1;
        return calls;
      };
      assert.equal(await hotels.getOrSet('1', load), 1);
      assert.equal(await hotels.getOrSet('1', load), 2);
      assert.deepEqual(await Promise.all([hotels.getOrSet('1', load), hotels.getOrSet('1', load)]), [3, 4]);
      assert.deepEqual(
        await hotels.getMany([{ key: '1' }, { key: '2' }], async (missing) => missing),
        [0, 1],
      );
      await cache.invalidate(['hotel:1']);
      await hotels.setMany([{ key: '1', value: 0 }]);
      assert.equal(await hotels.getOrSet('1', load), 5);
      assert.equal(hotels.usable, false);
      assert.deepEqual(counts(hotels), NONE);
      const snap = cache.snapshot();
      assert.equal(snap.enabled, false);
      assert.equal(snap.memory.entries, 0);
    } finally {
      await cache.close();
    }
  });
});

// ---- 11. shutdown --------------------------------------------------------------------------------

describe('closing', { skip: skipShared || skipOwnServer }, () => {
  /**
   * Runs `body` (after `options` and the imports) in a child process; how long it lived after printing
   * 'closed'. `onReady` runs when it prints 'ready'.
   */
  async function lingerAfterClose(
    options: CacheOptions,
    body: string,
    onReady?: () => Promise<void>,
  ): Promise<number> {
    // In a child process: the test runner itself would hide a timer left behind.
    const script = `
      import { Cache } from ${JSON.stringify(new URL('../../src/platform/cache/index.ts', import.meta.url).href)};
      import { recordingLogger } from ${JSON.stringify(new URL('../support/silent-logger.ts', import.meta.url).href)};
      const options = ${JSON.stringify(options)};
      const hotel = { name: 'hotel', ttl: 'LONG', mode: 'graceful', grace: 'VERY_LONG', description: 'x' };
      ${body}
      process.stdout.write('closed\\n');
    `;
    const dir = await mkdtemp(join(tmpdir(), 'innkeep-cache-exit-'));
    try {
      const file = join(dir, 'close.mjs');
      await writeFile(file, script);
      const child = spawnNode(file);
      let closedAt = 0;
      let readied: Promise<void> = Promise.resolve();
      child.child.stdout.on('data', (chunk: Buffer) => {
        const text = chunk.toString();
        if (text.includes('ready') && onReady) readied = onReady();
        if (text.includes('closed')) closedAt = performance.now();
      });
      const code = await child.exited;
      await readied;
      const exitedAt = performance.now();
      assert.equal(code, 0, child.err());
      assert.ok(closedAt > 0, child.out());
      return exitedAt - closedAt;
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  it('when caches on Redis are closed, then nothing keeps the process alive', async () => {
    const lingered = await lingerAfterClose(
      cacheOptions(uniquePrefix('exit'), { redisUrl: SHARED_REDIS }),
      `
      const a = new Cache(options, recordingLogger());
      const b = new Cache(options, recordingLogger());
      if (!(await a.ready()) || !(await b.ready())) process.exit(3);
      await a.namespace(hotel).getOrSet('1', async () => 'v', { tags: ['hotel:1'] });
      await a.invalidate(['hotel:1']);
      await a.close();
      await b.close();
      `,
    );
    assert.ok(lingered < 1_000, `the process exited ${lingered.toFixed(0)} ms after close() resolved`);
  });

  it('when a cache is closed while Redis is away, then the process exits within a second of close()', async () => {
    const server = await startRedisServer();
    try {
      const lingered = await lingerAfterClose(
        cacheOptions(uniquePrefix('exit-down'), { redisUrl: server.url }),
        `
        const cache = new Cache(options, recordingLogger());
        if (!(await cache.ready())) process.exit(3);
        await cache.namespace(hotel).getOrSet('1', async () => 'v', { tags: ['hotel:1'] });
        process.stdout.write('ready\\n');
        while (cache.redis !== 'down') await new Promise((r) => setTimeout(r, 5));
        await new Promise((r) => setTimeout(r, 300));
        await cache.invalidate(['hotel:1']);
        await cache.namespace(hotel).getOrSet('1', async () => 'v2', { tags: ['hotel:1'] });
        await cache.close();
        `,
        () => server.kill(),
      );
      assert.ok(lingered < 1_000, `the process exited ${lingered.toFixed(0)} ms after close() resolved`);
    } finally {
      await server.stop();
    }
  });
});
