import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rename, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { pino } from 'pino';
import { type App, buildApp } from '../../src/app/build-app.ts';
import { testConfig } from '../support/app.ts';
import { registerUser, type TestUser } from '../support/auth.ts';
import { createHotel, isoDate } from '../support/fixtures.ts';
import { isProcessRunning, postmasterPid } from '../support/process.ts';

/** A pino logger whose JSON lines are kept for assertions. */
function capturingLogger() {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n')) if (line) lines.push(JSON.parse(line));
      done();
    },
  });
  return { logger: pino({ level: 'info' }, stream), lines };
}

async function until(what: string, ok: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await ok().catch(() => false))) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

async function kill9(pid: number): Promise<void> {
  process.kill(pid, 'SIGKILL');
  await until(`postmaster ${pid} to die`, async () => !isProcessRunning(pid));
}

// Kills the app's own embedded PostgreSQL (started here in a temporary folder), never a shared server.
describe('when the embedded PostgreSQL dies under the app', () => {
  let dataDir: string;
  let app: App;
  let user: TestUser;
  let roomTypeId: number;
  const { logger, lines } = capturingLogger();

  before(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'innkeep-supervise-'));
    app = await buildApp(
      testConfig({
        INNKEEP_DATA_DIR: dataDir,
        DB_EMBEDDED_MAX_DOWNTIME_MS: '1500',
        DB_CONNECT_TIMEOUT_MS: '1000',
      }),
      { logger },
    );
    user = await registerUser(app);
    const hotel = await createHotel(app.innkeep.db.pool, { rooms: [{ totalRooms: 500 }] });
    roomTypeId = hotel.roomTypes[0]!.id;
  });

  after(async () => {
    await app?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  const book = (night: number) =>
    app.inject({
      method: 'POST',
      url: '/api/bookings',
      headers: { ...user.headers, 'idempotency-key': randomUUID() },
      payload: { roomTypeId, checkIn: isoDate(night), checkOut: isoDate(night + 1), guests: 1 },
    });

  it('then its exit is logged, it is restarted, and requests succeed again without restarting the app', async () => {
    const created: number[] = [];
    const statuses = new Map<number, number>();
    let stop = false;
    const worker = async (w: number) => {
      for (let i = 0; !stop; i++) {
        const res = await book(1 + ((w + i) % 30));
        statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1);
        if (res.statusCode === 201) created.push((res.json() as { id: number }).id);
        else assert.equal(res.statusCode, 503, res.body);
      }
    };
    const workers = Array.from({ length: 4 }, (_, w) => worker(w));
    await sleep(300);
    const pid = await postmasterPid(dataDir);
    await kill9(pid);
    await until('a booking to succeed after the restart', async () => (await book(40)).statusCode === 201);
    stop = true;
    await Promise.all(workers);

    assert.ok((statuses.get(201) ?? 0) > 0);
    const exit = lines.find((l) => l.msg === 'embedded PostgreSQL exited unexpectedly; restarting it');
    assert.ok(exit, 'the exit is logged');
    assert.equal(exit.level, 50, 'at error level');
    assert.equal(exit.signal, 'SIGKILL');
    assert.ok(lines.some((l) => l.msg === 'embedded PostgreSQL restarted'));
    const newPid = await postmasterPid(dataDir);
    assert.ok(newPid > 0 && newPid !== pid && isProcessRunning(newPid));

    // Every booking that was answered 201 survived the crash (PostgreSQL replayed its WAL).
    const { rows } = await app.innkeep.db.pool.query<{ id: number }>(
      'SELECT id FROM bookings WHERE id = ANY($1::int[])',
      [created],
    );
    assert.equal(rows.length, created.length);
    const health = (await app.inject('/health')).json();
    assert.equal(health.status, 'healthy');
    assert.equal(health.checks.database.server.restarts, 1);
    assert.equal((await app.inject('/healthz')).statusCode, 200);
  });

  it('then /healthz fails while it cannot come back within DB_EMBEDDED_MAX_DOWNTIME_MS, and recovers when it can', async () => {
    // Every restart attempt fails while the data folder is away (the running server is unaffected:
    // PostgreSQL works inside its data folder through relative paths). Moved before the kill, so no
    // restart can win a race against it.
    const pgDir = join(dataDir, 'pg');
    const aside = join(dataDir, 'pg-away');
    const pid = await postmasterPid(dataDir);
    await rename(pgDir, aside);
    let restored = false;
    try {
      await kill9(pid);
      // The exit reaches the supervisor when Node reaps the child, a moment after the kill.
      await until(
        'the supervisor to see the exit',
        async () => app.innkeep.db.embeddedStatus()?.state === 'restarting',
      );
      const health = await app.inject('/health');
      assert.equal(health.statusCode, 503);
      assert.equal(health.json().checks.database.error, 'failed (EMBEDDED_RESTARTING)');
      assert.equal(
        (await app.inject('/healthz')).statusCode,
        200,
        'a short outage is not a liveness failure',
      );
      await sleep(1700);
      const live = await app.inject('/healthz');
      assert.equal(live.statusCode, 503, live.body);
      const body = live.json();
      assert.equal(body.code, 'E_UNAVAILABLE');
      assert.equal(body.status, 'failing');
      assert.match(body.message, /embedded PostgreSQL has been down for \d+ s/);
      await rename(aside, pgDir);
      restored = true;
    } finally {
      if (!restored) await rename(aside, pgDir).catch(() => undefined);
    }
    await until('liveness to recover', async () => (await app.inject('/healthz')).statusCode === 200);
    await until('a booking to succeed', async () => (await book(41)).statusCode === 201);
    assert.ok(lines.some((l) => l.msg === 'embedded PostgreSQL did not restart yet; retrying'));
  });
});
