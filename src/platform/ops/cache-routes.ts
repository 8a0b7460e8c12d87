import type { FastifyInstance, onRequestHookHandler } from 'fastify';
import Type from 'typebox';
import type { Cache } from '../cache/index.ts';
import { appError } from '../errors/index.ts';

export interface CacheRoutesOptions {
  /** The admin check on the API; none on the internal listener. */
  readonly guard?: onRequestHookHandler;
  readonly security?: readonly Record<string, readonly string[]>[];
  readonly cache: Cache;
}

/** Printable text (city tags hold the city's name as searched: `city:são paulo`), no control characters. */
const TAG = '^[^\\s\\x00-\\x1f\\x7f][^\\x00-\\x1f\\x7f]{0,199}$';
const InvalidateBody = Type.Object(
  {
    tag: Type.Optional(
      Type.String({ pattern: TAG, description: 'A tag, e.g. `hotel:42`, `city:paris`, `user:7`' }),
    ),
    namespace: Type.Optional(
      Type.String({ pattern: '^[a-z][a-z0-9-]{0,39}$', description: 'A namespace to empty' }),
    ),
    all: Type.Optional(Type.Literal(true, { description: 'Empty the whole cache' })),
  },
  { additionalProperties: false },
);
const Invalidated = Type.Object({
  invalidated: Type.Object({
    tag: Type.Optional(Type.String()),
    namespace: Type.Optional(Type.String()),
    all: Type.Optional(Type.Boolean()),
  }),
});

/**
 * `GET /api/admin/cache/stats` (hits, misses, hit rate, L1/L2 split, stale answers, coalesced callers,
 * errors, evictions, entries and bytes per namespace) and `POST /api/admin/cache/invalidate`
 * (`{ "tag": "hotel:42" }` or `{ "namespace": "search" }`, on every instance). Behind the admin guard
 * on the API, open on the internal listener (which `innkeep cache stats|clear` call).
 */
export async function cacheRoutes(app: FastifyInstance, options: CacheRoutesOptions): Promise<void> {
  const { cache, guard } = options;
  const security = options.security ? { security: options.security } : {};
  const asJson = () => (data: unknown) => JSON.stringify(data);
  app.get(
    '/api/admin/cache/stats',
    {
      ...(guard ? { onRequest: guard } : {}),
      serializerCompiler: asJson,
      schema: {
        tags: ['operations'],
        summary: 'Cache statistics (admin)',
        description:
          'Per namespace since the process started: hits from memory (L1) and Redis (L2), misses (loads from PostgreSQL), hit rate, stale answers, coalesced callers, strict lookups sent to PostgreSQL while Redis was away, discarded loads, Redis errors, evictions, entries and bytes in memory.',
        ...security,
        response: { 200: Type.Object({}, { additionalProperties: true }) },
      },
    },
    async () => ({ generatedAt: new Date().toISOString(), ...cache.snapshot(), policies: policies(cache) }),
  );
  app.post(
    '/api/admin/cache/invalidate',
    {
      ...(guard ? { onRequest: guard } : {}),
      schema: {
        tags: ['operations'],
        summary: 'Invalidate cached entries by tag or namespace (admin)',
        description:
          'Drops every entry carrying the tag, every entry of the namespace, or (`all: true`) everything, on every instance (through Redis). A tag nothing carries is accepted and changes nothing; an unknown namespace is a 404.',
        ...security,
        body: InvalidateBody,
        response: { 200: Invalidated },
      },
    },
    async (request) => {
      const { tag, namespace, all } = request.body as { tag?: string; namespace?: string; all?: true };
      if ([tag, namespace, all].filter((v) => v !== undefined).length !== 1) {
        throw appError('VALIDATION', 'Give exactly one of tag, namespace and all', {
          details: [{ field: 'tag', message: 'give exactly one of tag, namespace and all' }],
        });
      }
      if (all) {
        await cache.clear();
        return { invalidated: { all: true } };
      }
      if (namespace !== undefined) {
        if (!cache.namespaces().some((ns) => ns.name === namespace)) {
          throw appError('NOT_FOUND', `No cache namespace ${namespace}`, {
            hint: `Namespaces: ${cache
              .namespaces()
              .map((ns) => ns.name)
              .join(', ')}`,
          });
        }
        await cache.clear(namespace);
        return { invalidated: { namespace } };
      }
      await cache.invalidate([tag as string]);
      return { invalidated: { tag } };
    },
  );
}

function policies(cache: Cache) {
  return cache.namespaces().map((ns) => ({
    namespace: ns.name,
    mode: ns.policy.mode,
    ttlSeconds: ns.ttlSeconds,
    graceSeconds: ns.graceSeconds,
    description: ns.policy.description,
  }));
}
