import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { currentUser } from '../auth/auth-plugin.ts';
import { BEARER } from '../common/schemas.ts';
import { Dashboard } from './dashboard-schema.ts';
import type { DashboardService } from './dashboard-service.ts';

/** Mounted at /api. */
export const dashboardRoutes: FastifyPluginAsyncTypebox<{ dashboard: DashboardService }> = async (
  app,
  { dashboard },
) => {
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
