import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pino from 'pino';
import { type App, buildApp } from '../src/app/build-app.ts';
import { createHttpServer } from '../src/platform/http/index.ts';
import { loggerOptions, REDACTED, redactSecrets } from '../src/platform/observability/index.ts';
import { testConfig } from './support/app.ts';
import { registerUser, type TestUser } from './support/auth.ts';
import { createTestDatabase, type TestDatabase } from './support/database.ts';
import { ensureTestServer } from './support/test-server.ts';

type Line = Record<string, unknown> & { level: number; msg?: string };

/** A pino logger with Innkeep's options whose lines are kept, parsed, instead of printed. */
function capturingLogger(level = 'info') {
  const lines: Line[] = [];
  const logger = pino(loggerOptions(level), {
    write: (line: string) => lines.push(JSON.parse(line) as Line),
  });
  return { logger, lines };
}

describe('log redaction', () => {
  it('when a log line holds credentials, tokens, cookies or card data at any depth, then they are written as [redacted]', () => {
    const { logger, lines } = capturingLogger();
    const entry = {
      user: 'alice@example.test',
      password: 'hunter2-top',
      body: { email: 'a@b.c', password: 'hunter2-body', card: { number: '4242424242424242', cvc: '123' } },
      req: { headers: { authorization: 'Bearer eyJsecret', cookie: 'sid=secret', 'user-agent': 'ua' } },
      res: { headers: { 'Set-Cookie': 'sid=secret2' } },
      tokens: [{ accessToken: 'at-secret', refreshToken: 'rt-secret' }],
      deep: { a: { b: { c: { apiKey: 'k-secret' } } } },
    };
    logger.warn(entry, 'something happened');
    const text = JSON.stringify(lines[0]);
    for (const secret of [
      'hunter2',
      '4242',
      'eyJsecret',
      'sid=secret',
      'at-secret',
      'rt-secret',
      'k-secret',
      '"123"',
    ]) {
      assert.ok(!text.includes(secret), `${secret} leaked: ${text}`);
    }
    const line = lines[0] as unknown as {
      body: { email: string; card: string };
      req: { headers: Record<string, string> };
    };
    assert.equal(line.body.email, 'a@b.c');
    assert.equal(line.body.card, REDACTED);
    assert.equal(line.req.headers['user-agent'], 'ua');
    assert.equal(line.req.headers.authorization, REDACTED);
    // The caller's object is never changed.
    assert.equal(entry.body.password, 'hunter2-body');
    assert.equal(entry.req.headers.authorization, 'Bearer eyJsecret');
  });

  it('when an error carries request headers, then they are redacted and the error keeps its message, type and stack', () => {
    const { logger, lines } = capturingLogger();
    const err = Object.assign(new TypeError('upstream refused'), {
      headers: { authorization: 'Basic c2VjcmV0' },
      status: 502,
    });
    logger.error({ err }, 'call failed');
    const logged = lines[0]!.err as Record<string, unknown>;
    assert.equal(logged.type, 'TypeError');
    assert.equal(logged.message, 'upstream refused');
    assert.match(String(logged.stack), /upstream refused/);
    assert.equal(logged.status, 502);
    assert.deepEqual(logged.headers, { authorization: REDACTED });
    assert.equal(err.headers.authorization, 'Basic c2VjcmV0');
  });

  it('when secrets hide in snake_case or kebab-case keys, an AggregateError or past the depth limit, then none is written', () => {
    const { logger, lines } = capturingLogger();
    const deep = { a: { b: { c: { d: { e: { f: { g: { note: 'DEEP-VALUE' } } } } } } } };
    const aggregate = new AggregateError(
      [Object.assign(new Error('inner'), { token: 'SECRET-AGG' })],
      'many',
    );
    logger.error(
      {
        row: { password_hash: 'HASH-SECRET', access_token: 'AT-SECRET', api_key: 'KEY-SECRET' },
        headers: { 'x-csrf-token': 'CSRF-SECRET', 'Proxy-Authorization': 'Basic PROXY' },
        oauth: { client_secret: 'CLIENT-SECRET', refresh_token: 'RT2-SECRET' },
        deep,
        err: aggregate,
      },
      'edge cases',
    );
    const text = JSON.stringify(lines[0]);
    for (const secret of [
      'HASH-SECRET',
      'AT-SECRET',
      'KEY-SECRET',
      'CSRF-SECRET',
      'PROXY',
      'CLIENT-SECRET',
      'RT2-SECRET',
      'SECRET-AGG',
      'DEEP-VALUE',
    ]) {
      assert.ok(!text.includes(secret), `${secret} leaked: ${text}`);
    }
    assert.match(text, /\[too deep\]/);
    assert.match(text, /inner/, 'the aggregate’s errors are still written, redacted');
    assert.equal(
      (aggregate.errors[0] as { token: string }).token,
      'SECRET-AGG',
      'the caller’s error is untouched',
    );
  });

  it('when nothing is secret, then the value itself is returned (no copy)', () => {
    const value = { method: 'GET', url: '/api/hotels', nested: { statusCode: 200 }, list: [1, 2] };
    assert.equal(redactSecrets(value), value);
  });
});

describe('request facts in warning and error logs', () => {
  let db: TestDatabase;
  let app: App;
  let user: TestUser;
  let stopServer: () => Promise<void>;
  const captured = capturingLogger('info');

  before(async () => {
    stopServer = await ensureTestServer();
    db = await createTestDatabase();
    app = await buildApp(testConfig({ DATABASE_URL: db.url, LOG_LEVEL: 'info' }), {
      logger: captured.logger,
    });
    user = await registerUser(app, 'Logged User');
  });

  after(async () => {
    await app?.close();
    await db?.drop();
    await stopServer?.();
  });

  it('when a request fails with a 500, then its error line carries requestId, userId, role, IP, method, route template and user agent, and no token', async () => {
    // A missing table makes the user's bookings query fail on the server.
    await db.pool.query('ALTER TABLE bookings RENAME TO bookings_away');
    try {
      const res = await app.inject({
        url: '/api/me/bookings?limit=5',
        headers: { ...user.headers, 'user-agent': 'log-test/1.0', 'x-request-id': 'req-log-500' },
      });
      assert.equal(res.statusCode, 500, res.body);
    } finally {
      await db.pool.query('ALTER TABLE bookings_away RENAME TO bookings');
    }
    const line = captured.lines.find((l) => l.level === 50 && l.requestId === 'req-log-500');
    assert.ok(line, JSON.stringify(captured.lines.slice(-5)));
    assert.equal(line.userId, user.id);
    assert.equal(line.role, 'user');
    assert.equal(line.ip, '127.0.0.1');
    assert.equal(line.method, 'GET');
    assert.equal(line.route, '/api/me/bookings');
    assert.equal(line.userAgent, 'log-test/1.0');
    assert.ok(!JSON.stringify(captured.lines).includes(user.accessToken), 'the access token was logged');
    // Info lines (the access log) stay without the request facts.
    const access = captured.lines.find((l) => l.level === 30 && l.requestId === 'req-log-500');
    assert.equal(access?.userAgent, undefined);
  });
});

describe('N+1 detector', () => {
  let db: TestDatabase;
  let stopServer: () => Promise<void>;

  before(async () => {
    stopServer = await ensureTestServer();
    db = await createTestDatabase({ migrate: false });
  });

  after(async () => {
    await db?.drop();
    await stopServer?.();
  });

  /** A server with one looping handler (`n` times the same statement) and one that varies. */
  async function serverWith(nPlusOneWarnAt: number | undefined, env: Record<string, string> = {}) {
    const captured = capturingLogger('info');
    const server = createHttpServer(testConfig({ LOG_LEVEL: 'info', ...env }), {
      logger: captured.logger,
      ...(nPlusOneWarnAt === undefined ? {} : { nPlusOneWarnAt }),
    });
    server.get<{ Querystring: { n: string } }>('/loop', async (request) => {
      for (let i = 0; i < Number(request.query.n); i++) {
        await db.pool.query({ name: 'loop_item', text: 'SELECT $1::int AS i', values: [i] });
      }
      return { ok: true };
    });
    server.get('/warn', async () => {
      // The root logger, as services use it: no request binding of its own.
      server.log.warn('from a service');
      return { ok: true };
    });
    server.get('/varied', async () => {
      for (let i = 0; i < 12; i++) await db.pool.query({ name: `step_${i}`, text: 'SELECT 1' });
      return { ok: true };
    });
    await server.ready();
    return { server, captured };
  }

  it('when one request runs the same statement more times than the threshold, then a warning names it, its count and the route', async () => {
    const { server, captured } = await serverWith(5);
    try {
      assert.equal((await server.inject({ url: '/loop?n=5' })).statusCode, 200);
      assert.equal(
        captured.lines.filter((l) => /N\+1/.test(String(l.msg))).length,
        0,
        'at the threshold: quiet',
      );
      assert.equal((await server.inject({ url: '/loop?n=8' })).statusCode, 200);
      assert.equal((await server.inject({ url: '/varied' })).statusCode, 200);
      const warnings = captured.lines.filter((l) => /N\+1/.test(String(l.msg)));
      assert.equal(warnings.length, 1, JSON.stringify(warnings));
      assert.equal(warnings[0]!.level, 40);
      assert.equal(warnings[0]!.statement, 'loop_item');
      assert.equal(warnings[0]!.count, 8);
      assert.equal(warnings[0]!.route, '/loop');
    } finally {
      await server.close();
    }
  });

  it('when a service warns through the root logger during a request, then the line carries the request id and route', async () => {
    const { server, captured } = await serverWith(0);
    try {
      assert.equal(
        (await server.inject({ url: '/warn', headers: { 'x-request-id': 'req-root-warn' } })).statusCode,
        200,
      );
      const line = captured.lines.find((l) => l.msg === 'from a service');
      assert.equal(line?.requestId, 'req-root-warn', JSON.stringify(line));
      assert.equal(line?.route, '/warn');
    } finally {
      await server.close();
    }
  });

  it('when the detector is off (0), then a looping handler logs nothing', async () => {
    const { server, captured } = await serverWith(0);
    try {
      assert.equal((await server.inject({ url: '/loop?n=30' })).statusCode, 200);
      assert.equal(captured.lines.filter((l) => /N\+1/.test(String(l.msg))).length, 0);
    } finally {
      await server.close();
    }
  });

  it('when N_PLUS_ONE_WARN_AT is unset, then it warns past 10 outside production and never in production', async () => {
    const warned = async (env: Record<string, string>, n: number) => {
      const { server, captured } = await serverWith(undefined, env);
      try {
        assert.equal((await server.inject({ url: `/loop?n=${n}` })).statusCode, 200);
        return captured.lines.some((l) => /N\+1/.test(String(l.msg)));
      } finally {
        await server.close();
      }
    };
    assert.equal(await warned({ NODE_ENV: 'development' }, 10), false);
    assert.equal(await warned({ NODE_ENV: 'development' }, 11), true);
    assert.equal(await warned({ NODE_ENV: 'test' }, 11), true);
    assert.equal(await warned({ NODE_ENV: 'production' }, 50), false);
    assert.equal(await warned({ NODE_ENV: 'production', N_PLUS_ONE_WARN_AT: '3' }, 4), true);
  });
});
