import Type, { type Static } from 'typebox';
import { Currency, Id, IsoDate, Limit, Money, Page, Paged } from '../common/schemas.ts';
import { BOOKING_STATUSES } from '../db/schema/bookings.ts';

export const CreateBookingBody = Type.Object(
  {
    roomTypeId: Id,
    checkIn: IsoDate,
    checkOut: IsoDate,
    guests: Type.Integer({ minimum: 1, maximum: 20 }),
  },
  { additionalProperties: false },
);
export type CreateBookingBody = Static<typeof CreateBookingBody>;

/** POST /api/waitlist/:id/book: the stay and room type are the offer's. */
export const BookOfferBody = Type.Object(
  {
    guests: Type.Optional(
      Type.Integer({ minimum: 1, maximum: 20, description: 'Default: the guests of the waitlist entry' }),
    ),
  },
  { additionalProperties: false },
);
export type BookOfferBody = Static<typeof BookOfferBody>;

const BookingStatus = Type.Union([
  Type.Literal('pending'),
  Type.Literal('confirmed'),
  Type.Literal('cancelled'),
  Type.Literal('completed'),
]);
// Keep the literal list above in step with the table's CHECK constraint.
BOOKING_STATUSES satisfies readonly Static<typeof BookingStatus>[];

export const Booking = Type.Object({
  id: Id,
  status: BookingStatus,
  checkIn: IsoDate,
  checkOut: IsoDate,
  nights: Type.Integer(),
  guests: Type.Integer(),
  totalCents: Money,
  currency: Currency,
  hotel: Type.Object({ id: Id, name: Type.String(), city: Type.String(), timezone: Type.String() }),
  roomType: Type.Object({ id: Id, name: Type.String() }),
  tripId: Type.Union([Id, Type.Null()]),
  payment: Type.Union([
    Type.Object({ provider: Type.String(), status: Type.String(), amountCents: Money }),
    Type.Null(),
  ]),
  createdAt: Type.String({ format: 'date-time' }),
  cancelledAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
});
export type Booking = Static<typeof Booking>;

export const MyBookingsQuery = Type.Object(
  { status: Type.Optional(BookingStatus), page: Page, limit: Limit },
  { additionalProperties: false },
);
export type MyBookingsQuery = Static<typeof MyBookingsQuery>;

export const BookingPage = Paged(Booking);
export type BookingPage = Static<typeof BookingPage>;
