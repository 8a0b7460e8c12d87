import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { appError } from '../errors/index.ts';
import type { Metrics } from '../observability/metrics.ts';

export interface MetricsRoutesOptions {
  readonly metrics: Metrics;
  /** When given, a scrape must send `Authorization: Bearer <token>` (the public listener). */
  readonly token?: string | undefined;
}

/**
 * `GET /metrics` in the Prometheus text format. On the internal listener it is open; on the main
 * port it exists only when a token is configured, and answers 401 in the standard format without it.
 * Hidden from the OpenAPI document: it is an operator's endpoint, not part of the API.
 *
 * @example
 * await app.register(metricsRoutes, { metrics, token: config.metrics.token });
 */
export async function metricsRoutes(app: FastifyInstance, options: MetricsRoutesOptions): Promise<void> {
  const { metrics, token } = options;
  const expected = token === undefined ? undefined : digest(token);
  const authorize = async (request: FastifyRequest) => {
    if (!expected) return;
    const match = /^Bearer\s+(\S+)$/i.exec(request.headers.authorization ?? '');
    // Compared as digests: equal lengths for timingSafeEqual, and no early exit on the length.
    if (!match?.[1] || !timingSafeEqual(digest(match[1]), expected)) {
      throw appError('UNAUTHORIZED', 'GET /metrics needs Authorization: Bearer <METRICS_TOKEN>', {
        headers: { 'www-authenticate': 'Bearer realm="innkeep-metrics"' },
      });
    }
  };
  app.get(
    '/metrics',
    { onRequest: authorize, schema: { hide: true }, logLevel: 'warn' },
    async (_request, reply) => {
      const text = await metrics.text();
      return reply.type(metrics.contentType).send(text);
    },
  );
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}
