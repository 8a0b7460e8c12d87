// `innkeep cache stats|clear`: they ask the running app, on its internal listener (METRICS_HOST and
// METRICS_PORT), since the counters and the memory tier live in that process.
import type { CacheStatsSnapshot, NamespaceStats } from '../platform/cache/index.ts';
import type { Config } from '../platform/config/index.ts';
import { formatBytes, formatCount, textTable } from '../platform/ops/index.ts';

/** `innkeep cache stats [--json]`: the running app's cache counters per namespace. */
export async function cacheStatsCommand(config: Config, json: boolean): Promise<number> {
  const answer = await call(config, 'GET', '/api/admin/cache/stats');
  if (typeof answer === 'string') return fail(answer);
  if (json) {
    console.log(JSON.stringify(answer, null, 2));
    return 0;
  }
  // The JSON of the running app's `cache.snapshot()`.
  const stats = answer as CacheStatsSnapshot;
  const rate = (r: number | null) => (r === null ? '-' : `${(r * 100).toFixed(1)}%`);
  const row = (n: Omit<NamespaceStats, 'mode'> & { hitRate: number | null; mode: string }) => [
    n.namespace,
    n.mode,
    rate(n.hitRate),
    formatCount(n.hitsL1),
    formatCount(n.hitsL2),
    formatCount(n.misses),
    formatCount(n.stale),
    formatCount(n.coalesced),
    formatCount(n.bypassed),
    formatCount(n.errors),
    formatCount(n.evictions),
    formatCount(n.entries),
    formatBytes(n.bytes),
  ];
  const right = { align: 'right' } as const;
  console.log(
    `cache: ${stats.enabled ? 'on' : 'off'}, tiers ${stats.tiers}, redis ${stats.redis}; memory ${formatCount(stats.memory.entries)} / ${formatCount(stats.memory.maxEntries)} entries, ${formatBytes(stats.memory.bytes)} / ${formatBytes(stats.memory.maxBytes)}\n`,
  );
  console.log(
    textTable(
      [
        { header: 'namespace' },
        { header: 'mode' },
        { header: 'hit rate', ...right },
        { header: 'L1 hits', ...right },
        { header: 'L2 hits', ...right },
        { header: 'misses', ...right },
        { header: 'stale', ...right },
        { header: 'coalesced', ...right },
        { header: 'bypassed', ...right },
        { header: 'errors', ...right },
        { header: 'evicted', ...right },
        { header: 'entries', ...right },
        { header: 'bytes', ...right },
      ],
      [...stats.namespaces.map(row), row({ ...stats.totals, namespace: 'total', mode: '' })],
    ),
  );
  return 0;
}

/** `innkeep cache clear [--tag T | --namespace N]`: invalidates on every instance; nothing given: all. */
export async function cacheClearCommand(
  config: Config,
  tag: string | undefined,
  namespace: string | undefined,
) {
  if (tag !== undefined && namespace !== undefined) return fail('Give --tag or --namespace, not both', 2);
  const body = tag !== undefined ? { tag } : namespace !== undefined ? { namespace } : { all: true };
  const answer = await call(config, 'POST', '/api/admin/cache/invalidate', body);
  if (typeof answer === 'string') return fail(answer);
  console.log(
    tag !== undefined
      ? `Invalidated every entry tagged ${tag}`
      : namespace !== undefined
        ? `Emptied namespace ${namespace}`
        : 'Emptied the whole cache',
  );
  return 0;
}

/** The running app's JSON answer on its internal listener, or what went wrong as one line. */
export async function call(
  config: Config,
  method: 'GET' | 'POST',
  path: string,
  body?: unknown,
): Promise<unknown> {
  const { host, port } = config.metrics;
  if (!config.metrics.enabled) return 'METRICS_ENABLED=false: the app has no internal listener to ask';
  if (port === 0) return 'METRICS_PORT=0: set the port the running app listens on for operators';
  const origin = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  let res: Response;
  try {
    res = await fetch(`${origin}${path}`, {
      method,
      ...(body !== undefined
        ? { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }
        : {}),
      signal: AbortSignal.timeout(10_000),
    });
  } catch {
    return `No Innkeep answers on ${origin} (its internal listener): is it running? (METRICS_HOST, METRICS_PORT)`;
  }
  const text = await res.text();
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return `${origin}${path} answered ${res.status} with something that is not JSON`;
  }
  if (!res.ok) {
    const message = (parsed as { message?: unknown }).message;
    return `${res.status}: ${typeof message === 'string' ? message : text.slice(0, 200)}`;
  }
  return parsed;
}

export function fail(message: string, code = 1): number {
  console.error(message);
  return code;
}
