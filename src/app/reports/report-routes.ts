import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { BEARER } from '../common/schemas.ts';
import { BookingsReport, BookingsReportQuery, OccupancyQuery, OccupancyReport } from './report-schema.ts';
import type { ReportService } from './report-service.ts';

/** Mounted at /api; admins only (anyone else gets 404, anonymous 401). */
export const reportRoutes: FastifyPluginAsyncTypebox<{ reports: ReportService }> = async (
  app,
  { reports },
) => {
  app.get(
    '/admin/reports/bookings',
    {
      // Heavy aggregates: their own in-flight cap and time budget (HTTP_MAX_IN_FLIGHT_EXPENSIVE, ...).
      config: { routeClass: 'expensive' },
      onRequest: app.requireAdmin,
      schema: {
        tags: ['admin'],
        summary: 'Bookings, cancellations, room nights and revenue by check-in day, hotel or city',
        security: BEARER,
        querystring: BookingsReportQuery,
        response: { 200: BookingsReport },
      },
    },
    async (request) => reports.bookings(request.query),
  );

  app.get(
    '/admin/reports/occupancy',
    {
      // Heavy aggregates: their own in-flight cap and time budget (HTTP_MAX_IN_FLIGHT_EXPENSIVE, ...).
      config: { routeClass: 'expensive' },
      onRequest: app.requireAdmin,
      schema: {
        tags: ['admin'],
        summary: 'Daily occupancy of one hotel (booked rooms / total rooms)',
        security: BEARER,
        querystring: OccupancyQuery,
        response: { 200: OccupancyReport },
      },
    },
    async (request) => reports.occupancy(request.query),
  );
};
