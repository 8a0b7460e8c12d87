import type { FastifyPluginCallback } from 'fastify';
import type { Logger } from './logger.ts';

/** Tracing as the rest of the platform sees it; no OpenTelemetry type leaks out of this folder. */
export interface Tracing {
  /** Where spans are exported (OTLP/HTTP, JSON). */
  readonly url: string;
  /**
   * @fastify/otel as a Fastify plugin: the request span, one span per route handler and hook.
   * Register it before any route or hook it should cover.
   */
  readonly fastifyPlugin: FastifyPluginCallback;
  /** OpenTelemetry's own warnings and errors (an export that failed) go to `logger` from now on. */
  logTo(logger: Logger): void;
  /** Exports every span that has ended and is still queued. */
  flush(): Promise<void>;
}
