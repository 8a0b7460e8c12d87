import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import pg from 'pg';
import type { App } from '../src/app/build-app.ts';
import { seedDatabase } from '../src/app/seed/seed.ts';
import { assertError, queryCount, startTestApp } from './support/app.ts';
import { registerAdmin, registerUser, type TestUser } from './support/auth.ts';
import { createTestDatabase, lockWaiters, type TestDatabase } from './support/database.ts';
import { createHotel, isoDate, type TestHotel } from './support/fixtures.ts';
import { spawnCapture } from './support/process.ts';
import { FAST_QUEUE_ENV, uniqueNamespace } from './support/queue.ts';
import { freePort } from './support/redis-server.ts';
import { ensureTestServer } from './support/test-server.ts';

// The response cache of the public GET routes as a client and an operator see it over HTTP: entity
// tags and 304s, the pre-compressed encodings, Cache-Control, canonical keys, coalescing, the admin
// routes, /health with Redis coming and going, the Prometheus counters and the warm-up.

/** Every run gets its own Redis keys and bus channel (the machine's Redis is shared). */
const prefix = (what: string) => `t-http-${what}-${process.pid}-${randomBytes(3).toString('hex')}`;

const ETAG = /^"[A-Za-z0-9_-]{27}(-br|-gz)?"$/;

interface NamespaceCounters {
  namespace: string;
  hitsL1: number;
  hitsL2: number;
  misses: number;
  coalesced: number;
  stale: number;
  bypassed: number;
  entries: number;
}

interface RawResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** One GET over a real socket, the body as it travelled (no decoding), on a fresh connection. */
function rawGet(origin: string, path: string, headers: Record<string, string> = {}): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${origin}${path}`, { method: 'GET', headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
      );
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

/** The body decoded as its Content-Encoding says. */
function decoded(res: { headers: IncomingHttpHeaders | Record<string, unknown>; body: Buffer }): Buffer {
  const encoding = res.headers['content-encoding'];
  if (encoding === 'br') return brotliDecompressSync(res.body);
  if (encoding === 'gzip') return gunzipSync(res.body);
  assert.equal(encoding, undefined, `unexpected Content-Encoding ${String(encoding)}`);
  return res.body;
}

/** The ETag names the bytes sent: `-br` for Brotli, `-gz` for gzip, no suffix for identity. */
function assertEtagMatchesEncoding(
  res: { headers: IncomingHttpHeaders | Record<string, unknown> },
  what: string,
) {
  const etag = String(res.headers.etag);
  assert.match(etag, ETAG, what);
  const suffix = { br: '-br"', gzip: '-gz"' }[String(res.headers['content-encoding'])];
  if (suffix)
    assert.ok(etag.endsWith(suffix), `${what}: ${etag} on a ${res.headers['content-encoding']} body`);
  else assert.ok(!/-(br|gz)"$/.test(etag), `${what}: ${etag} on an identity body`);
}

/** A throwaway redis-server of this test's own (killing it touches no one else's data). */
async function startRedis(port: number) {
  const proc = spawnCapture('redis-server', [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--save',
    '',
    '--appendonly',
    'no',
  ]);
  const until = Date.now() + 10_000;
  while (!/Ready to accept connections/.test(proc.out())) {
    if (proc.child.exitCode !== null) throw new Error(`redis-server exited: ${proc.out()}${proc.err()}`);
    if (Date.now() > until) throw new Error(`redis-server did not start: ${proc.out()}${proc.err()}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return {
    async kill() {
      if (proc.child.exitCode === null && proc.child.signalCode === null) proc.child.kill('SIGKILL');
      await proc.exited;
    },
  };
}

async function waitFor<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

let stopServer: () => Promise<void>;
before(async () => {
  stopServer = await ensureTestServer();
});
after(async () => {
  await stopServer?.();
});

describe('HTTP response cache', () => {
  let db: TestDatabase;
  let app: App;
  let origin: string;
  let admin: TestUser;
  let alice: TestUser;
  /** Fixture hotels, each in a city of its own, so that no other test has touched their entries. */
  const hotels: Record<string, TestHotel> = {};
  let nextCity = 0;
  const city = (name: string) => `${name}-${process.pid}-${++nextCity}`;

  const get = (url: string, headers: Record<string, string> = {}) =>
    app.inject({ method: 'GET', url, headers });
  const stats = async () => {
    const res = await get('/api/admin/cache/stats', admin.headers);
    assert.equal(res.statusCode, 200, res.body);
    return res.json() as {
      enabled: boolean;
      tiers: string;
      namespaces: NamespaceCounters[];
      policies: { namespace: string; mode: string; ttlSeconds: number; graceSeconds: number }[];
    };
  };
  const ns = async (name: string) => {
    const found = (await stats()).namespaces.find((n) => n.namespace === name);
    assert.ok(found, `namespace ${name} in the stats`);
    return found;
  };
  const invalidate = (payload: unknown, headers: Record<string, string> = admin.headers) =>
    app.inject({ method: 'POST', url: '/api/admin/cache/invalidate', headers, payload: payload as object });

  before(async () => {
    db = await createTestDatabase();
    // Demo data (deterministic): realistic pages, for the compression figures and encodings.
    await seedDatabase(db.pool as never, { scale: 'small', seed: 42 });
    app = await startTestApp(db.url, { CACHE_ENABLED: 'true', CACHE_PREFIX: prefix('main') });
    origin = await app.listen({ host: '127.0.0.1', port: 0 });
    admin = await registerAdmin(app);
    alice = await registerUser(app, 'Alice');
    for (const name of ['etag', 'control', 'errors', 'admin', 'admin2', 'metrics']) {
      hotels[name] = await createHotel(db.pool, { city: city(name) });
    }
  });

  after(async () => {
    await app?.close();
    await db?.drop();
  });

  describe('entity tags and 304', () => {
    it('when a hotel is read twice, then the second answer is the cached one, with the same ETag and no statement', async () => {
      const url = `/api/hotels/${hotels.etag!.id}`;
      const first = await get(url);
      assert.equal(first.statusCode, 200, first.body);
      assert.ok(queryCount(first.headers) >= 1, 'the first read runs its statement');
      assert.match(String(first.headers.etag), ETAG);
      assert.equal(first.headers.vary, 'accept-encoding');
      const second = await get(url);
      assert.equal(second.statusCode, 200);
      assert.equal(
        queryCount(second.headers),
        0,
        `served from the cache: ${second.headers['server-timing']}`,
      );
      assert.equal(second.headers['server-timing'], undefined);
      assert.equal(second.headers.etag, first.headers.etag);
      assert.equal(second.body, first.body);
    });

    it('when If-None-Match names the entry (exactly, weakly, in a list, in another encoding, or *), then 304 with no body, the ETag and Vary', async () => {
      const url = `/api/hotels/${hotels.etag!.id}`;
      const full = await get(url);
      const etag = String(full.headers.etag);
      const opaque = etag.slice(1, -1);
      for (const inm of [
        etag,
        `W/${etag}`,
        `"nope", W/"other", ${etag}`,
        `"nope",${etag},"later"`,
        `"${opaque}-br"`,
        `W/"${opaque}-gz"`,
        '*',
        ' * ',
      ]) {
        const res = await get(url, { 'if-none-match': inm });
        assert.equal(res.statusCode, 304, `If-None-Match: ${inm}`);
        assert.equal(res.rawPayload.length, 0, `no body for ${inm}`);
        assert.equal(res.headers.etag, etag, inm);
        assert.equal(res.headers.vary, 'accept-encoding', inm);
        assert.match(String(res.headers['cache-control']), /^public, max-age=\d+/, inm);
        assert.equal(queryCount(res.headers), 0, inm);
      }
      // The 304 of a Brotli client carries the tag of the Brotli form.
      const br = await get(url, { 'if-none-match': etag, 'accept-encoding': 'br' });
      assert.equal(br.statusCode, 304);
      assert.equal(br.headers.etag, etag, 'this page is under 1 KB: identity for everyone');
    });

    it('when If-None-Match names another entity or is malformed, then the full answer, never an error', async () => {
      const url = `/api/hotels/${hotels.etag!.id}`;
      const full = await get(url);
      const opaque = String(full.headers.etag).slice(1, -1);
      const garbage = Array.from({ length: 9 * 1024 }, (_, i) =>
        String.fromCharCode(33 + ((i * 7) % 94)),
      ).join('');
      for (const inm of [
        '"another"',
        `"${opaque}x"`,
        `"${opaque}-deflate"`,
        'abc',
        opaque,
        `"${opaque}`,
        '"unterminated',
        'W/',
        ',,,',
        '**',
        `W/ "${opaque}"x`.replace(/"/, ''),
        garbage,
        `${garbage.slice(0, 8200)} "${opaque}"`,
      ]) {
        const res = await get(url, { 'if-none-match': inm });
        assert.equal(res.statusCode, 200, `If-None-Match: ${inm.slice(0, 80)} -> ${res.statusCode}`);
        assert.equal(res.body, full.body, inm.slice(0, 80));
        assert.equal(res.headers.etag, full.headers.etag);
      }
    });
  });

  describe('encodings', () => {
    /** A page of the demo data: 20 hotels with their rooms and amenities. */
    const SEARCH = '/api/hotels/search?city=paris';
    let identity: Buffer;

    before(async () => {
      const res = await rawGet(origin, SEARCH);
      assert.equal(res.status, 200);
      identity = res.body;
      assert.ok(identity.length > 4096, `a big page: ${identity.length} B`);
    });

    it('when Brotli or gzip is accepted, then the stored form is sent and decompresses to exactly the identity body', async () => {
      const cases: Array<[string, string | undefined]> = [
        ['br', 'br'],
        ['gzip', 'gzip'],
        ['gzip, deflate, br', 'br'],
        ['gzip;q=1, br;q=0.5', 'gzip'],
        ['br;q=0, gzip', 'gzip'],
        ['BR', 'br'],
        ['*', 'br'],
        ['*, br;q=0', 'gzip'],
        ['identity', undefined],
        ['', undefined],
      ];
      for (const [acceptEncoding, expected] of cases) {
        const res = await rawGet(origin, SEARCH, acceptEncoding ? { 'accept-encoding': acceptEncoding } : {});
        assert.equal(res.status, 200, acceptEncoding);
        assert.equal(res.headers['content-encoding'], expected, `Accept-Encoding: ${acceptEncoding}`);
        assert.equal(res.headers.vary, 'accept-encoding');
        assert.equal(Number(res.headers['content-length']), res.body.length, acceptEncoding);
        assertEtagMatchesEncoding(res, acceptEncoding);
        assert.ok(decoded(res).equals(identity), `decodes to the identity body: ${acceptEncoding}`);
      }
    });

    it('when Accept-Encoding is odd, refuses everything or is huge, then a valid answer whose ETag names what was sent', async () => {
      const huge = `${Array.from({ length: 4000 }, () => 'zz').join(',')}, br`;
      assert.ok(huge.length < 16 * 1024 - 512, 'within the header limit of Node');
      const cases: Array<[string, string | undefined]> = [
        // identity is preferred (q=1) over gzip (q=0.5): the cached identity, not gzip made now.
        ['gzip;q=0.5, identity', undefined],
        ['identity;q=1, br;q=0.9', undefined],
        // x-gzip is gzip (RFC 9110 §8.4.1.3).
        ['x-gzip', 'gzip'],
        ['*;q=0', undefined],
        ['identity;q=0', undefined],
        ['br;q=0, gzip;q=0', undefined],
        ['nonsense', undefined],
        ['deflate', undefined],
        [';;;,,,;q=', undefined],
        ['gzip;q=abc', undefined],
        [huge, undefined],
      ];
      for (const [acceptEncoding, expected] of cases) {
        const label = `Accept-Encoding: ${acceptEncoding.slice(0, 40)}`;
        const res = await rawGet(origin, SEARCH, { 'accept-encoding': acceptEncoding });
        assert.equal(res.status, 200, label);
        if (acceptEncoding !== 'gzip;q=abc') assert.equal(res.headers['content-encoding'], expected, label);
        assertEtagMatchesEncoding(res, label);
        assert.ok(decoded(res).equals(identity), label);
      }
    });

    it('when a cached page is asked for with HEAD, then the headers of the GET and no body', async () => {
      const get = await rawGet(origin, SEARCH, { 'accept-encoding': 'br' });
      const head = await new Promise<RawResponse>((resolve, reject) => {
        const req = httpRequest(
          `${origin}${SEARCH}`,
          { method: 'HEAD', headers: { 'accept-encoding': 'br' }, agent: false },
          (res) => {
            res.resume();
            res.on('end', () =>
              resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.alloc(0) }),
            );
          },
        );
        req.on('error', reject);
        req.end();
      });
      assert.equal(head.status, 200);
      for (const h of ['etag', 'content-encoding', 'content-length', 'cache-control', 'vary']) {
        assert.equal(head.headers[h], get.headers[h], h);
      }
    });

    it('when an answer is not cached bytes, then @fastify/compress still encodes it', async () => {
      const res = await rawGet(origin, '/api/admin/cache/stats', {
        ...admin.headers,
        'accept-encoding': 'br',
      });
      assert.equal(res.status, 200);
      assert.equal(res.headers['content-encoding'], 'br');
      assert.equal(res.headers.etag, undefined);
      assert.equal(res.headers['cache-control'], 'private, no-store');
      assert.ok((JSON.parse(decoded(res).toString()) as { namespaces: unknown[] }).namespaces.length > 0);
    });

    it('when a cached body is under 1 KB, then it is sent as identity even to a Brotli client', async () => {
      const url = `/api/hotels/${hotels.etag!.id}/reviews`;
      for (let i = 0; i < 2; i++) {
        const res = await rawGet(origin, url, { 'accept-encoding': 'br, gzip' });
        assert.equal(res.status, 200);
        assert.ok(res.body.length < 1024, `${res.body.length} B`);
        assert.equal(res.headers['content-encoding'], undefined);
        assertEtagMatchesEncoding(res, 'small page');
        assert.deepEqual(JSON.parse(res.body.toString()), { data: [], page: 1, limit: 20, hasMore: false });
      }
    });

    it('when a search page is compressed, then Brotli and gzip make it much smaller (figures printed)', async () => {
      const br = await rawGet(origin, SEARCH, { 'accept-encoding': 'br' });
      const gz = await rawGet(origin, SEARCH, { 'accept-encoding': 'gzip' });
      const detail = await rawGet(origin, '/api/hotels/1');
      const detailBr = await rawGet(origin, '/api/hotels/1', { 'accept-encoding': 'br' });
      const saved = (n: number, of: number) => 1 - n / of;
      const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
      console.log(
        `compression of ${SEARCH} (demo data): identity ${identity.length} B, ` +
          `br ${br.body.length} B (${pct(saved(br.body.length, identity.length))} smaller), ` +
          `gzip ${gz.body.length} B (${pct(saved(gz.body.length, identity.length))} smaller); ` +
          `/api/hotels/1: identity ${detail.body.length} B, br ${detailBr.body.length} B ` +
          `(${pct(saved(detailBr.body.length, detail.body.length))} smaller)`,
      );
      // The README's claim: 65% smaller.
      assert.ok(saved(br.body.length, identity.length) >= 0.65, 'br at least 65% smaller');
      assert.ok(saved(gz.body.length, identity.length) >= 0.65, 'gzip at least 65% smaller');
      assert.ok(br.body.length < gz.body.length, 'Brotli beats gzip');
    });
  });

  describe('Cache-Control', () => {
    it('when a graceful page is served, then public, max-age within its TTL and stale-while-revalidate', async () => {
      const { ttl } = app.innkeep.config.cache;
      const hotel = hotels.control!;
      const roomTypeId = hotel.roomTypes[0]!.id;
      const cases: Array<[string, number, number]> = [
        [`/api/hotels/search?city=${encodeURIComponent(city('cc'))}`, ttl.medium, ttl.veryLong],
        [`/api/hotels/${hotel.id}`, ttl.long, ttl.veryLong],
        [`/api/hotels/${hotel.id}/reviews`, ttl.medium, ttl.long],
        // Kept at most to the next quarter hour.
        [
          `/api/hotels/${hotel.id}/price-history?roomTypeId=${roomTypeId}`,
          Math.min(ttl.medium, 900),
          ttl.long,
        ],
      ];
      for (const [url, maxAge, grace] of cases) {
        for (const attempt of ['miss', 'hit']) {
          const res = await get(url);
          assert.equal(res.statusCode, 200, `${url}: ${res.body}`);
          const m = /^public, max-age=(\d+), stale-while-revalidate=(\d+)$/.exec(
            String(res.headers['cache-control']),
          );
          assert.ok(m, `${url} (${attempt}): ${res.headers['cache-control']}`);
          assert.ok(Number(m[1]) <= maxAge, `${url}: max-age ${m[1]} <= ${maxAge}`);
          assert.ok(Number(m[1]) >= Math.min(maxAge, 1) - 1, `${url}: max-age ${m[1]}`);
          assert.equal(Number(m[2]), grace, url);
        }
      }
      // The defaults the write-ups quote.
      assert.deepEqual([ttl.medium, ttl.long], [1800, 3600]);
    });

    it('when availability is served, then public, no-cache (a client must revalidate every time)', async () => {
      const hotel = hotels.control!;
      const url = `/api/hotels/${hotel.id}/availability?checkIn=${isoDate(10)}&checkOut=${isoDate(12)}&guests=1`;
      const first = await get(url);
      assert.equal(first.statusCode, 200, first.body);
      assert.equal(first.headers['cache-control'], 'public, no-cache');
      const again = await get(url, { 'if-none-match': String(first.headers.etag) });
      assert.equal(again.statusCode, 304);
      assert.equal(again.headers['cache-control'], 'public, no-cache');
    });

    it("when a user's own pages are read with a token, then private, no-store", async () => {
      for (const url of [
        '/api/me/bookings',
        '/api/me/dashboard',
        '/api/me/trips',
        '/api/me/waitlist',
        '/api/me',
      ]) {
        const res = await get(url, alice.headers);
        assert.equal(res.statusCode, 200, `${url}: ${res.body}`);
        assert.equal(res.headers['cache-control'], 'private, no-store', url);
        assert.equal(res.headers.etag, undefined, url);
      }
      const anonymous = await get('/api/me/bookings');
      assertError(anonymous, 401, 'E_UNAUTHORIZED');
      assert.equal(anonymous.headers['cache-control'], 'no-store');
    });

    it('when a cached route answers an error, then it is not cached (the next one runs again) and says no-store', async () => {
      const missing = '/api/hotels/999999999';
      for (let i = 0; i < 2; i++) {
        const res = await get(missing);
        assertError(res, 404, 'E_NOT_FOUND');
        assert.equal(res.headers['cache-control'], 'no-store');
        assert.equal(res.headers.etag, undefined);
        assert.ok(queryCount(res.headers) >= 1, `attempt ${i + 1} runs its statement`);
      }
      const withToken = await get(missing, alice.headers);
      assertError(withToken, 404);
      assert.equal(withToken.headers['cache-control'], 'private, no-store');
      const reviews = await get('/api/hotels/999999999/reviews');
      assert.equal(reviews.headers['cache-control'], 'no-store');
      assert.ok(reviews.statusCode >= 400 && reviews.statusCode < 500, reviews.body);
      // The hotel appears: its detail is served (a 404 was never stored under its key).
      const fresh = await createHotel(db.pool, { city: city('late') });
      assertError(await get(`/api/hotels/${fresh.id + 1}`), 404);
      const later = await createHotel(db.pool, { city: city('later') });
      assert.equal(later.id, fresh.id + 1);
      assert.equal((await get(`/api/hotels/${later.id}`)).statusCode, 200);
    });
  });

  describe('canonical keys', () => {
    it('when the same query comes with its parameters in another order or with defaults spelled out, then one entry serves all', async () => {
      const c = city('canon');
      for (let i = 0; i < 6; i++) await createHotel(db.pool, { city: c });
      const q = encodeURIComponent(c);
      const first = await get(`/api/hotels/search?city=${q}&limit=5`);
      assert.equal(first.statusCode, 200, first.body);
      assert.ok(queryCount(first.headers) >= 1);
      assert.equal((first.json() as { data: unknown[] }).data.length, 5);
      for (const url of [
        `/api/hotels/search?limit=5&city=${q}`,
        `/api/hotels/search?city=${q}&limit=5&page=1`,
        `/api/hotels/search?page=1&limit=5&city=${q}`,
        `/api/hotels/search?limit=05&city=${q}`,
      ]) {
        const res = await get(url);
        assert.equal(res.statusCode, 200, `${url}: ${res.body}`);
        assert.equal(queryCount(res.headers), 0, `${url} shares the entry`);
        assert.equal(res.headers.etag, first.headers.etag, url);
      }
      // Different answers are different entries.
      const other = await get(`/api/hotels/search?city=${q}&limit=6`);
      assert.ok(queryCount(other.headers) >= 1);
      assert.notEqual(other.headers.etag, first.headers.etag);
    });

    it('when a query is invalid, then its 400 comes before the cache, even once the valid one is cached', async () => {
      const q = encodeURIComponent(city('invalid'));
      assert.equal((await get(`/api/hotels/search?city=${q}&limit=5`)).statusCode, 200);
      assertError(await get(`/api/hotels/search?city=${q}&limit=0`), 400, 'E_VALIDATION', 'limit');
      assertError(await get(`/api/hotels/search?city=${q}&limit=abc`), 400, 'E_VALIDATION', 'limit');
      assertError(await get(`/api/hotels/search?city=${q}&limit=5&bogus=1`), 400, 'E_VALIDATION');
      assertError(await get(`/api/hotels/search?city=${q}&city=x&limit=5`), 400, 'E_VALIDATION', 'city');
      assertError(await get('/api/hotels/abc'), 400, 'E_VALIDATION', 'id');
      assertError(await get(`/api/hotels/${hotels.etag!.id}?extra=1`), 400, 'E_VALIDATION');
      assertError(
        await get(`/api/hotels/${hotels.etag!.id}/reviews?limit=1000`),
        400,
        'E_VALIDATION',
        'limit',
      );
      const bad = await get(`/api/hotels/search?city=${q}&limit=0`);
      assert.equal(bad.headers['cache-control'], 'no-store');
      assert.equal(bad.headers.etag, undefined);
    });
  });

  describe('coalescing', () => {
    it('when 50 identical searches arrive at once on a cold cache, then one loads and all 50 get the same body', async () => {
      const c = city('coalesce');
      for (let i = 0; i < 5; i++) await createHotel(db.pool, { city: c, rooms: [{}, {}, {}] });
      const url = `/api/hotels/search?city=${encodeURIComponent(c)}`;
      const before = await ns('search');
      const answers = await Promise.all(Array.from({ length: 50 }, () => get(url)));
      const after = await ns('search');
      for (const res of answers) assert.equal(res.statusCode, 200, res.body);
      assert.equal(new Set(answers.map((r) => r.body)).size, 1, 'identical bodies');
      assert.equal(new Set(answers.map((r) => r.headers.etag)).size, 1, 'identical ETags');
      assert.equal(after.misses - before.misses, 1, 'one load');
      const shared = after.coalesced - before.coalesced + (after.hitsL1 - before.hitsL1);
      assert.equal(shared, 49, `49 answered by it: ${JSON.stringify({ before, after })}`);
      const loaders = answers.filter((r) => queryCount(r.headers) > 0);
      assert.equal(loaders.length, 1, 'one request ran statements');
      console.log(
        `coalescing: misses +1, coalesced +${after.coalesced - before.coalesced}, L1 hits +${after.hitsL1 - before.hitsL1}`,
      );
    });
  });

  describe('admin routes', () => {
    // Admin routes are hidden from other users: the same 404 as a route that does not exist (README).
    it('when the stats are asked for without a token or as a plain user, then 401, and 404 as for no route', async () => {
      assertError(await get('/api/admin/cache/stats'), 401, 'E_UNAUTHORIZED');
      assertError(await get('/api/admin/cache/stats', alice.headers), 404, 'E_ROUTE_NOT_FOUND');
      assertError(await invalidate({ all: true }, {}), 401, 'E_UNAUTHORIZED');
      assertError(await invalidate({ all: true }, alice.headers), 404, 'E_ROUTE_NOT_FOUND');
      const bad = await get('/api/admin/cache/stats', { authorization: 'Bearer not-a-token' });
      assert.equal(bad.statusCode, 401, bad.body);
    });

    it('when an admin asks, then every namespace has counters, and a hit moves hitsL1 of its namespace only', async () => {
      const s = await stats();
      assert.equal(s.enabled, true);
      assert.equal(s.tiers, 'l1');
      const names = s.namespaces.map((n) => n.namespace);
      for (const name of [
        'search',
        'hotel',
        'reviews',
        'prices',
        'availability',
        'stays',
        'my-bookings',
        'dashboard',
      ]) {
        assert.ok(names.includes(name), `${name} in ${names.join(', ')}`);
      }
      const hotelPolicy = s.policies.find((p) => p.namespace === 'hotel');
      assert.deepEqual(
        { mode: hotelPolicy?.mode, ttlSeconds: hotelPolicy?.ttlSeconds },
        { mode: 'graceful', ttlSeconds: 3600 },
      );
      const url = `/api/hotels/${hotels.admin!.id}`;
      const a = await ns('hotel');
      await get(url);
      const b = await ns('hotel');
      assert.equal(b.misses - a.misses, 1);
      assert.equal(b.hitsL1 - a.hitsL1, 0);
      assert.equal(b.entries - a.entries, 1);
      const searchBefore = await ns('search');
      await get(url);
      await get(url);
      const c = await ns('hotel');
      assert.equal(c.hitsL1 - b.hitsL1, 2);
      assert.equal(c.misses, b.misses);
      assert.deepEqual(await ns('search'), searchBefore, 'other namespaces unchanged');
    });

    it('when a tag is invalidated, then that hotel reloads and the others stay cached', async () => {
      const mine = `/api/hotels/${hotels.admin!.id}`;
      const other = `/api/hotels/${hotels.admin2!.id}`;
      await get(mine);
      await get(other);
      assert.equal(queryCount((await get(mine)).headers), 0);
      const res = await invalidate({ tag: `hotel:${hotels.admin!.id}` });
      assert.equal(res.statusCode, 200, res.body);
      assert.deepEqual(res.json(), { invalidated: { tag: `hotel:${hotels.admin!.id}` } });
      assert.ok(queryCount((await get(mine)).headers) >= 1, 'reloaded');
      assert.equal(queryCount((await get(mine)).headers), 0, 'cached again');
      assert.equal(queryCount((await get(other)).headers), 0, 'another hotel is untouched');
    });

    it('when a tag nothing carries is invalidated, then 200 and nothing changes', async () => {
      const mine = `/api/hotels/${hotels.admin!.id}`;
      await get(mine);
      for (const tag of ['hotel:999999999', 'city:nowhere at all', 'ns:none', 'x']) {
        const res = await invalidate({ tag });
        assert.equal(res.statusCode, 200, `${tag}: ${res.body}`);
        assert.deepEqual(res.json(), { invalidated: { tag } });
      }
      assert.equal(queryCount((await get(mine)).headers), 0, 'still cached');
    });

    it('when a namespace is emptied, then its pages reload and other namespaces stay', async () => {
      const search = `/api/hotels/search?city=${encodeURIComponent(city('nsclear'))}`;
      const detail = `/api/hotels/${hotels.admin!.id}`;
      await get(search);
      await get(detail);
      assert.equal(queryCount((await get(search)).headers), 0);
      const res = await invalidate({ namespace: 'search' });
      assert.equal(res.statusCode, 200, res.body);
      assert.deepEqual(res.json(), { invalidated: { namespace: 'search' } });
      assert.ok(queryCount((await get(search)).headers) >= 1, 'search reloaded');
      assert.equal(queryCount((await get(detail)).headers), 0, 'hotel namespace untouched');
    });

    it('when everything is cleared, then every page reloads', async () => {
      const search = `/api/hotels/search?city=${encodeURIComponent(city('allclear'))}`;
      const detail = `/api/hotels/${hotels.admin!.id}`;
      await get(search);
      await get(detail);
      const res = await invalidate({ all: true });
      assert.equal(res.statusCode, 200, res.body);
      assert.deepEqual(res.json(), { invalidated: { all: true } });
      assert.ok(queryCount((await get(search)).headers) >= 1, 'search reloaded');
      assert.ok(queryCount((await get(detail)).headers) >= 1, 'detail reloaded');
      assert.equal(queryCount((await get(detail)).headers), 0, 'cached again');
    });

    it('when the invalidation request is malformed, then 400 in the standard format; an unknown namespace is 404', async () => {
      const cases: Array<[unknown, string | undefined]> = [
        [{ tag: 'hotel:1', namespace: 'search' }, 'tag'],
        [{ tag: 'hotel:1', all: true }, 'tag'],
        [{}, 'tag'],
        [{ tags: 'hotel:1' }, undefined],
        [{ tag: 'hotel:1', extra: 1 }, undefined],
        [{ tag: 'hotel:1\u0007' }, 'tag'],
        [{ tag: 'hotel:\n1' }, 'tag'],
        [{ tag: '' }, 'tag'],
        [{ tag: ' hotel:1' }, 'tag'],
        [{ tag: 'x'.repeat(201) }, 'tag'],
        [{ tag: 42 }, 'tag'],
        [{ namespace: 'Search' }, 'namespace'],
        [{ namespace: 'search!' }, 'namespace'],
        [{ namespace: '' }, 'namespace'],
        [{ all: false }, 'all'],
        [{ all: 'true' }, 'all'],
        [[], undefined],
      ];
      for (const [payload, field] of cases) {
        const res = await invalidate(payload);
        const body = assertError(res, 400, 'E_VALIDATION', field);
        assert.equal(body.path, '/api/admin/cache/invalidate', JSON.stringify(payload));
      }
      const unknown = await invalidate({ namespace: 'nope' });
      const body = assertError(unknown, 404, 'E_NOT_FOUND');
      assert.match(String(body.message), /nope/);
    });
  });

  describe('health and metrics', () => {
    it('when /health is asked without Redis, then a cache check that is up, memory only', async () => {
      const res = await get('/health');
      assert.equal(res.statusCode, 200, res.body);
      const body = res.json() as { status: string; checks: Record<string, Record<string, unknown>> };
      assert.equal(body.status, 'healthy');
      const cache = body.checks.cache;
      assert.ok(cache, res.body);
      assert.equal(cache.status, 'up');
      assert.equal(cache.critical, false);
      assert.equal(cache.tiers, 'l1');
      assert.equal(cache.redis, 'none');
      assert.equal(cache.enabled, true);
      assert.equal(cache.coherent, true);
      assert.ok(
        typeof cache.hits === 'number' &&
          typeof cache.misses === 'number' &&
          typeof cache.entries === 'number',
      );
    });

    it('when pages are read, then innkeep_cache_requests_total counts the hits and misses per namespace and tier', async () => {
      const metric = (text: string, labels: string) => {
        const line = text.split('\n').find((l) => l.startsWith(`innkeep_cache_requests_total{${labels}}`));
        return line === undefined ? 0 : Number(line.slice(line.lastIndexOf(' ') + 1));
      };
      const hit = 'namespace="hotel",tier="l1",result="hit"';
      const miss = 'namespace="hotel",tier="none",result="miss"';
      const scrape = async () => {
        const res = await app.innkeep.internal.inject({ method: 'GET', url: '/metrics' });
        assert.equal(res.statusCode, 200);
        return res.body;
      };
      const before = await scrape();
      const url = `/api/hotels/${hotels.metrics!.id}`;
      for (let i = 0; i < 4; i++) await get(url);
      await get('/api/hotels/999999999'); // a miss too (a 404 is loaded, never stored)
      const after = await scrape();
      assert.equal(metric(after, hit) - metric(before, hit), 3, after);
      assert.equal(metric(after, miss) - metric(before, miss), 2);
      // The scrape and the stats route read the same counters.
      const s = await ns('hotel');
      assert.equal(metric(after, hit), s.hitsL1);
      assert.equal(metric(after, miss), s.misses + s.bypassed);
      assert.match(after, /innkeep_cache_errors_total\{namespace="hotel",tier="l2"\} 0/);
    });
  });
});

describe('response cache with Redis going away and coming back', () => {
  let db: TestDatabase;
  let app: App;
  let redisPort: number;
  let redis: Awaited<ReturnType<typeof startRedis>> | undefined;
  let hotel: TestHotel;

  const health = async () => {
    const res = await app.inject('/health');
    const body = res.json() as {
      status: string;
      checks: Record<string, { status: string; tiers?: string; redis?: string; error?: string }>;
    };
    return { statusCode: res.statusCode, status: body.status, cache: body.checks.cache! };
  };

  before(async () => {
    db = await createTestDatabase();
    hotel = await createHotel(db.pool, { city: `Redisville-${process.pid}`, rooms: [{}, {}] });
    for (let i = 0; i < 4; i++) await createHotel(db.pool, { city: `Redisville-${process.pid}` });
    redisPort = await freePort();
    redis = await startRedis(redisPort);
    app = await startTestApp(db.url, {
      CACHE_ENABLED: 'true',
      CACHE_PREFIX: prefix('redis'),
      REDIS_URL: `redis://127.0.0.1:${redisPort}`,
    });
    assert.ok(await app.innkeep.cache.ready(5_000), 'redis reached');
  });

  let closed = false;
  after(async () => {
    if (!closed) await app?.close();
    await redis?.kill();
    await db?.drop();
  });

  it('when Redis is killed under load, then public GETs keep answering 200, /health says degraded, and the check comes back by itself', {
    timeout: 60_000,
  }, async () => {
    const up = await health();
    assert.equal(up.statusCode, 200);
    assert.equal(up.status, 'healthy');
    assert.equal(up.cache.status, 'up');
    assert.equal(up.cache.tiers, 'l1+l2');
    assert.equal(up.cache.redis, 'up');

    const c = encodeURIComponent(`Redisville-${process.pid}`);
    const roomTypeId = hotel.roomTypes[0]!.id;
    // Every request its own key (a lookup in Redis, then a load and a write to it), over the 5 routes.
    const urls = (i: number) => [
      `/api/hotels/search?city=${c}&page=${1 + i}`,
      `/api/hotels/${hotel.id}`,
      `/api/hotels/${hotel.id}/reviews?page=${1 + i}`,
      `/api/hotels/${hotel.id}/price-history?roomTypeId=${roomTypeId}&limit=${1 + i}`,
      `/api/hotels/${hotel.id}/availability?checkIn=${isoDate(1 + (i % 40))}&checkOut=${isoDate(2 + (i % 40) + Math.floor(i / 40))}&guests=1`,
    ];
    const statuses = new Map<number, number>();
    let sent = 0;
    for (let round = 0; round < 8; round++) {
      // 25 requests a round, all at once; Redis is killed while the third round is in flight.
      const batch = Array.from({ length: 5 }, (_, i) => urls(round * 5 + i)).flat();
      const pending = batch.map((url) => app.inject(url));
      sent += batch.length;
      if (round === 2) await redis!.kill();
      for (const res of await Promise.all(pending)) {
        statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1);
        assert.equal(res.statusCode, 200, `${res.statusCode}: ${res.body.slice(0, 300)}`);
        assert.doesNotThrow(() => res.json());
      }
      if (round >= 2) await new Promise((r) => setTimeout(r, 30));
    }
    assert.equal(sent, 200);
    assert.deepEqual([...statuses], [[200, 200]]);
    const felt = app.innkeep.cache.snapshot().totals;
    console.log(
      `redis outage under load: 200 x 200; redis errors ${felt.errors}, strict lookups bypassed ${felt.bypassed}`,
    );
    // The outage was felt by those requests: Redis commands failed, and availability pages (strict)
    // went past the memory tier to PostgreSQL, counted as such.
    assert.ok(felt.errors > 0, JSON.stringify(felt));
    const availability = app.innkeep.cache.stats.of('availability');
    assert.ok(availability.bypassed > 0, JSON.stringify(felt));
    const scrape = (await app.innkeep.internal.inject({ method: 'GET', url: '/metrics' })).body;
    const line = scrape
      .split('\n')
      .find((l) =>
        l.startsWith('innkeep_cache_requests_total{namespace="availability",tier="none",result="miss"}'),
      );
    assert.equal(Number(line?.split(' ').pop()), availability.misses + availability.bypassed, line);

    const down = await waitFor('the cache check to go down', 5_000, async () => {
      const h = await health();
      return h.cache.status === 'down' ? h : undefined;
    });
    // Degraded, not unhealthy: the cache is not critical, and the route answers 200 for degraded.
    assert.equal(down.status, 'degraded');
    assert.equal(down.statusCode, 200);
    assert.equal(down.cache.error, 'failed (REDIS_DOWN)');
    assert.equal((await app.inject('/ready')).statusCode, 200, 'still ready');
    // Still answering while Redis is away, strict pages straight from PostgreSQL.
    for (const url of urls(99)) {
      const res = await app.inject(url);
      assert.equal(res.statusCode, 200, `${url}: ${res.body}`);
    }
    const avail = await app.inject(urls(3)[4]!);
    assert.ok(queryCount(avail.headers) >= 1, 'availability bypasses the memory tier while Redis is away');

    const restartedAt = Date.now();
    redis = await startRedis(redisPort);
    const back = await waitFor('the cache check to come back', 10_000, async () => {
      const h = await health();
      return h.cache.status === 'up' ? h : undefined;
    });
    const ms = Date.now() - restartedAt;
    console.log(`redis outage: the cache check came back ${ms} ms after redis-server restarted`);
    assert.ok(ms < 8_000, `back within a few seconds (${ms} ms)`);
    assert.equal(back.status, 'healthy');
    assert.equal(back.cache.redis, 'up');
    // The strict namespace is trusted again once the cache has resynced (it waits for bentocache's
    // L2 breaker to close first): a repeated availability read is cached.
    assert.equal(await app.innkeep.cache.ready(10_000), true, 'the cache resyncs after the outage');
    const url = urls(4)[4]!;
    await app.inject(url);
    assert.equal(queryCount((await app.inject(url)).headers), 0);
  });

  it('when Redis is away, then invalidations do not wait for it and the app still closes promptly', {
    timeout: 60_000,
  }, async () => {
    const url = `/api/hotels/${hotel.id}`;
    await app.inject(url);
    await redis!.kill();
    await waitFor('redis to be seen down', 5_000, async () =>
      app.innkeep.cache.redis === 'down' ? true : undefined,
    );
    const startedAt = Date.now();
    await app.innkeep.cache.invalidate([`hotel:${hotel.id}`]);
    assert.ok(Date.now() - startedAt < 1_000, 'invalidate does not wait for Redis');
    assert.ok(queryCount((await app.inject(url)).headers) >= 1, 'reloaded after the local invalidation');
    const closing = Date.now();
    await app.close();
    closed = true;
    assert.ok(Date.now() - closing < 3_000, `closed in ${Date.now() - closing} ms`);
  });
});

describe('cache warm-up on start', () => {
  let db: TestDatabase;
  let app: App | undefined;
  let locker: pg.Client | undefined;

  before(async () => {
    db = await createTestDatabase();
  });

  after(async () => {
    await locker?.end().catch(() => undefined);
    await app?.close();
    await db?.drop();
  });

  it('when started with upcoming bookings, then the hottest hotel is cached without delaying readiness', {
    timeout: 60_000,
  }, async () => {
    const hot = await createHotel(db.pool, { city: `Hotcity-${process.pid}` });
    const warm = await createHotel(db.pool, { city: `Warmcity-${process.pid}` });
    const cold = await createHotel(db.pool, { city: `Coldcity-${process.pid}` });
    const { rows } = await db.pool.query<{ id: number }>(
      `INSERT INTO users (email, password_hash, name) VALUES ($1, 'x', 'Booker') RETURNING id`,
      [`warmup-${process.pid}@example.test`],
    );
    const userId = rows[0]!.id;
    const book = (h: TestHotel, inDays: number) =>
      db.pool.query(
        `INSERT INTO bookings (user_id, hotel_id, room_type_id, start_date, end_date, guests, status, total_cents, currency)
         VALUES ($1, $2, $3, current_date + $4::int, current_date + $4::int + 2, 1, 'confirmed', 20000, 'EUR')`,
        [userId, h.id, h.roomTypes[0]!.id, inDays],
      );
    for (const d of [1, 3, 5]) await book(hot, d);
    await book(warm, 2);
    // Stays outside the 30 days, or cancelled, do not count.
    for (const d of [40, 50, 60, 70]) await book(cold, d);

    // Hold the warm-up at its first statement: readiness must not wait for it.
    locker = new pg.Client({ connectionString: db.url });
    await locker.connect();
    await locker.query('BEGIN');
    await locker.query('LOCK TABLE bookings IN ACCESS EXCLUSIVE MODE');
    app = await startTestApp(db.url, {
      CACHE_ENABLED: 'true',
      CACHE_PREFIX: prefix('warm'),
      CACHE_WARMUP: 'true',
      CACHE_WARMUP_BUDGET_MS: '5000',
      CACHE_WARMUP_HOTELS: '1',
      CACHE_WARMUP_CITIES: '1',
    });
    await lockWaiters(db.pool, 1);
    const ready = await app.inject('/ready');
    assert.equal(ready.statusCode, 200, `ready while the warm-up waits: ${ready.body}`);
    await locker.query('ROLLBACK');

    const cache = app.innkeep.cache;
    await waitFor('the warm-up', 5_000, async () => {
      const hotelNs = cache.stats.of('hotel');
      const searchNs = cache.stats.of('search');
      return hotelNs.misses >= 1 && searchNs.misses >= 1 ? true : undefined;
    });
    const detail = await app.inject(`/api/hotels/${hot.id}`);
    assert.equal(detail.statusCode, 200);
    assert.equal(queryCount(detail.headers), 0, 'the hottest hotel was warmed');
    const search = await app.inject(
      `/api/hotels/search?city=${encodeURIComponent(`Hotcity-${process.pid}`)}`,
    );
    assert.equal(queryCount(search.headers), 0, "the hottest city's first page was warmed");
    // Only the hottest one (CACHE_WARMUP_HOTELS=1): the others load on their first read.
    assert.ok(
      queryCount((await app.inject(`/api/hotels/${warm.id}`)).headers) >= 1,
      'the second hotel is cold',
    );
    assert.ok(
      queryCount((await app.inject(`/api/hotels/${cold.id}`)).headers) >= 1,
      'the far-future one is cold',
    );
    assert.equal(cache.stats.of('hotel').misses, 3);
  });

  it('when the recurring warm-cache job runs after the cache was emptied, then the hottest pages are cached again', {
    timeout: 60_000,
  }, async () => {
    await app?.close();
    app = await startTestApp(db.url, {
      ROLE: 'all',
      ...FAST_QUEUE_ENV,
      QUEUE_NAMESPACE: uniqueNamespace(),
      CACHE_ENABLED: 'true',
      CACHE_PREFIX: prefix('warm-job'),
      CACHE_WARMUP: 'true',
      CACHE_WARMUP_HOTELS: '1',
      CACHE_WARMUP_CITIES: '1',
    });
    const { cache, jobs } = app.innkeep;
    await waitFor('the start-up warm-up', 5_000, async () =>
      cache.stats.of('hotel').misses >= 1 ? true : undefined,
    );
    const warmJob = jobs.definition('warm-cache');
    assert.ok(warmJob, 'registered with the cache and its warm-up on');
    await cache.clear();
    const hotId = (
      await db.pool.query<{ id: number }>(`SELECT id FROM hotels WHERE city = $1`, [`Hotcity-${process.pid}`])
    ).rows[0]!.id;
    const missesBefore = cache.stats.of('hotel').misses;
    await jobs.enqueue(warmJob, {});
    await waitFor('the warm-cache job', 15_000, async () =>
      cache.stats.of('hotel').misses > missesBefore ? true : undefined,
    );
    await sleep(200);
    const detail = await app.inject(`/api/hotels/${hotId}`);
    assert.equal(queryCount(detail.headers), 0, 'the hottest hotel was warmed again by the job');

    // A worker-only process with a memory-only cache would warm entries no one reads: no such job.
    const worker = await startTestApp(db.url, {
      ROLE: 'worker',
      ...FAST_QUEUE_ENV,
      QUEUE_NAMESPACE: uniqueNamespace(),
      CACHE_ENABLED: 'true',
      CACHE_WARMUP: 'true',
    });
    try {
      assert.equal(worker.innkeep.jobs.definition('warm-cache'), undefined);
    } finally {
      await worker.close();
    }
  });
});
