import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Database } from '../../platform/db/index.ts';

/** TODO(issue 3): GET and POST /hotels/:id/reviews. */
export const reviewRoutes: FastifyPluginAsyncTypebox<{ db: Database }> = async (_app, _options) => {};
