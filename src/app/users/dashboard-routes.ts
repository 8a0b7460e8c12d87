import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Database } from '../../platform/db/index.ts';

/** TODO(issue 3): GET /me/dashboard. */
export const dashboardRoutes: FastifyPluginAsyncTypebox<{ db: Database }> = async (_app, _options) => {};
