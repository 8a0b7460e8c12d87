import { createHash } from 'node:crypto';
import { promisify } from 'node:util';
import { brotliCompress, constants, gzip } from 'node:zlib';
import type { FastifyInstance, FastifyReply, FastifyRequest, RouteHandlerMethod } from 'fastify';
import type { CacheNamespace } from '../cache/index.ts';

const brotli = promisify(brotliCompress);
const gz = promisify(gzip);

/** Bodies smaller than this are not worth compressing (the same threshold as @fastify/compress). */
export const COMPRESS_MIN_BYTES = 1024;

/** How a public GET route's answers are cached (the route's `config.responseCache`). */
export interface ResponseCacheRoute {
  /** Where the answers live; its policy gives the TTL and whether grace applies. */
  readonly namespace: CacheNamespace;
  /** Tags of the answer to this (validated) request: a write invalidating one of them drops it. */
  readonly tags: (request: FastifyRequest) => readonly string[];
  /** Keep this answer at most this long (ms), when shorter than the namespace's TTL. */
  readonly maxTtlMs?: (request: FastifyRequest) => number | undefined;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Cache this GET route's 200 answers as bytes (see src/platform/http/response-cache.ts). */
    responseCache?: ResponseCacheRoute;
  }
}

/** One cached answer: the JSON and its compressed forms, made once when the entry is filled. */
export interface CachedResponse {
  readonly identity: Buffer;
  readonly br?: Buffer;
  readonly gzip?: Buffer;
  /** The entity tag of the identity body; the compressed forms add `-br` / `-gz`. */
  readonly hash: string;
  /** When the entry stops being served (ms since the epoch): max-age counts down to it. */
  readonly expiresAt: number;
  /** What the memory tier charges for it. */
  readonly size: number;
}

const WRAPPED = Symbol('innkeep.responseCache');

/**
 * Public GET routes with `config.responseCache` answer from the cache: on a miss the handler runs once
 * (concurrent identical requests share it), its answer is serialized with the route's schema, Brotli
 * and gzip forms are made, and all three are kept; a hit sends the stored bytes in the encoding the
 * client accepts, with a strong ETag, `Vary: Accept-Encoding` and a Cache-Control that matches the
 * namespace (304 on a matching `If-None-Match`). The key is the route and its validated parameters,
 * so `?a=1&b=2` and `?b=2&a=1` share an entry. Every other response of the API is marked
 * `Cache-Control: private, no-store` (per-user answers must never enter a shared cache) unless its
 * route set one.
 *
 * Register before the routes (it wraps their handlers as they are added).
 */
export function registerResponseCache(app: FastifyInstance): void {
  app.addHook('onRoute', (route) => {
    const cached = route.config?.responseCache;
    if (!cached || (route.handler as { [WRAPPED]?: true })[WRAPPED]) return;
    const original = route.handler as RouteHandlerMethod;
    const template = route.url;
    const handler = async function (this: FastifyInstance, request: FastifyRequest, reply: FastifyReply) {
      const ns = cached.namespace;
      if (!ns.usable) {
        ns.countBypass();
        return original.call(this, request, reply);
      }
      const key = `${template}?${canonical(request.params)}&${canonical(request.query)}`;
      const maxTtlMs = cached.maxTtlMs?.(request);
      const ttlMs = Math.min(ns.ttlSeconds * 1000, maxTtlMs ?? Number.POSITIVE_INFINITY);
      const entry = await ns.getOrSet(
        key,
        async () => {
          const payload = await original.call(this, request, reply);
          const body = reply.serialize(payload);
          return buildEntry(
            typeof body === 'string' ? body : Buffer.from(body as Uint8Array).toString('utf8'),
            Date.now() + ttlMs,
          );
        },
        {
          tags: cached.tags(request),
          sizeOf: (e: CachedResponse) => e.size,
          ...(maxTtlMs !== undefined ? { maxTtlMs } : {}),
        },
      );
      return sendEntry(request, reply, entry, ns);
    };
    Object.assign(handler, { [WRAPPED]: true });
    route.handler = handler;
  });

  app.addHook('onSend', async (request, reply, payload) => {
    if (!reply.hasHeader('cache-control')) {
      reply.header('cache-control', request.headers.authorization ? 'private, no-store' : 'no-store');
    }
    return payload;
  });
}

async function buildEntry(body: string, expiresAt: number): Promise<CachedResponse> {
  const identity = Buffer.from(body, 'utf8');
  const hash = createHash('sha256').update(identity).digest('base64url').slice(0, 27);
  if (identity.length < COMPRESS_MIN_BYTES) {
    return { identity, hash, expiresAt, size: identity.length + 128 };
  }
  const [br, gzipped] = await Promise.all([
    brotli(identity, {
      params: {
        [constants.BROTLI_PARAM_QUALITY]: 6,
        [constants.BROTLI_PARAM_MODE]: constants.BROTLI_MODE_TEXT,
        [constants.BROTLI_PARAM_SIZE_HINT]: identity.length,
      },
    }),
    gz(identity, { level: 6 }),
  ]);
  return {
    identity,
    br,
    gzip: gzipped,
    hash,
    expiresAt,
    size: identity.length + br.length + gzipped.length + 128,
  };
}

function sendEntry(request: FastifyRequest, reply: FastifyReply, entry: CachedResponse, ns: CacheNamespace) {
  const encoding = negotiate(request.headers['accept-encoding'], entry);
  const etag = `"${entry.hash}${encoding === 'br' ? '-br' : encoding === 'gzip' ? '-gz' : ''}"`;
  const maxAge = Math.max(0, Math.floor((entry.expiresAt - Date.now()) / 1000));
  reply
    .header('etag', etag)
    .header('vary', 'accept-encoding')
    .header('cache-control', cacheControl(ns, maxAge));
  if (matchesIfNoneMatch(request.headers['if-none-match'], entry.hash)) {
    return reply.code(304).send();
  }
  reply.type('application/json; charset=utf-8');
  if (encoding === 'br' && entry.br) return reply.header('content-encoding', 'br').send(entry.br);
  if (encoding === 'gzip' && entry.gzip) return reply.header('content-encoding', 'gzip').send(entry.gzip);
  // Identity was chosen for this client (it prefers it, or the body is too small): @fastify/compress,
  // which negotiates on its own, must not encode these bytes now under the identity's ETag
  // (`x-no-compression` is its per-request opt-out).
  request.headers = { ...request.headers, 'x-no-compression': '1' };
  return reply.send(entry.identity);
}

/**
 * Strict namespaces (availability) say `no-cache`: a browser or proxy may keep the answer but must
 * ask again each time (a 304 when nothing changed), or a user who just booked could be shown the
 * rooms as they were. Graceful ones may be kept for what is left of their TTL, and served stale for
 * up to their grace while revalidating.
 */
function cacheControl(ns: CacheNamespace, maxAge: number): string {
  if (ns.policy.mode === 'strict') return 'public, no-cache';
  const grace = ns.graceSeconds > 0 ? `, stale-while-revalidate=${Math.floor(ns.graceSeconds)}` : '';
  return `public, max-age=${maxAge}${grace}`;
}

const MAX_CODINGS = 32;

/**
 * The encoding to send (RFC 9110 §12.5.3): the accepted one with the highest q among br, gzip and
 * identity, preferring br, then gzip, on a tie. A malformed or absurdly long header counts as absent
 * (identity); only its first MAX_CODINGS entries are read.
 */
export function negotiate(
  header: string | string[] | undefined,
  entry: Pick<CachedResponse, 'br' | 'gzip'>,
): 'br' | 'gzip' | 'identity' {
  if (typeof header !== 'string' || header.length === 0) return 'identity';
  const q = new Map<string, number>();
  let star: number | undefined;
  for (const part of header.split(',', MAX_CODINGS)) {
    const [rawName, ...params] = part.trim().split(';');
    const lower = rawName?.trim().toLowerCase();
    if (!lower) continue;
    // RFC 9110 §8.4.1.3: x-gzip is gzip.
    const name = lower === 'x-gzip' ? 'gzip' : lower;
    let weight = 1;
    for (const p of params) {
      const m = /^\s*q\s*=\s*([01](?:\.\d{0,3})?)\s*$/i.exec(p);
      if (m) weight = Number(m[1]);
    }
    if (name === '*') star = weight;
    else q.set(name, Math.max(weight, q.get(name) ?? 0));
  }
  const weightOf = (coding: string) =>
    q.get(coding) ?? (coding === 'identity' ? (star ?? 0.001) : (star ?? 0));
  const options: Array<['br' | 'gzip' | 'identity', number]> = [
    ['br', entry.br ? weightOf('br') : 0],
    ['gzip', entry.gzip ? weightOf('gzip') : 0],
    ['identity', weightOf('identity')],
  ];
  let best: 'br' | 'gzip' | 'identity' = 'identity';
  let bestQ = 0;
  for (const [coding, weight] of options) {
    if (weight > bestQ) {
      best = coding;
      bestQ = weight;
    }
  }
  // identity;q=0 with nothing else acceptable: send identity anyway (a 406 helps nobody here).
  return best;
}

/**
 * `If-None-Match` (RFC 9110 §13.1.2, weak comparison): `*`, or a list of entity tags one of which is
 * this entry's, in any of its encodings. Anything malformed does not match, so the full answer goes out.
 */
export function matchesIfNoneMatch(header: string | string[] | undefined, hash: string): boolean {
  if (typeof header !== 'string' || header.length === 0 || header.length > 8192) return false;
  if (header.trim() === '*') return true;
  const tags = header.match(/(?:W\/)?"[\x21\x23-\x7e\x80-\xff]*"/g);
  if (!tags) return false;
  for (const tag of tags) {
    const opaque = tag.replace(/^W\//, '').slice(1, -1);
    if (opaque === hash || opaque === `${hash}-br` || opaque === `${hash}-gz`) return true;
  }
  return false;
}

/** A stable text for validated params or query: keys sorted, undefined left out. */
function canonical(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value ?? null);
  const obj = value as Record<string, unknown>;
  const keys = Object.keys(obj)
    .filter((k) => obj[k] !== undefined)
    .sort();
  return keys.map((k) => `${encodeURIComponent(k)}=${encodeURIComponent(JSON.stringify(obj[k]))}`).join('&');
}
