export type { Logger } from './logger.ts';
export { loggerOptions } from './logger.ts';
export type { CounterHandle, MetricSnapshot } from './metrics.ts';
export { Metrics, statusClass, UNMATCHED_ROUTE } from './metrics.ts';
export type { RequestContext } from './request-context.ts';
export { currentRequestContext, requestContext, withRequestContext } from './request-context.ts';
