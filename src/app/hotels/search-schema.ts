import Type, { type Static } from 'typebox';
import { Paged } from '../common/schemas.ts';

export const SEARCH_SORTS = ['rating', 'price', 'stars', 'relevance'] as const;
/** Deep pages cost a scan of everything before them; past this, narrow the search instead. */
export const MAX_SEARCH_WINDOW = 10_000;

export const HotelSearchQuery = Type.Object(
  {
    city: Type.Optional(Type.String({ minLength: 1, maxLength: 100, description: 'City, case-insensitive' })),
    stars: Type.Optional(Type.Integer({ minimum: 1, maximum: 5, description: 'Minimum star class' })),
    minRating: Type.Optional(Type.Number({ minimum: 0, maximum: 5 })),
    q: Type.Optional(
      Type.String({ minLength: 1, maxLength: 200, description: 'Full-text search (web syntax)' }),
    ),
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 100, description: 'Hotel name prefix' })),
    sort: Type.Optional(
      Type.Union(
        SEARCH_SORTS.map((s) => Type.Literal(s)),
        { description: 'Default: relevance when q is given, else rating' },
      ),
    ),
    page: Type.Integer({ minimum: 1, maximum: MAX_SEARCH_WINDOW, default: 1 }),
    limit: Type.Integer({ minimum: 1, maximum: 100, default: 20 }),
  },
  { additionalProperties: false },
);
export type HotelSearchQuery = Static<typeof HotelSearchQuery>;

const RoomSummary = Type.Object({
  id: Type.Integer(),
  name: Type.String(),
  capacity: Type.Integer(),
  basePriceCents: Type.Integer(),
});

export const HotelSearchItem = Type.Object({
  id: Type.Integer(),
  name: Type.String(),
  city: Type.String(),
  country: Type.String(),
  stars: Type.Integer(),
  rating: Type.Number(),
  reviewCount: Type.Integer(),
  lat: Type.Union([Type.Number(), Type.Null()]),
  lng: Type.Union([Type.Number(), Type.Null()]),
  amenities: Type.Array(Type.String()),
  currency: Type.String(),
  minPriceCents: Type.Union([Type.Integer(), Type.Null()]),
  cheapestRooms: Type.Array(RoomSummary, { description: 'Up to 3 cheapest room types' }),
});
export type HotelSearchItem = Static<typeof HotelSearchItem>;

export const HotelSearchResponse = Paged(HotelSearchItem);
export type HotelSearchResponse = Static<typeof HotelSearchResponse>;
