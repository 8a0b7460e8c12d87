export type { HttpServer, HttpServerOptions } from './create-server.ts';
export { createHttpServer, TRACE_ID_HEADER } from './create-server.ts';
export type { EdgeProtectionOptions } from './edge-protection.ts';
export { registerEdgeProtection } from './edge-protection.ts';
export type { ErrorBody } from './error-body.ts';
export { ErrorBodySchema } from './error-body.ts';
export { errorBody } from './error-handler.ts';
export { registerFormBodyParser } from './form-body.ts';
export type { CheckResult, DependencyStatus, HealthCheck, HealthStatus } from './health-checks.ts';
export { overallHealth, runHealthChecks } from './health-checks.ts';
export type { HealthOptions, LivenessCheck } from './health-routes.ts';
export { healthRoutes } from './health-routes.ts';
export type { InternalServer } from './internal-server.ts';
export { createInternalServer } from './internal-server.ts';
export type { LifecycleState, ShutdownOptions } from './lifecycle.ts';
export { installSignalHandlers, Lifecycle, shutdown, watchParentExit } from './lifecycle.ts';
export type { LoadSheddingOptions } from './load-shedding.ts';
export { registerLoadShedding, SHED_REASONS } from './load-shedding.ts';
export type { MetricsRoutesOptions } from './metrics-routes.ts';
export { metricsRoutes } from './metrics-routes.ts';
export type {
  BlockedEvent,
  LimitedClass,
  LimiterOptions,
  LimitPolicy,
  RateLimitOptions,
} from './rate-limit.ts';
export { createLimiter, rateLimit, rateLimitRedis } from './rate-limit.ts';
export { registerResponseCache } from './response-cache.ts';
export type { RouteClass } from './route-class.ts';
export { declaredRouteClass, ROUTE_CLASSES, requestRouteClass, routeClassOf } from './route-class.ts';
export type { TimeBudgets } from './time-budget.ts';
