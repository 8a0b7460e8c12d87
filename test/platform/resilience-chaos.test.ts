import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type pg from 'pg';
import { loadConfig } from '../../src/platform/config/index.ts';
import { type Database, openDatabase } from '../../src/platform/db/index.ts';
import {
  adminShutdown,
  Chaos,
  econnreset,
  type FetchLike,
  OutboundHttpClient,
  Resilience,
} from '../../src/platform/resilience/index.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { recordingLogger } from '../support/silent-logger.ts';
import { ensureTestServer } from '../support/test-server.ts';

// Faults injected with the chaos switch into the real database path (db.read's transient-read retry,
// a pg Pool) and into the outbound HTTP client in front of a real local server.

let stopServer: () => Promise<void>;
let testDb: TestDatabase;
let db: Database;
const log = recordingLogger();

before(async () => {
  stopServer = await ensureTestServer();
  testDb = await createTestDatabase();
  const config = loadConfig({ env: { DATABASE_URL: testDb.url, DB_QUERY_RETRIES: '2' }, envFile: false });
  db = await openDatabase(config.db, log);
});

after(async () => {
  await db?.close();
  await testDb?.drop();
  await stopServer?.();
});

describe('db.read under injected faults', () => {
  it('when the first attempt fails with 57P01 (admin shutdown), then db.read retries and answers', async () => {
    const chaos = new Chaos().alwaysThrow(adminShutdown, 1);
    const { rows } = await db.read((q) => chaos.pool(q).query<{ one: number }>('SELECT 1 AS one'));
    assert.deepEqual(rows, [{ one: 1 }]);
    assert.equal(chaos.calls, 2);
  });

  it('when ECONNRESET keeps coming, then db.read gives up after DB_QUERY_RETRIES retries', async () => {
    const chaos = new Chaos().alwaysThrow(econnreset);
    await assert.rejects(
      db.read((q) => chaos.pool(q).query('SELECT 1')),
      { code: 'ECONNRESET' },
    );
    assert.equal(chaos.calls, 3);
  });

  it('when the error is not transient (a unique violation), then db.read does not retry', async () => {
    const chaos = new Chaos().alwaysThrow(() => Object.assign(new Error('duplicate key'), { code: '23505' }));
    await assert.rejects(
      db.read((q) => chaos.pool(q).query('SELECT 1')),
      { code: '23505' },
    );
    assert.equal(chaos.calls, 1);
  });
});

describe('a pg Pool under injected faults', () => {
  it('when connect hangs behind a policy, then the timeout cuts it and the pool serves again once healed', async () => {
    const chaos = new Chaos();
    const pool = chaos.pool(db.pool as pg.Pool);
    const resilience = new Resilience(
      {
        failureThreshold: 5,
        halfOpenAfterMs: 30_000,
        successThreshold: 1,
        retries: 0,
        baseDelayMs: 1,
        maxDelayMs: 10,
        timeoutMs: 50,
      },
      { log: recordingLogger() },
    );
    const policy = resilience.policy('pg-reports');
    chaos.alwaysHang();
    await assert.rejects(
      policy.execute(async () => {
        const client = await pool.connect();
        client.release();
      }),
      { code: 'E_DEPENDENCY_UNAVAILABLE' },
    );
    assert.equal(policy.breaker.snapshot().lastFailure?.reason, 'timeout');
    chaos.alwaysOk().latency(20);
    const { rows } = await pool.query<{ n: number }>('SELECT 2 AS n');
    assert.deepEqual(rows, [{ n: 2 }]);
    const stats = db.stats();
    assert.equal(stats.waiting, 0);
    assert.ok(stats.total <= stats.max);
  });
});

describe('the policy stack with the chaos outbound client', () => {
  let provider: Server;
  let base: string;

  before(async () => {
    provider = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"ok":true}');
    });
    await new Promise<void>((r) => provider.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(provider.address() as AddressInfo).port}`;
  });

  after(async () => {
    await new Promise((r) => provider?.close(r));
  });

  it('when ECONNRESET is injected twice, then the retry gets through on the third attempt', async () => {
    const chaos = new Chaos().alwaysThrow(econnreset, 2);
    const resilience = new Resilience(
      {
        failureThreshold: 5,
        halfOpenAfterMs: 30_000,
        successThreshold: 1,
        retries: 3,
        baseDelayMs: 1,
        maxDelayMs: 5,
        timeoutMs: 1_000,
      },
      { log: recordingLogger() },
    );
    const client = new OutboundHttpClient(
      resilience.policy('supplier'),
      base,
      chaos.wrap(fetch as FetchLike),
    );
    assert.deepEqual(await client.json({ path: '/' }), { ok: true });
    assert.equal(chaos.calls, 3);
    assert.equal(resilience.breakers()[0]?.state, 'closed');
  });

  it('when the dependency hangs, then each call is cut at the timeout, the breaker opens and later calls fail fast', async () => {
    const chaos = new Chaos().alwaysHang();
    const resilience = new Resilience(
      {
        failureThreshold: 2,
        halfOpenAfterMs: 30_000,
        successThreshold: 1,
        retries: 0,
        baseDelayMs: 1,
        maxDelayMs: 5,
        timeoutMs: 40,
      },
      { log: recordingLogger() },
    );
    const client = new OutboundHttpClient(
      resilience.policy('supplier'),
      base,
      chaos.wrap(fetch as FetchLike),
    );
    for (let i = 0; i < 2; i++)
      await assert.rejects(client.json({ path: '/' }), { code: 'E_DEPENDENCY_UNAVAILABLE' });
    assert.equal(resilience.breakers()[0]?.state, 'open');
    const calls = chaos.calls;
    await assert.rejects(
      client.json({ path: '/' }),
      (err: { headers?: Record<string, string> }) => Number(err.headers?.['retry-after']) === 30,
    );
    assert.equal(chaos.calls, calls, 'no call reached the dependency');
  });
});
