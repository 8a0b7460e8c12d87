import Type, { type Static } from 'typebox';
import { Id, IsoDate } from '../common/schemas.ts';

export const MAX_BATCH_ITEMS = 100;

const Guests = Type.Integer({ minimum: 1, maximum: 20, default: 1 });

export const HotelAvailabilityQuery = Type.Object(
  {
    checkIn: IsoDate,
    checkOut: IsoDate,
    guests: Guests,
  },
  { additionalProperties: false },
);
export type HotelAvailabilityQuery = Static<typeof HotelAvailabilityQuery>;

const Night = Type.Object({
  date: IsoDate,
  priceCents: Type.Union([Type.Integer(), Type.Null()], { description: 'null: no inventory that night' }),
  availableRooms: Type.Union([Type.Integer(), Type.Null()], {
    description: 'null: no inventory that night',
  }),
});

export const RoomTypeAvailability = Type.Object({
  roomTypeId: Id,
  name: Type.String(),
  capacity: Type.Integer(),
  fitsGuests: Type.Boolean({ description: 'capacity >= guests' }),
  available: Type.Boolean({ description: 'Fits the guests and a room is free every night of the stay' }),
  roomsLeft: Type.Integer({
    description: 'Fewest free rooms over the nights; 0 if a night has no inventory',
  }),
  nights: Type.Array(Night, { description: 'Every night of the stay, in order' }),
  totalCents: Type.Union([Type.Integer(), Type.Null()], {
    description: 'Sum of the nightly prices; null if a night has no inventory',
  }),
});
export type RoomTypeAvailability = Static<typeof RoomTypeAvailability>;

export const HotelAvailability = Type.Object({
  hotelId: Id,
  checkIn: IsoDate,
  checkOut: IsoDate,
  guests: Type.Integer(),
  currency: Type.String(),
  roomTypes: Type.Array(RoomTypeAvailability, {
    description: 'Every room type of the hotel, cheapest first',
  }),
});
export type HotelAvailability = Static<typeof HotelAvailability>;

export const BatchAvailabilityBody = Type.Object(
  {
    items: Type.Array(
      Type.Object({ roomTypeId: Id, checkIn: IsoDate, checkOut: IsoDate }, { additionalProperties: false }),
      { minItems: 1, maxItems: MAX_BATCH_ITEMS },
    ),
    guests: Guests,
  },
  { additionalProperties: false },
);
export type BatchAvailabilityBody = Static<typeof BatchAvailabilityBody>;

export const BatchAvailabilityItem = Type.Object({
  roomTypeId: Id,
  checkIn: IsoDate,
  checkOut: IsoDate,
  found: Type.Boolean({ description: 'false: no such room type (or its hotel is inactive)' }),
  available: Type.Boolean(),
  roomsLeft: Type.Integer(),
  totalCents: Type.Union([Type.Integer(), Type.Null()]),
});
export type BatchAvailabilityItem = Static<typeof BatchAvailabilityItem>;

export const BatchAvailabilityResponse = Type.Object({
  data: Type.Array(BatchAvailabilityItem, { description: 'One entry per item, in the request order' }),
});
export type BatchAvailabilityResponse = Static<typeof BatchAvailabilityResponse>;
