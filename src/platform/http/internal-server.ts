import Fastify, { type FastifyBaseLogger, LogController } from 'fastify';
import { registerErrorHandling } from './error-handler.ts';

/**
 * The operators' listener (`METRICS_HOST`:`METRICS_PORT`, loopback by default): `/metrics` and
 * `/health/detailed` without a token, for Prometheus and on-host tools, never exposed publicly.
 * A separate Fastify instance so that its traffic stays out of the API's access log, metrics,
 * limits and OpenAPI document. The caller registers its routes, then listens.
 *
 * @example
 * const internal = createInternalServer(app.log);
 * await internal.register(metricsRoutes, { metrics });
 * await internal.listen({ host: '127.0.0.1', port: 9464 });
 */
export function createInternalServer(logger: FastifyBaseLogger) {
  const internal = Fastify({
    loggerInstance: logger.child({ component: 'internal-http' }),
    logController: new LogController({ disableRequestLogging: true }),
    // A scraper's keep-alive connection must not hold the process open on shutdown.
    forceCloseConnections: true,
  });
  registerErrorHandling(internal, { exposeStack: false });
  return internal;
}

export type InternalServer = ReturnType<typeof createInternalServer>;
