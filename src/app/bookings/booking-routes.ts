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
import { Booking, BookingPage, BookOfferBody, CreateBookingBody, MyBookingsQuery } from './booking-schema.ts';
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

  app.post(
    '/waitlist/:id/book',
    {
      onRequest: app.authenticate,
      // The body is optional: none means the entry's own guests.
      preValidation: async (request) => {
        request.body ??= {};
      },
      schema: {
        tags: ['waitlist', 'bookings'],
        summary: 'Book the room a waitlist offer holds for me, before the offer expires',
        description:
          'Turns the offer of one of my waitlist entries into a confirmed booking of its room type and stay, ' +
          'in one transaction. The offer already holds a room on every night, so nothing can be sold out: ' +
          'the held rooms become the booking. Until then no one else can book them; at `offerExpiresAt` ' +
          'the hold goes to the next in line. An entry that is not offered (any more) is 409 ' +
          'E_OFFER_UNAVAILABLE. No Idempotency-Key: an offer is booked at most once, and a retry after a ' +
          'lost answer gets that 409 (the booking is in GET /api/me/bookings).',
        security: BEARER,
        params: IdParams,
        body: BookOfferBody,
        response: { 201: Booking, 409: ErrorResponse },
      },
    },
    async (request, reply) => {
      const booking = await bookings.bookOffer(currentUser(request), request.params.id, request.body);
      bookings.recordOutcome('created');
      return reply.code(201).header('location', `/api/bookings/${booking.id}`).send(booking);
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
