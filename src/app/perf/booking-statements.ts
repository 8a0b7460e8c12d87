import { BookingRepository } from '../bookings/booking-repository.ts';
import { nightsOf } from '../common/stay.ts';
import { IdempotencyStore, requestFingerprint } from '../idempotency/idempotency-store.ts';
import { PayAtPropertyProvider } from '../payments/payment-provider.ts';
import { ReviewRepository } from '../reviews/review-repository.ts';
import { TripRepository } from '../trips/trip-repository.ts';
import { DashboardRepository } from '../users/dashboard-repository.ts';
import type { CatalogueEntry } from './catalogue-entry.ts';
import { HOTEL_REVIEWS, USER_BOOKINGS } from './index-alternatives.ts';
import type { StatementSamples } from './statement-samples.ts';

const PAGE = { page: 1, limit: 20 } as const;
const IDEMPOTENCY_KEY = 'innkeep-perf-analysis';
/** The small tables of the demo data (30 waitlist entries, 40 trips) fit in one page or two. */
export const SMALL_TABLE = 1_000;

const room = (s: StatementSamples) => ({
  roomTypeId: s.roomTypeId,
  roomTypeName: 'sample',
  capacity: 2,
  hotelId: s.hotelId,
  hotelName: s.hotelName,
  city: s.city,
  timezone: 'UTC',
  currency: 'EUR',
  today: s.checkIn,
});

const claim = { kind: 'claimed', id: 0, token: '0' } as const;

/** Booking, cancelling, idempotency keys, trips, reviews written and the dashboard (the waitlist: waitlist-statements.ts). */
export const BOOKING_STATEMENTS: readonly CatalogueEntry[] = [
  {
    name: 'booking_room_type',
    kind: 'read',
    send: (db, s) => new BookingRepository(db).findRoomType(s.roomTypeId),
    indexes: ['room_types_pkey', 'hotels_pkey'],
  },
  {
    name: 'booking_take_rooms',
    kind: 'write',
    send: (db, s) => new BookingRepository(db).takeRooms(s.roomTypeId, s.checkIn, s.checkOut, s.userId),
    // The guest's own offer is looked up on waitlist_user_active_uq once the waitlist is not tiny.
    indexes: ['room_inventory_pk'],
  },
  {
    name: 'booking_lock_offer',
    kind: 'write',
    send: (db, s) => new BookingRepository(db).lockOffer(s.waitlistId, s.waitlistUserId),
    indexes: ['waitlist_pkey', 'room_inventory_pk'],
    checkFrom: { waitlist: SMALL_TABLE },
    note: 'the demo waitlist has 30 entries (500 at medium scale): one page, read whole',
  },
  {
    name: 'booking_return_rooms',
    kind: 'write',
    send: (db, s) => new BookingRepository(db).returnRooms(s.roomTypeId, s.checkIn, s.checkOut),
    indexes: ['room_inventory_pk'],
  },
  {
    name: 'booking_insert',
    kind: 'write',
    send: (db, s) =>
      new BookingRepository(db).insertBooking({
        userId: s.userId,
        room: room(s),
        checkIn: s.checkIn,
        checkOut: s.checkOut,
        guests: 2,
        totalCents: 30_000,
        payment: new PayAtPropertyProvider().decide(),
        nights: nightsOf(s.checkIn, s.checkOut).map((date) => ({ date, priceCents: 10_000 })),
        holdId: null,
      }),
    indexes: ['waitlist_user_active_uq'],
    checkFrom: { waitlist: SMALL_TABLE },
    note: "the guest's own waitlist entry is found on waitlist_user_active_uq once the waitlist is not tiny",
  },
  {
    name: 'booking_lock_for_cancel',
    kind: 'write',
    send: (db, s) => new BookingRepository(db).lockForCancel(s.bookingId, s.userId),
    indexes: ['bookings_pkey', 'hotels_pkey'],
  },
  {
    name: 'booking_mark_cancelled',
    kind: 'write',
    send: (db, s) =>
      new BookingRepository(db).markCancelled(s.bookingId, s.userId, (p) =>
        new PayAtPropertyProvider().cancelledStatus(p),
      ),
    indexes: ['bookings_pkey', 'payments_booking_idx'],
  },
  {
    name: 'booking_by_id',
    kind: 'read',
    send: (db, s) => new BookingRepository(db).findBooking(s.bookingId, s.userId, false),
    indexes: ['bookings_pkey', 'payments_booking_idx'],
  },
  {
    name: 'booking_list_mine',
    kind: 'read',
    send: (db, s) => new BookingRepository(db).listForUser(s.userId, undefined, PAGE),
    indexes: ['bookings_user_created_idx', 'payments_booking_idx'],
  },
  {
    name: 'booking_list_mine_status',
    kind: 'read',
    send: (db, s) => new BookingRepository(db).listForUser(s.userId, 'confirmed', PAGE),
    indexes: ['bookings_user_status_created_idx', 'payments_booking_idx'],
  },
  {
    name: 'idempotency_claim',
    kind: 'write',
    send: (db, s) =>
      new IdempotencyStore(db).claim(
        s.userId,
        IDEMPOTENCY_KEY,
        requestFingerprint('POST', '/api/bookings', { roomTypeId: s.roomTypeId }),
      ),
    indexes: ['idempotency_keys_user_key_uq'],
  },
  {
    name: 'idempotency_complete',
    kind: 'write',
    send: (db) => new IdempotencyStore(db).complete(claim, 201, '{}'),
    indexes: ['idempotency_keys_pkey'],
    checkFrom: { idempotency_keys: SMALL_TABLE },
    note: 'idempotency_keys is empty in the demo data',
  },
  {
    name: 'idempotency_release',
    kind: 'write',
    send: (db) => new IdempotencyStore(db).release(claim),
    indexes: ['idempotency_keys_pkey'],
    checkFrom: { idempotency_keys: SMALL_TABLE },
    note: 'idempotency_keys is empty in the demo data',
  },
  {
    name: 'trips_create',
    kind: 'write',
    send: (db, s) => new TripRepository(db).create(s.userId, 'Performance analysis', s.checkIn, s.checkOut),
    indexes: [],
    note: 'a plain INSERT reads no index',
  },
  {
    name: 'trips_attach_booking',
    kind: 'write',
    send: (db, s) => new TripRepository(db).attachBooking(s.tripId, s.bookingId, s.tripUserId),
    indexes: ['bookings_pkey'],
  },
  {
    name: 'trips_find_for_user',
    kind: 'read',
    send: (db, s) => new TripRepository(db).findForUser(s.tripId, s.tripUserId),
    indexes: [USER_BOOKINGS],
  },
  {
    name: 'trips_list_for_user',
    kind: 'read',
    send: (db, s) => new TripRepository(db).listForUser(s.tripUserId, undefined, PAGE),
    // The demo data's 40 trips are read whole; trips_user_status_idx takes over as trips grow.
    indexes: [USER_BOOKINGS],
  },
  {
    name: 'reviews_lock_hotel',
    kind: 'write',
    send: (db, s) => new ReviewRepository(db).lockHotel(s.hotelId),
    indexes: ['hotels_pkey'],
  },
  {
    name: 'reviews_create',
    kind: 'write',
    send: (db, s) =>
      new ReviewRepository(db).create({
        hotelId: s.hotelId,
        userId: s.userId,
        rating: 4,
        title: 'Performance analysis',
        body: '',
      }),
    indexes: [USER_BOOKINGS, 'reviews_user_entity_uq', HOTEL_REVIEWS],
  },
  {
    name: 'users_dashboard',
    kind: 'read',
    send: (db, s) => new DashboardRepository(db).forUser(s.userId),
    indexes: ['bookings_user_status_created_idx', 'reviews_user_entity_uq'],
  },
];
