import Type, { type Static } from 'typebox';
import { Currency, Id, IsoDate, Money } from '../common/schemas.ts';
import { WaitlistEntry } from '../waitlist/waitlist-schema.ts';

export const DASHBOARD_LIMITS = { upcomingBookings: 10, waitlist: 10, recentReviews: 5 } as const;

const UpcomingBooking = Type.Object({
  id: Id,
  checkIn: IsoDate,
  checkOut: IsoDate,
  guests: Type.Integer(),
  status: Type.Union([Type.Literal('confirmed'), Type.Literal('pending')]),
  totalCents: Money,
  currency: Currency,
  hotel: Type.Object({ id: Id, name: Type.String(), city: Type.String() }),
  roomType: Type.Object({ id: Id, name: Type.String() }),
});

const RecentReview = Type.Object({
  id: Id,
  rating: Type.Integer({ minimum: 1, maximum: 5 }),
  title: Type.String(),
  createdAt: Type.String({ format: 'date-time' }),
  hotel: Type.Object({ id: Id, name: Type.String() }),
});

export const Dashboard = Type.Object({
  upcomingBookings: Type.Array(UpcomingBooking, {
    description: `Confirmed or pending bookings not yet checked out (hotel-local), soonest first; at most ${DASHBOARD_LIMITS.upcomingBookings}`,
  }),
  waitlist: Type.Array(WaitlistEntry, {
    description: `Active (waiting or offered) waitlist entries, soonest check-in first; at most ${DASHBOARD_LIMITS.waitlist}`,
  }),
  recentReviews: Type.Array(RecentReview, {
    description: `My latest reviews; at most ${DASHBOARD_LIMITS.recentReviews}`,
  }),
});
export type Dashboard = Static<typeof Dashboard>;
