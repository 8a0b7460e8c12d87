export type { DependencyStatus, HealthCheck, HealthOptions } from './health.ts';
export { healthRoutes } from './health.ts';
export type { Logger } from './logger.ts';
export { loggerOptions } from './logger.ts';
export type { RequestContext } from './request-context.ts';
export { currentRequestContext, requestContext, withRequestContext } from './request-context.ts';
