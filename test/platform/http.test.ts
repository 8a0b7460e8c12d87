import assert from 'node:assert/strict';
import { STATUS_CODES } from 'node:http';
import { after, before, describe, it } from 'node:test';
import type { LightMyRequestResponse } from 'fastify';
import Type from 'typebox';
import { loadConfig } from '../../src/platform/config/index.ts';
import { translatePgError } from '../../src/platform/db/index.ts';
import type { ErrorBody } from '../../src/platform/http/index.ts';
import { createHttpServer, type HttpServer } from '../../src/platform/http/index.ts';
import { ERROR_FIELDS } from '../support/app.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { ensureTestServer } from '../support/test-server.ts';

const OPTIONAL_FIELDS = ['details', 'hint'];
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const SECRET = 'secret-internal-detail: password=hunter2 at /srv/innkeep';

type ErrorBodyShape = ErrorBody;

/** Asserts the standard error body (and nothing else) and returns it. */
function assertErrorBody(
  res: LightMyRequestResponse,
  expected: { statusCode: number; code: string; path: string },
  options: { allowStack?: boolean } = {},
): ErrorBodyShape {
  assert.equal(res.statusCode, expected.statusCode, `status of ${res.body}`);
  assert.match(String(res.headers['content-type']), /^application\/json/);
  const body = res.json() as ErrorBodyShape;
  const keys = Object.keys(body);
  for (const field of ERROR_FIELDS) assert.ok(keys.includes(field), `missing ${field} in ${res.body}`);
  const allowed = [...ERROR_FIELDS, ...OPTIONAL_FIELDS, ...(options.allowStack ? ['stack'] : [])];
  assert.deepEqual(
    keys.filter((k) => !allowed.includes(k)),
    [],
    `unexpected fields in ${res.body}`,
  );
  assert.equal(body.success, false);
  assert.equal(body.statusCode, expected.statusCode);
  assert.equal(body.error, STATUS_CODES[expected.statusCode]);
  assert.equal(body.code, expected.code);
  assert.equal(typeof body.message, 'string');
  assert.ok(body.message.length > 0);
  assert.equal(body.path, expected.path);
  assert.equal(body.requestId, res.headers['x-request-id']);
  assert.equal(new Date(body.timestamp).toISOString(), body.timestamp);
  assert.ok(Math.abs(Date.now() - Date.parse(body.timestamp)) < 60_000);
  return body;
}

function registerTestRoutes(app: HttpServer, db: TestDatabase | undefined): void {
  app.post(
    '/t/echo',
    {
      schema: {
        body: Type.Object(
          { name: Type.String({ minLength: 1 }), count: Type.Integer({ minimum: 1 }) },
          { additionalProperties: false },
        ),
        querystring: Type.Object({ dryRun: Type.Optional(Type.Boolean()) }, { additionalProperties: false }),
      },
    },
    async (request) => ({
      name: request.body.name,
      count: request.body.count,
      dryRun: request.query.dryRun ?? false,
    }),
  );
  app.get(
    '/t/items',
    {
      schema: {
        querystring: Type.Object(
          { limit: Type.Integer({ minimum: 1, maximum: 50, default: 10 }) },
          { additionalProperties: false },
        ),
      },
    },
    async (request) => ({ limit: request.query.limit }),
  );
  app.get('/t/boom', async () => {
    throw new Error(SECRET);
  });
  app.get('/t/no-queries', async () => ({ ok: true }));
  if (!db) return;
  const pool = db.pool;
  app.post(
    '/t/users',
    { schema: { body: Type.Object({ email: Type.String() }) } },
    async (request, reply) => {
      const { rows } = await pool.query(
        "INSERT INTO users (email, password_hash, name) VALUES ($1, 'x', 'Test') RETURNING id",
        [request.body.email],
      );
      return reply.code(201).send({ id: rows[0].id });
    },
  );
  app.post(
    '/t/room-types',
    { schema: { body: Type.Object({ hotelId: Type.Integer() }) } },
    async (request) => {
      await pool.query(
        "INSERT INTO room_types (hotel_id, name, capacity, base_price_cents, total_rooms) VALUES ($1, 'Double', 2, 9900, 3)",
        [request.body.hotelId],
      );
      return { ok: true };
    },
  );
  app.post('/t/hotels', { schema: { body: Type.Object({ stars: Type.Integer() }) } }, async (request) => {
    await pool.query("INSERT INTO hotels (name, city, country, stars) VALUES ('H', 'Oslo', 'NO', $1)", [
      request.body.stars,
    ]);
    return { ok: true };
  });
  app.get('/t/statement-timeout', async () => {
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      await client.query("SET LOCAL statement_timeout = '50ms'");
      await client.query('SELECT pg_sleep(2)');
      return { ok: true };
    } finally {
      await client.query('ROLLBACK').catch(() => undefined);
      client.release();
    }
  });
  app.get('/t/serialization-failure', async () => {
    await pool.query(
      "DO $$ BEGIN RAISE EXCEPTION 'could not serialize access' USING ERRCODE = 'serialization_failure'; END $$",
    );
    return { ok: true };
  });
  app.get('/t/bad-cast', async () => {
    await pool.query("SELECT 'not-a-number'::integer");
    return { ok: true };
  });
  app.get('/t/missing-table', async () => {
    await pool.query('SELECT * FROM no_such_table_for_secrets');
    return { ok: true };
  });
  app.get('/t/three-queries', async () => {
    for (let i = 0; i < 3; i++) await pool.query('SELECT pg_sleep(0.01)');
    return { ok: true };
  });
  app.get('/t/transaction', async () => {
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      await client.query('SELECT pg_sleep(0.01)');
      await client.query('COMMIT');
    } finally {
      client.release();
    }
    return { ok: true };
  });
}

let stopServer: (() => Promise<void>) | undefined;
before(async () => {
  stopServer = await ensureTestServer();
});
after(async () => {
  await stopServer?.();
});

describe('HTTP server (production)', () => {
  let db: TestDatabase;
  let app: HttpServer;

  before(async () => {
    db = await createTestDatabase();
    app = createHttpServer(
      loadConfig({
        env: { LOG_LEVEL: 'silent', NODE_ENV: 'production', HTTP_BODY_LIMIT_BYTES: '2048' },
        envFile: false,
      }),
      { errorTranslators: [translatePgError] },
    );
    registerTestRoutes(app, db);
    await app.ready();
  });

  after(async () => {
    await app?.close();
    await db?.drop();
  });

  describe('error format', () => {
    it('when a route throws a plain Error, then the 500 body is standard and leaks neither message nor stack', async () => {
      const res = await app.inject({ method: 'GET', url: '/t/boom' });
      const body = assertErrorBody(res, { statusCode: 500, code: 'E_INTERNAL', path: '/t/boom' });
      assert.equal(body.message, 'Internal server error');
      assert.equal(body.stack, undefined);
      assert.ok(!res.body.includes('hunter2'), res.body);
      assert.ok(!res.body.includes('secret-internal-detail'), res.body);
    });

    it('when the route does not exist, then 404 E_ROUTE_NOT_FOUND names the route', async () => {
      const res = await app.inject({ method: 'GET', url: '/t/nope?x=1' });
      const body = assertErrorBody(res, { statusCode: 404, code: 'E_ROUTE_NOT_FOUND', path: '/t/nope?x=1' });
      assert.equal(body.message, 'Route GET /t/nope not found');
    });

    it('when the body is larger than HTTP_BODY_LIMIT_BYTES, then 413 E_PAYLOAD_TOO_LARGE', async () => {
      const res = await app.inject({
        method: 'POST',
        url: '/t/echo',
        headers: { 'content-type': 'application/json' },
        payload: JSON.stringify({ name: 'x'.repeat(3000), count: 1 }),
      });
      assertErrorBody(res, { statusCode: 413, code: 'E_PAYLOAD_TOO_LARGE', path: '/t/echo' });
    });

    it('when the body is just under the limit, then it is accepted', async () => {
      const payload = JSON.stringify({ name: 'x'.repeat(1900), count: 1 });
      assert.ok(Buffer.byteLength(payload) < 2048);
      const res = await app.inject({
        method: 'POST',
        url: '/t/echo',
        headers: { 'content-type': 'application/json' },
        payload,
      });
      assert.equal(res.statusCode, 200);
    });

    it('when the JSON body is malformed, then 400 E_BAD_JSON', async () => {
      const res = await app.inject({
        method: 'POST',
        url: '/t/echo',
        headers: { 'content-type': 'application/json' },
        payload: '{"name": "a",',
      });
      assertErrorBody(res, { statusCode: 400, code: 'E_BAD_JSON', path: '/t/echo' });
    });

    it('when a JSON body is empty, then 400 E_BAD_JSON', async () => {
      const res = await app.inject({
        method: 'POST',
        url: '/t/echo',
        headers: { 'content-type': 'application/json' },
        payload: '',
      });
      assertErrorBody(res, { statusCode: 400, code: 'E_BAD_JSON', path: '/t/echo' });
    });

    it('when the content-type is not supported, then 415 E_UNSUPPORTED_MEDIA_TYPE', async () => {
      const res = await app.inject({
        method: 'POST',
        url: '/t/echo',
        headers: { 'content-type': 'application/xml' },
        payload: '<name>a</name>',
      });
      assertErrorBody(res, { statusCode: 415, code: 'E_UNSUPPORTED_MEDIA_TYPE', path: '/t/echo' });
    });
  });

  describe('validation', () => {
    it('when the body is valid, then the handler gets it with coerced types', async () => {
      const res = await app.inject({
        method: 'POST',
        url: '/t/echo?dryRun=true',
        payload: { name: 'Ada', count: 2 },
      });
      assert.equal(res.statusCode, 200);
      assert.deepEqual(res.json(), { name: 'Ada', count: 2, dryRun: true });
    });

    it('when a required body field is missing, then 400 E_VALIDATION names the field', async () => {
      const res = await app.inject({ method: 'POST', url: '/t/echo', payload: { name: 'Ada' } });
      const body = assertErrorBody(res, { statusCode: 400, code: 'E_VALIDATION', path: '/t/echo' });
      assert.deepEqual(body.details, [{ field: 'count', message: 'is required', in: 'body' }]);
      assert.match(body.message, /count/);
    });

    it('when a body field has the wrong type, then 400 E_VALIDATION names the field', async () => {
      const res = await app.inject({
        method: 'POST',
        url: '/t/echo',
        payload: { name: 'Ada', count: 'many' },
      });
      const body = assertErrorBody(res, { statusCode: 400, code: 'E_VALIDATION', path: '/t/echo' });
      assert.equal(body.details?.length, 1);
      assert.equal(body.details?.[0]?.field, 'count');
      assert.equal(body.details?.[0]?.in, 'body');
    });

    it('when the body has an unknown property, then 400 E_VALIDATION names it', async () => {
      const res = await app.inject({
        method: 'POST',
        url: '/t/echo',
        payload: { name: 'Ada', count: 1, admin: true },
      });
      const body = assertErrorBody(res, { statusCode: 400, code: 'E_VALIDATION', path: '/t/echo' });
      assert.deepEqual(body.details, [{ field: 'admin', message: 'is not a known parameter', in: 'body' }]);
    });

    it('when a query parameter is out of range, then 400 E_VALIDATION names it', async () => {
      const res = await app.inject({ method: 'GET', url: '/t/items?limit=0' });
      const body = assertErrorBody(res, { statusCode: 400, code: 'E_VALIDATION', path: '/t/items?limit=0' });
      assert.equal(body.details?.[0]?.field, 'limit');
      assert.equal(body.details?.[0]?.in, 'querystring');
    });

    it('when a query parameter is not a number, then 400 E_VALIDATION names it', async () => {
      const res = await app.inject({ method: 'GET', url: '/t/items?limit=ten' });
      const body = assertErrorBody(res, {
        statusCode: 400,
        code: 'E_VALIDATION',
        path: '/t/items?limit=ten',
      });
      assert.equal(body.details?.[0]?.field, 'limit');
    });

    it('when an unknown query parameter is given, then 400 E_VALIDATION reports it instead of ignoring it', async () => {
      const res = await app.inject({ method: 'GET', url: '/t/items?limt=5' });
      const body = assertErrorBody(res, { statusCode: 400, code: 'E_VALIDATION', path: '/t/items?limt=5' });
      assert.deepEqual(body.details, [
        { field: 'limt', message: 'is not a known parameter', in: 'querystring' },
      ]);
    });

    it('when a query parameter is omitted, then its schema default applies', async () => {
      const res = await app.inject({ method: 'GET', url: '/t/items' });
      assert.equal(res.statusCode, 200);
      assert.deepEqual(res.json(), { limit: 10 });
    });
  });

  describe('PostgreSQL errors', () => {
    it('when an insert violates a unique index, then 409 E_CONFLICT names the constraint but not the value', async () => {
      const first = await app.inject({
        method: 'POST',
        url: '/t/users',
        payload: { email: 'Ada@Example.test' },
      });
      assert.equal(first.statusCode, 201);
      const res = await app.inject({
        method: 'POST',
        url: '/t/users',
        payload: { email: 'ada@example.TEST' },
      });
      const body = assertErrorBody(res, { statusCode: 409, code: 'E_CONFLICT', path: '/t/users' });
      assert.deepEqual(body.details, [
        { message: 'constraint users_email_lower_uq', constraint: 'users_email_lower_uq' },
      ]);
      assert.ok(!res.body.toLowerCase().includes('ada@example.test'), res.body);
    });

    it('when an insert violates a foreign key, then 422 E_INVALID_REFERENCE names the constraint', async () => {
      const res = await app.inject({ method: 'POST', url: '/t/room-types', payload: { hotelId: 987654 } });
      const body = assertErrorBody(res, {
        statusCode: 422,
        code: 'E_INVALID_REFERENCE',
        path: '/t/room-types',
      });
      assert.equal(body.details?.[0]?.constraint, 'room_types_hotel_id_hotels_id_fk');
      assert.ok(!res.body.includes('987654'), res.body);
    });

    it('when an insert violates a check constraint, then 422 E_UNPROCESSABLE', async () => {
      const res = await app.inject({ method: 'POST', url: '/t/hotels', payload: { stars: 9 } });
      const body = assertErrorBody(res, { statusCode: 422, code: 'E_UNPROCESSABLE', path: '/t/hotels' });
      assert.equal(body.details?.[0]?.constraint, 'hotels_stars_ck');
    });

    it('when SET LOCAL statement_timeout is exceeded, then 503 E_DB_TIMEOUT with retry-after', async () => {
      const startedAt = performance.now();
      const res = await app.inject({ method: 'GET', url: '/t/statement-timeout' });
      assertErrorBody(res, { statusCode: 503, code: 'E_DB_TIMEOUT', path: '/t/statement-timeout' });
      assert.equal(res.headers['retry-after'], '1');
      assert.ok(performance.now() - startedAt < 1500, 'the statement was cancelled, not waited out');
    });

    it('when PostgreSQL reports a serialization failure, then 409 E_CONFLICT asks to retry', async () => {
      const res = await app.inject({ method: 'GET', url: '/t/serialization-failure' });
      const body = assertErrorBody(res, {
        statusCode: 409,
        code: 'E_CONFLICT',
        path: '/t/serialization-failure',
      });
      assert.match(body.message, /retry/);
      assert.equal(res.headers['retry-after'], '1');
    });

    it('when a value cannot be cast, then 400 E_VALIDATION', async () => {
      const res = await app.inject({ method: 'GET', url: '/t/bad-cast' });
      assertErrorBody(res, { statusCode: 400, code: 'E_VALIDATION', path: '/t/bad-cast' });
    });

    it('when a query fails with an untranslated error, then 500 E_INTERNAL without the SQL detail', async () => {
      const res = await app.inject({ method: 'GET', url: '/t/missing-table' });
      const body = assertErrorBody(res, { statusCode: 500, code: 'E_INTERNAL', path: '/t/missing-table' });
      assert.equal(body.message, 'Internal server error');
      assert.ok(!res.body.includes('no_such_table_for_secrets'), res.body);
    });
  });

  describe('request ids', () => {
    it('when a valid x-request-id is given, then it is echoed in the header and the body', async () => {
      const id = 'edge-7f3a.b:42_x';
      const res = await app.inject({ method: 'GET', url: '/t/nope', headers: { 'x-request-id': id } });
      assert.equal(res.headers['x-request-id'], id);
      assert.equal(res.json().requestId, id);
    });

    it('when a successful request gives an x-request-id, then the response echoes it', async () => {
      const res = await app.inject({
        method: 'GET',
        url: '/t/no-queries',
        headers: { 'x-request-id': 'ok-1' },
      });
      assert.equal(res.statusCode, 200);
      assert.equal(res.headers['x-request-id'], 'ok-1');
    });

    for (const [label, given] of [
      ['is 300 characters long', 'a'.repeat(300)],
      ['contains spaces', 'two words'],
      ['contains percent escapes', 'abc%0d%0aSet-Cookie'],
    ] as const) {
      it(`when the x-request-id ${label}, then a generated id replaces it`, async () => {
        const res = await app.inject({ method: 'GET', url: '/t/nope', headers: { 'x-request-id': given } });
        const id = res.headers['x-request-id'];
        assert.notEqual(id, given);
        assert.match(String(id), UUID);
        assert.equal(res.json().requestId, id);
      });
    }

    it('when no x-request-id is given, then each request gets its own generated id', async () => {
      const a = await app.inject({ method: 'GET', url: '/t/no-queries' });
      const b = await app.inject({ method: 'GET', url: '/t/no-queries' });
      assert.match(String(a.headers['x-request-id']), UUID);
      assert.match(String(b.headers['x-request-id']), UUID);
      assert.notEqual(a.headers['x-request-id'], b.headers['x-request-id']);
    });
  });

  describe('server-timing', () => {
    it('when a route runs 3 queries through the pool, then server-timing reports "3 queries"', async () => {
      const res = await app.inject({ method: 'GET', url: '/t/three-queries' });
      assert.equal(res.statusCode, 200);
      assert.match(String(res.headers['server-timing']), /^db;dur=\d+\.\d{2};desc="3 queries"$/);
    });

    it('when a route runs 3 pool queries of 10 ms each, then server-timing dur covers their time', async () => {
      const res = await app.inject({ method: 'GET', url: '/t/three-queries' });
      const dur = Number(/dur=([\d.]+)/.exec(String(res.headers['server-timing']))?.[1]);
      assert.ok(
        dur >= 30,
        `server-timing ${res.headers['server-timing']} should include the 3 x 10 ms of pg_sleep`,
      );
    });

    it('when a route runs a transaction on a checked-out client, then BEGIN and COMMIT are counted', async () => {
      const res = await app.inject({ method: 'GET', url: '/t/transaction' });
      assert.equal(res.statusCode, 200);
      const header = String(res.headers['server-timing']);
      assert.match(header, /^db;dur=\d+\.\d{2};desc="3 queries"$/);
      assert.ok(Number(/dur=([\d.]+)/.exec(header)?.[1]) >= 10, header);
    });

    it('when a route runs no query, then there is no server-timing header', async () => {
      const res = await app.inject({ method: 'GET', url: '/t/no-queries' });
      assert.equal(res.statusCode, 200);
      assert.equal(res.headers['server-timing'], undefined);
    });
  });
});

describe('HTTP server (development)', () => {
  let app: HttpServer;

  before(async () => {
    app = createHttpServer(
      loadConfig({ env: { LOG_LEVEL: 'silent', NODE_ENV: 'development' }, envFile: false }),
    );
    registerTestRoutes(app, undefined);
    await app.ready();
  });

  after(async () => {
    await app?.close();
  });

  it('when a route throws in development, then the 500 body carries the stack but a generic message', async () => {
    const res = await app.inject({ method: 'GET', url: '/t/boom' });
    const body = assertErrorBody(
      res,
      { statusCode: 500, code: 'E_INTERNAL', path: '/t/boom' },
      { allowStack: true },
    );
    assert.equal(body.message, 'Internal server error');
    assert.equal(typeof body.stack, 'string');
    assert.match(body.stack ?? '', /^Error: secret-internal-detail/);
    assert.match(body.stack ?? '', /http\.test\.ts/);
  });

  it('when a 4xx happens in development, then no stack is included', async () => {
    const res = await app.inject({ method: 'POST', url: '/t/echo', payload: { name: '', count: 1 } });
    const body = assertErrorBody(res, { statusCode: 400, code: 'E_VALIDATION', path: '/t/echo' });
    assert.equal(body.stack, undefined);
    assert.equal(body.details?.[0]?.field, 'name');
  });
});
