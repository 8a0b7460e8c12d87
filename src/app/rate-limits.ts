import type { Redis } from 'ioredis';
import type { AuthConfig, Config } from '../platform/config/index.ts';
import type { Database } from '../platform/db/index.ts';
import { createLimiter, type HttpServer, rateLimit } from '../platform/http/index.ts';
import type { Metrics } from '../platform/observability/index.ts';
import { authRepository } from './auth/auth-repository.ts';
import type { LoginThrottle } from './auth/auth-service.ts';

export interface RateLimitDeps {
  readonly config: Config;
  readonly db: Database;
  readonly metrics: Metrics | undefined;
  readonly redis: Redis | undefined;
}

/** Every Redis key of the limits starts with the deployment's prefix (CACHE_PREFIX), as the cache's do. */
export function limitsPrefix(config: Config): string {
  return `${config.cache.prefix}:rl`;
}

/**
 * The HTTP rate limits from config, with blocks recorded as `rate_limit_blocked` security events
 * (IP, user, route).
 */
export async function registerRateLimit(app: HttpServer, deps: RateLimitDeps): Promise<void> {
  const { config, db, metrics, redis } = deps;
  const { abuseThreshold, blockS, enabled: _enabled, ...classes } = config.rateLimit;
  await app.register(rateLimit, {
    classes,
    abuseThreshold,
    blockS,
    keyPrefix: limitsPrefix(config),
    redis,
    metrics,
    onBlocked: async (event) => {
      const userId = Number(event.userId);
      await db.write((q) =>
        authRepository(q).recordSecurityEvent({
          type: 'rate_limit_blocked',
          userId: Number.isSafeInteger(userId) && userId > 0 ? userId : undefined,
          ip: event.ip,
          details: { route: event.route, routeClass: event.routeClass, blockS: event.blockS },
        }),
      );
    },
  });
}

/**
 * Login throttling on the same limiters: one bucket per account (lower(email)) of LOGIN_MAX_FAILURES
 * and one per address of LOGIN_MAX_FAILURES_PER_IP, both over LOGIN_THROTTLE_WINDOW_S, in Redis when
 * it is configured (exact across instances).
 */
export function loginLimiters(
  auth: AuthConfig,
  redis: Redis | undefined,
  prefix = 'innkeep:rl',
): LoginThrottle {
  const durationS = auth.loginThrottleWindowS;
  return {
    account: createLimiter({
      points: auth.loginMaxFailures,
      durationS,
      keyPrefix: `${prefix}:login-account`,
      redis,
    }),
    ip: createLimiter({
      points: auth.loginMaxFailuresPerIp,
      durationS,
      keyPrefix: `${prefix}:login-ip`,
      redis,
    }),
  };
}
