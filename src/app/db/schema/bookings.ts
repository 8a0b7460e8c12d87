import { sql } from 'drizzle-orm';
import {
  bigint,
  char,
  check,
  date,
  index,
  integer,
  jsonb,
  pgTable,
  smallint,
  text,
  timestamp,
  uniqueIndex,
} from 'drizzle-orm/pg-core';
import { createdAt, updatedAt } from './columns.ts';
import { hotels, roomTypes } from './hotels.ts';
import { users } from './users.ts';

export const BOOKING_STATUSES = ['pending', 'confirmed', 'cancelled', 'completed'] as const;

export const trips = pgTable(
  'trips',
  {
    id: integer('id').primaryKey().generatedAlwaysAsIdentity(),
    userId: integer('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    name: text('name').notNull(),
    status: text('status', { enum: ['planned', 'active', 'completed', 'cancelled'] })
      .notNull()
      .default('planned'),
    startDate: date('start_date', { mode: 'string' }),
    endDate: date('end_date', { mode: 'string' }),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    // my_trips?status=...
    index('trips_user_status_idx').on(t.userId, t.status),
  ],
);

export const bookings = pgTable(
  'bookings',
  {
    id: integer('id').primaryKey().generatedAlwaysAsIdentity(),
    userId: integer('user_id')
      .notNull()
      .references(() => users.id),
    hotelId: integer('hotel_id')
      .notNull()
      .references(() => hotels.id),
    roomTypeId: integer('room_type_id')
      .notNull()
      .references(() => roomTypes.id),
    tripId: integer('trip_id').references(() => trips.id, { onDelete: 'set null' }),
    /** First night (hotel-local calendar date). */
    startDate: date('start_date', { mode: 'string' }).notNull(),
    /** Check-out day: the night of end_date is not booked. */
    endDate: date('end_date', { mode: 'string' }).notNull(),
    guests: smallint('guests').notNull(),
    status: text('status', { enum: BOOKING_STATUSES }).notNull().default('confirmed'),
    totalCents: integer('total_cents').notNull(),
    currency: char('currency', { length: 3 }).notNull(),
    cancelledAt: timestamp('cancelled_at', { withTimezone: true }),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    // my_bookings (newest first).
    index('bookings_user_created_idx').on(t.userId, t.createdAt.desc()),
    // my_bookings?status=..., dashboard upcoming bookings.
    index('bookings_user_status_created_idx').on(t.userId, t.status, t.createdAt),
    // occupancy report and inventory reconciliation: bookings of a room type overlapping a range.
    index('bookings_room_type_dates_idx').on(t.roomTypeId, t.startDate, t.endDate),
    // bookings report by day / status; completing past stays.
    index('bookings_status_dates_idx').on(t.status, t.startDate, t.endDate),
    check('bookings_dates_ck', sql`${t.endDate} > ${t.startDate}`),
    check('bookings_guests_ck', sql`${t.guests} BETWEEN 1 AND 20`),
    check('bookings_status_ck', sql`${t.status} IN ('pending', 'confirmed', 'cancelled', 'completed')`),
  ],
);

export const waitlist = pgTable(
  'waitlist',
  {
    id: integer('id').primaryKey().generatedAlwaysAsIdentity(),
    userId: integer('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    roomTypeId: integer('room_type_id')
      .notNull()
      .references(() => roomTypes.id, { onDelete: 'cascade' }),
    startDate: date('start_date', { mode: 'string' }).notNull(),
    endDate: date('end_date', { mode: 'string' }).notNull(),
    guests: smallint('guests').notNull().default(1),
    status: text('status', { enum: ['waiting', 'offered', 'booked', 'expired', 'cancelled'] })
      .notNull()
      .default('waiting'),
    offeredAt: timestamp('offered_at', { withTimezone: true }),
    /**
     * The stay's price at the nightly prices when the entry was made (null when a night had no price):
     * what price-drop alerts compare the current price with.
     */
    quotedTotalCents: integer('quoted_total_cents'),
    /**
     * While status = 'offered': when the offer lapses. An offer holds one room on each night of the stay
     * (taken out of room_inventory.available_rooms) until it is booked, cancelled or expired.
     */
    offerExpiresAt: timestamp('offer_expires_at', { withTimezone: true }),
    createdAt: createdAt(),
  },
  (t) => [
    // on cancellation: oldest waiting entries for the freed room type, in order.
    index('waitlist_room_type_status_created_idx').on(t.roomTypeId, t.status, t.createdAt),
    // expiry job: entries whose stay has started.
    index('waitlist_status_dates_idx').on(t.status, t.startDate, t.endDate),
    // my_waitlist.
    index('waitlist_user_idx').on(t.userId, t.createdAt.desc()),
    // POST /waitlist: one active entry per user, room type and stay, enforced race-free (migration 0002).
    uniqueIndex('waitlist_user_active_uq')
      .on(t.userId, t.roomTypeId, t.startDate, t.endDate)
      .where(sql`${t.status} IN ('waiting', 'offered')`),
    // expireWaitlistOffers: offers past their expiry, soonest first.
    index('waitlist_status_offer_expires_idx').on(t.status, t.offerExpiresAt),
    check('waitlist_dates_ck', sql`${t.endDate} > ${t.startDate}`),
    // Every offer holds rooms until a known time (the expiry job relies on it).
    check('waitlist_offer_expires_ck', sql`${t.status} <> 'offered' OR ${t.offerExpiresAt} IS NOT NULL`),
  ],
);

export const payments = pgTable(
  'payments',
  {
    id: integer('id').primaryKey().generatedAlwaysAsIdentity(),
    bookingId: integer('booking_id')
      .notNull()
      .references(() => bookings.id),
    userId: integer('user_id')
      .notNull()
      .references(() => users.id),
    amountCents: integer('amount_cents').notNull(),
    currency: char('currency', { length: 3 }).notNull(),
    provider: text('provider').notNull(),
    providerRef: text('provider_ref'),
    status: text('status', {
      enum: ['pending', 'due_at_property', 'authorized', 'captured', 'failed', 'refunded', 'cancelled'],
    }).notNull(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    // reconciliation job: pending payments oldest first.
    index('payments_status_created_idx').on(t.status, t.createdAt),
    // a user's payments by status.
    index('payments_user_status_idx').on(t.userId, t.status),
    // a booking's payments (detail, cancel -> refund).
    index('payments_booking_idx').on(t.bookingId),
  ],
);

export const notifications = pgTable(
  'notifications',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    userId: integer('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    type: text('type').notNull(),
    channel: text('channel').notNull().default('email'),
    payload: jsonb('payload').notNull().default(sql`'{}'::jsonb`),
    /** Delivery: queued -> sending -> sent | failed (cancelled: no longer to be sent). */
    status: text('status', { enum: ['queued', 'sending', 'sent', 'failed', 'cancelled'] })
      .notNull()
      .default('queued'),
    attempts: smallint('attempts').notNull().default(0),
    lastError: text('last_error'),
    /** What the SMTP server answered (or the .eml file written), for tracing a message. */
    providerMessageId: text('provider_message_id'),
    scheduledAt: timestamp('scheduled_at', { withTimezone: true }).notNull().defaultNow(),
    sentAt: timestamp('sent_at', { withTimezone: true }),
    createdAt: createdAt(),
  },
  (t) => [
    // sender job: due pending notifications in schedule order.
    index('notifications_status_scheduled_idx').on(t.status, t.scheduledAt),
    // de-duplication: does this user already have a pending notification of this type?
    index('notifications_user_type_status_idx').on(t.userId, t.type, t.status),
  ],
);

export const priceHistory = pgTable(
  'price_history',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    entityType: text('entity_type', { enum: ['room_type', 'hotel'] }).notNull(),
    entityId: integer('entity_id').notNull(),
    priceCents: integer('price_cents').notNull(),
    currency: char('currency', { length: 3 }).notNull(),
    /** The night the price applies to, when it is a nightly price. */
    stayDate: date('stay_date', { mode: 'string' }),
    createdAt: createdAt(),
  },
  (t) => [
    // price_history?from&to for one room type, newest first.
    index('price_history_entity_created_idx').on(t.entityType, t.entityId, t.createdAt.desc()),
  ],
);

export const reviews = pgTable(
  'reviews',
  {
    id: integer('id').primaryKey().generatedAlwaysAsIdentity(),
    userId: integer('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    entityType: text('entity_type', { enum: ['hotel'] }).notNull(),
    entityId: integer('entity_id').notNull(),
    rating: smallint('rating').notNull(),
    title: text('title').notNull().default(''),
    body: text('body').notNull().default(''),
    createdAt: createdAt(),
  },
  (t) => [
    // reviews list sorted by rating; rating summary of a hotel.
    index('reviews_entity_rating_idx').on(t.entityType, t.entityId, t.rating.desc()),
    // reviews list sorted by date.
    index('reviews_entity_created_idx').on(t.entityType, t.entityId, t.createdAt.desc()),
    // one review per user per hotel; dashboard "my recent reviews".
    uniqueIndex('reviews_user_entity_uq').on(t.userId, t.entityType, t.entityId),
    check('reviews_rating_ck', sql`${t.rating} BETWEEN 1 AND 5`),
  ],
);
