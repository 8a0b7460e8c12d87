import { STATUS_CODES } from 'node:http';
import type { FastifySchema, RouteOptions } from 'fastify';
import { addDays } from '../common/stay.ts';
import { COMPONENT, ERROR_COMPONENT, ErrorBody, RESPONSE_COMPONENTS } from './components.ts';
import {
  ERROR_CATALOGUE,
  type ErrorName,
  type ErrorUse,
  OPERATIONS,
  type OperationDoc,
} from './operations.ts';

type Json = Record<string, unknown>;

/*
 * @fastify/swagger's per-route `transform`: it gets the route's JSON schemas before they are turned into
 * an operation and returns the schemas to document instead. Everything here works on copies: the schemas
 * Fastify validates and serializes with were compiled from the originals, so the API's behaviour cannot
 * change with the document.
 */

/** Errors every operation of a kind can answer, whatever its own code does. */
const WITH_INPUT: readonly ErrorUse[] = [
  ['VALIDATION', 'the input does not match the schema; details name it'],
];
const WITH_BODY: readonly ErrorUse[] = [
  ['BAD_JSON', 'the body is not valid JSON or not UTF-8, or is empty'],
  ['REQUEST_TIMEOUT', 'the whole request did not arrive within HTTP_REQUEST_TIMEOUT_MS'],
  ['PAYLOAD_TOO_LARGE', 'the body is larger than HTTP_BODY_LIMIT_BYTES'],
  ['UNSUPPORTED_MEDIA_TYPE', 'the body is not application/json'],
];
const WITH_BEARER: readonly ErrorUse[] = [
  ['UNAUTHORIZED', 'no Authorization: Bearer <accessToken> header'],
  ['INVALID_TOKEN', 'the access token is invalid or expired: refresh it'],
];
const EVERY: readonly ErrorUse[] = [
  ['INTERNAL', 'an unexpected failure, logged with its cause'],
  ['UNAVAILABLE', 'the server is shutting down: retry (elsewhere)'],
  'DB_UNAVAILABLE',
  'DB_TIMEOUT',
];

const HEADERS: Partial<Record<ErrorName, Record<string, Json>>> = {
  UNAUTHORIZED: { 'WWW-Authenticate': { type: 'string', description: 'Bearer realm="innkeep"' } },
  INVALID_TOKEN: {
    'WWW-Authenticate': {
      type: 'string',
      description: 'Bearer realm="innkeep" (with error="invalid_token" for E_INVALID_TOKEN)',
    },
  },
  TOO_MANY_ATTEMPTS: { 'Retry-After': { type: 'integer', description: 'Seconds to wait before retrying' } },
  IDEMPOTENCY_IN_PROGRESS: { 'Retry-After': { type: 'integer', description: 'Seconds to wait' } },
  DB_UNAVAILABLE: { 'Retry-After': { type: 'integer', description: 'Seconds to wait before retrying' } },
  DB_TIMEOUT: { 'Retry-After': { type: 'integer', description: 'Seconds to wait before retrying' } },
};

/** The two ends of a range: the end gets an example after the start, so examples are valid requests. */
const RANGES = [
  ['checkIn', 'checkOut'],
  ['from', 'to'],
  ['startDate', 'endDate'],
] as const;
const RANGE_EXAMPLE_DAYS = 3;

/** `/api/hotels/:id` → `/api/hotels/{id}`, the document's form (and the OPERATIONS keys'). */
function documentPath(url: string): string {
  return url.replace(/:(\w+)/g, '{$1}');
}

/**
 * The schema to document for one route: its operationId and `security` (`[]` when public), described 2xx
 * responses with shared schemas marked for components, one response per error status it can answer, and
 * inputs as a client sends them. Routes without a schema, or hidden ones, pass through.
 */
export function transformRoute({
  schema,
  url,
  route,
}: {
  schema: FastifySchema;
  url: string;
  route: RouteOptions;
}) {
  const s = schema as Json | undefined;
  if (!s || s.hide) return { schema, url };
  const method = String(Array.isArray(route.method) ? route.method[0] : route.method);
  const path = documentPath(url);
  const doc = OPERATIONS[`${method} ${path}`];
  const security = (s.security as unknown[] | undefined) ?? [];
  const hasBody = s.body !== undefined;
  const hasInput = hasBody || [s.querystring, s.params, s.headers].some((part) => part !== undefined);
  const errors = [
    ...(hasInput ? WITH_INPUT : []),
    ...(hasBody ? WITH_BODY : []),
    ...(security.length > 0 ? WITH_BEARER : []),
    ...(doc?.errors ?? []),
    ...EVERY,
  ];
  const documented: Json = {
    ...s,
    operationId: doc?.operationId ?? s.operationId ?? fallbackOperationId(method, path),
    // Public operations say so: without it, a document-wide security requirement would apply to them.
    security,
    response: responses((s.response ?? {}) as Json, errors, doc, String(s.summary ?? '')),
  };
  if (s.querystring) documented.querystring = input(s.querystring);
  if (s.body) documented.body = input(s.body);
  if (s.headers) {
    const headers = withFormats(input(s.headers), doc?.headerFormats ?? {});
    documented.headers = requireProperties(headers, doc?.requiredHeaders ?? []);
  }
  return { schema: documented as FastifySchema, url };
}

function fallbackOperationId(method: string, path: string): string {
  const words = path
    .split('/')
    .filter(Boolean)
    .map((part) => (part.startsWith('{') ? `by-${part.slice(1, -1)}` : part))
    .flatMap((part) => part.split(/[^A-Za-z0-9]+/));
  return [method.toLowerCase(), ...words.map((w) => w.charAt(0).toUpperCase() + w.slice(1))].join('');
}

/** The 2xx responses the route declares (described, shared schemas marked) and one per error status. */
function responses(
  declared: Json,
  errors: readonly ErrorUse[],
  doc: OperationDoc | undefined,
  summary: string,
): Json {
  const out: Json = {};
  for (const [status, schema] of Object.entries(declared)) {
    const own = schema as Json;
    // @fastify/swagger takes a response schema's description as the response's: keep it in one place.
    const { description, ...body } = own;
    if (/^2/.test(status)) {
      const marked = markComponents(own);
      const headers = Object.entries(doc?.successHeaders ?? {}).map(([name, text]) => [
        name,
        { type: 'string', description: text },
      ]);
      out[status] = {
        ...(marked[COMPONENT] ? marked : withoutDescription(marked)),
        'x-response-description': doc?.success ?? description ?? summary,
        ...(headers.length > 0 ? { headers: Object.fromEntries(headers) } : {}),
      };
    } else if (description) {
      // An error answer the route describes itself (the probes' 503 bodies) is kept as it is.
      out[status] = { ...body, 'x-response-description': description };
    }
  }
  const byStatus = new Map<number, Map<ErrorName, string[]>>();
  for (const use of errors) {
    const [name, note] = typeof use === 'string' ? [use, undefined] : use;
    const status = ERROR_CATALOGUE[name].status;
    const uses = byStatus.get(status) ?? new Map<ErrorName, string[]>();
    uses.set(name, [...(uses.get(name) ?? []), ...(note ? [note] : [])]);
    byStatus.set(status, uses);
  }
  for (const [status, uses] of [...byStatus].sort(([a], [b]) => a - b)) {
    if (out[status]) continue;
    out[status] = errorResponse(status, uses);
  }
  return out;
}

function errorResponse(status: number, uses: Map<ErrorName, string[]>): Json {
  const lines = [...uses].map(([name, notes]) => {
    const entry = ERROR_CATALOGUE[name];
    const text =
      notes.length > 0 ? notes.join('; ') : entry.message.charAt(0).toLowerCase() + entry.message.slice(1);
    return `- \`${entry.code}\`: ${text}`;
  });
  const headers = Object.assign({}, ...[...uses.keys()].map((name) => HEADERS[name] ?? {})) as Json;
  const description = [`${STATUS_CODES[status]}:`, ...lines];
  return {
    ...structuredClone(ErrorBody),
    [COMPONENT]: ERROR_COMPONENT,
    'x-response-description': description.join('\n'),
    ...(Object.keys(headers).length > 0 ? { headers } : {}),
  };
}

let registry: Map<string, string> | undefined;

/** A copy of a response schema with every RESPONSE_COMPONENTS schema in it marked with its name. */
function markComponents(schema: unknown): Json {
  registry ??= new Map(Object.entries(RESPONSE_COMPONENTS).map(([name, s]) => [canonical(s), name]));
  const known = registry;
  const mark = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(mark);
    if (!isObject(node)) return node;
    const copy = Object.fromEntries(Object.entries(node).map(([k, v]) => [k, mark(v)]));
    withRangeExamples(copy);
    const name = known.get(canonical(node));
    return name ? { ...copy, [COMPONENT]: name } : copy;
  };
  return mark(schema) as Json;
}

/**
 * A copy of an input schema (query string, body, headers) as a client should see it: a property with a
 * default is optional (ajv's useDefaults fills it in), and ranges have valid examples.
 */
function input(schema: unknown): Json {
  const walk = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(walk);
    if (!isObject(node)) return node;
    const copy = Object.fromEntries(Object.entries(node).map(([k, v]) => [k, walk(v)]));
    const properties = copy.properties as Record<string, Json> | undefined;
    if (properties && Array.isArray(copy.required)) {
      copy.required = copy.required.filter((name: string) => properties[name]?.default === undefined);
      if ((copy.required as string[]).length === 0) delete copy.required;
    }
    withRangeExamples(copy);
    return copy;
  };
  return walk(schema) as Json;
}

function withoutDescription({ description: _described, ...rest }: Json): Json {
  return rest;
}

/** The header schema with each named property's format (minLength, pattern, ...) added. */
function withFormats(schema: Json, formats: Readonly<Record<string, Readonly<Json>>>): Json {
  const properties = { ...((schema.properties as Record<string, Json> | undefined) ?? {}) };
  for (const [name, format] of Object.entries(formats)) {
    if (properties[name]) properties[name] = { ...properties[name], ...format };
  }
  return { ...schema, properties };
}

function requireProperties(schema: Json, names: readonly string[]): Json {
  if (names.length === 0) return schema;
  const required = new Set([...((schema.required as string[] | undefined) ?? []), ...names]);
  return { ...schema, required: [...required] };
}

/** Gives the end of each start/end date pair in this object schema an example after the start's. */
function withRangeExamples(node: Json): void {
  const properties = node.properties as Record<string, Json> | undefined;
  if (!properties) return;
  for (const [startName, endName] of RANGES) {
    const start = dateSchema(properties[startName]);
    const end = dateSchema(properties[endName]);
    const first = (start?.examples as string[] | undefined)?.[0];
    if (!start || !end || !first) continue;
    end.examples = [addDays(first, RANGE_EXAMPLE_DAYS)];
  }
}

/** The `format: date` schema of a property: itself, or the member of a nullable union. */
function dateSchema(schema: Json | undefined): Json | undefined {
  if (!schema) return undefined;
  if (schema.format === 'date') return schema;
  const members = (schema.anyOf ?? schema.oneOf) as Json[] | undefined;
  return members?.find((m) => m.format === 'date');
}

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null;
}

/** JSON with sorted keys: equal schemas give equal strings whatever their key order. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    isObject(v) && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}
