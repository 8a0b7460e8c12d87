// The OpenTelemetry SDK, loaded only when tracing is on (tracing.ts imports this file dynamically).
// Every import below would otherwise cost start-up time and memory in a process that traces nothing.
import { FastifyOtelInstrumentation } from '@fastify/otel';
import {
  context,
  DiagLogLevel,
  diag,
  isSpanContextValid,
  propagation,
  ROOT_CONTEXT,
  trace,
} from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { type Instrumentation, registerInstrumentations } from '@opentelemetry/instrumentation';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { IORedisInstrumentation } from '@opentelemetry/instrumentation-ioredis';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import { UndiciInstrumentation } from '@opentelemetry/instrumentation-undici';
import { defaultResource, resourceFromAttributes } from '@opentelemetry/resources';
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  BatchSpanProcessor,
  ParentBasedSampler,
  type Sampler,
  TraceIdRatioBasedSampler,
  TracerProvider,
} from '@opentelemetry/sdk-trace';
import { ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';
import { register as registerEsmHooks } from 'import-in-the-middle/register-hooks.mjs';
import type { Logger } from './logger.ts';
import { setTraceIdSource } from './trace-ids.ts';
import type { Tracing } from './tracing-handle.ts';

/**
 * The modules import-in-the-middle's loader hook wraps; every other module loads untouched. A
 * CommonJS `require` is patched by require-in-the-middle without it, but an ES module `import` of a
 * package is seen only by this hook: measured here, ioredis imported from ESM got no span without it.
 * pg got its spans either way (pg's CommonJS index `require`s pg/lib/client.js, which
 * instrumentation-pg also patches); it is listed so that does not depend on pg's file layout.
 */
const PATCHED_MODULES = ['pg', 'pg-pool', 'ioredis'];

/**
 * Requests nobody wants a trace of: orchestrators' probes and Prometheus scrapes, which arrive
 * every few seconds and would outnumber real traffic on a quiet server.
 */
const UNTRACED_PATHS = new Set(['/healthz', '/ready', '/metrics']);
const untraced = (url: string | undefined) => UNTRACED_PATHS.has((url ?? '').split('?')[0] ?? '');

export interface OpenTelemetryOptions {
  /** OTLP/HTTP traces URL (`…/v1/traces`). */
  readonly url: string;
  readonly serviceName: string;
  /** OTEL_TRACES_SAMPLER's names; default parentbased_always_on. */
  readonly sampler?: string;
  /** The ratio for the traceidratio samplers. */
  readonly samplerArg?: number;
}

/** The sampler OTEL_TRACES_SAMPLER names (the SDK reads no environment itself). */
function samplerFor(name = 'parentbased_always_on', ratio = 1): Sampler {
  const root: Sampler = name.endsWith('always_off')
    ? new AlwaysOffSampler()
    : name.endsWith('traceidratio')
      ? new TraceIdRatioBasedSampler(ratio)
      : new AlwaysOnSampler();
  return name.startsWith('parentbased_') ? new ParentBasedSampler({ root }) : root;
}

/**
 * Registers the global tracer provider (batching, OTLP/HTTP JSON export), the AsyncLocalStorage
 * context manager, W3C `traceparent` propagation and the instrumentations: node:http (the server
 * span of every request, and outbound requests), fetch (undici), pg, ioredis and @fastify/otel.
 *
 * @example
 * const tracing = startOpenTelemetry({ url: 'http://127.0.0.1:4318/v1/traces', serviceName: 'innkeep' });
 */
export function startOpenTelemetry(options: OpenTelemetryOptions): Tracing {
  // Synchronous, in-thread hooks (module.registerHooks; Node >= 22.22.3 / 24.11.1; the pinned Node is
  // 24.21): no loader thread. It throws on an older Node rather than silently tracing no SQL.
  registerEsmHooks({ include: PATCHED_MODULES });

  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  const provider = new TracerProvider({
    sampler: samplerFor(options.sampler, options.samplerArg),
    // The SDK's own attributes (telemetry.sdk.*) and the service's name.
    resource: defaultResource().merge(resourceFromAttributes({ [ATTR_SERVICE_NAME]: options.serviceName })),
    // Batches of up to 512 spans every 5 s (or sooner when full), exported off the request path. OTLP/JSON
    // rather than protobuf: its serializer took half the CPU per span here (7 vs 14 µs for Innkeep's
    // spans; JSON.stringify is native, the protobuf writer is JavaScript), for 1.5x the bytes.
    spanProcessors: [new BatchSpanProcessor({ exporter: new OTLPTraceExporter({ url: options.url }) })],
  });
  trace.setGlobalTracerProvider(provider);

  const fastifyOtel = new FastifyOtelInstrumentation({
    ignorePaths: (route: { url?: string }) => untraced(route.url),
  });
  registerInstrumentations({
    tracerProvider: provider,
    instrumentations: [
      new HttpInstrumentation({ ignoreIncomingRequestHook: (req) => untraced(req.url) }),
      new UndiciInstrumentation(),
      // Statements outside a request (migrations, seeding, the probes' pings) make no trace of their own.
      new PgInstrumentation({ requireParentSpan: true }),
      new IORedisInstrumentation({ requireParentSpan: true }),
      // Its own copy of @opentelemetry/instrumentation is older; the interface it implements is the same.
      fastifyOtel as unknown as Instrumentation,
    ],
  });

  // Unsampled requests (a caller's traceparent with flags 00) still have valid ids: their logs and
  // error bodies carry the caller's trace id, which is what correlates them.
  setTraceIdSource(() => {
    const spanContext = trace.getSpan(context.active())?.spanContext();
    if (!spanContext || !isSpanContextValid(spanContext)) return undefined;
    return { traceId: spanContext.traceId, spanId: spanContext.spanId };
  });

  return {
    url: options.url,
    fastifyPlugin: fastifyOtel.plugin(),
    logTo(logger: Logger) {
      // Outside any span: an export runs on a timer that started inside some request, whose trace ids
      // the line would otherwise carry.
      const log =
        (at: 'error' | 'warn') =>
        (message: string, ...args: unknown[]) =>
          context.with(ROOT_CONTEXT, () =>
            logger[at]({ details: args.map(String) }, `OpenTelemetry: ${message}`),
          );
      diag.setLogger(
        {
          error: log('error'),
          warn: log('warn'),
          info: () => undefined,
          debug: () => undefined,
          verbose: () => undefined,
        },
        { logLevel: DiagLogLevel.WARN, suppressOverrideMessage: true },
      );
    },
    flush: () => provider.forceFlush(),
  };
}
