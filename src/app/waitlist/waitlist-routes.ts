import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Database } from '../../platform/db/index.ts';

/** TODO(issue 3): POST /waitlist, GET /me/waitlist, DELETE /waitlist/:id. */
export const waitlistRoutes: FastifyPluginAsyncTypebox<{ db: Database }> = async (_app, _options) => {};
