import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { OPERATIONS } from '../src/app/openapi/operations.ts';
import { ERROR_FIELDS } from './support/app.ts';

/*
 * What a client developer needs from the document, checked on docs/openapi.json (no database needed):
 * test/openapi.test.ts proves that file is exactly what GET /docs/json serves.
 */

interface Schema {
  $ref?: string;
  default?: unknown;
  examples?: unknown[];
  format?: string;
  anyOf?: Schema[];
  required?: string[];
  properties?: Record<string, Schema>;
  items?: Schema;
}
interface Parameter {
  in: string;
  name: string;
  required?: boolean;
  example?: unknown;
  schema?: Schema;
}
interface Response {
  description?: string;
  content?: Record<string, { schema?: Schema }>;
}
interface Operation {
  operationId?: string;
  tags?: string[];
  security?: Record<string, string[]>[];
  parameters?: Parameter[];
  requestBody?: { content?: Record<string, { schema?: Schema }> };
  responses: Record<string, Response>;
}
interface OpenApiDocument {
  servers?: { url: string; description?: string }[];
  tags: { name: string; description?: string }[];
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, Schema> };
}

const doc = JSON.parse(
  readFileSync(join(import.meta.dirname, '../docs/openapi.json'), 'utf8'),
) as OpenApiDocument;
const ERROR_REF = '#/components/schemas/Error';
const PROBES = ['/healthz', '/ready', '/health'];

const operations = Object.entries(doc.paths).flatMap(([path, ops]) =>
  Object.entries(ops).map(([method, op]) => ({ key: `${method.toUpperCase()} ${path}`, path, op })),
);

/** Every object schema in a schema, with the path to it. */
function* objects(schema: Schema | undefined, where: string): Generator<[string, Schema]> {
  if (!schema || typeof schema !== 'object') return;
  if (schema.properties) yield [where, schema];
  for (const [name, child] of Object.entries(schema.properties ?? {}))
    yield* objects(child, `${where}.${name}`);
  if (schema.items) yield* objects(schema.items, `${where}[]`);
  for (const member of schema.anyOf ?? []) yield* objects(member, where);
}

describe('OpenAPI document (docs/openapi.json)', () => {
  it('when the document is read, then it names its servers and describes every tag it uses', () => {
    assert.ok((doc.servers?.length ?? 0) > 0, 'servers');
    for (const server of doc.servers ?? [])
      assert.ok(server.url && server.description, JSON.stringify(server));
    const declared = new Map(doc.tags.map((t) => [t.name, t.description]));
    for (const { key, op } of operations) {
      for (const tag of op.tags ?? [])
        assert.ok(declared.get(tag), `${key}: tag ${tag} is declared and described`);
    }
  });

  it('when an operation is read, then it has a unique camelCase operationId, a security list and described responses', () => {
    const ids = new Map<string, string>();
    for (const { key, op } of operations) {
      assert.match(op.operationId ?? '', /^[a-z][a-zA-Z0-9]*$/, `${key}: operationId`);
      assert.equal(ids.get(op.operationId!), undefined, `${key}: operationId ${op.operationId} is unique`);
      ids.set(op.operationId!, key);
      assert.ok(Array.isArray(op.security), `${key}: security is [] when public`);
      for (const [status, response] of Object.entries(op.responses)) {
        assert.ok(response.description, `${key} ${status}: a description`);
        assert.notEqual(response.description, 'Default Response', `${key} ${status}: a real description`);
      }
    }
  });

  it('when an operation of the app is documented, then OPERATIONS describes it, and every entry names one', () => {
    const keys = operations.map((o) => o.key).filter((key) => !PROBES.some((p) => key.endsWith(` ${p}`)));
    assert.deepEqual(
      keys.filter((key) => !OPERATIONS[key]),
      [],
      'add these to OPERATIONS in src/app/openapi/operations.ts',
    );
    assert.deepEqual(
      Object.keys(OPERATIONS).filter((key) => !keys.includes(key)),
      [],
      'stale OPERATIONS entries',
    );
    for (const { key, op } of operations) {
      if (OPERATIONS[key]) assert.equal(op.operationId, OPERATIONS[key].operationId, key);
    }
  });

  it('when a parameter or body field has a default, then it is documented as optional', () => {
    let defaults = 0;
    for (const { key, op } of operations) {
      for (const p of op.parameters ?? []) {
        if (p.schema?.default === undefined) continue;
        defaults += 1;
        assert.notEqual(p.required, true, `${key}: ${p.in} ${p.name} has a default`);
      }
      const body = op.requestBody?.content?.['application/json']?.schema;
      for (const [where, object] of objects(body, 'body')) {
        for (const [name, property] of Object.entries(object.properties ?? {})) {
          if (property.default === undefined) continue;
          defaults += 1;
          assert.ok(!object.required?.includes(name), `${key}: ${where}.${name} has a default`);
        }
      }
    }
    assert.ok(defaults >= 10, `page, limit, sort, guests, ... (found ${defaults})`);
    const search = doc.paths['/api/hotels/search']?.get?.parameters ?? [];
    for (const name of ['page', 'limit']) {
      assert.equal(search.find((p) => p.name === name)?.required, false, `search ${name} is optional`);
    }
  });

  it('when POST /api/bookings is read, then its Idempotency-Key header is required', () => {
    const header = doc.paths['/api/bookings']?.post?.parameters?.find(
      (p) => p.in === 'header' && p.name.toLowerCase() === 'idempotency-key',
    );
    assert.equal(header?.required, true, JSON.stringify(header));
  });

  it('when an operation can fail, then each of its 4xx/5xx references the one Error schema', () => {
    const error = doc.components.schemas.Error;
    assert.ok(error, 'components.schemas.Error');
    for (const field of ERROR_FIELDS) assert.ok(error.required?.includes(field), `Error requires ${field}`);
    for (const { key, path, op } of operations) {
      const statuses = Object.keys(op.responses);
      const hasInput = (op.parameters?.length ?? 0) > 0 || op.requestBody !== undefined;
      const bearer = (op.security ?? []).some((s) => 'bearerAuth' in s);
      if (hasInput) assert.ok(statuses.includes('400'), `${key}: 400 (it takes input)`);
      if (op.requestBody) assert.ok(statuses.includes('415') && statuses.includes('413'), `${key}: 413/415`);
      if (bearer) assert.ok(statuses.includes('401'), `${key}: 401 (bearer security)`);
      for (const status of ['500', '503']) assert.ok(statuses.includes(status), `${key}: ${status}`);
      for (const status of statuses.filter((s) => /^[45]/.test(s))) {
        const schema = op.responses[status]?.content?.['application/json']?.schema;
        // The probes describe their own 503 bodies: the standard error fields beside their report.
        if (PROBES.includes(path) && status === '503') continue;
        assert.equal(schema?.$ref, ERROR_REF, `${key} ${status}`);
      }
    }
    const errorRefs = JSON.stringify(doc.paths).split(`"${ERROR_REF}"`).length - 1;
    assert.ok(errorRefs > 100, `the error body is shared, not inlined (${errorRefs} references)`);
    const apiPaths = Object.entries(doc.paths).filter(([path]) => !PROBES.includes(path));
    assert.ok(!JSON.stringify(apiPaths).includes('"requestId"'), 'no inline copy of the error body');
  });

  it('when the probes are read, then /healthz, /ready and /health are public operations tagged health', () => {
    for (const path of PROBES) {
      const op = doc.paths[path]?.get;
      assert.ok(op, `GET ${path} is documented`);
      assert.deepEqual(op.tags, ['health']);
      assert.deepEqual(op.security, []);
      assert.ok(op.responses['200']?.content?.['application/json']?.schema, `GET ${path} 200 has a schema`);
    }
  });

  it('when an example stay or range is read, then its end is after its start', () => {
    const pairs = [
      ['checkIn', 'checkOut'],
      ['from', 'to'],
      ['startDate', 'endDate'],
    ];
    const first = (s: Schema | undefined) =>
      (s?.examples ?? s?.anyOf?.find((m) => m.format === 'date')?.examples)?.[0] as string | undefined;
    let checked = 0;
    const check = (where: string, start: string | undefined, end: string | undefined) => {
      if (start === undefined || end === undefined) return;
      checked += 1;
      assert.ok(end > start, `${where}: example ${start} .. ${end}`);
    };
    const schemas = [
      ...Object.entries(doc.components.schemas),
      ...operations.flatMap(({ key, op }) =>
        Object.values(op.requestBody?.content ?? {}).map((m) => [key, m.schema ?? {}] as const),
      ),
    ];
    for (const [name, schema] of schemas) {
      for (const [where, object] of objects(schema, name)) {
        for (const [a, b] of pairs)
          check(where, first(object.properties?.[a!]), first(object.properties?.[b!]));
      }
    }
    for (const { key, op } of operations) {
      const example = (name: string) => op.parameters?.find((p) => p.name === name)?.example as string;
      for (const [a, b] of pairs) check(key, example(a!), example(b!));
    }
    assert.ok(checked >= 8, `checked ${checked} pairs`);
  });
});
