import type { FastifyInstance, onRequestHookHandler } from 'fastify';
import type { Logger } from '../observability/logger.ts';
import type { Metrics } from '../observability/metrics.ts';
import { type DetailedHealthOptions, detailedHealth } from './detailed-health.ts';
import { DetailedHealthSchema, MetricsJsonSchema, PerformanceReportSchema } from './ops-schema.ts';
import type { PerformanceMonitor } from './performance-monitor.ts';

export interface OpsRoutesOptions {
  /** Who may call them on this listener (the app's admin check); none on the internal listener. */
  readonly guard?: onRequestHookHandler;
  /** How the guard is documented in OpenAPI (e.g. the bearer scheme). */
  readonly security?: readonly Record<string, readonly string[]>[];
  readonly metrics: Metrics | undefined;
  readonly performance: PerformanceMonitor;
  readonly health: DetailedHealthOptions;
}

/**
 * The operators' JSON endpoints: `GET /api/metrics` (the Prometheus figures as JSON),
 * `GET /api/performance` (the live performance report with recommendations) and
 * `GET /health/detailed`. Mounted on the API behind the admin guard, and on the internal listener
 * without one.
 *
 * @example
 * await app.register(opsRoutes, { guard: app.requireAdmin, security, metrics, performance, health });
 */
export async function opsRoutes(app: FastifyInstance, options: OpsRoutesOptions): Promise<void> {
  const { guard, metrics, performance } = options;
  // The sections carry what their sources report; the schemas document them (ops-schema.ts).
  const asJson = () => (data: unknown) => JSON.stringify(data);
  const route = (summary: string, description: string, schema: unknown) => ({
    ...(guard ? { onRequest: guard } : {}),
    serializerCompiler: asJson,
    schema: {
      tags: ['operations'],
      summary,
      description,
      ...(options.security ? { security: options.security } : {}),
      response: { 200: schema },
    },
  });
  const log = app.log as Logger;

  app.get(
    '/api/metrics',
    route(
      'Metrics as JSON (admin)',
      'The figures `GET /metrics` serves in the Prometheus format, as prom-client reports them; 404 when METRICS_ENABLED=false.',
      MetricsJsonSchema,
    ),
    async (_request, reply) => {
      if (!metrics) return reply.callNotFound();
      return { generatedAt: new Date().toISOString(), metrics: await metrics.snapshot() };
    },
  );

  app.get(
    '/api/performance',
    route(
      'Live performance report with recommendations (admin)',
      'Per-route p50/p95/p99 and rate over 1, 5 and 15 minutes, slowest statements, sequential scans since start, unused indexes, pool saturation, memory trend and event-loop delay, and recommendations computed from them, each with its evidence.',
      PerformanceReportSchema,
    ),
    async () => performance.report(),
  );

  app.get(
    '/health/detailed',
    route(
      'Detailed health (admin)',
      'Every dependency with latency and version, pool, migrations, memory, uptime and error rate over 1 and 5 minutes. Always 200 with the status in the body: probes use /healthz, /ready and /health.',
      DetailedHealthSchema,
    ),
    async () => detailedHealth(options.health, log),
  );
}
