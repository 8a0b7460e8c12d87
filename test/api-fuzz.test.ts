import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import pino from 'pino';
import { type App, buildApp } from '../src/app/build-app.ts';
import { loggerOptions } from '../src/platform/observability/logger.ts';
import { ERROR_FIELDS, testConfig } from './support/app.ts';
import { registerAdmin, registerUser, type TestUser } from './support/auth.ts';
import { createTestDatabase, type TestDatabase } from './support/database.ts';
import { createHotel, givePastStay, isoDate, setAvailableRooms } from './support/fixtures.ts';
import { ensureTestServer } from './support/test-server.ts';

/*
 * Fuzzes every operation of the app's own OpenAPI document (GET /docs/json) with hostile path parameters,
 * query strings, bodies and headers, one hostile part at a time on top of an otherwise schema-valid
 * request, and checks that no response is 5xx and that every 4xx carries the standard error body and is
 * a status the document lists for the operation.
 * Routes added later are covered without touching this file.
 */

interface Schema {
  type?: string | string[];
  format?: string;
  enum?: unknown[];
  const?: unknown;
  anyOf?: Schema[];
  oneOf?: Schema[];
  properties?: Record<string, Schema>;
  items?: Schema;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  maxItems?: number;
  default?: unknown;
}
interface Parameter {
  in: 'path' | 'query' | 'header' | 'cookie';
  name: string;
  required?: boolean;
  schema?: Schema;
}
interface Operation {
  tags?: string[];
  parameters?: Parameter[];
  requestBody?: { content?: Record<string, { schema?: Schema }> };
  responses?: Record<string, unknown>;
}
interface OpenApiDocument {
  paths: Record<string, Record<string, Operation>>;
}
interface Case {
  what: string;
  method: string;
  url: string;
  headers: Record<string, string>;
  payload?: string;
}
interface Reply {
  statusCode: number;
  body: string;
  headers: Record<string, unknown>;
}

const METHODS = ['get', 'post', 'put', 'patch', 'delete'];
/** Safety cap; today's largest operation needs about 110 requests. Larger ones are sampled evenly. */
const MAX_CASES_PER_OPERATION = 150;
const LONG = 'x'.repeat(10_000);
/** Names of a range's second date: they get the later valid date. */
const END_NAME = /^(to|until|end.*|checkOut)$/i;
const nested = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`;

type Kind = 'enum' | 'integer' | 'number' | 'date' | 'string' | 'boolean' | 'array' | 'object' | 'any';

function kind(s: Schema): Kind {
  const variants = s.anyOf ?? s.oneOf;
  if (s.enum || s.const !== undefined) return 'enum';
  if (variants?.length && variants.every((v) => v.enum || v.const !== undefined)) return 'enum';
  if (variants?.length) return kind(variants[0]!);
  const type = Array.isArray(s.type) ? s.type[0] : s.type;
  if (type === 'string' && (s.format === 'date' || s.format === 'date-time')) return 'date';
  if (type === 'integer' || type === 'number' || type === 'string' || type === 'boolean') return type;
  if (type === 'array' || type === 'object') return type;
  if (s.properties) return 'object';
  return 'any';
}

function enumValues(s: Schema): unknown[] {
  if (s.enum) return s.enum;
  if (s.const !== undefined) return [s.const];
  return (s.anyOf ?? s.oneOf ?? []).flatMap(enumValues);
}

/** A value that passes the schema, so the one hostile part of a request is what gets tested. */
function sample(s: Schema, name = ''): unknown {
  switch (kind(s)) {
    case 'enum':
      return s.default ?? enumValues(s)[0];
    case 'integer':
    case 'number':
      return s.default ?? Math.min(Math.max(1, s.minimum ?? 1), s.maximum ?? Number.MAX_SAFE_INTEGER);
    case 'date': {
      const day = END_NAME.test(name) ? isoDate(22) : isoDate(20);
      return s.format === 'date-time' ? `${day}T12:00:00Z` : day;
    }
    case 'string':
      if (s.format === 'email') return 'fuzz@example.test';
      return 'fuzzvalue'.padEnd(s.minLength ?? 1, 'z').slice(0, s.maxLength);
    case 'boolean':
      return true;
    case 'array':
      return Array.from({ length: Math.max(1, s.minItems ?? 1) }, () => sample(s.items ?? {}, name));
    case 'object':
      return Object.fromEntries(Object.entries(s.properties ?? {}).map(([k, v]) => [k, sample(v, k)]));
    default:
      return 'x';
  }
}

/** Hostile values for a JSON body field of this schema (JSON keeps their types, unlike query strings). */
function hostileJson(s: Schema): unknown[] {
  const deep = JSON.parse(nested(1000)) as unknown;
  const common = [null, deep];
  switch (kind(s)) {
    case 'integer':
      return [...common, '1', 1.5, -1, 0, 2147483648, 1e308, 1e20, true, {}];
    case 'number':
      return [...common, '1', -1, 1e308, true];
    case 'date':
      return [
        ...common,
        20260101,
        '',
        'not-a-date',
        '2026-02-30',
        '2026-13-01',
        '0001-01-01',
        '9999-12-31',
        '2026-1-1',
        LONG,
      ];
    case 'string':
      return [...common, 123, '', ' ', '\u0000', 'a\u0000b', '\ud800', '😀', LONG, {}];
    case 'enum':
      return [...common, 'bogus', 1];
    case 'boolean':
      return [...common, 'true', 1];
    case 'array': {
      const tooMany = s.maxItems ? [Array.from({ length: s.maxItems + 1 }, () => sample(s.items ?? {}))] : [];
      return [...common, {}, 'x', [], [null], ...tooMany];
    }
    case 'object':
      return [...common, 'x', [], {}];
    default:
      return common;
  }
}

function wrongType(s: Schema): unknown {
  const k = kind(s);
  if (k === 'integer' || k === 'number' || k === 'boolean') return 'true';
  if (k === 'array') return {};
  if (k === 'object') return 'x';
  return 123;
}

/** Hostile query-string values, already in their wire form (percent escapes are meant). */
function hostileQuery(s: Schema): string[] {
  const common = ['', '%00', '%FF', '%', "1'--"];
  switch (kind(s)) {
    case 'integer':
    case 'number':
      return [
        ...common,
        'abc',
        '-1',
        '0',
        '1.5',
        '2147483648',
        '99999999999999999999',
        '1e308',
        'Infinity',
        '0x10',
      ];
    case 'date':
      return [...common, 'not-a-date', '2026-02-30', '2026-13-01', '0001-01-01', '9999-12-31', '-1', LONG];
    case 'enum':
      return [...common, 'bogus', String(enumValues(s)[0]).toUpperCase(), '1'];
    case 'boolean':
      return [...common, 'maybe'];
    default:
      return [...common, 'a'.repeat(10_000)];
  }
}

const HOSTILE_PATH = [
  'abc',
  '-1',
  '0',
  '1.5',
  '2147483648',
  '99999999999999999999',
  '%00',
  "1'--",
  'a'.repeat(300),
  '1e3',
  '%20',
  '%FF',
];

/** Idempotency-Key style header values: raw bytes as Node receives them (latin1 strings). */
const HOSTILE_HEADER: (string | undefined)[] = [
  undefined,
  '',
  ' ',
  'k'.repeat(300),
  'clé',
  Buffer.from('ключ-🔑', 'utf8').toString('latin1'),
  'a b',
];

/** Pairs for two date fields of one object/query: year 9999, year 1, reversed, a year long, past. */
const DATE_PAIRS = [
  ['9999-12-30', '9999-12-31'],
  ['0001-01-01', '0001-01-02'],
  [isoDate(22), isoDate(20)],
  [isoDate(20), isoDate(420)],
  [isoDate(-400), isoDate(-398)],
];

type Path = (string | number)[];

function leaves(s: Schema, path: Path = []): { path: Path; schema: Schema }[] {
  const here = path.length ? [{ path, schema: s }] : [];
  const k = kind(s);
  if (k === 'object') {
    return [
      ...here,
      ...Object.entries(s.properties ?? {}).flatMap(([name, p]) => leaves(p, [...path, name])),
    ];
  }
  if (k === 'array' && s.items) return [...here, ...leaves(s.items, [...path, 0])];
  return here;
}

function setAt(base: unknown, path: Path, value: unknown): unknown {
  const copy = structuredClone(base);
  let node = copy as Record<string | number, unknown>;
  for (const key of path.slice(0, -1)) node = node[key] as Record<string | number, unknown>;
  node[path.at(-1)!] = value;
  return copy;
}

/** Objects (by path) in the body schema holding at least two date fields, with those fields' names. */
function datePairs(s: Schema, path: Path = []): { path: Path; names: [string, string] }[] {
  const k = kind(s);
  if (k === 'array' && s.items) return datePairs(s.items, [...path, 0]);
  if (k !== 'object') return [];
  const props = Object.entries(s.properties ?? {});
  const dates = props.filter(([, p]) => kind(p) === 'date').map(([n]) => n);
  const start = dates.find((n) => !END_NAME.test(n));
  const end = dates.find((n) => END_NAME.test(n));
  const own = start && end ? [{ path, names: [start, end] as [string, string] }] : [];
  return [...own, ...props.flatMap(([n, p]) => datePairs(p, [...path, n]))];
}

function snippet(value: unknown, max = 160): string {
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  if (text === undefined) return String(value);
  // Control characters (the NUL of a payload) are shown escaped so the report stays one line each.
  const clean = Array.from(text, (c) => {
    const code = c.charCodeAt(0);
    return code < 0x20 || (code >= 0x7f && code < 0xa0) ? `\\u${code.toString(16).padStart(4, '0')}` : c;
  }).join('');
  return clean.length > max ? `${clean.slice(0, max)}…(${clean.length} chars)` : clean;
}

/** Every request of one operation: each hostile part on top of a schema-valid baseline. */
function casesFor(
  method: string,
  path: string,
  op: Operation,
  auth: Record<string, string>,
  existingIds: string[],
): Case[] {
  const params = op.parameters ?? [];
  const pathParams = params.filter((p) => p.in === 'path');
  const queryParams = params.filter((p) => p.in === 'query');
  const headerParams = params.filter((p) => p.in === 'header');
  const bodySchema = op.requestBody?.content?.['application/json']?.schema;
  const baseBody = bodySchema ? sample(bodySchema) : undefined;
  const idempotent = headerParams.some((p) => /idempotency/i.test(p.name));
  if (method === 'POST' && path === '/api/bookings' && !idempotent) {
    headerParams.push({ in: 'header', name: 'idempotency-key', schema: { type: 'string' } });
  }
  const baseQuery = () =>
    new Map(
      queryParams
        .filter((p) => p.required)
        .map((p) => [p.name, encodeURIComponent(String(sample(p.schema ?? {}, p.name)))]),
    );
  const urlOf = (pathValues: Record<string, string>, query: Map<string, string> | string) => {
    const pathname = path.replace(/\{([^}]+)\}/g, (_, name: string) => pathValues[name] ?? existingIds[0]!);
    const qs = typeof query === 'string' ? query : [...query].map(([k, v]) => `${k}=${v}`).join('&');
    return qs ? `${pathname}?${qs}` : pathname;
  };
  const baseHeaders = (): Record<string, string> => ({
    ...auth,
    ...Object.fromEntries(headerParams.map((p) => [p.name, `fuzz-${randomUUID()}`])),
  });
  const jsonCase = (what: string, payload: string | undefined, extra: Record<string, string> = {}): Case => {
    const headers = { ...baseHeaders(), ...extra };
    if (payload !== undefined && !('content-type' in extra)) headers['content-type'] = 'application/json';
    return {
      what,
      method,
      url: urlOf({}, baseQuery()),
      headers,
      ...(payload === undefined ? {} : { payload }),
    };
  };
  const basePayload = baseBody === undefined ? undefined : JSON.stringify(baseBody);
  const cases: Case[] = [];

  for (const p of pathParams) {
    for (const value of [...HOSTILE_PATH, ...existingIds]) {
      cases.push({
        ...jsonCase(`path ${p.name}=${snippet(value, 40)}`, basePayload),
        url: urlOf({ [p.name]: value }, baseQuery()),
      });
    }
  }

  const queryCase = (what: string, query: Map<string, string> | string): Case => ({
    ...jsonCase(what, basePayload),
    url: urlOf({}, query),
  });
  for (const p of queryParams) {
    for (const value of hostileQuery(p.schema ?? {})) {
      cases.push(queryCase(`query ${p.name}=${snippet(value, 40)}`, baseQuery().set(p.name, value)));
    }
    const valid = encodeURIComponent(String(sample(p.schema ?? {}, p.name)));
    const others = [...baseQuery()].filter(([k]) => k !== p.name).map(([k, v]) => `&${k}=${v}`);
    cases.push(
      queryCase(`query ${p.name} repeated`, `${p.name}=${valid}&${p.name}=${valid}${others.join('')}`),
    );
  }
  const queryDates = queryParams.filter((p) => kind(p.schema ?? {}) === 'date');
  const queryStart = queryDates.find((p) => !END_NAME.test(p.name));
  const queryEnd = queryDates.find((p) => END_NAME.test(p.name));
  if (queryStart && queryEnd) {
    for (const [from, to] of DATE_PAIRS) {
      const query = baseQuery().set(queryStart.name, from!).set(queryEnd.name, to!);
      cases.push(queryCase(`query ${queryStart.name}=${from} ${queryEnd.name}=${to}`, query));
    }
  }
  const unknown = [...baseQuery()].map(([k, v]) => `${k}=${v}&`).join('');
  cases.push(queryCase('unknown query parameter', `${unknown}zzUnknown=1`));
  cases.push(queryCase('prototype query parameter', `${unknown}__proto__[polluted]=1&constructor=x`));
  if (queryParams.some((p) => p.required)) cases.push(queryCase('no query string', ''));

  for (const p of headerParams) {
    for (const value of HOSTILE_HEADER) {
      const c = jsonCase(`header ${p.name}=${snippet(value, 40)}`, basePayload);
      if (value === undefined) delete c.headers[p.name];
      else c.headers[p.name] = value;
      cases.push(c);
    }
    if (/idempotency/i.test(p.name) && bodySchema) {
      // The same key again with another valid body (another start date) must not be a 5xx.
      const key = `fuzz-reuse-${randomUUID()}`;
      const start = datePairs(bodySchema)[0];
      const other = start ? setAt(baseBody, [...start.path, start.names[0]], isoDate(21)) : baseBody;
      for (const [what, body] of [
        ['first use', baseBody],
        ['replay', baseBody],
        ['reuse with another body', other],
      ] as const) {
        cases.push(jsonCase(`header ${p.name} ${what}`, JSON.stringify(body), { [p.name]: key }));
      }
    }
  }

  if (bodySchema) {
    const wrongTypes = Object.fromEntries(
      Object.entries(bodySchema.properties ?? {}).map(([k, v]) => [k, wrongType(v)]),
    );
    const raw: [string, string | undefined][] = [
      ['no body', undefined],
      ['empty body', ''],
      ['{}', '{}'],
      ['[]', '[]'],
      ['null', 'null'],
      ['"x"', '"x"'],
      ['123', '123'],
      ['invalid JSON', '{'],
      ['every property of the wrong type', JSON.stringify(wrongTypes)],
      ['an unknown property', JSON.stringify({ ...(baseBody as object), zzUnknown: 1 })],
      ['__proto__ key', '{"__proto__":{"polluted":1}}'],
      ['constructor.prototype key', '{"constructor":{"prototype":{"polluted":1}}}'],
      ['1000-level nested arrays', nested(1000)],
      ['30000-level nested arrays', nested(30_000)],
      ['200 KB body', JSON.stringify({ ...(baseBody as object), zzPadding: 'x'.repeat(200_000) })],
    ];
    for (const [what, payload] of raw) cases.push(jsonCase(`body ${what}`, payload));
    for (const type of [
      'text/plain',
      'application/x-www-form-urlencoded',
      'application/json; charset=utf-16',
    ]) {
      cases.push(jsonCase(`body as ${type}`, basePayload, { 'content-type': type }));
    }
    for (const leaf of leaves(bodySchema)) {
      for (const value of hostileJson(leaf.schema)) {
        const payload = JSON.stringify(setAt(baseBody, leaf.path, value));
        cases.push(jsonCase(`body.${leaf.path.join('.')}=${snippet(value, 40)}`, payload));
      }
    }
    for (const pair of datePairs(bodySchema)) {
      for (const [from, to] of DATE_PAIRS) {
        const body = setAt(
          setAt(baseBody, [...pair.path, pair.names[0]], from),
          [...pair.path, pair.names[1]],
          to,
        );
        cases.push(jsonCase(`body ${pair.names[0]}=${from} ${pair.names[1]}=${to}`, JSON.stringify(body)));
      }
    }
  }

  if (cases.length <= MAX_CASES_PER_OPERATION) return cases;
  return Array.from(
    { length: MAX_CASES_PER_OPERATION },
    (_, i) => cases[Math.floor((i * cases.length) / MAX_CASES_PER_OPERATION)]!,
  );
}

/** Why this response breaks the contract, or undefined when it keeps it. */
function violation(res: Reply, op: Operation): string | undefined {
  if (res.statusCode >= 500) return `HTTP ${res.statusCode}`;
  if (res.statusCode < 400) return undefined;
  // A generated client types each documented status; an undocumented one reaches it untyped.
  if (!op.responses?.[res.statusCode]) return `HTTP ${res.statusCode} is not documented for this operation`;
  let body: unknown;
  try {
    body = JSON.parse(res.body);
  } catch {
    return 'error body is not JSON';
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return 'error body is not an object';
  const missing = ERROR_FIELDS.filter((field) => !(field in body));
  if (missing.length) return `error body lacks ${missing.join(', ')}`;
  const status = (body as { statusCode?: unknown }).statusCode;
  if (status !== res.statusCode)
    return `body.statusCode ${snippet(status)} differs from HTTP ${res.statusCode}`;
  return undefined;
}

describe('API fuzzing driven by the OpenAPI document', () => {
  let db: TestDatabase;
  let app: App;
  let doc: OpenApiDocument;
  let user: TestUser;
  let admin: TestUser;
  let stopServer: () => Promise<void>;
  const existingIds = new Set<string>();
  /** Error-level log lines of the app, to name the cause of a 5xx. */
  const logLines: string[] = [];

  before(async () => {
    stopServer = await ensureTestServer();
    db = await createTestDatabase();
    // startTestApp's config, with error logs captured instead of printed.
    const logger = pino(loggerOptions('error'), { write: (line: string) => logLines.push(line) });
    app = await buildApp(testConfig({ DATABASE_URL: db.url, LOG_LEVEL: 'error', CACHE_ENABLED: 'true' }), {
      logger,
    });
    const res = await app.inject({ method: 'GET', url: '/docs/json' });
    assert.equal(res.statusCode, 200, res.body);
    doc = res.json() as OpenApiDocument;

    user = await registerUser(app, 'Fuzz User');
    admin = await registerAdmin(app);
    const hotel = await createHotel(db.pool, { rooms: [{ totalRooms: 5, capacity: 4 }] });
    const roomTypeId = hotel.roomTypes[0]!.id;
    const create = async (url: string, payload: object, headers: Record<string, string> = {}) => {
      const created = await app.inject({
        method: 'POST',
        url,
        headers: { ...user.headers, ...headers },
        payload,
      });
      assert.equal(created.statusCode, 201, `${url}: ${created.body}`);
      return String((created.json() as { id: number }).id);
    };
    const stay = { roomTypeId, checkIn: isoDate(3), checkOut: isoDate(5), guests: 1 };
    // The waitlist takes stays with a full night only; a review needs a stay that has begun.
    await setAvailableRooms(db.pool, roomTypeId, isoDate(11), isoDate(12), 0);
    await givePastStay(db.pool, user.id, hotel.id);
    for (const id of [
      String(hotel.id),
      String(roomTypeId),
      await create('/api/bookings', stay, { 'idempotency-key': randomUUID() }),
      await create('/api/trips', { name: 'Fuzz trip' }),
      await create('/api/waitlist', { ...stay, checkIn: isoDate(10), checkOut: isoDate(12) }),
      await create(`/api/hotels/${hotel.id}/reviews`, { rating: 4, title: 'Fine', body: 'Quite fine' }),
    ]) {
      existingIds.add(id);
    }
  });

  after(async () => {
    await app?.close();
    await db?.drop();
    await stopServer?.();
  });

  /** The logged error of a failed request: type, code, message and the first frame in src/. */
  const causeOf = (res: Reply): string => {
    const requestId = String(res.headers['x-request-id'] ?? '');
    for (const line of logLines) {
      const entry = JSON.parse(line) as {
        requestId?: string;
        err?: { type?: string; code?: string; message?: string; stack?: string };
      };
      if (entry.requestId !== requestId || !entry.err) continue;
      const { type, code, message, stack } = entry.err;
      const frame = stack
        ?.split('\n')
        .find((l) => l.includes('/src/'))
        ?.trim()
        .replace(/\(?\S*?\/src\//, '(src/');
      return `${type ?? 'Error'}${code ? ` ${code}` : ''}: ${snippet(message, 200)}${frame ? ` ${frame}` : ''}`;
    }
    return 'no error logged';
  };

  it('when every documented operation gets hostile input, then none answers 5xx and every 4xx has the standard error body', async (t) => {
    const started = Date.now();
    let total = 0;
    const operations = Object.entries(doc.paths)
      .filter(([path]) => !path.startsWith('/docs'))
      .flatMap(([path, ops]) =>
        Object.entries(ops)
          .filter(([method]) => METHODS.includes(method))
          .map(([method, op]) => ({ method: method.toUpperCase(), path, op })),
      );
    assert.ok(
      operations.some((o) => o.method === 'POST' && o.path === '/api/bookings'),
      'POST /api/bookings is documented',
    );

    for (const { method, path, op } of operations) {
      await t.test(`${method} ${path}`, async (st) => {
        const forAdmins = path.startsWith('/api/admin') || op.tags?.includes('operations');
        const auth = forAdmins ? admin.headers : user.headers;
        const cases = casesFor(method, path, op, auth, [...existingIds]);
        const failures: string[] = [];
        const statuses = new Map<number, number>();
        let reachedRoute = false;
        for (const c of cases) {
          let res: Reply;
          try {
            res = await app.inject({
              method: c.method as 'GET',
              url: c.url,
              headers: c.headers,
              ...(c.payload === undefined ? {} : { payload: c.payload }),
            });
          } catch (err) {
            failures.push(`${c.method} ${snippet(c.url, 120)} [${c.what}] could not be sent: ${String(err)}`);
            continue;
          }
          statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1);
          if (res.statusCode !== 401 && !res.body.includes('"E_ROUTE_NOT_FOUND"')) reachedRoute = true;
          const problem = violation(res, op);
          if (!problem) continue;
          failures.push(
            [
              `${problem}: ${c.method} ${snippet(c.url, 120)} [${c.what}]`,
              c.payload === undefined
                ? ''
                : `    payload (${c.headers['content-type']}): ${snippet(c.payload)}`,
              `    -> ${res.statusCode} ${snippet(res.body, 240)}`,
              res.statusCode >= 500 ? `    cause: ${causeOf(res)}` : '',
            ]
              .filter(Boolean)
              .join('\n'),
          );
        }
        total += cases.length;
        st.diagnostic(
          `${cases.length} requests; statuses ${[...statuses].map(([s, n]) => `${s}x${n}`).join(' ')}`,
        );
        assert.ok(reachedRoute, `${method} ${path}: no request reached the route authenticated`);
        const hasInput = (op.parameters?.length ?? 0) > 0 || op.requestBody !== undefined;
        if (hasInput) {
          assert.ok(
            [...statuses.keys()].some((s) => s === 400),
            `${method} ${path}: no hostile input was rejected with 400`,
          );
        }
        assert.equal(
          failures.length,
          0,
          `${failures.length} of ${cases.length} requests broke the contract:\n${failures.join('\n')}`,
        );
      });
    }
    t.diagnostic(`${operations.length} operations, ${total} requests in ${Date.now() - started} ms`);
  });
});
