import type { FastifyInstance, onRequestHookHandler } from 'fastify';
import Type from 'typebox';
import type { Resilience } from '../resilience/index.ts';

export interface BreakerRoutesOptions {
  /** The admin check on the API; none on the internal listener. */
  readonly guard?: onRequestHookHandler;
  readonly security?: readonly Record<string, readonly string[]>[];
  readonly resilience: Resilience;
}

const Breaker = Type.Object({
  name: Type.String({ description: 'The dependency’s logical name (never its address)' }),
  state: Type.Union([Type.Literal('closed'), Type.Literal('half-open'), Type.Literal('open')]),
  failures: Type.Integer({ description: 'Failures that counted, since the process started' }),
  successes: Type.Integer(),
  consecutiveFailures: Type.Integer(),
  lastFailure: Type.Union([
    Type.Object({ at: Type.String({ format: 'date-time' }), reason: Type.String() }),
    Type.Null(),
  ]),
  openedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  nextProbeAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  shared: Type.Boolean({ description: 'Whether its state is shared with the other instances through Redis' }),
});
const Breakers = Type.Object({
  generatedAt: Type.String({ format: 'date-time' }),
  shared: Type.Boolean(),
  breakers: Type.Array(Breaker),
});

/**
 * `GET /api/admin/breakers`: every circuit breaker of this instance with its state, counts, last
 * failure (a sanitized reason such as `http 503` or `econnrefused`), opened-at and next probe time.
 * Behind the admin guard on the API, open on the internal listener.
 */
export async function breakerRoutes(app: FastifyInstance, options: BreakerRoutesOptions): Promise<void> {
  const { resilience, guard } = options;
  app.get(
    '/api/admin/breakers',
    {
      ...(guard ? { onRequest: guard } : {}),
      schema: {
        tags: ['operations'],
        summary: 'Circuit breakers (admin)',
        description:
          'Every outbound dependency’s circuit breaker on this instance: state (closed, half-open, open), counted failures and successes, the last failure’s time and kind, when it opened and when the next probe may go.',
        ...(options.security ? { security: options.security } : {}),
        response: { 200: Breakers },
      },
    },
    async () => ({
      generatedAt: new Date().toISOString(),
      shared: resilience.shared,
      breakers: resilience.breakers(),
    }),
  );
}
