import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import openapiTS, { astToString, type OpenAPI3 } from 'openapi-typescript';
import type { App } from '../src/app/build-app.ts';
import { startTestApp } from './support/app.ts';
import { createTestDatabase, type TestDatabase } from './support/database.ts';
import { createHotel, isoDate } from './support/fixtures.ts';
import { ensureTestServer } from './support/test-server.ts';

const ROOT = join(import.meta.dirname, '..');
/** Checked in; imports the generated 'innkeep-api' module, so tsconfig.json leaves it out. */
const JOURNEY = join(import.meta.dirname, 'openapi-client/booking-journey.ts');
const TSC = join(ROOT, 'node_modules/typescript/bin/tsc');

/** What booking-journey.ts exports (imported at run time only: a static import would typecheck it). */
interface Journey {
  bookingJourney(input: {
    baseUrl: string;
    email: string;
    city: string;
    checkIn: string;
    checkOut: string;
  }): Promise<{
    hotelId: number;
    bookingId: number;
    bookingStatus: string;
    replayed: string | null;
    failure: { status: number; code: string; requestId: string };
    myBookingIds: number[];
    cancelledStatus: string;
  }>;
}

describe('a client generated from the OpenAPI document', () => {
  let db: TestDatabase;
  let app: App;
  let baseUrl: string;
  let dir: string;
  let hotelId: number;
  let stopServer: () => Promise<void>;
  const city = `Journeyville ${process.pid}`;

  before(async () => {
    stopServer = await ensureTestServer();
    db = await createTestDatabase();
    app = await startTestApp(db.url, { CACHE_ENABLED: 'true' });
    baseUrl = await app.listen({ host: '127.0.0.1', port: 0 });
    hotelId = (await createHotel(db.pool, { city, rooms: [{ totalRooms: 3, capacity: 2 }] })).id;
    dir = await mkdtemp(join(tmpdir(), 'innkeep-openapi-client-'));
  });

  after(async () => {
    await app?.close();
    await db?.drop();
    await stopServer?.();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('when types are generated from /docs/json, then the typed journey compiles with tsc --strict', async () => {
    const res = await app.inject({ method: 'GET', url: '/docs/json' });
    assert.equal(res.statusCode, 200, res.body);
    const types = astToString(await openapiTS(res.json() as OpenAPI3));
    await writeFile(join(dir, 'innkeep-api.d.ts'), types);
    const tsconfig = {
      extends: join(ROOT, 'tsconfig.json'),
      compilerOptions: {
        strict: true,
        noEmit: true,
        // The temporary directory has no node_modules above it.
        typeRoots: [join(ROOT, 'node_modules/@types')],
        paths: { 'innkeep-api': [join(dir, 'innkeep-api.d.ts')] },
      },
      include: [],
      files: [JOURNEY],
    };
    await writeFile(join(dir, 'tsconfig.json'), JSON.stringify(tsconfig, null, 2));
    const tsc = spawnSync(
      process.execPath,
      [TSC, '-p', join(dir, 'tsconfig.json'), '--strict', '--pretty', 'false'],
      {
        encoding: 'utf8',
      },
    );
    assert.equal(tsc.status, 0, `tsc --strict failed on ${JOURNEY}:\n${tsc.stdout}${tsc.stderr}`);
  });

  it('when the typed journey runs against the app, then every step answers as its types say', async () => {
    const { bookingJourney } = (await import(pathToFileURL(JOURNEY).href)) as Journey;
    const report = await bookingJourney({
      baseUrl,
      email: `journey-${process.pid}-${Date.now()}@example.test`,
      city,
      checkIn: isoDate(5),
      checkOut: isoDate(7),
    });
    assert.equal(report.hotelId, hotelId);
    assert.equal(report.bookingStatus, 'confirmed');
    assert.equal(report.replayed, null);
    assert.equal(report.failure.status, 422);
    assert.equal(report.failure.code, 'E_IDEMPOTENCY_MISMATCH');
    assert.match(report.failure.requestId, /\S/);
    assert.deepEqual(report.myBookingIds, [report.bookingId]);
    assert.equal(report.cancelledStatus, 'cancelled');
  });
});
