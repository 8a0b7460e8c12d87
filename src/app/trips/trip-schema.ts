import Type, { type Static } from 'typebox';
import { Currency, Id, IsoDate, Limit, Money, Page, Paged } from '../common/schemas.ts';

export const TRIP_STATUSES = ['planned', 'active', 'completed', 'cancelled'] as const;
export const TripStatus = Type.Union(TRIP_STATUSES.map((s) => Type.Literal(s)));

/** A trip may span at most this many days (start to end). */
export const MAX_TRIP_DAYS = 366;

export const CreateTripBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 100, pattern: '\\S', description: 'Not blank' }),
    startDate: Type.Optional(IsoDate),
    endDate: Type.Optional(IsoDate),
  },
  { additionalProperties: false },
);
export type CreateTripBody = Static<typeof CreateTripBody>;

export const AttachBookingBody = Type.Object({ bookingId: Id }, { additionalProperties: false });
export type AttachBookingBody = Static<typeof AttachBookingBody>;

export const TripBooking = Type.Object({
  id: Id,
  hotelName: Type.String(),
  roomTypeName: Type.String(),
  checkIn: IsoDate,
  checkOut: IsoDate,
  status: Type.String(),
  totalCents: Money,
  currency: Currency,
});

export const Trip = Type.Object({
  id: Id,
  name: Type.String(),
  status: TripStatus,
  startDate: Type.Union([IsoDate, Type.Null()]),
  endDate: Type.Union([IsoDate, Type.Null()]),
  createdAt: Type.String({ format: 'date-time' }),
  bookings: Type.Array(TripBooking, { description: 'The trip’s bookings, by check-in' }),
});
export type Trip = Static<typeof Trip>;

export const MyTripsQuery = Type.Object(
  { status: Type.Optional(TripStatus), page: Page, limit: Limit },
  { additionalProperties: false },
);
export type MyTripsQuery = Static<typeof MyTripsQuery>;

export const TripPage = Paged(Trip);
export type TripPage = Static<typeof TripPage>;
