import assert from 'node:assert/strict';
import { STATUS_CODES } from 'node:http';
import { connect, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import Type from 'typebox';
import { loadConfig } from '../../src/platform/config/index.ts';
import { createHttpServer, type HttpServer, healthRoutes, Lifecycle } from '../../src/platform/http/index.ts';
import { ERROR_FIELDS } from '../support/app.ts';

const REQUEST_TIMEOUT_MS = 1000;

interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
  elapsedMs: number;
}

/** Parses the first HTTP/1.1 response in `text` (with a Content-Length body). */
function parseResponse(text: string, elapsedMs: number): RawResponse {
  const [head = '', ...rest] = text.split('\r\n\r\n');
  const [statusLine = '', ...lines] = head.split('\r\n');
  const headers = Object.fromEntries(
    lines.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]),
  );
  const length = Number(headers['content-length'] ?? 0);
  return {
    status: Number(statusLine.split(' ')[1]),
    headers,
    body: Buffer.from(rest.join('\r\n\r\n')).subarray(0, length).toString(),
    elapsedMs,
  };
}

/**
 * Sends raw bytes (all at once, or `drip` bytes one by one every `dripMs`) and collects what the
 * server answers until it closes the connection.
 */
function raw(port: number, data: string | Buffer, drip?: { bytes: Buffer; everyMs: number }) {
  return new Promise<{ text: string; elapsedMs: number }>((resolve, reject) => {
    const startedAt = performance.now();
    const socket = connect(port, '127.0.0.1');
    let text = '';
    let timer: NodeJS.Timeout | undefined;
    socket.on('data', (c) => {
      text += c.toString('latin1');
    });
    socket.on('error', (err) => {
      if (
        (err as NodeJS.ErrnoException).code !== 'ECONNRESET' &&
        (err as NodeJS.ErrnoException).code !== 'EPIPE'
      )
        reject(err);
    });
    socket.on('close', () => {
      clearInterval(timer);
      resolve({ text, elapsedMs: performance.now() - startedAt });
    });
    socket.write(data);
    if (drip) {
      let i = 0;
      timer = setInterval(() => {
        if (i < drip.bytes.length && socket.writable) socket.write(drip.bytes.subarray(i, ++i));
      }, drip.everyMs);
    } else socket.end();
  });
}

async function rawResponse(port: number, data: string | Buffer, drip?: { bytes: Buffer; everyMs: number }) {
  const { text, elapsedMs } = await raw(port, data, drip);
  return parseResponse(text, elapsedMs);
}

function assertStandard(res: { status: number; body: string }, status: number, code: string) {
  assert.equal(res.status, status, res.body);
  const body = JSON.parse(res.body) as Record<string, unknown>;
  for (const field of ERROR_FIELDS) assert.ok(field in body, `missing ${field} in ${res.body}`);
  assert.equal(body.statusCode, status);
  assert.equal(body.error, STATUS_CODES[status]);
  assert.equal(body.code, code);
  assert.equal(body.success, false);
  return body;
}

describe('HTTP edge: what the parser, the router and the body parser reject', () => {
  let app: HttpServer;
  let port: number;

  before(async () => {
    app = createHttpServer(
      loadConfig({
        env: {
          LOG_LEVEL: 'silent',
          NODE_ENV: 'production',
          HTTP_REQUEST_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS),
        },
        envFile: false,
      }),
    );
    app.get(
      '/t/items',
      {
        schema: {
          querystring: Type.Object(
            {
              limit: Type.Integer({ minimum: 1, maximum: 5000, default: 10 }),
              min: Type.Optional(Type.Number()),
              ids: Type.Optional(Type.Array(Type.Integer())),
            },
            { additionalProperties: false },
          ),
        },
      },
      async (request) => request.query,
    );
    app.get(
      '/t/things/:id',
      { schema: { params: Type.Object({ id: Type.Integer({ minimum: 1 }) }) } },
      async (request) => ({ id: request.params.id }),
    );
    app.post('/t/no-body', async (request) => ({ body: request.body ?? null }));
    app.post(
      '/t/echo',
      { schema: { body: Type.Object({ name: Type.String() }, { additionalProperties: false }) } },
      async (request) => ({ name: request.body.name }),
    );
    // Answers before reading the body, as authentication does.
    app.post(
      '/t/guarded',
      {
        onRequest: async (_request, reply) => {
          await reply.code(401).send({ denied: true });
        },
      },
      async () => ({ reached: true }),
    );
    app.get('/t/slow', async () => {
      await sleep(300);
      return { slow: true };
    });
    const lifecycle = new Lifecycle();
    lifecycle.markReady();
    await app.register(healthRoutes, {
      lifecycle,
      checks: [
        {
          name: 'database',
          critical: true,
          check: async () => {
            throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:40195'), { code: 'ECONNREFUSED' });
          },
        },
      ],
      liveness: [{ name: 'database', failure: () => undefined }],
    });
    const address = await app.listen({ host: '127.0.0.1', port: 0 });
    port = Number(new URL(address).port);
  });

  after(async () => {
    await app?.close();
  });

  it('when the query string is 100 KB, then 431 E_HEADERS_TOO_LARGE in the standard body', async () => {
    const res = await rawResponse(port, `GET /t/items?x=${'a'.repeat(100_000)} HTTP/1.1\r\nHost: t\r\n\r\n`);
    const body = assertStandard(res, 431, 'E_HEADERS_TOO_LARGE');
    assert.equal(res.headers['x-request-id'], body.requestId);
    assert.ok(res.body.length < 1000, 'the query string is not echoed');
  });

  it('when a request has 1,000 headers, then 431 in the standard body', async () => {
    const headers = Array.from({ length: 1000 }, (_, i) => `X-Filler-${i}: ${'v'.repeat(20)}\r\n`).join('');
    assertStandard(
      await rawResponse(port, `GET /t/items HTTP/1.1\r\nHost: t\r\n${headers}\r\n`),
      431,
      'E_HEADERS_TOO_LARGE',
    );
  });

  it('when the URL holds invalid bytes, then 400 E_BAD_REQUEST in the standard body', async () => {
    for (const target of ['/t/items\x01', '/t/it\x7fems', '/t/\xff\xfe']) {
      const res = await rawResponse(port, Buffer.from(`GET ${target} HTTP/1.1\r\nHost: t\r\n\r\n`, 'latin1'));
      const body = assertStandard(res, 400, 'E_BAD_REQUEST');
      assert.equal(body.path, '', 'the malformed target is not echoed');
    }
  });

  it('when a request line is not HTTP at all, then 400 in the standard body', async () => {
    assertStandard(await rawResponse(port, 'HELLO\r\n\r\n'), 400, 'E_BAD_REQUEST');
  });

  it('when bodies arrive at one byte per 100 ms on 20 sockets, then each is cut with 408 within the request timeout', async () => {
    const head =
      'POST /t/echo HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: 200\r\n\r\n';
    const results = await Promise.all(
      Array.from({ length: 20 }, () =>
        rawResponse(port, head, { bytes: Buffer.from(`{"name":"${'x'.repeat(200)}"}`), everyMs: 100 }),
      ),
    );
    for (const res of results) {
      const body = assertStandard(res, 408, 'E_REQUEST_TIMEOUT');
      assert.equal(body.path, '/t/echo', 'a request whose headers arrived is named');
      assert.equal(res.headers['x-request-id'], body.requestId);
      // The limit holds to within its checking interval (a tenth of it) plus scheduling slack.
      assert.ok(
        res.elapsedMs >= REQUEST_TIMEOUT_MS - 50 && res.elapsedMs < REQUEST_TIMEOUT_MS + 1500,
        `cut after ${Math.round(res.elapsedMs)} ms`,
      );
    }
  });

  it('when a request is answered before its slow body has arrived, then it gets no second (408) response', async () => {
    const head =
      'POST /t/guarded HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: 200\r\n\r\n';
    const { text } = await raw(port, head, { bytes: Buffer.from('x'.repeat(200)), everyMs: 100 });
    assert.match(text, /^HTTP\/1\.1 401 /);
    assert.equal(text.split('HTTP/1.1 ').length - 1, 1, `one response only: ${text}`);
  });

  it('when headers arrive one byte per 100 ms, then 408 in the standard body within the request timeout', async () => {
    const res = await rawResponse(port, 'GET /t/items HTTP/1.1\r\n', {
      bytes: Buffer.from('X-Slow: yes\r\n'.repeat(20)),
      everyMs: 100,
    });
    assertStandard(res, 408, 'E_REQUEST_TIMEOUT');
    assert.ok(res.elapsedMs < REQUEST_TIMEOUT_MS + 1500, `cut after ${Math.round(res.elapsedMs)} ms`);
  });

  it('when a known path is called with another method, then 405 E_METHOD_NOT_ALLOWED with Allow', async () => {
    const res = await app.inject({ method: 'DELETE', url: '/t/things/7?x=1' });
    assert.equal(res.statusCode, 405, res.body);
    assert.equal(res.headers.allow, 'GET, HEAD');
    assertStandard({ status: res.statusCode, body: res.body }, 405, 'E_METHOD_NOT_ALLOWED');
    const post = await app.inject({ method: 'PUT', url: '/t/echo', payload: {} });
    assert.equal(post.statusCode, 405);
    assert.equal(post.headers.allow, 'POST');
    const unknown = await app.inject({ method: 'DELETE', url: '/t/nowhere' });
    assertStandard({ status: unknown.statusCode, body: unknown.body }, 404, 'E_ROUTE_NOT_FOUND');
  });

  it('when a route that takes no body gets Content-Type: application/json and no body, then it is served', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/t/no-body',
      headers: { 'content-type': 'application/json' },
    });
    assert.equal(res.statusCode, 200, res.body);
    assert.deepEqual(res.json(), { body: null });
    const needsOne = await app.inject({
      method: 'POST',
      url: '/t/echo',
      headers: { 'content-type': 'application/json' },
    });
    assertStandard({ status: needsOne.statusCode, body: needsOne.body }, 400, 'E_BAD_JSON');
  });

  it('when integers are written in hex, exponent or padded form, then 400, and plain digits still work', async () => {
    for (const url of [
      '/t/items?limit=0x10',
      '/t/items?limit=1e3',
      '/t/items?limit=%207',
      '/t/items?limit=7.0',
      '/t/items?limit=+7',
      '/t/items?ids=1&ids=0x2',
      '/t/items?min=1e1',
      '/t/items?min=Infinity',
      '/t/things/0x10',
      '/t/things/1e3',
    ]) {
      const res = await app.inject(url);
      const body = assertStandard({ status: res.statusCode, body: res.body }, 400, 'E_VALIDATION');
      assert.match(String(body.message), /decimal/, `${url}: ${res.body}`);
    }
    assert.deepEqual((await app.inject('/t/items?limit=16&min=4.5&ids=1&ids=2')).json(), {
      limit: 16,
      min: 4.5,
      ids: [1, 2],
    });
    assert.deepEqual((await app.inject('/t/things/16')).json(), { id: 16 });
  });

  it('when a JSON body holds invalid UTF-8, then 400 E_BAD_JSON and nothing reaches the handler', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/t/echo',
      headers: { 'content-type': 'application/json' },
      payload: Buffer.concat([Buffer.from('{"name":"caf'), Buffer.from([0xc3, 0x28]), Buffer.from('"}')]),
    });
    const body = assertStandard({ status: res.statusCode, body: res.body }, 400, 'E_BAD_JSON');
    assert.match(String(body.message), /UTF-8/);
    const ok = await app.inject({ method: 'POST', url: '/t/echo', payload: { name: 'café' } });
    assert.deepEqual(ok.json(), { name: 'café' });
  });

  it('when a health check fails with a connection error, then /health names the failure, not the address', async () => {
    const res = await app.inject('/health');
    const body = assertStandard({ status: res.statusCode, body: res.body }, 503, 'E_UNAVAILABLE');
    assert.equal(body.status, 'unhealthy');
    assert.equal((body.checks as { database: { error: string } }).database.error, 'failed (ECONNREFUSED)');
    assert.doesNotMatch(res.body, /127\.0\.0\.1|40195/);
    const ready = await app.inject('/ready');
    assertStandard({ status: ready.statusCode, body: ready.body }, 503, 'E_UNAVAILABLE');
    assert.doesNotMatch(ready.body, /127\.0\.0\.1|40195/);
  });
});

describe('HTTP edge: a request that arrives while the server closes', () => {
  it('then it gets 503 E_UNAVAILABLE in the standard body', async () => {
    const app = createHttpServer(loadConfig({ env: { LOG_LEVEL: 'silent' }, envFile: false }));
    app.get('/t/fast', async () => ({ fast: true }));
    // A keep-alive connection that sends its next request just as close() begins (after the
    // server's own preClose hook, before the listener and idle connections are closed).
    let socket: Socket | undefined;
    let texts = '';
    const nextResponse = () =>
      new Promise<string>((resolve) => {
        const seen = texts.length;
        const poll = setInterval(() => {
          const rest = texts.slice(seen);
          const head = rest.indexOf('\r\n\r\n');
          const length = Number(/content-length: (\d+)/i.exec(rest)?.[1] ?? -1);
          if (head >= 0 && length >= 0 && rest.length >= head + 4 + length) {
            clearInterval(poll);
            resolve(rest);
          }
        }, 5);
      });
    let duringClose: Promise<string> | undefined;
    app.addHook('preClose', async () => {
      duringClose = nextResponse();
      socket?.write('GET /t/fast HTTP/1.1\r\nHost: t\r\n\r\n');
      await duringClose;
    });
    const address = await app.listen({ host: '127.0.0.1', port: 0 });
    socket = connect(Number(new URL(address).port), '127.0.0.1');
    socket.on('data', (c) => {
      texts += c.toString();
    });
    const first = nextResponse();
    socket.write('GET /t/fast HTTP/1.1\r\nHost: t\r\n\r\n');
    assert.match(await first, /^HTTP\/1\.1 200/);
    await app.close();
    const res = parseResponse(await duringClose!, 0);
    assertStandard(res, 503, 'E_UNAVAILABLE');
    assert.equal(res.headers.connection, 'close');
    socket.destroy();
  });
});
