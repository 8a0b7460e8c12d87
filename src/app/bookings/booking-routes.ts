import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply } from 'fastify';
import type { Database } from '../../platform/db/index.ts';
import { errorBody } from '../../platform/http/index.ts';
import { currentUser } from '../auth/auth-plugin.ts';
import { BEARER, ErrorResponse, IdParams } from '../common/schemas.ts';
import { domainError } from '../errors.ts';
import { IDEMPOTENCY_KEY } from '../idempotency/idempotency-store.ts';
import { PayAtPropertyProvider } from '../payments/payment-provider.ts';
import {
  Booking,
  BookingPage,
  CreateBookingBody,
  IdempotencyHeaders,
  MyBookingsQuery,
} from './booking-schema.ts';
import { type BookingOutcome, BookingService } from './booking-service.ts';

/** The Idempotency-Key header's value, or the 400 that names it. */
export function idempotencyKey(header: string | string[] | undefined): string {
  if (typeof header !== 'string' || !IDEMPOTENCY_KEY.test(header)) {
    throw domainError('IDEMPOTENCY_KEY_REQUIRED', undefined, {
      details: [
        {
          field: 'idempotency-key',
          message: 'header is required (1-255 printable characters)',
          in: 'headers',
        },
      ],
    });
  }
  return header;
}

/** Sends a booking outcome: its stored bytes as they are, with the replay and location headers. */
export function sendBookingOutcome(reply: FastifyReply, outcome: BookingOutcome) {
  if (outcome.replayed) reply.header('idempotent-replayed', 'true');
  if (outcome.bookingId !== undefined) reply.header('location', `/api/bookings/${outcome.bookingId}`);
  // Already serialized (see BookingOutcome): a string payload is sent as-is.
  return reply.code(outcome.status).type('application/json; charset=utf-8').send(outcome.json);
}

/** Mounted at /api. */
export const bookingRoutes: FastifyPluginAsyncTypebox<{ db: Database }> = async (app, { db }) => {
  const bookings = new BookingService(db, new PayAtPropertyProvider());

  app.post(
    '/bookings',
    {
      onRequest: app.authenticate,
      schema: {
        tags: ['bookings'],
        summary: 'Book a room for every night of a stay (needs an Idempotency-Key header)',
        description:
          'Takes one room of the type for each night in [checkIn, checkOut) in one transaction, or none: ' +
          '409 E_SOLD_OUT if any night is full. A repeated Idempotency-Key replays the first response for 24 h ' +
          '(header `Idempotent-Replayed: true`); with different parameters it is 422 E_IDEMPOTENCY_MISMATCH, ' +
          'and while the first request runs, 409 E_IDEMPOTENCY_IN_PROGRESS.',
        security: BEARER,
        headers: IdempotencyHeaders,
        body: CreateBookingBody,
        response: { 201: Booking, 409: ErrorResponse },
      },
    },
    async (request, reply) => {
      const key = idempotencyKey(request.headers['idempotency-key']);
      const outcome = await bookings.create(currentUser(request), request.body, key, (err) =>
        errorBody(request, err),
      );
      return sendBookingOutcome(reply, outcome);
    },
  );

  app.get(
    '/bookings/:id',
    {
      onRequest: app.authenticate,
      schema: {
        tags: ['bookings'],
        summary: 'One of my bookings',
        security: BEARER,
        params: IdParams,
        response: { 200: Booking },
      },
    },
    async (request) => bookings.get(currentUser(request), request.params.id),
  );

  app.post(
    '/bookings/:id/cancel',
    {
      onRequest: app.authenticate,
      schema: {
        tags: ['bookings'],
        summary: 'Cancel a booking: every night goes back on sale, the waitlist is offered the rooms',
        description: 'Idempotent: cancelling a cancelled booking returns it unchanged.',
        security: BEARER,
        params: IdParams,
        response: { 200: Booking },
      },
    },
    async (request) => bookings.cancel(currentUser(request), request.params.id),
  );

  app.get(
    '/me/bookings',
    {
      onRequest: app.authenticate,
      schema: {
        tags: ['me'],
        summary: 'My bookings, newest first',
        security: BEARER,
        querystring: MyBookingsQuery,
        response: { 200: BookingPage },
      },
    },
    async (request) => bookings.listMine(currentUser(request), request.query),
  );
};
