import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { Ajv } from 'ajv';
import addFormatsPlugin from 'ajv-formats';
import { OPENAPI_FILE, openApiFileText } from '../scripts/openapi.ts';
import type { App } from '../src/app/build-app.ts';
import { ERROR_FIELDS, startTestApp } from './support/app.ts';
import { registerUser } from './support/auth.ts';
import { createTestDatabase, type TestDatabase } from './support/database.ts';
import { ensureTestServer } from './support/test-server.ts';

interface Operation {
  summary?: string;
  tags?: string[];
  security?: Record<string, string[]>[];
  responses?: Record<string, { content?: Record<string, { schema?: object }> }>;
}
interface OpenApiDocument {
  openapi: string;
  info: { title: string; version: string };
  paths: Record<string, Record<string, Operation>>;
  components: {
    securitySchemes: Record<string, { type: string; scheme?: string; bearerFormat?: string }>;
    schemas: Record<string, object>;
  };
}

const METHODS = ['get', 'post', 'put', 'patch', 'delete'];
// ajv-formats is CommonJS; under NodeNext its default import is the module namespace.
const addFormats = addFormatsPlugin as unknown as typeof addFormatsPlugin.default;

describe('OpenAPI documentation', () => {
  let db: TestDatabase;
  let app: App;
  let doc: OpenApiDocument;
  let stopServer: () => Promise<void>;

  before(async () => {
    stopServer = await ensureTestServer();
    db = await createTestDatabase();
    app = await startTestApp(db.url);
    const res = await app.inject({ method: 'GET', url: '/docs/json' });
    assert.equal(res.statusCode, 200, res.body);
    doc = res.json() as OpenApiDocument;
  });

  after(async () => {
    await app?.close();
    await db?.drop();
    await stopServer?.();
  });

  it('when /docs/json is fetched, then it is an OpenAPI 3 document with the public routes and bearerAuth', () => {
    assert.match(doc.openapi, /^3\.\d+\.\d+$/);
    assert.equal(typeof doc.info.title, 'string');
    assert.equal(typeof doc.info.version, 'string');
    assert.ok(doc.paths['/api/auth/login']?.post, 'POST /api/auth/login is documented');
    assert.ok(doc.paths['/api/hotels/search']?.get, 'GET /api/hotels/search is documented');
    const { type, scheme, bearerFormat } = doc.components.securitySchemes.bearerAuth ?? {};
    assert.deepEqual({ type, scheme, bearerFormat }, { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' });
    assert.ok(doc.paths['/api/me']?.get?.security, 'GET /api/me declares security');
    assert.deepEqual(doc.paths['/api/auth/login']?.post?.security, [], 'login is anonymous');
  });

  it('when the document is read, then every operation has a summary, a tag and a success response', () => {
    for (const [path, operations] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(operations)) {
        if (!METHODS.includes(method)) continue;
        const where = `${method.toUpperCase()} ${path}`;
        assert.ok(op.summary, `${where} has a summary`);
        assert.ok(op.tags?.length, `${where} has a tag`);
        assert.ok(
          Object.keys(op.responses ?? {}).some((code) => /^2\d\d$/.test(code)),
          `${where} documents a 2xx response`,
        );
        for (const requirement of op.security ?? []) {
          for (const scheme of Object.keys(requirement)) {
            assert.ok(doc.components.securitySchemes[scheme], `${where} uses a declared scheme ${scheme}`);
          }
        }
      }
    }
  });

  it('when /docs is opened, then it serves the HTML viewer', async () => {
    let res = await app.inject({ method: 'GET', url: '/docs' });
    if (res.statusCode >= 300 && res.statusCode < 400) {
      assert.ok(res.headers.location, 'a redirect names its target');
      res = await app.inject({
        method: 'GET',
        url: new URL(String(res.headers.location), 'http://x/docs').pathname,
      });
    }
    assert.equal(res.statusCode, 200);
    assert.match(String(res.headers['content-type']), /^text\/html/);
    assert.match(res.body, /<html/i);
    // The page's CSP lets its own scripts and styles load (same origin), and each of them is served.
    const csp = String(res.headers['content-security-policy']);
    assert.match(csp, /script-src 'self'/);
    assert.match(csp, /style-src 'self'/);
    assert.doesNotMatch(csp, /default-src 'none'/);
    const assets = [...res.body.matchAll(/(?:src|href)="([^"]+\.(?:js|css))"/g)].map((m) => m[1] as string);
    assert.ok(assets.length >= 3, `scripts and styles: ${assets.join(', ')}`);
    for (const asset of assets) {
      assert.ok(!/^(https?:)?\/\//.test(asset), `${asset} is same-origin`);
      const url = new URL(asset, 'http://x/docs/').pathname;
      const got = await app.inject({ method: 'GET', url });
      assert.equal(got.statusCode, 200, url);
    }
    // The JSON API keeps the CSP that allows nothing.
    const api = await app.inject({ method: 'GET', url: '/docs/json' });
    assert.ok(api.headers['content-security-policy']);
  });

  it('when a documented operation declares security, then calling it without a token gets 401', async () => {
    const secured = Object.entries(doc.paths).flatMap(([path, operations]) =>
      Object.entries(operations)
        .filter(([method, op]) => METHODS.includes(method) && (op.security?.length ?? 0) > 0)
        .map(([method]) => ({ method: method.toUpperCase(), path })),
    );
    assert.ok(secured.length >= 1, 'at least GET /api/me');
    assert.ok(secured.some((r) => r.method === 'GET' && r.path === '/api/me'));
    for (const { method, path } of secured) {
      // Path parameters become 1; no query, no body: authentication must come first.
      const url = path.replace(/\{[^}]+\}/g, '1');
      for (const headers of [{}, { authorization: 'Bearer not.a.token' }]) {
        const res = await app.inject({ method: method as 'GET', url, headers });
        const where = `${method} ${url} ${JSON.stringify(headers)}`;
        assert.equal(res.statusCode, 401, `${where}: ${res.body}`);
        const body = res.json() as Record<string, unknown>;
        for (const field of ERROR_FIELDS) assert.ok(field in body, `${where}: missing ${field}`);
        assert.match(String(body.code), /^E_(UNAUTHORIZED|INVALID_TOKEN)$/, where);
        assert.match(String(res.headers['www-authenticate']), /^Bearer realm="innkeep"/, where);
      }
    }
  });

  it('when docs/openapi.json is read, then it is exactly the document /docs/json serves', () => {
    const committed = readFileSync(OPENAPI_FILE, 'utf8');
    assert.ok(
      committed === openApiFileText(doc),
      'docs/openapi.json is stale: run `npm run openapi` and commit the file',
    );
  });

  /** Asserts a response is documented for its operation and its body matches the documented schema. */
  const assertDocumented = (
    path: string,
    method: string,
    res: { statusCode: number; body: string },
  ): Record<string, unknown> => {
    const where = `${method.toUpperCase()} ${path} -> ${res.statusCode}`;
    const schema =
      doc.paths[path]?.[method]?.responses?.[res.statusCode]?.content?.['application/json']?.schema;
    assert.ok(schema, `${where} is documented with a schema`);
    const ajv = new Ajv({ strict: false, allErrors: true });
    addFormats(ajv);
    // The document's own $refs (#/components/schemas/...) resolve inside this schema.
    const validate = ajv.compile({ ...schema, components: doc.components });
    const body = JSON.parse(res.body) as Record<string, unknown>;
    assert.ok(validate(body), `${where}: ${JSON.stringify(validate.errors)} in ${res.body}`);
    return body;
  };

  it('when the API answers errors, then each status is documented and the body matches the Error schema', async () => {
    const user = await registerUser(app, 'OpenAPI Errors');
    const cases = [
      ['/api/hotels/search', 'get', { url: '/api/hotels/search?page=0&zz=1' }, 'E_VALIDATION'],
      ['/api/me', 'get', { url: '/api/me' }, 'E_UNAUTHORIZED'],
      ['/api/hotels/{id}', 'get', { url: '/api/hotels/2147483647' }, 'E_NOT_FOUND'],
      [
        '/api/bookings',
        'post',
        {
          url: '/api/bookings',
          headers: user.headers,
          payload: { roomTypeId: 1, checkIn: '2030-01-01', checkOut: '2030-01-02', guests: 1 },
        },
        'E_IDEMPOTENCY_KEY_REQUIRED',
      ],
      [
        '/api/auth/register',
        'post',
        {
          url: '/api/auth/register',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          payload: 'x=1',
        },
        'E_UNSUPPORTED_MEDIA_TYPE',
      ],
    ] as const;
    for (const [path, method, request, code] of cases) {
      const res = await app.inject({ method: method.toUpperCase() as 'GET', ...request });
      const body = assertDocumented(path, method, res);
      assert.equal(body.code, code, res.body);
    }
  });

  it('when the probes answer, then their bodies match their documented schemas and keep every detail', async () => {
    for (const path of ['/healthz', '/ready', '/health']) {
      const res = await app.inject({ method: 'GET', url: path });
      assert.equal(res.statusCode, 200, res.body);
      assertDocumented(path, 'get', res);
    }
    const health = await app.inject({ method: 'GET', url: '/health' });
    const database = (health.json() as { checks: { database: Record<string, unknown> } }).checks.database;
    // Details a check reports beyond the documented keys still reach the client.
    for (const key of ['pingMs', 'embedded', 'pool']) assert.ok(key in database, `${key} in ${health.body}`);
    assert.equal(health.body, JSON.stringify(health.json()), 'serialized by JSON.stringify, as before');
  });
});
