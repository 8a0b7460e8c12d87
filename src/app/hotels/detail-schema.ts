import Type, { type Static } from 'typebox';
import { Id } from '../common/schemas.ts';

export const RoomTypeDetail = Type.Object({
  id: Id,
  name: Type.String(),
  description: Type.String(),
  capacity: Type.Integer(),
  basePriceCents: Type.Integer(),
  totalRooms: Type.Integer(),
  amenities: Type.Array(Type.String()),
});

export const RatingSummary = Type.Object({
  average: Type.Union([Type.Number(), Type.Null()], {
    description: 'Mean of the reviews, 2 decimals; null when there is none',
  }),
  count: Type.Integer(),
  distribution: Type.Object(
    {
      '1': Type.Integer(),
      '2': Type.Integer(),
      '3': Type.Integer(),
      '4': Type.Integer(),
      '5': Type.Integer(),
    },
    { description: 'Number of reviews per star rating' },
  ),
});

export const HotelDetail = Type.Object({
  id: Id,
  name: Type.String(),
  description: Type.String(),
  address: Type.String(),
  city: Type.String(),
  country: Type.String(),
  timezone: Type.String({ description: 'IANA zone; nights are calendar dates in it' }),
  currency: Type.String(),
  stars: Type.Integer(),
  rating: Type.Number(),
  reviewCount: Type.Integer(),
  lat: Type.Union([Type.Number(), Type.Null()]),
  lng: Type.Union([Type.Number(), Type.Null()]),
  amenities: Type.Array(Type.String()),
  minPriceCents: Type.Union([Type.Integer(), Type.Null()]),
  createdAt: Type.String({ format: 'date-time' }),
  updatedAt: Type.String({ format: 'date-time' }),
  roomTypes: Type.Array(RoomTypeDetail, { description: 'Every room type, cheapest first' }),
  ratingSummary: RatingSummary,
});
export type HotelDetail = Static<typeof HotelDetail>;

/** The detail route takes no query parameters: an unknown one is a 400, not silently ignored. */
export const NoQuery = Type.Object({}, { additionalProperties: false });
