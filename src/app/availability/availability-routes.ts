import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Database } from '../../platform/db/index.ts';

/** TODO(issue 3): GET /hotels/:id/availability, POST /availability/batch. */
export const availabilityRoutes: FastifyPluginAsyncTypebox<{ db: Database }> = async (_app, _options) => {};
