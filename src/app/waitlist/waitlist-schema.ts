import Type, { type Static } from 'typebox';
import { Id, IsoDate, Limit, Page, Paged } from '../common/schemas.ts';

export const WAITLIST_STATUSES = ['waiting', 'offered', 'booked', 'expired', 'cancelled'] as const;
export type WaitlistStatus = (typeof WAITLIST_STATUSES)[number];
/** Entries that still hold a place in the queue (at most one per user, room type and stay). */
export const ACTIVE_WAITLIST_STATUSES = ['waiting', 'offered'] as const;

export const WaitlistStatusSchema = Type.Union(WAITLIST_STATUSES.map((s) => Type.Literal(s)));

export const JoinWaitlistBody = Type.Object(
  {
    roomTypeId: Id,
    checkIn: IsoDate,
    checkOut: IsoDate,
    guests: Type.Integer({ minimum: 1, maximum: 20, default: 1 }),
  },
  { additionalProperties: false },
);
export type JoinWaitlistBody = Static<typeof JoinWaitlistBody>;

export const WaitlistEntry = Type.Object({
  id: Id,
  roomTypeId: Id,
  hotelId: Id,
  hotelName: Type.String(),
  roomTypeName: Type.String(),
  checkIn: IsoDate,
  checkOut: IsoDate,
  guests: Type.Integer(),
  status: WaitlistStatusSchema,
  offeredAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  offerExpiresAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()], {
    description:
      'When the offer lapses: while the entry is offered, a room is held for the caller until then (book it with POST /api/waitlist/{id}/book)',
  }),
  createdAt: Type.String({ format: 'date-time' }),
});
export type WaitlistEntry = Static<typeof WaitlistEntry>;

export const MyWaitlistQuery = Type.Object(
  { status: Type.Optional(WaitlistStatusSchema), page: Page, limit: Limit },
  { additionalProperties: false },
);
export type MyWaitlistQuery = Static<typeof MyWaitlistQuery>;

export const WaitlistPage = Paged(WaitlistEntry);
export type WaitlistPage = Static<typeof WaitlistPage>;
