import type { Database, RepositoryFactory } from '../../platform/db/index.ts';
import { appError } from '../../platform/errors/index.ts';
import type { AuthUser } from '../auth/auth-service.ts';
import { cacheTags, type DomainCache } from '../common/cache.ts';
import { type Page, toPage } from '../common/paging.ts';
import { assertNotPast, nightsOf, validateStay } from '../common/stay.ts';
import { domainError } from '../errors.ts';
import { requestFingerprint } from '../idempotency/idempotency-store.ts';
import type { HeldClaim, IdempotencyScope } from '../idempotency/idempotent-requests.ts';
import type { PaymentProvider } from '../payments/payment-provider.ts';
import { offerFreedRooms } from '../waitlist/waitlist-offers.ts';
import type { BookingOutcomes } from './booking-outcomes.ts';
import type { BookingRepository } from './booking-repository.ts';
import type { Booking, CreateBookingBody, MyBookingsQuery } from './booking-schema.ts';

export interface BookingServiceDeps {
  readonly db: Database;
  readonly bookings: RepositoryFactory<BookingRepository>;
  readonly payments: PaymentProvider;
  readonly outcomes: BookingOutcomes;
  readonly cache: DomainCache;
}

export class BookingService {
  readonly #db: Database;
  readonly #bookings: RepositoryFactory<BookingRepository>;
  readonly #payments: PaymentProvider;
  readonly #outcomes: BookingOutcomes;
  readonly #cache: DomainCache;

  constructor(deps: BookingServiceDeps) {
    this.#cache = deps.cache;
    this.#db = deps.db;
    this.#bookings = deps.bookings;
    this.#payments = deps.payments;
    this.#outcomes = deps.outcomes;
  }

  /** Counts what a booking request came to (the route knows: created, replayed, sold out). */
  recordOutcome(outcome: 'created' | 'sold_out' | 'replayed'): void {
    this.#outcomes.record(outcome);
  }

  /**
   * A booking answered from its Idempotency-Key: invalidate what it changed once more. The first
   * attempt's after-commit invalidation may never have run (its COMMIT went through but the
   * connection died before the acknowledgement; the retry finds the stored answer), and an extra
   * invalidation costs one reload.
   */
  async replayedBooking(user: AuthUser, json: string): Promise<void> {
    let booking: Pick<Booking, 'hotel' | 'roomType'>;
    try {
      booking = JSON.parse(json) as Booking;
    } catch {
      return;
    }
    if (typeof booking?.hotel?.id !== 'number' || typeof booking.roomType?.id !== 'number') return;
    await this.#cache.invalidate(changedByBooking(booking.hotel.id, booking.roomType.id, user.id));
  }

  /**
   * What an Idempotency-Key stands for when it books `body`, after checking what needs no database
   * (a request failing here stores nothing under its key).
   */
  bookingScope(user: AuthUser, body: CreateBookingBody, key: string): IdempotencyScope {
    validateStay(body.checkIn, body.checkOut);
    return { userId: user.id, key, fingerprint: requestFingerprint('POST', '/bookings', { ...body }) };
  }

  /**
   * Books one room for every night of the stay, in ONE transaction on the key's claim: take a room
   * for each night (never below zero), write the booking, payment, notification and prices paid;
   * the claim stores the answer in the same transaction. Sold out throws E_SOLD_OUT (the route has
   * it stored for replay).
   */
  async create(user: AuthUser, body: CreateBookingBody, claim: HeldClaim): Promise<Booking> {
    return claim.transaction(async (tx) => {
      const repo = this.#bookings(tx);
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
      // A decision, not a call: nothing leaves the process while the nights are locked (see PaymentProvider).
      const payment = this.#payments.decide({
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
      tx.onCommit(() => this.#cache.invalidate(changedByBooking(room.hotelId, body.roomTypeId, user.id)));
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
      return result;
    }, 201);
  }

  async get(user: AuthUser, bookingId: number): Promise<Booking> {
    const booking = await this.#db.read((db) =>
      this.#bookings(db).findBooking(bookingId, user.id, user.role === 'admin'),
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
    await this.#db.transaction(async (tx) => {
      const repo = this.#bookings(tx);
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
      const offeredTo = new Set<number>();
      await offerFreedRooms(
        tx,
        { roomTypeId: locked.roomTypeId, checkIn: locked.checkIn, checkOut: locked.checkOut },
        offeredTo,
      );
      tx.onCommit(async () => {
        this.#outcomes.record('cancelled');
        await this.#cache.invalidate([
          ...changedByBooking(locked.hotelId, locked.roomTypeId, user.id),
          // Their waitlist entries are offered now.
          ...[...offeredTo].map(cacheTags.user),
        ]);
      });
    });
    return this.get(user, bookingId);
  }

  async listMine(user: AuthUser, query: MyBookingsQuery): Promise<Page<Booking>> {
    const key = `${user.id}:${query.status ?? '*'}:${query.page}:${query.limit}`;
    return this.#cache.ns['my-bookings'].getOrSet(
      key,
      async () => {
        const rows = await this.#db.read((db) =>
          this.#bookings(db).listForUser(user.id, query.status, query),
        );
        return toPage(rows, query);
      },
      { tags: [cacheTags.user(user.id)] },
    );
  }
}

/**
 * What a booking or a cancellation changes in cached reads: the hotel's availability and the room
 * type's batch items (rooms left), the hotel's price history (a booking records the nightly prices),
 * the guest's own views (bookings, trips, waitlist, dashboard) and the reports. Hotel pages and
 * searches show base prices and total rooms, which bookings do not change.
 */
function changedByBooking(hotelId: number, roomTypeId: number, userId: number): string[] {
  return [
    cacheTags.availability(hotelId),
    cacheTags.roomType(roomTypeId),
    cacheTags.prices(hotelId),
    cacheTags.user(userId),
    cacheTags.reports,
  ];
}
