import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { currentUser } from '../auth/auth-plugin.ts';
import { BEARER, IdParams } from '../common/schemas.ts';
import { AttachBookingBody, CreateTripBody, MyTripsQuery, Trip, TripPage } from './trip-schema.ts';
import type { TripService } from './trip-service.ts';

/** Mounted at /api. */
export const tripRoutes: FastifyPluginAsyncTypebox<{ trips: TripService }> = async (app, { trips }) => {
  app.post(
    '/trips',
    {
      onRequest: app.authenticate,
      schema: {
        tags: ['trips'],
        summary: 'Create a trip (a named group of bookings)',
        security: BEARER,
        body: CreateTripBody,
        response: { 201: Trip },
      },
    },
    async (request, reply) => reply.code(201).send(await trips.create(currentUser(request).id, request.body)),
  );

  app.post(
    '/trips/:id/bookings',
    {
      onRequest: app.authenticate,
      schema: {
        tags: ['trips'],
        summary: 'Add one of my bookings to one of my trips (moves it if it was in another trip)',
        security: BEARER,
        params: IdParams,
        body: AttachBookingBody,
        response: { 200: Trip },
      },
    },
    async (request) =>
      trips.attachBooking(currentUser(request).id, request.params.id, request.body.bookingId),
  );

  app.get(
    '/me/trips',
    {
      onRequest: app.authenticate,
      schema: {
        tags: ['trips'],
        summary: 'My trips with their bookings, newest first',
        security: BEARER,
        querystring: MyTripsQuery,
        response: { 200: TripPage },
      },
    },
    async (request) => trips.listMine(currentUser(request).id, request.query),
  );
};
