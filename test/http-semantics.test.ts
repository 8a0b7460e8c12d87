import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { App } from '../src/app/build-app.ts';
import { assertError, startTestApp } from './support/app.ts';
import { registerUser, type TestUser } from './support/auth.ts';
import { createTestDatabase, type TestDatabase } from './support/database.ts';
import { createHotel, isoDate, setAvailableRooms, type TestHotel } from './support/fixtures.ts';
import { ensureTestServer } from './support/test-server.ts';

// The HTTP semantics a client library relies on, through the real app's routes.
describe('HTTP semantics of the API', () => {
  let db: TestDatabase;
  let app: App;
  let alice: TestUser;
  let hotel: TestHotel;
  let stopServer: () => Promise<void>;

  before(async () => {
    stopServer = await ensureTestServer();
    db = await createTestDatabase();
    app = await startTestApp(db.url, { CACHE_ENABLED: 'true' });
    alice = await registerUser(app, 'Alice');
    hotel = await createHotel(db.pool);
  });

  after(async () => {
    await app?.close();
    await db?.drop();
    await stopServer?.();
  });

  const emptyJson = (method: 'POST' | 'DELETE', url: string) =>
    app.inject({
      method,
      url,
      headers: { ...alice.headers, 'content-type': 'application/json' },
      payload: '',
    });

  it('when a known path gets a method it does not serve, then 405 with Allow, not 404', async () => {
    const res = await app.inject({ method: 'DELETE', url: `/api/hotels/${hotel.id}` });
    assertError(res, 405, 'E_METHOD_NOT_ALLOWED');
    assert.equal(res.headers.allow, 'GET, HEAD');
    const cancel = await app.inject({ method: 'GET', url: '/api/bookings/1/cancel' });
    assertError(cancel, 405, 'E_METHOD_NOT_ALLOWED');
    assert.equal(cancel.headers.allow, 'POST');
    assertError(await app.inject({ method: 'DELETE', url: '/api/nothing/here' }), 404, 'E_ROUTE_NOT_FOUND');
  });

  it('when a bodiless POST or DELETE carries Content-Type: application/json and no body, then it is served', async () => {
    const booked = await app.inject({
      method: 'POST',
      url: '/api/bookings',
      headers: { ...alice.headers, 'idempotency-key': randomUUID() },
      payload: { roomTypeId: hotel.roomTypes[0]!.id, checkIn: isoDate(5), checkOut: isoDate(6), guests: 1 },
    });
    assert.equal(booked.statusCode, 201, booked.body);
    const cancel = await emptyJson('POST', `/api/bookings/${(booked.json() as { id: number }).id}/cancel`);
    assert.equal(cancel.statusCode, 200, cancel.body);
    assert.equal((cancel.json() as { status: string }).status, 'cancelled');

    await setAvailableRooms(db.pool, hotel.roomTypes[0]!.id, isoDate(9), isoDate(10), 0);
    const joined = await app.inject({
      method: 'POST',
      url: '/api/waitlist',
      headers: alice.headers,
      payload: { roomTypeId: hotel.roomTypes[0]!.id, checkIn: isoDate(9), checkOut: isoDate(10) },
    });
    assert.equal(joined.statusCode, 201, joined.body);
    const left = await emptyJson('DELETE', `/api/waitlist/${(joined.json() as { id: number }).id}`);
    assert.equal(left.statusCode, 204, left.body);
    // A route that takes a body still says it is missing.
    const needsBody = await app.inject({
      method: 'POST',
      url: '/api/bookings',
      headers: { ...alice.headers, 'idempotency-key': randomUUID(), 'content-type': 'application/json' },
      payload: '',
    });
    assertError(needsBody, 400, 'E_BAD_JSON');
  });

  it('when an id or a number is not plain decimal digits, then 400 naming it, never another resource', async () => {
    const target = await createHotel(db.pool, { name: 'Hotel Sixteen' });
    for (const id of ['0x10', '1e1', '0b1', '+1', ' 1', '1.0']) {
      assertError(await app.inject(`/api/hotels/${encodeURIComponent(id)}`), 400, 'E_VALIDATION', 'id');
    }
    assertError(await app.inject('/api/hotels/search?page=0x2'), 400, 'E_VALIDATION', 'page');
    assertError(await app.inject('/api/hotels/search?limit=1e1'), 400, 'E_VALIDATION', 'limit');
    assert.equal((await app.inject(`/api/hotels/${target.id}`)).statusCode, 200);
  });

  it('when a JSON body holds invalid UTF-8, then 400 E_BAD_JSON and nothing is stored', async () => {
    const email = `utf8-${randomUUID()}@example.test`;
    const payload = Buffer.concat([
      Buffer.from(`{"email":"${email}","password":"correct horse battery","name":"Ren`),
      Buffer.from([0xe9]), // Latin-1 é: not UTF-8
      Buffer.from('e"}'),
    ]);
    const res = await app.inject({
      method: 'POST',
      url: '/api/auth/register',
      headers: { 'content-type': 'application/json' },
      payload,
    });
    assertError(res, 400, 'E_BAD_JSON');
    const { rowCount } = await db.pool.query('SELECT 1 FROM users WHERE email = $1', [email]);
    assert.equal(rowCount, 0);
  });
});
