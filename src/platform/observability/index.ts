export type { Logger } from './logger.ts';
export { loggerOptions } from './logger.ts';
export type { RequestContext } from './request-context.ts';
export { currentRequestContext, requestContext, withRequestContext } from './request-context.ts';
export type { TraceIds } from './trace-ids.ts';
export { activeTraceIds, tracingActive } from './trace-ids.ts';
export { startTracing, tracesUrl } from './tracing.ts';
export type { Tracing } from './tracing-handle.ts';
