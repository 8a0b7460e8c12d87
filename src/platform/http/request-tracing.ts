import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyInstance } from 'fastify';
import type { Tracing } from '../observability/index.ts';

export interface RequestTracingOptions {
  /** Longest the export of the last spans may hold up `close()`. */
  readonly flushTimeoutMs: number;
}

/**
 * Wires started tracing into a server: @fastify/otel registered first (a request span, and a span
 * per route handler and per hook added after it), OpenTelemetry's own warnings in the server's log,
 * and, on close, the export of the spans still queued, so the last requests before a shutdown are
 * not lost. Close runs after in-flight requests have finished, so every span has ended by then.
 *
 * @example
 * const tracing = await startTracing(config.tracing);
 * if (tracing) installRequestTracing(app, tracing, { flushTimeoutMs: 5000 });
 */
export function installRequestTracing(
  app: FastifyInstance,
  tracing: Tracing,
  options: RequestTracingOptions,
): void {
  tracing.logTo(app.log);
  void app.register(tracing.fastifyPlugin);
  app.addHook('onClose', async () => {
    const exported = await Promise.race([
      tracing.flush().then(
        () => true,
        (err: unknown) => {
          app.log.warn({ err, url: tracing.url }, 'tracing: exporting the last spans failed');
          return true;
        },
      ),
      sleep(options.flushTimeoutMs, false, { ref: false }),
    ]);
    if (!exported) {
      app.log.warn(
        { url: tracing.url, timeoutMs: options.flushTimeoutMs },
        'tracing: the last spans were not exported in time; they are lost',
      );
    }
  });
}
