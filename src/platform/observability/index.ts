export type { Logger } from './logger.ts';
export { loggerOptions } from './logger.ts';
export type { RequestContext } from './request-context.ts';
export { currentRequestContext, requestContext, withRequestContext } from './request-context.ts';
