import type { Database, RepositoryFactory, Transaction } from '../../platform/db/index.ts';
import { appError } from '../../platform/errors/index.ts';
import type { AuthUser } from '../auth/auth-service.ts';
import { cacheTags, type DomainCache } from '../common/cache.ts';
import { type Page, toPage } from '../common/paging.ts';
import { assertNotPast, nightsOf, validateStay } from '../common/stay.ts';
import { domainError } from '../errors.ts';
import { requestFingerprint } from '../idempotency/idempotency-store.ts';
import type { HeldClaim, IdempotencyScope } from '../idempotency/idempotent-requests.ts';
import type { NotificationQueue } from '../notifications/notification-queue.ts';
import type { PaymentProvider } from '../payments/payment-provider.ts';
import { offerFreedRooms } from '../waitlist/waitlist-offers.ts';
import type { BookingOutcomes } from './booking-outcomes.ts';
import type { BookableRoomType, BookingRepository, LockedOffer } from './booking-repository.ts';
import type { Booking, BookOfferBody, CreateBookingBody, MyBookingsQuery } from './booking-schema.ts';

export interface BookingServiceDeps {
  readonly db: Database;
  readonly bookings: RepositoryFactory<BookingRepository>;
  readonly payments: PaymentProvider;
  readonly outcomes: BookingOutcomes;
  readonly cache: DomainCache;
  /** How long a waitlist offer made on a cancellation holds its room (WAITLIST_OFFER_HOLD_MINUTES). */
  readonly offerHoldMinutes: number;
  /** Told, inside each transaction, about the notification rows it wrote (their delivery is queued). */
  readonly notifications?: NotificationQueue | undefined;
}

/** What a booking is made of once its nights are secured (taken now, or held by an offer). */
interface Confirmation {
  readonly user: AuthUser;
  readonly room: BookableRoomType;
  readonly checkIn: string;
  readonly checkOut: string;
  readonly guests: number;
  readonly nights: { date: string; priceCents: number }[];
  readonly holdId: number | null;
  /** De-duplicates the payment at the provider. */
  readonly reference: string;
}

export class BookingService {
  readonly #db: Database;
  readonly #bookings: RepositoryFactory<BookingRepository>;
  readonly #payments: PaymentProvider;
  readonly #outcomes: BookingOutcomes;
  readonly #cache: DomainCache;
  readonly #offerHoldMinutes: number;
  readonly #notifications: NotificationQueue | undefined;

  constructor(deps: BookingServiceDeps) {
    this.#cache = deps.cache;
    this.#offerHoldMinutes = deps.offerHoldMinutes;
    this.#notifications = deps.notifications;
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
   * it stored for replay). A guest holding an unexpired waitlist offer for exactly this stay books the
   * room held for them instead of taking another (as POST /api/waitlist/:id/book would).
   */
  async create(user: AuthUser, body: CreateBookingBody, claim: HeldClaim): Promise<Booking> {
    return claim.transaction(async (tx) => {
      const repo = this.#bookings(tx);
      const room = await repo.findRoomType(body.roomTypeId);
      if (!room) throw appError('NOT_FOUND', `Room type ${body.roomTypeId} not found`);
      assertNotPast(body.checkIn, room.today);
      assertFits(body.guests, room);
      const wanted = nightsOf(body.checkIn, body.checkOut);
      let taken = await repo.takeRooms(body.roomTypeId, body.checkIn, body.checkOut, user.id);
      let holdId: number | null = null;
      if (taken.holdId !== null) {
        const offer = await repo.lockOffer(taken.holdId, user.id);
        if (offer && isBookable(offer)) {
          holdId = offer.id;
          taken = { nights: offer.nights, holdId };
        } else {
          // The offer lapsed, or was booked or cancelled, between the two statements: book like anyone
          // else. This takeRooms no longer finds it (not offered, or expired at this transaction's now()).
          taken = await repo.takeRooms(body.roomTypeId, body.checkIn, body.checkOut, user.id);
        }
      }
      if (taken.nights.length < wanted.length) {
        const got = new Set(taken.nights.map((n) => n.date));
        const missing = wanted.filter((d) => !got.has(d));
        throw domainError('SOLD_OUT', `No ${room.roomTypeName} is free on ${missing.join(', ')}`, {
          details: missing.map((date) => ({ field: 'checkIn', message: 'no room free this night', date })),
          hint: 'Join the waitlist with POST /api/waitlist and the same roomTypeId, checkIn and checkOut',
        });
      }
      return this.#confirm(tx, {
        user,
        room,
        checkIn: body.checkIn,
        checkOut: body.checkOut,
        guests: body.guests,
        nights: taken.nights,
        holdId,
        reference: `booking:${user.id}:${claim.id}`,
      });
    }, 201);
  }

  /**
   * Books the room a waitlist offer holds (POST /api/waitlist/:id/book), in one transaction: the
   * entry is locked (the expiry job skips it meanwhile), checked to be the user's (else 404) and
   * offered and not expired (else 409 E_OFFER_UNAVAILABLE), and the booking, payment, notification and
   * prices are written as for any booking. The held rooms become the booking's: room_inventory does not
   * change. `guests` defaults to the entry's.
   */
  async bookOffer(user: AuthUser, waitlistId: number, body: BookOfferBody | undefined): Promise<Booking> {
    return this.#db.transaction(async (tx) => {
      const offer = await this.#bookings(tx).lockOffer(waitlistId, user.id);
      if (!offer) throw appError('NOT_FOUND', `Waitlist entry ${waitlistId} not found`);
      if (!isBookable(offer)) throw offerUnavailable(offer);
      assertNotPast(offer.checkIn, offer.room.today);
      const guests = body?.guests ?? offer.guests;
      assertFits(guests, offer.room);
      return this.#confirm(tx, {
        user,
        room: offer.room,
        checkIn: offer.checkIn,
        checkOut: offer.checkOut,
        guests,
        nights: offer.nights,
        holdId: offer.id,
        reference: `waitlist:${offer.id}`,
      });
    });
  }

  /** The rest of a booking whose nights are secured: payment, the one write, its notification, the answer. */
  async #confirm(tx: Transaction, c: Confirmation): Promise<Booking> {
    const { user, room } = c;
    const totalCents = c.nights.reduce((sum, n) => sum + n.priceCents, 0);
    // A decision, not a call: nothing leaves the process while the nights are locked (see PaymentProvider).
    const payment = this.#payments.decide({
      userId: user.id,
      amountCents: totalCents,
      currency: room.currency,
      reference: c.reference,
    });
    const created = await this.#bookings(tx).insertBooking({
      userId: user.id,
      room,
      checkIn: c.checkIn,
      checkOut: c.checkOut,
      guests: c.guests,
      totalCents,
      payment,
      nights: c.nights,
      holdId: c.holdId,
    });
    await this.#queue(tx, [created.notificationId]);
    tx.onCommit(() => this.#cache.invalidate(changedByBooking(room.hotelId, room.roomTypeId, user.id)));
    return {
      id: created.id,
      status: 'confirmed',
      checkIn: c.checkIn,
      checkOut: c.checkOut,
      nights: c.nights.length,
      guests: c.guests,
      totalCents,
      currency: room.currency,
      hotel: { id: room.hotelId, name: room.hotelName, city: room.city, timezone: room.timezone },
      roomType: { id: room.roomTypeId, name: room.roomTypeName },
      tripId: null,
      payment: { provider: payment.provider, status: payment.status, amountCents: totalCents },
      createdAt: created.createdAt.toISOString(),
      cancelledAt: null,
    };
  }

  async #queue(tx: Transaction, notificationIds: readonly number[]): Promise<void> {
    if (this.#notifications && notificationIds.length > 0)
      await this.#notifications.queue(tx, notificationIds);
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
   * oldest waitlist entries those rooms can now serve are offered (each offer holds its room again for
   * offerHoldMinutes). Cancelling twice returns the cancelled booking again and changes nothing.
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
      const cancelled = await repo.markCancelled(bookingId, user.id, (s) =>
        this.#payments.cancelledStatus(s),
      );
      await repo.returnRooms(locked.roomTypeId, locked.checkIn, locked.checkOut);
      const offers = await offerFreedRooms(
        tx,
        { roomTypeId: locked.roomTypeId, checkIn: locked.checkIn, checkOut: locked.checkOut },
        { holdMinutes: this.#offerHoldMinutes },
      );
      await this.#queue(tx, [...cancelled, ...offers.notificationIds]);
      tx.onCommit(async () => {
        this.#outcomes.record('cancelled');
        await this.#cache.invalidate([
          ...changedByBooking(locked.hotelId, locked.roomTypeId, user.id),
          // Their waitlist entries are offered now.
          ...offers.userIds.map(cacheTags.user),
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

function assertFits(guests: number, room: BookableRoomType): void {
  if (guests > room.capacity) {
    throw domainError('CAPACITY_EXCEEDED', `${room.roomTypeName} takes at most ${room.capacity} guests`, {
      details: [{ field: 'guests', message: `must be at most ${room.capacity}` }],
    });
  }
}

function isBookable(offer: LockedOffer): boolean {
  return offer.status === 'offered' && !offer.expired;
}

function offerUnavailable(offer: LockedOffer) {
  const hint = 'See GET /api/me/waitlist and GET /api/me/bookings';
  switch (offer.status) {
    case 'offered':
      return domainError(
        'OFFER_UNAVAILABLE',
        `The offer for waitlist entry ${offer.id} expired at ${offer.expiresAt?.toISOString()}`,
        { hint: 'Book with POST /api/bookings if a room is free, or join the waitlist again' },
      );
    case 'expired':
      return domainError('OFFER_UNAVAILABLE', `The offer for waitlist entry ${offer.id} has expired`, {
        hint: 'Book with POST /api/bookings if a room is free, or join the waitlist again',
      });
    case 'waiting':
      return domainError('OFFER_UNAVAILABLE', `Waitlist entry ${offer.id} has no offer yet`, {
        hint: 'An offer comes (by e-mail) when a room is freed for the whole stay',
      });
    default:
      return domainError('OFFER_UNAVAILABLE', `Waitlist entry ${offer.id} is ${offer.status}`, { hint });
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
