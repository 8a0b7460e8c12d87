import type { Database } from '../db/database.ts';
import type { MigrationStatus } from '../db/migrate.ts';
import {
  type HealthCheck,
  HealthTimeoutError,
  overallHealth,
  runHealthChecks,
  withTimeout,
} from '../http/health-checks.ts';
import type { Lifecycle } from '../http/lifecycle.ts';
import type { Logger } from '../observability/logger.ts';
import type { RouteWindows } from '../observability/route-windows.ts';

export interface DetailedHealthOptions {
  readonly checks: readonly HealthCheck[];
  readonly lifecycle: Lifecycle;
  readonly db: Database;
  readonly migrations: () => Promise<MigrationStatus>;
  readonly windows: RouteWindows | undefined;
  /** Sections other parts add as they land (cache, breakers, queues), by name. */
  readonly sections?: Readonly<Record<string, () => unknown>>;
  readonly timeoutMs?: number;
}

/**
 * Everything `/health` says, and what an operator asks next: each dependency with its latency and
 * version, the pool, migrations, memory, uptime, error rate over 1 and 5 minutes, and the sections
 * of the parts that register one. Heavier than `/health` (a version query, the migrations table),
 * so it is for admins and the internal listener, not for load balancers.
 *
 * @example
 * const report = await detailedHealth({ checks, lifecycle, db, migrations, windows }, log);
 */
export async function detailedHealth(options: DetailedHealthOptions, log: Logger) {
  const timeoutMs = options.timeoutMs ?? 1000;
  const [checks, version, migrations] = await Promise.all([
    runHealthChecks(options.checks, timeoutMs, log),
    withTimeout(
      options.db.read((q) =>
        q.query<{ v: string }>({
          name: 'server_version',
          text: "SELECT current_setting('server_version') AS v",
        }),
      ),
      timeoutMs,
      'version',
    ).then(
      (r) => r.rows[0]?.v,
      () => undefined,
    ),
    withTimeout(options.migrations(), timeoutMs, 'migrations').then(
      (m) => ({ ...m }),
      (err: unknown) => ({
        error:
          err instanceof HealthTimeoutError
            ? err.message
            : `failed${typeof (err as { code?: unknown }).code === 'string' ? ` (${(err as { code: string }).code})` : ''}`,
      }),
    ),
  ]);
  const { status } = overallHealth(checks, options.lifecycle.state);
  const database = checks.database;
  if (database && version) database.version = `PostgreSQL ${version}`;
  const errors = (windowMs: number) => {
    const w = options.windows?.summary(windowMs);
    return w
      ? { requests: w.requests, errorRate: w.errorRate }
      : { available: false, reason: 'metrics are off' };
  };
  const sections = Object.fromEntries(
    Object.entries(options.sections ?? {}).map(([name, read]) => {
      try {
        return [name, read()];
      } catch (err) {
        log.warn({ err, section: name }, 'detailed health: a section failed');
        return [name, { available: false, reason: 'failed' }];
      }
    }),
  );
  const memory = process.memoryUsage();
  return {
    status,
    lifecycle: options.lifecycle.state,
    timestamp: new Date().toISOString(),
    uptimeSeconds: Math.round(process.uptime()),
    process: {
      pid: process.pid,
      node: process.version,
      memory: {
        rssBytes: memory.rss,
        heapUsedBytes: memory.heapUsed,
        heapTotalBytes: memory.heapTotal,
        externalBytes: memory.external,
      },
    },
    dependencies: checks,
    migrations,
    errors: { '1m': errors(60_000), '5m': errors(300_000) },
    ...sections,
  };
}
