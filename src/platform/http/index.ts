export type { HttpServer, HttpServerOptions } from './create-server.ts';
export { createHttpServer } from './create-server.ts';
export type { ErrorBody } from './error-handler.ts';
export { errorBody } from './error-handler.ts';
export type { AppErrorOptions, CatalogEntry, ErrorCodeName, ErrorDetail } from './errors.ts';
export { AppError, appError, catalogError, ErrorCodes } from './errors.ts';
export type { LifecycleState, ShutdownOptions } from './lifecycle.ts';
export { installSignalHandlers, Lifecycle, shutdown } from './lifecycle.ts';
