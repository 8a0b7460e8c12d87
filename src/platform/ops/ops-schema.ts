import Type, { type TSchema } from 'typebox';

/*
 * Route schemas of the operators' endpoints, for the OpenAPI document only: the bodies are written
 * with JSON.stringify (see ops-routes.ts), because their sections carry whatever each source
 * reports, and a response schema would make fast-json-stringify drop what it does not list.
 */

const Open = (description: string, properties: Record<string, TSchema> = {}) =>
  Type.Object(properties, { additionalProperties: true, description });

const Unavailable = Type.Object({ available: Type.Literal(false), reason: Type.String() });

const RouteStats = Type.Object({
  method: Type.String(),
  route: Type.String({ description: 'Route template, never a raw URL' }),
  requests: Type.Integer(),
  ratePerSecond: Type.Number(),
  p50Ms: Type.Number(),
  p95Ms: Type.Number(),
  p99Ms: Type.Number(),
  errorRate: Type.Number({ description: 'Share of 5xx answers' }),
  clientErrorRate: Type.Number({ description: 'Share of 4xx answers' }),
});

const Window = Type.Object({
  windowSeconds: Type.Integer(),
  requests: Type.Integer(),
  ratePerSecond: Type.Number(),
  errorRate: Type.Number(),
  routes: Type.Array(RouteStats),
});

export const RecommendationSchema = Type.Object({
  kind: Type.Union(
    [
      'route_latency',
      'sequential_scan',
      'unused_index',
      'cache_hit_rate',
      'pool_waiting',
      'event_loop_lag',
    ].map((k) => Type.Literal(k)),
  ),
  severity: Type.Union([Type.Literal('warning'), Type.Literal('info')]),
  title: Type.String(),
  advice: Type.String(),
  evidence: Open('The figures behind the finding'),
});

export const PerformanceReportSchema = Type.Object({
  generatedAt: Type.String({ format: 'date-time' }),
  uptimeSeconds: Type.Integer(),
  routes: Type.Union([Type.Object({ '1m': Window, '5m': Window, '15m': Window }), Unavailable]),
  statements: Open('Slowest statements by mean time, from pg_stat_statements (or why unavailable)'),
  tables: Open('Sequential scans per table since the app started'),
  indexes: Open('Indexes never scanned since the statistics were reset'),
  pool: Open('Pool sizes, saturation (busy / max) and how long callers have waited without a break'),
  memory: Open('RSS and heap now, and their trend over the last 15 minutes'),
  eventLoop: Open('Event-loop delay over the last minute'),
  cache: Open('Reads per cache namespace (or why unavailable)'),
  recommendations: Type.Array(RecommendationSchema),
});

export const MetricsJsonSchema = Type.Object({
  generatedAt: Type.String({ format: 'date-time' }),
  metrics: Type.Array(
    Open('One metric as prom-client reports it', {
      name: Type.String(),
      help: Type.String(),
      type: Type.String(),
      values: Type.Array(Open('One series: labels and value')),
    }),
  ),
});

export const DetailedHealthSchema = Type.Object({
  status: Type.Union([Type.Literal('healthy'), Type.Literal('degraded'), Type.Literal('unhealthy')]),
  lifecycle: Type.String(),
  timestamp: Type.String({ format: 'date-time' }),
  uptimeSeconds: Type.Integer(),
  process: Open('pid, Node version, memory'),
  dependencies: Type.Record(Type.String(), Open('Status, latency and version of one dependency')),
  migrations: Open('Applied, total and pending migrations'),
  errors: Open('Requests and 5xx share over the last 1 and 5 minutes'),
});
