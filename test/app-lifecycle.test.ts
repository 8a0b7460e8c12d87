import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { buildApp } from '../src/app/build-app.ts';
import { runMigrations } from '../src/platform/db/index.ts';
import { createHttpServer, Lifecycle, shutdown } from '../src/platform/http/index.ts';
import { ERROR_FIELDS, startTestApp, testConfig } from './support/app.ts';
import { createTestDatabase, MIGRATIONS } from './support/database.ts';
import { isProcessRunning, postmasterPid } from './support/process.ts';
import { recordingLogger } from './support/silent-logger.ts';
import { ensureTestServer } from './support/test-server.ts';

const cleanups: (() => Promise<unknown>)[] = [];
before(async () => {
  cleanups.push(await ensureTestServer());
});
after(async () => {
  for (const fn of cleanups.reverse()) await fn();
});

describe('booting the app', () => {
  it('when started on an external PostgreSQL (DATABASE_URL), then it migrates and reports healthy', async () => {
    const db = await createTestDatabase({ migrate: false });
    cleanups.push(() => db.drop());
    const app = await startTestApp(db.url);
    try {
      assert.equal((await app.inject('/healthz')).json().status, 'ok');
      const ready = await app.inject('/ready');
      assert.equal(ready.statusCode, 200);
      assert.deepEqual(ready.json(), { status: 'ready' });
      const health = await app.inject('/health');
      assert.equal(health.statusCode, 200);
      const body = health.json();
      assert.equal(body.status, 'healthy');
      assert.equal(body.checks.database.status, 'up');
      assert.equal(body.checks.database.embedded, false);
      assert.equal(typeof body.checks.database.latencyMs, 'number');
      for (const key of ['total', 'idle', 'waiting', 'max'])
        assert.equal(typeof body.checks.database.pool[key], 'number');
      const search = await app.inject('/api/hotels/search');
      assert.deepEqual(search.json(), { data: [], page: 1, limit: 20, hasMore: false });
    } finally {
      await app.close();
    }
  });

  it('when DATABASE_URL is unset, then an embedded PostgreSQL serves it and the data survives a restart', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'innkeep-boot-'));
    cleanups.push(() => rm(dataDir, { recursive: true, force: true }));
    const config = testConfig({ INNKEEP_DATA_DIR: dataDir });

    const first = await buildApp(config);
    assert.equal(first.innkeep.db.embedded, true);
    assert.equal((await first.inject('/health')).json().checks.database.embedded, true);
    await first.innkeep.db.pool.query(
      "INSERT INTO hotels (name, city, country, stars) VALUES ('Survivor Hotel', 'Oslo', 'Norway', 3)",
    );
    const pid = await postmasterPid(dataDir);
    assert.ok(pid > 0);
    await first.close();
    assert.equal(isProcessRunning(pid), false, 'embedded PostgreSQL stops with the app');

    const second = await buildApp(config);
    try {
      const res = await second.inject('/api/hotels/search?city=oslo');
      assert.deepEqual(
        res.json().data.map((h: { name: string }) => h.name),
        ['Survivor Hotel'],
      );
      assert.equal((await second.inject('/ready')).statusCode, 200);
    } finally {
      await second.close();
    }
  });

  it('when migrations are pending and not applied on start, then /ready is 503 until they are', async () => {
    const db = await createTestDatabase({ migrate: false });
    cleanups.push(() => db.drop());
    const app = await startTestApp(db.url, { DB_MIGRATE_ON_START: 'false' });
    try {
      const before = await app.inject('/ready');
      assert.equal(before.statusCode, 503);
      assert.deepEqual(before.json().waitingFor, ['migrations']);
      await runMigrations(db.pool, MIGRATIONS, recordingLogger());
      assert.equal((await app.inject('/ready')).statusCode, 200);
    } finally {
      await app.close();
    }
  });

  it('when the database stops answering, then /health is unhealthy and /ready 503 while /healthz stays 200', async () => {
    const db = await createTestDatabase();
    cleanups.push(() => db.drop());
    const app = await startTestApp(db.url, { DB_CONNECT_TIMEOUT_MS: '500' });
    try {
      // Exhaust the app's pool with a lock wait so the probe cannot get a connection in time.
      await db.pool.query('CREATE TABLE probe_lock (id int)');
      const locker = await db.pool.connect();
      await locker.query('BEGIN; LOCK TABLE probe_lock IN ACCESS EXCLUSIVE MODE');
      const { pool } = app.innkeep.db;
      const blocked = Array.from({ length: pool.options.max }, () =>
        pool.query('SELECT * FROM probe_lock').catch(() => undefined),
      );
      await sleep(100);
      const health = await app.inject('/health');
      assert.equal(health.statusCode, 503);
      assert.equal(health.json().status, 'unhealthy');
      assert.equal(health.json().checks.database.status, 'down');
      assert.equal((await app.inject('/ready')).statusCode, 503);
      assert.equal((await app.inject('/healthz')).statusCode, 200);
      await locker.query('ROLLBACK');
      locker.release();
      await Promise.all(blocked);
      assert.equal((await app.inject('/health')).json().status, 'healthy');
    } finally {
      await app.close();
    }
  });
});

describe('graceful shutdown', () => {
  it('when shutdown starts, then /ready flips to 503 during the drain delay and the server then stops', async () => {
    const db = await createTestDatabase();
    cleanups.push(() => db.drop());
    const app = await startTestApp(db.url);
    const address = await app.listen({ host: '127.0.0.1', port: 0 });
    assert.equal((await fetch(`${address}/ready`)).status, 200);

    const done = shutdown(app, app.innkeep.lifecycle, { drainDelayMs: 400, timeoutMs: 5000 });
    const ready = await fetch(`${address}/ready`);
    assert.equal(ready.status, 503);
    const drained = (await ready.json()) as Record<string, unknown>;
    assert.equal(drained.status, 'draining');
    assert.equal(drained.code, 'E_UNAVAILABLE');
    for (const field of ERROR_FIELDS) assert.ok(field in drained, `the 503 has the standard ${field}`);
    assert.equal((await fetch(`${address}/healthz`)).status, 200);
    assert.equal(await done, 0);
    await assert.rejects(fetch(`${address}/healthz`));
    assert.equal(app.innkeep.lifecycle.state, 'stopped');
  });

  it('when a request is in flight at shutdown, then it completes before the server closes', async () => {
    const app = createHttpServer(testConfig());
    const lifecycle = new Lifecycle();
    app.get('/slow', async () => {
      await sleep(300);
      return { finished: true };
    });
    const address = await app.listen({ host: '127.0.0.1', port: 0 });
    lifecycle.markReady();
    const inFlight = fetch(`${address}/slow`);
    await sleep(50);
    const code = await shutdown(app, lifecycle, { drainDelayMs: 0, timeoutMs: 5000 });
    const res = await inFlight;
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { finished: true });
    assert.equal(code, 0);
    await assert.rejects(fetch(`${address}/slow`));
  });

  it('when in-flight work outlives the timeout, then shutdown gives up with exit code 1', async () => {
    const app = createHttpServer(testConfig());
    const lifecycle = new Lifecycle();
    app.get('/stuck', async () => {
      await sleep(1500);
      return {};
    });
    const address = await app.listen({ host: '127.0.0.1', port: 0 });
    const inFlight = fetch(`${address}/stuck`).catch(() => undefined);
    await sleep(50);
    assert.equal(await shutdown(app, lifecycle, { drainDelayMs: 0, timeoutMs: 200 }), 1);
    await inFlight;
  });
});
