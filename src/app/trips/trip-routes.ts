import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Database } from '../../platform/db/index.ts';

/** TODO(issue 3): POST /trips, POST /trips/:id/bookings, GET /me/trips. */
export const tripRoutes: FastifyPluginAsyncTypebox<{ db: Database }> = async (_app, _options) => {};
