import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Database } from '../../platform/db/index.ts';
import { currentUser } from '../auth/auth-plugin.ts';
import { BEARER } from '../common/schemas.ts';
import { Dashboard } from './dashboard-schema.ts';
import { DashboardService } from './dashboard-service.ts';

/** Mounted at /api. */
export const dashboardRoutes: FastifyPluginAsyncTypebox<{ db: Database }> = async (app, { db }) => {
  const dashboard = new DashboardService(db);

  app.get(
    '/me/dashboard',
    {
      onRequest: app.authenticate,
      schema: {
        tags: ['users'],
        summary: 'My upcoming bookings, active waitlist entries and latest reviews, in one query',
        security: BEARER,
        response: { 200: Dashboard },
      },
    },
    async (request) => dashboard.forUser(currentUser(request).id),
  );
};
