/** The W3C ids of a span, as lowercase hex: what logs, error bodies and response headers carry. */
export interface TraceIds {
  readonly traceId: string;
  readonly spanId: string;
}

type TraceIdSource = () => TraceIds | undefined;

// Set once, by startTracing, when tracing is on. Until then nothing here touches OpenTelemetry: with
// tracing off its packages are never loaded, and these functions cost one property read.
let source: TraceIdSource | undefined;

/**
 * The ids of the span active where the caller runs (the request's, inside a request), or undefined
 * when tracing is off or no span is active.
 *
 * @example
 * const ids = activeTraceIds();
 * if (ids) reply.header('x-trace-id', ids.traceId);
 */
export function activeTraceIds(): TraceIds | undefined {
  return source?.();
}

/** Whether tracing was started in this process (callers skip their tracing work when it was not). */
export function tracingActive(): boolean {
  return source !== undefined;
}

/** Installed by the OpenTelemetry setup; not for other callers. */
export function setTraceIdSource(next: TraceIdSource | undefined): void {
  source = next;
}
