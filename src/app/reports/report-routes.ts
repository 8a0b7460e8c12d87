import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Database } from '../../platform/db/index.ts';

/** TODO(issue 3): GET /reports/bookings, GET /reports/occupancy (mounted at /api/admin). */
export const reportRoutes: FastifyPluginAsyncTypebox<{ db: Database }> = async (_app, _options) => {};
