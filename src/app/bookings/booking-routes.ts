import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Database } from '../../platform/db/index.ts';

/** TODO(issue 3): POST /bookings, GET /bookings/:id, POST /bookings/:id/cancel, GET /me/bookings. */
export const bookingRoutes: FastifyPluginAsyncTypebox<{ db: Database }> = async (_app, _options) => {};
