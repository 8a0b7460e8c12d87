import { setTimeout as sleep } from 'node:timers/promises';
import type { Database, DbSession } from '../../platform/db/index.ts';
import { AppError, appError } from '../../platform/http/index.ts';
import type { AuthUser } from '../auth/auth-service.ts';
import { assertNotPast, nightsOf, validateStay } from '../common/stay.ts';
import { domainError } from '../errors.ts';
import { type ClaimResult, IdempotencyStore, requestFingerprint } from '../idempotency/idempotency-store.ts';
import type { PaymentProvider } from '../payments/payment-provider.ts';
import { offerFreedRooms } from '../waitlist/waitlist-offers.ts';
import { BookingRepository } from './booking-repository.ts';
import type { Booking, BookingPage, CreateBookingBody, MyBookingsQuery } from './booking-schema.ts';

/**
 * What the route sends: a fresh result or a stored one replayed for a repeated Idempotency-Key,
 * already serialized, so the first answer and every replay are the same bytes.
 */
export interface BookingOutcome {
  readonly status: number;
  readonly json: string;
  readonly replayed: boolean;
  readonly bookingId?: number;
}

/** Builds the error body the client sees, so a stored failure replays byte for byte. */
export type ErrorRenderer = (err: AppError) => unknown;

/** How long a re-run after a lost connection waits for that connection's lock: 20 × 50 ms. */
const CLAIM_WAITS = 20;
const CLAIM_WAIT_MS = 50;

export class BookingService {
  readonly #db: Database;
  readonly #payments: PaymentProvider;

  constructor(db: Database, payments: PaymentProvider) {
    this.#db = db;
    this.#payments = payments;
  }

  /**
   * Books one room for every night of the stay, exactly once per Idempotency-Key:
   * 1. validate what needs no database (a failed validation stores nothing);
   * 2. claim the key (its own statement, committed, so a concurrent duplicate gets 409 at once);
   * 3. in ONE transaction: take a room for each night (never below zero), write the booking, payment,
   *    notification and prices paid, and store the response under the key;
   * 4. a sold-out result is stored too (a retry replays it); any other failure releases the key.
   */
  async create(
    user: AuthUser,
    body: CreateBookingBody,
    key: string,
    renderError: ErrorRenderer,
  ): Promise<BookingOutcome> {
    validateStay(body.checkIn, body.checkOut);
    const fingerprint = requestFingerprint('POST', '/bookings', { ...body });
    // One connection for the claim, the transaction and the release: the claim's advisory lock lives
    // on it, so if the connection dies the lock goes with it and a retry can take the key over at once.
    // That makes the whole request safe to re-run after a lost connection: it replays what committed
    // or takes the key over.
    return this.#db.idempotent((attempt) =>
      this.#db.session(async (session) => {
        const store = new IdempotencyStore(session);
        let claim = await store.claim(user.id, key, fingerprint);
        // On a re-run, the lost connection's backend may still be exiting, and holds the key's lock
        // until it has: give it a moment instead of answering "in progress" to our own retry.
        for (let wait = 0; attempt > 0 && claim.kind === 'in_progress' && wait < CLAIM_WAITS; wait++) {
          await sleep(CLAIM_WAIT_MS);
          claim = await store.claim(user.id, key, fingerprint);
        }
        if (claim.kind !== 'claimed') return settleClaim(claim);
        try {
          return await this.#book(session, store, claim, user, body);
        } catch (err) {
          if (err instanceof AppError && err.code === 'E_SOLD_OUT') {
            const json = JSON.stringify(renderError(err));
            await store.complete(claim, err.statusCode, json);
            return { status: err.statusCode, json, replayed: false };
          }
          await store.release(claim).catch(() => undefined);
          throw err;
        } finally {
          // Never hand a connection that still holds a key's lock back to the pool.
          if (store.holdsLock) session.discard(new Error('idempotency lock still held'));
        }
      }),
    );
  }

  async #book(
    session: DbSession,
    store: IdempotencyStore,
    claim: Extract<ClaimResult, { kind: 'claimed' }>,
    user: AuthUser,
    body: CreateBookingBody,
  ): Promise<BookingOutcome> {
    const booking = await session.transaction(async (client) => {
      const repo = new BookingRepository(client);
      const room = await repo.findRoomType(body.roomTypeId);
      if (!room) throw appError('NOT_FOUND', `Room type ${body.roomTypeId} not found`);
      assertNotPast(body.checkIn, room.today);
      if (body.guests > room.capacity) {
        throw domainError('CAPACITY_EXCEEDED', `${room.roomTypeName} takes at most ${room.capacity} guests`, {
          details: [{ field: 'guests', message: `must be at most ${room.capacity}` }],
        });
      }
      const wanted = nightsOf(body.checkIn, body.checkOut);
      const taken = await repo.takeRooms(body.roomTypeId, body.checkIn, body.checkOut);
      if (taken.length < wanted.length) {
        const got = new Set(taken.map((n) => n.date));
        const missing = wanted.filter((d) => !got.has(d));
        throw domainError('SOLD_OUT', `No ${room.roomTypeName} is free on ${missing.join(', ')}`, {
          details: missing.map((date) => ({ field: 'checkIn', message: 'no room free this night', date })),
          hint: 'Join the waitlist with POST /api/waitlist and the same roomTypeId, checkIn and checkOut',
        });
      }
      const totalCents = taken.reduce((sum, n) => sum + n.priceCents, 0);
      const payment = await this.#payments.authorize({
        userId: user.id,
        amountCents: totalCents,
        currency: room.currency,
        reference: `booking:${user.id}:${claim.id}`,
      });
      const created = await repo.insertBooking({
        userId: user.id,
        room,
        checkIn: body.checkIn,
        checkOut: body.checkOut,
        guests: body.guests,
        totalCents,
        payment,
        nights: taken,
      });
      const result: Booking = {
        id: created.id,
        status: 'confirmed',
        checkIn: body.checkIn,
        checkOut: body.checkOut,
        nights: wanted.length,
        guests: body.guests,
        totalCents,
        currency: room.currency,
        hotel: { id: room.hotelId, name: room.hotelName, city: room.city, timezone: room.timezone },
        roomType: { id: room.roomTypeId, name: room.roomTypeName },
        tripId: null,
        payment: { provider: payment.provider, status: payment.status, amountCents: totalCents },
        createdAt: created.createdAt.toISOString(),
        cancelledAt: null,
      };
      if (!(await store.complete(claim, 201, JSON.stringify(result)))) {
        // A retry took the key over while this request was stuck: it books instead (rolled back here).
        throw inProgress();
      }
      return result;
    });
    return { status: 201, json: JSON.stringify(booking), replayed: false, bookingId: booking.id };
  }

  async get(user: AuthUser, bookingId: number): Promise<Booking> {
    const booking = await this.#db.read((pool) =>
      new BookingRepository(pool).findBooking(bookingId, user.id, user.role === 'admin'),
    );
    if (!booking) throw appError('NOT_FOUND', `Booking ${bookingId} not found`);
    return booking;
  }

  /**
   * Cancels in one transaction: the booking, its payment, one room back for every night, and the
   * oldest waitlist entries those rooms can now serve are offered. Cancelling twice returns the
   * cancelled booking again and changes nothing.
   */
  async cancel(user: AuthUser, bookingId: number): Promise<Booking> {
    await this.#db.transaction(async (client) => {
      const repo = new BookingRepository(client);
      const locked = await repo.lockForCancel(bookingId, user.id);
      if (!locked) throw appError('NOT_FOUND', `Booking ${bookingId} not found`);
      if (locked.status === 'cancelled') return;
      if (locked.status === 'completed' || locked.checkIn < locked.today) {
        throw domainError(
          'NOT_CANCELLABLE',
          locked.status === 'completed'
            ? 'A completed stay cannot be cancelled'
            : `The stay started on ${locked.checkIn}; it can no longer be cancelled`,
        );
      }
      await repo.markCancelled(bookingId, user.id, (s) => this.#payments.cancelledStatus(s));
      await repo.returnRooms(locked.roomTypeId, locked.checkIn, locked.checkOut);
      await offerFreedRooms(client, {
        roomTypeId: locked.roomTypeId,
        checkIn: locked.checkIn,
        checkOut: locked.checkOut,
      });
    });
    return this.get(user, bookingId);
  }

  async listMine(user: AuthUser, query: MyBookingsQuery): Promise<BookingPage> {
    const { page, limit } = query;
    const rows = await this.#db.read((pool) =>
      new BookingRepository(pool).listForUser(user.id, query.status, limit + 1, (page - 1) * limit),
    );
    return { data: rows.slice(0, limit), page, limit, hasMore: rows.length > limit };
  }
}

function settleClaim(claim: Exclude<ClaimResult, { kind: 'claimed' }>): BookingOutcome {
  switch (claim.kind) {
    case 'mismatch':
      throw domainError('IDEMPOTENCY_MISMATCH', undefined, {
        hint: 'Use a new Idempotency-Key for a different booking',
      });
    case 'in_progress':
      throw inProgress();
    case 'replay':
      return {
        status: claim.status,
        json: claim.body,
        replayed: true,
        ...(claim.status === 201 ? { bookingId: (JSON.parse(claim.body) as { id: number }).id } : {}),
      };
  }
}

function inProgress(): AppError {
  return domainError('IDEMPOTENCY_IN_PROGRESS', undefined, {
    headers: { 'retry-after': '1' },
    hint: 'Retry with the same key shortly to get the result',
  });
}
