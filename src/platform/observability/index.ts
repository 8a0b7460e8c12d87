export type { Logger } from './logger.ts';
export { loggerOptions } from './logger.ts';
export type { CounterHandle, MetricSnapshot } from './metrics.ts';
export { Metrics, statusClass, UNMATCHED_ROUTE } from './metrics.ts';
export type { MemoryReport, ProcessSample, ProcessSamplesOptions } from './process-samples.ts';
export { ProcessSamples } from './process-samples.ts';
export { REDACTED, redactSecrets } from './redact.ts';
export type { RequestContext } from './request-context.ts';
export {
  currentRequestContext,
  requestContext,
  requestSignal,
  withRequestContext,
} from './request-context.ts';
export type { RouteWindowStats, WindowSummary } from './route-windows.ts';
export { RouteWindows } from './route-windows.ts';
export type { TraceIds } from './trace-ids.ts';
export { activeTraceIds, tracingActive } from './trace-ids.ts';
export { startTracing, tracesUrl } from './tracing.ts';
export type { Tracing } from './tracing-handle.ts';
