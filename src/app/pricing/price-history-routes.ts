import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Database } from '../../platform/db/index.ts';

/** TODO(issue 3): GET /hotels/:id/price-history. */
export const priceHistoryRoutes: FastifyPluginAsyncTypebox<{ db: Database }> = async (_app, _options) => {};
