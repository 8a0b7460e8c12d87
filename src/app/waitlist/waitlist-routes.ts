import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { currentUser } from '../auth/auth-plugin.ts';
import { BEARER, IdParams } from '../common/schemas.ts';
import { JoinWaitlistBody, MyWaitlistQuery, WaitlistEntry, WaitlistPage } from './waitlist-schema.ts';
import type { WaitlistService } from './waitlist-service.ts';

/**
 * Mounted at /api. Offers are made by `offerFreedRooms` (waitlist-offers.ts) when a booking is cancelled
 * or an offer lapses (`expireWaitlistOffers`); POST /waitlist/:id/book is a booking route (booking-routes.ts).
 */
export const waitlistRoutes: FastifyPluginAsyncTypebox<{ waitlist: WaitlistService }> = async (
  app,
  { waitlist },
) => {
  app.post(
    '/waitlist',
    {
      onRequest: app.authenticate,
      schema: {
        tags: ['waitlist'],
        summary: 'Join the waitlist of a room type for a stay with a full night (else book it)',
        security: BEARER,
        body: JoinWaitlistBody,
        response: { 201: WaitlistEntry },
      },
    },
    async (request, reply) =>
      reply.code(201).send(await waitlist.join(currentUser(request).id, request.body)),
  );

  app.get(
    '/me/waitlist',
    {
      onRequest: app.authenticate,
      schema: {
        tags: ['waitlist'],
        summary: 'My waitlist entries, newest first',
        security: BEARER,
        querystring: MyWaitlistQuery,
        response: { 200: WaitlistPage },
      },
    },
    async (request) => waitlist.listMine(currentUser(request).id, request.query),
  );

  app.delete(
    '/waitlist/:id',
    {
      onRequest: app.authenticate,
      schema: {
        tags: ['waitlist'],
        summary: 'Leave the waitlist (idempotent)',
        security: BEARER,
        params: IdParams,
        response: { 204: Type.Null() },
      },
    },
    async (request, reply) => {
      await waitlist.cancel(currentUser(request).id, request.params.id);
      return reply.code(204).send(null);
    },
  );
};
