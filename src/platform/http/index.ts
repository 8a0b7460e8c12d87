export type { HttpServer, HttpServerOptions } from './create-server.ts';
export { createHttpServer, TRACE_ID_HEADER } from './create-server.ts';
export type { ErrorBody } from './error-body.ts';
export { ErrorBodySchema } from './error-body.ts';
export { errorBody } from './error-handler.ts';
export type { DependencyStatus, HealthCheck, HealthOptions, LivenessCheck } from './health-routes.ts';
export { healthRoutes } from './health-routes.ts';
export type { LifecycleState, ShutdownOptions } from './lifecycle.ts';
export { installSignalHandlers, Lifecycle, shutdown, watchParentExit } from './lifecycle.ts';
