export type { CacheOptions, GetOrSetOptions, NamespacePolicy } from './cache.ts';
export { Cache, CacheNamespace, namespaceTag } from './cache.ts';
export { exportCacheMetrics } from './cache-metrics.ts';
export type { CacheStatsSnapshot, NamespaceStats } from './cache-stats.ts';
export { hitRate } from './cache-stats.ts';
export type { TtlPreset, TtlSeconds } from './ttl.ts';
export { msUntilNextQuarterHour, TTL_PRESETS } from './ttl.ts';
