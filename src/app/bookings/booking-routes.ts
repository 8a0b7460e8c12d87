import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply } from 'fastify';
import { errorBody } from '../../platform/http/index.ts';
import { currentUser } from '../auth/auth-plugin.ts';
import { BEARER, ErrorResponse, IdParams } from '../common/schemas.ts';
import { isDomainError } from '../errors.ts';
import { IdempotencyHeaders, idempotencyKey } from '../idempotency/idempotency-key.ts';
import {
  type IdempotentOutcome,
  type IdempotentRequests,
  sendIdempotentReply,
} from '../idempotency/idempotent-requests.ts';
import { Booking, BookingPage, CreateBookingBody, MyBookingsQuery } from './booking-schema.ts';
import type { BookingService } from './booking-service.ts';

/** Names the booking a 201 outcome (fresh or replayed) holds, in the Location header. */
export function sendBookingReply(reply: FastifyReply, outcome: IdempotentOutcome) {
  if (outcome.status === 201) {
    reply.header('location', `/api/bookings/${(JSON.parse(outcome.json) as { id: number }).id}`);
  }
  return sendIdempotentReply(reply, outcome);
}

export interface BookingRoutesOptions {
  readonly bookings: BookingService;
  readonly idempotent: IdempotentRequests;
}

/** Mounted at /api. */
export const bookingRoutes: FastifyPluginAsyncTypebox<BookingRoutesOptions> = async (
  app,
  { bookings, idempotent },
) => {
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
      const user = currentUser(request);
      const scope = bookings.bookingScope(
        user,
        request.body,
        idempotencyKey(request.headers['idempotency-key']),
      );
      const outcome = await idempotent.run(scope, (claim) => bookings.create(user, request.body, claim), {
        subject: 'booking',
        // Sold out is an answer, not a failure: a retry with the key replays it.
        storesFailure: (err) => isDomainError(err, 'SOLD_OUT'),
        render: (err) => errorBody(request, err),
      });
      if (outcome.replayed) {
        bookings.recordOutcome('replayed');
        if (outcome.status === 201) await bookings.replayedBooking(user, outcome.json);
      } else if (outcome.status === 201) bookings.recordOutcome('created');
      else if (outcome.status === 409) bookings.recordOutcome('sold_out');
      return sendBookingReply(reply, outcome);
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
