import type { Config } from '../config/index.ts';
import type { Logger, Metrics } from '../observability/index.ts';
import { connectSharedBreakers } from './redis-connections.ts';
import { Resilience } from './resilience.ts';

/**
 * The registry from the config: breaker state shared through Redis when BREAKER_SHARED is on (by
 * default whenever REDIS_URL is set), under CACHE_PREFIX's key prefix. Never waits for Redis to be up:
 * the breakers start local and sync once it answers.
 *
 * @example
 * const resilience = await buildResilience(config, log, metrics);
 */
export async function buildResilience(config: Config, log: Logger, metrics?: Metrics): Promise<Resilience> {
  const url = config.redis.url;
  const shared = config.resilience.shared ?? url !== undefined;
  if (shared && !url)
    log.warn('BREAKER_SHARED is on without REDIS_URL: each instance keeps its own breaker state');
  const link =
    shared && url ? await connectSharedBreakers({ url, prefix: config.cache.prefix }, log) : undefined;
  return new Resilience(config.resilience, {
    log,
    metrics,
    shared: link?.shared,
    ...(link ? { onClose: link.close } : {}),
  });
}
