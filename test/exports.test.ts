import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { App } from '../src/app/build-app.ts';
import { buildUserExport, ExportNotBuildableError } from '../src/app/exports/export-builder.ts';
import { assertError, queryCount, startTestApp } from './support/app.ts';
import { registerUser, type TestUser } from './support/auth.ts';
import { createTestDatabase, type TestDatabase } from './support/database.ts';
import { createHotel, givePastStay, type TestHotel } from './support/fixtures.ts';
import { ensureTestServer } from './support/test-server.ts';

interface DataExport {
  id: string;
  status: string;
  progress: number;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  expiresAt: string | null;
  expired: boolean;
  fileBytes: number | null;
  error: string | null;
  links: { self: string; download?: string };
}

interface ExportFile {
  exportId: string;
  profile: Record<string, unknown>;
  bookings: { id: number; hotelName: string }[];
  payments: { bookingId: number }[];
  trips: { id: number }[];
  waitlist: { id: number }[];
  reviews: { id: number }[];
  notifications: { id: number; payload: Record<string, unknown> }[];
}

describe('data exports (/api/me/export)', () => {
  let db: TestDatabase;
  let app: App;
  let stopServer: () => Promise<void>;
  let dataDir: string;
  let hotel: TestHotel;

  before(async () => {
    stopServer = await ensureTestServer();
    db = await createTestDatabase();
    dataDir = await mkdtemp(join(tmpdir(), 'innkeep-exports-'));
    app = await startTestApp(db.url, { INNKEEP_DATA_DIR: dataDir });
    hotel = await createHotel(db.pool, { name: 'Export Inn', rooms: [{ name: 'Export Room' }] });
  });

  after(async () => {
    await app?.close();
    await db?.drop();
    await stopServer?.();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  const request = (user: TestUser) =>
    app.inject({ method: 'POST', url: '/api/me/export', headers: user.headers });
  const status = (user: TestUser, id: string) =>
    app.inject({ method: 'GET', url: `/api/me/export/${id}`, headers: user.headers });
  const download = (user: TestUser, id: string) =>
    app.inject({ method: 'GET', url: `/api/me/export/${id}/download`, headers: user.headers });
  const build = (id: string, onProgress?: (pct: number) => void) =>
    buildUserExport(app.innkeep.db, id, { dataDir, ...(onProgress ? { onProgress } : {}) });

  /** A user with a booking (and its payment and confirmation) made through the API, and more in SQL. */
  const userWithData = async (name: string) => {
    const user = await registerUser(app, name);
    const stay = await givePastStay(db.pool, user.id, hotel.id);
    await db.pool.query(
      `INSERT INTO payments (booking_id, user_id, amount_cents, currency, provider, provider_ref, status)
       VALUES ($1, $2, 100, 'EUR', 'card', 'psp-secret-ref', 'captured')`,
      [stay, user.id],
    );
    await db.pool.query(
      `INSERT INTO notifications (user_id, type, payload) VALUES ($1, 'account_notice', $2)`,
      [user.id, { resetToken: 'do-not-export', bookingId: stay }],
    );
    await db.pool.query(`INSERT INTO trips (user_id, name) VALUES ($1, $2)`, [user.id, `${name} trip`]);
    await db.pool.query(
      `INSERT INTO reviews (user_id, entity_type, entity_id, rating, title) VALUES ($1, 'hotel', $2, 5, $3)`,
      [user.id, hotel.id, `${name} review`],
    );
    return { user, bookingId: stay };
  };

  it('when the owner requests, builds, polls and downloads, then the file holds their bookings and only their data', async () => {
    const { user: alice, bookingId } = await userWithData('Alice Export');
    const { user: bob, bookingId: bobBooking } = await userWithData('Bob Export');

    const res = await request(alice);
    assert.equal(res.statusCode, 202, res.body);
    assert.equal(queryCount(res.headers), 4, 'BEGIN, the insert, the build job (same transaction), COMMIT');
    const created = res.json() as DataExport;
    assert.equal(created.status, 'queued');
    assert.equal(created.progress, 0);
    assert.equal(res.headers.location, `/api/me/export/${created.id}`);
    assert.deepEqual(created.links, { self: `/api/me/export/${created.id}` });

    // Not built yet: no download.
    assertError(await download(alice, created.id), 409, 'E_EXPORT_NOT_READY');

    const seen: number[] = [];
    const built = await build(created.id, (pct) => {
      seen.push(pct);
    });
    assert.equal(built.file, join(dataDir, 'exports', `${created.id}.json`));
    assert.equal(seen[0], 0);
    assert.equal(seen.at(-1), 100);
    assert.deepEqual(
      seen,
      [...seen].sort((a, b) => a - b),
      'progress only grows',
    );
    assert.ok(seen.length >= 8, `a step per section: ${seen.join(', ')}`);
    const mode = (await stat(built.file)).mode & 0o777;
    assert.equal(mode, 0o600);
    assert.equal((await stat(join(dataDir, 'exports'))).mode & 0o777, 0o700);

    const polled = await status(alice, created.id);
    assert.equal(polled.statusCode, 200, polled.body);
    assert.equal(queryCount(polled.headers), 1);
    const done = polled.json() as DataExport;
    assert.equal(done.status, 'completed');
    assert.equal(done.progress, 100);
    assert.equal(done.fileBytes, built.bytes);
    assert.equal(done.expired, false);
    assert.ok(done.startedAt && done.finishedAt && done.expiresAt);
    const days = (Date.parse(done.expiresAt) - Date.parse(done.finishedAt)) / 86_400_000;
    assert.equal(Math.round(days), 7);
    assert.equal(done.links.download, `/api/me/export/${created.id}/download`);

    const file = await download(alice, created.id);
    assert.equal(file.statusCode, 200, file.body);
    assert.match(String(file.headers['content-type']), /^application\/json/);
    assert.equal(
      file.headers['content-disposition'],
      `attachment; filename="innkeep-export-${created.id}.json"`,
    );
    assert.equal(file.body.length, built.bytes);
    const body = file.json() as ExportFile;
    assert.equal(body.exportId, created.id);
    assert.equal(body.profile.id, alice.id);
    assert.equal(body.profile.email, alice.email);
    assert.deepEqual(
      body.bookings.map((b) => [b.id, b.hotelName]),
      [[bookingId, 'Export Inn']],
    );
    assert.deepEqual(
      body.payments.map((p) => p.bookingId),
      [bookingId],
    );
    assert.equal(body.trips.length, 1);
    assert.equal(body.reviews.length, 1);
    assert.deepEqual(
      body.notifications.map((n) => n.payload),
      [{ bookingId }],
    );

    // Nothing of Bob's, no password hash, no token, no provider reference.
    const text = file.body;
    for (const leak of [
      bob.email,
      'Bob Export',
      'password',
      'passwordHash',
      '$argon2',
      '$scrypt',
      'do-not-export',
      'psp-secret-ref',
      'resetToken',
    ]) {
      assert.ok(!text.includes(leak), `the file contains ${leak}`);
    }
    assert.ok(!body.bookings.some((b) => b.id === bobBooking));
    const { rows } = await db.pool.query<{ password_hash: string }>(
      'SELECT password_hash FROM users WHERE id = $1',
      [alice.id],
    );
    assert.ok(!text.includes(rows[0]!.password_hash), 'the password hash is not in the file');
    // The file on disk is the one served.
    assert.equal(await readFile(built.file, 'utf8'), text);
  });

  it('when another user asks for an export, then its status and download are 404', async () => {
    const alice = await registerUser(app, 'Alice Owner');
    const mallory = await registerUser(app, 'Mallory');
    const { id } = (await request(alice)).json() as DataExport;
    await build(id);
    assertError(await status(mallory, id), 404, 'E_NOT_FOUND');
    assertError(await download(mallory, id), 404, 'E_NOT_FOUND');
    // The owner still gets it.
    assert.equal((await download(alice, id)).statusCode, 200);
  });

  it('when an export is queued or running, then a second request answers the same export with 202', async () => {
    const user = await registerUser(app, 'Twice');
    const [a, b] = await Promise.all([request(user), request(user)]);
    assert.equal(a.statusCode, 202, a.body);
    assert.equal(b.statusCode, 202, b.body);
    const first = a.json() as DataExport;
    assert.equal((b.json() as DataExport).id, first.id);
    const { rows } = await db.pool.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM data_exports WHERE user_id = $1',
      [user.id],
    );
    assert.equal(rows[0]!.n, 1);

    // Once completed, a new request is a new export.
    await build(first.id);
    const again = (await request(user)).json() as DataExport;
    assert.notEqual(again.id, first.id);
    assert.equal(again.status, 'queued');
  });

  it('when the build is run again for the same export, then it is idempotent', async () => {
    const { user } = await userWithData('Retry');
    const { id } = (await request(user)).json() as DataExport;
    const first = await build(id);
    const before = await stat(first.file);
    const second = await build(id);
    assert.deepEqual(second, first);
    assert.equal((await stat(second.file)).mtimeMs, before.mtimeMs, 'a completed export is not rebuilt');

    // A retried job of an interrupted or failed build starts over and completes.
    await db.pool.query(`UPDATE data_exports SET status = 'running', progress = 40 WHERE id = $1`, [id]);
    await unlink(first.file);
    const third = await build(id);
    assert.equal(third.bytes, first.bytes);
    const done = (await status(user, id)).json() as DataExport;
    assert.equal(done.status, 'completed');
    assert.equal(done.progress, 100);
    const files = await readFile(third.file, 'utf8');
    assert.equal((JSON.parse(files) as ExportFile).exportId, id);
  });

  it('when a completed export is past its expiry, then the status says so and the download is 410', async () => {
    const user = await registerUser(app, 'Expired');
    const { id } = (await request(user)).json() as DataExport;
    await build(id);
    await db.pool.query(`UPDATE data_exports SET expires_at = now() - interval '1 second' WHERE id = $1`, [
      id,
    ]);
    const res = await status(user, id);
    assert.equal(res.statusCode, 200);
    const body = res.json() as DataExport;
    assert.equal(body.expired, true);
    assert.equal(body.links.download, undefined);
    assertError(await download(user, id), 410, 'E_EXPORT_EXPIRED');
  });

  it('when the build fails, then the export is failed with the error and a new request is allowed', async () => {
    const user = await registerUser(app, 'Broken');
    const { id } = (await request(user)).json() as DataExport;
    // The data directory is a file: the folder cannot be made.
    const notADir = join(dataDir, 'not-a-dir');
    await rm(notADir, { force: true });
    await writeFile(notADir, 'x');
    await assert.rejects(buildUserExport(app.innkeep.db, id, { dataDir: notADir }));
    const { rows } = await db.pool.query<{ status: string; error: string | null }>(
      'SELECT status, error FROM data_exports WHERE id = $1',
      [id],
    );
    assert.equal(rows[0]!.status, 'failed');
    assert.ok(rows[0]!.error, 'the error is stored');
    const failed = (await status(user, id)).json() as DataExport;
    assert.equal(failed.status, 'failed');
    assert.ok(failed.error && !failed.error.includes(notADir), 'the API does not show internals');
    assertError(await download(user, id), 409, 'E_EXPORT_NOT_READY');

    const next = (await request(user)).json() as DataExport;
    assert.notEqual(next.id, id);
    // The failed one's retried job is superseded by the new export: it fails for good.
    await assert.rejects(build(id), ExportNotBuildableError);
  });

  it('when the build is aborted, then the export goes back to queued', async () => {
    const user = await registerUser(app, 'Aborted');
    const { id } = (await request(user)).json() as DataExport;
    const controller = new AbortController();
    await assert.rejects(
      buildUserExport(app.innkeep.db, id, {
        dataDir,
        signal: controller.signal,
        onProgress: (pct) => {
          if (pct > 20) controller.abort(new Error('shutting down'));
        },
      }),
      /shutting down/,
    );
    const body = (await status(user, id)).json() as DataExport;
    assert.equal(body.status, 'queued');
    assert.equal(body.progress, 0);
  });

  it('when ids are malformed or unknown, then 400 or 404 in the standard format', async () => {
    const user = await registerUser(app, 'Bad Ids');
    for (const bad of ['1', 'abc', 'not-a-uuid', `${randomUUID()}x`, '%00']) {
      assertError(await status(user, bad), 400, 'E_VALIDATION', 'id');
      assertError(await download(user, bad), 400, 'E_VALIDATION', 'id');
    }
    const unknown = randomUUID();
    assertError(await status(user, unknown), 404, 'E_NOT_FOUND');
    assertError(await download(user, unknown), 404, 'E_NOT_FOUND');
    await assert.rejects(build(unknown), ExportNotBuildableError);
    await assert.rejects(build('nope'), ExportNotBuildableError);
  });

  it('when the routes are called without a token, then 401', async () => {
    for (const [method, url] of [
      ['POST', '/api/me/export'],
      ['GET', `/api/me/export/${randomUUID()}`],
      ['GET', `/api/me/export/${randomUUID()}/download`],
    ] as const) {
      assertError(await app.inject({ method, url }), 401, 'E_UNAUTHORIZED');
    }
  });
});
