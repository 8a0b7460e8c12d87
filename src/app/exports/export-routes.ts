import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { currentUser } from '../auth/auth-plugin.ts';
import { BEARER } from '../common/schemas.ts';
import { DataExport, EXPORT_TTL_DAYS, ExportIdParams, UserExportFile } from './export-schema.ts';
import type { ExportService } from './export-service.ts';

/** Mounted at /api. */
export const exportRoutes: FastifyPluginAsyncTypebox<{ exports: ExportService }> = async (
  app,
  { exports },
) => {
  app.post(
    '/me/export',
    {
      onRequest: app.authenticate,
      schema: {
        tags: ['users'],
        summary: 'Request an export of all my data (built in the background)',
        description:
          'Creates a queued export and queues its build; poll `links.self` until `status` is ' +
          '`completed`, then download `links.download`. One export at a time: while one is queued or ' +
          'running, this answers 202 with that one again (nothing new is queued).',
        security: BEARER,
        response: { 202: DataExport },
      },
    },
    async (request, reply) => {
      const created = await exports.request(currentUser(request).id);
      return reply.code(202).header('location', created.links.self).send(created);
    },
  );

  app.get(
    '/me/export/:id',
    {
      onRequest: app.authenticate,
      schema: {
        tags: ['users'],
        summary: 'The status and progress of one of my data exports',
        description:
          `A completed export carries a download link for ${EXPORT_TTL_DAYS} days; after that it is ` +
          '`expired` (still readable here, without the link) and its download answers 410.',
        security: BEARER,
        params: ExportIdParams,
        response: { 200: DataExport },
      },
    },
    async (request) => exports.status(currentUser(request).id, request.params.id),
  );

  app.get(
    '/me/export/:id/download',
    {
      onRequest: app.authenticate,
      schema: {
        tags: ['users'],
        summary: 'Download one of my completed data exports (a JSON file)',
        description:
          'Streams the file with `Content-Disposition: attachment`. It holds only the caller’s own ' +
          'data: the account without its password hash, bookings, payments, trips, waitlist entries, ' +
          'reviews and notifications.',
        security: BEARER,
        params: ExportIdParams,
        response: { 200: UserExportFile },
      },
    },
    async (request, reply) => {
      const file = await exports.download(currentUser(request).id, request.params.id);
      return (
        reply
          .type('application/json; charset=utf-8')
          .header('content-disposition', `attachment; filename="${file.filename}"`)
          .header('content-length', file.bytes)
          .header('cache-control', 'private, no-store')
          // The file is that schema's JSON already: fastify streams it as it is, without serializing.
          .send(file.stream as never)
      );
    },
  );
};
