import type { Metrics } from '../observability/index.ts';
import type { Cache } from './cache.ts';

/**
 * Exports the cache's counters (kept in `cache.stats`) to Prometheus at scrape time:
 * `innkeep_cache_requests_total{namespace, tier, result}` (tier l1|l2 for hits and stale answers,
 * none for loads from PostgreSQL, strict lookups sent past the cache while Redis was away and callers
 * that joined another's load) and `innkeep_cache_errors_total{namespace, tier}` (failed Redis commands).
 */
export function exportCacheMetrics(metrics: Metrics, cache: Cache): void {
  metrics.sampledCounter(
    'innkeep_cache_requests_total',
    'Cache lookups by namespace, the tier that answered (none: PostgreSQL or a shared load) and the result',
    ['namespace', 'tier', 'result'],
    () =>
      cache.stats.namespaces().flatMap((ns) => [
        { labels: { namespace: ns.namespace, tier: 'l1', result: 'hit' }, value: ns.hitsL1 },
        { labels: { namespace: ns.namespace, tier: 'l2', result: 'hit' }, value: ns.hitsL2 },
        { labels: { namespace: ns.namespace, tier: 'none', result: 'hit' }, value: ns.coalesced },
        { labels: { namespace: ns.namespace, tier: 'l1', result: 'stale' }, value: ns.stale },
        { labels: { namespace: ns.namespace, tier: 'none', result: 'miss' }, value: ns.misses + ns.bypassed },
      ]),
  );
  metrics.sampledCounter(
    'innkeep_cache_errors_total',
    'Failed Redis commands of the cache, by namespace',
    ['namespace', 'tier'],
    () =>
      cache.stats
        .namespaces()
        .map((ns) => ({ labels: { namespace: ns.namespace, tier: 'l2' }, value: ns.errors })),
  );
}
