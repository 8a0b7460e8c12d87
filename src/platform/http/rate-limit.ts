import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { Redis } from 'ioredis';
import {
  type RateLimiterAbstract,
  RateLimiterMemory,
  RateLimiterRedis,
  RateLimiterRes,
} from 'rate-limiter-flexible';
import { appError } from '../errors/index.ts';
import type { Logger, Metrics } from '../observability/index.ts';
import { type RouteClass, requestRouteClass } from './route-class.ts';

/** The classes that are limited (probes never are). */
export type LimitedClass = Exclude<RouteClass, 'probe'>;
export interface LimitPolicy {
  readonly points: number;
  readonly durationS: number;
}

export interface LimiterOptions extends LimitPolicy {
  /** Namespaces the keys (one per limiter; tests give each file its own). */
  readonly keyPrefix: string;
  /** Set: counts live in Redis (atomic, shared by every instance), with a memory limiter as insurance. */
  readonly redis?: Redis | undefined;
}

/**
 * A fixed-window limiter: Redis-backed when a client is given (one Lua script per consume, so exact
 * across instances and under parallel bursts), memory otherwise. While Redis fails, the same limits
 * are kept in this process's memory (`insuranceLimiter`): never unlimited.
 *
 * @example
 * const limiter = createLimiter({ points: 5, durationS: 60, keyPrefix: 'login' });
 * await limiter.consume('10.0.0.1'); // rejects with a RateLimiterRes once 5 are used
 */
export function createLimiter(options: LimiterOptions): RateLimiterAbstract {
  const base = { points: options.points, duration: options.durationS, keyPrefix: options.keyPrefix };
  if (!options.redis) return new RateLimiterMemory(base);
  return new RateLimiterRedis({
    ...base,
    storeClient: options.redis,
    // A connection that is not ready fails over to memory at once instead of waiting.
    rejectIfRedisNotReady: true,
    insuranceLimiter: new RateLimiterMemory(base),
  });
}

/**
 * The rate limiter's own Redis connection: commands fail at once while Redis is away (no offline
 * queue, one retry) so a request falls back to the memory limiter instead of waiting.
 *
 * @example
 * const redis = rateLimitRedis('redis://127.0.0.1:6379', log);
 * // ... createLimiter({ points: 5, durationS: 60, keyPrefix: 'x', redis }); await redis.quit();
 */
export function rateLimitRedis(url: string, log: Logger): Redis {
  const client = new Redis(url, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    commandTimeout: 250,
    connectTimeout: 1_000,
    retryStrategy: (attempt) => Math.min(50 * 2 ** attempt, 2_000),
    disconnectTimeout: 250,
  });
  let reported = false;
  client.on('error', (err: Error & { code?: string }) => {
    if (reported) return;
    reported = true;
    log.warn(
      { err: { message: err.message, code: err.code } },
      'rate limiter: redis failed; limits held in memory',
    );
  });
  client.on('ready', () => {
    reported = false;
  });
  return client;
}

/** What the app is told when a client is blocked for abuse. */
export interface BlockedEvent {
  readonly ip: string;
  readonly userId: string | number | undefined;
  readonly route: string;
  readonly routeClass: LimitedClass;
  readonly blockS: number;
}

export interface RateLimitOptions {
  readonly classes: Readonly<Record<LimitedClass, LimitPolicy>>;
  /** Rejections within `blockS` after which a client is blocked on every class for `blockS`. */
  readonly abuseThreshold: number;
  readonly blockS: number;
  readonly keyPrefix?: string;
  readonly redis?: Redis | undefined;
  readonly metrics?: Metrics | undefined;
  /** Called once per block (recorded as a security event by the app). Must not throw. */
  readonly onBlocked?: (event: BlockedEvent) => void | Promise<void>;
  /** The caller's user id once authenticated; default `request.ctx.principal?.userId`. */
  readonly userId?: (request: FastifyRequest) => string | number | undefined;
}

/** consumedPoints stored for a blocked key: far above any class's points, so consume rejects. */
const BLOCKED_POINTS = 1_000_000_000;

/**
 * Rate limits per route class, keyed by user id for authenticated requests and by client address
 * (`request.ip`, which believes `X-Forwarded-For` only with TRUST_PROXY) otherwise. Every limited
 * response carries `RateLimit-Limit`, `RateLimit-Remaining` and `RateLimit-Reset`; a rejection is
 * `429 E_RATE_LIMITED` with `Retry-After`. Requests without an `Authorization` header are limited in
 * onRequest (before the body is read); the others in preHandler, once the route's authentication
 * (an onRequest hook of the route) has set the principal.
 *
 * @example
 * await app.register(rateLimit, { classes, abuseThreshold: 100, blockS: 900 });
 */
export const rateLimit = fp<RateLimitOptions>(
  async (app: FastifyInstance, options) => {
    const prefix = options.keyPrefix ?? 'innkeep:rl';
    const limiters = new Map<LimitedClass, RateLimiterAbstract>();
    for (const [name, policy] of Object.entries(options.classes) as [LimitedClass, LimitPolicy][]) {
      limiters.set(name, createLimiter({ ...policy, keyPrefix: `${prefix}:${name}`, redis: options.redis }));
    }
    const abuse = createLimiter({
      points: options.abuseThreshold,
      durationS: options.blockS,
      keyPrefix: `${prefix}:abuse`,
      redis: options.redis,
    });
    const rejections = options.metrics?.counter(
      'innkeep_rate_limit_rejections_total',
      'Requests refused with 429 by the rate limiter, by limiter (route class, or blocked)',
      ['limiter'],
    );
    const userIdOf = options.userId ?? ((request: FastifyRequest) => request.ctx?.principal?.userId);

    const block = async (client: string, request: FastifyRequest, routeClass: LimitedClass) => {
      await Promise.all([...limiters.values()].map((l) => l.set(client, BLOCKED_POINTS, options.blockS)));
      const event: BlockedEvent = {
        ip: request.ip,
        userId: userIdOf(request),
        route: request.routeOptions.url ?? request.url.split('?')[0] ?? '',
        routeClass,
        blockS: options.blockS,
      };
      app.log.warn(event, 'rate limiter: client blocked for abuse');
      try {
        await options.onBlocked?.(event);
      } catch (err) {
        app.log.error({ err }, 'rate limiter: recording a block failed');
      }
    };

    const limit = async (request: FastifyRequest, reply: FastifyReply) => {
      const routeClass = requestRouteClass(request);
      if (routeClass === 'probe') return;
      const limiter = limiters.get(routeClass);
      if (!limiter) return;
      const user = userIdOf(request);
      const client = user === undefined ? `ip:${request.ip}` : `u:${user}`;
      let res: RateLimiterRes;
      let rejected = false;
      try {
        res = await limiter.consume(client);
      } catch (err) {
        if (!(err instanceof RateLimiterRes)) throw err;
        res = err;
        rejected = true;
      }
      const resetS = Math.max(1, Math.ceil(res.msBeforeNext / 1000));
      reply.header('ratelimit-limit', String(limiter.points));
      reply.header('ratelimit-remaining', String(res.remainingPoints));
      reply.header('ratelimit-reset', String(resetS));
      if (!rejected) return;
      const blocked = res.consumedPoints > BLOCKED_POINTS;
      rejections?.inc({ limiter: blocked ? 'blocked' : routeClass });
      if (!blocked) {
        // Counts this client's rejections; the one that reaches the threshold blocks it (once).
        const strikes = await abuse.consume(client).catch((e: unknown) => {
          if (e instanceof RateLimiterRes) return e;
          throw e;
        });
        if (strikes.consumedPoints === options.abuseThreshold) await block(client, request, routeClass);
      }
      throw appError(
        'RATE_LIMITED',
        blocked ? 'Too many requests: this client is blocked for a while' : 'Too many requests',
        { headers: { 'retry-after': String(resetS) } },
      );
    };

    app.addHook('onRequest', async (request, reply) => {
      if (request.headers.authorization === undefined) await limit(request, reply);
    });
    app.addHook('preHandler', async (request, reply) => {
      if (request.headers.authorization !== undefined) await limit(request, reply);
    });
  },
  { name: 'innkeep-rate-limit' },
);
