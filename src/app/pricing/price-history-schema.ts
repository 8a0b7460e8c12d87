import Type, { type Static } from 'typebox';
import { Id, IsoDate } from '../common/schemas.ts';

export const MAX_HISTORY_DAYS = 366;
export const DEFAULT_HISTORY_DAYS = 90;
/** A busy room type records a price per booked night: page through long ranges instead of one huge answer. */
export const MAX_HISTORY_POINTS = 1000;

export const PriceHistoryQuery = Type.Object(
  {
    roomTypeId: Id,
    from: Type.Optional(IsoDate),
    to: Type.Optional(IsoDate),
    limit: Type.Integer({ minimum: 1, maximum: MAX_HISTORY_POINTS, default: 500 }),
  },
  { additionalProperties: false },
);
export type PriceHistoryQuery = Static<typeof PriceHistoryQuery>;

export const PricePoint = Type.Object({
  priceCents: Type.Integer(),
  stayDate: Type.Union([IsoDate, Type.Null()], {
    description: 'The night a nightly price applies to; null for a base-price snapshot',
  }),
  recordedAt: Type.String({ format: 'date-time' }),
});
export type PricePoint = Static<typeof PricePoint>;

export const PriceHistory = Type.Object({
  roomTypeId: Id,
  currency: Type.String(),
  from: IsoDate,
  to: IsoDate,
  points: Type.Array(PricePoint, { description: 'Newest first' }),
  truncated: Type.Boolean({
    description: 'More points exist in the range than `limit`: narrow `to` to the oldest point to read on',
  }),
});
export type PriceHistory = Static<typeof PriceHistory>;
