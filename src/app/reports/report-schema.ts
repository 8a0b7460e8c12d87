import Type, { type Static } from 'typebox';
import { Currency, Id, IsoDate, Money } from '../common/schemas.ts';

/** Longest range a report covers (days from `from` to `to`). */
export const MAX_REPORT_DAYS = 366;
/** Most rows a bookings report returns; `truncated` says when more groups exist. */
export const MAX_REPORT_ROWS = 1000;

export const REPORT_GROUPS = ['day', 'hotel', 'city'] as const;
export type ReportGroup = (typeof REPORT_GROUPS)[number];

export const BookingsReportQuery = Type.Object(
  {
    from: IsoDate,
    to: IsoDate,
    groupBy: Type.Union(
      REPORT_GROUPS.map((g) => Type.Literal(g)),
      { default: 'day' },
    ),
  },
  { additionalProperties: false },
);
export type BookingsReportQuery = Static<typeof BookingsReportQuery>;

export const BookingsReportRow = Type.Object({
  key: Type.String({ description: 'The check-in date (day), the hotel id (hotel) or the city (city)' }),
  hotelId: Type.Optional(Id),
  hotelName: Type.Optional(Type.String()),
  country: Type.Optional(Type.String({ description: 'groupBy=city: the city’s country' })),
  currency: Currency,
  bookings: Type.Integer({ description: 'Bookings checking in in the range, cancelled ones included' }),
  cancelled: Type.Integer(),
  nights: Type.Integer({ description: 'Room nights of the bookings not cancelled' }),
  revenueCents: Money,
});
export type BookingsReportRow = Static<typeof BookingsReportRow>;

export const BookingsReport = Type.Object({
  from: IsoDate,
  to: IsoDate,
  groupBy: Type.Union(REPORT_GROUPS.map((g) => Type.Literal(g))),
  rows: Type.Array(BookingsReportRow, {
    description: 'One row per group and currency (amounts in different currencies are never added)',
  }),
  truncated: Type.Boolean({ description: `true when more than ${MAX_REPORT_ROWS} rows matched` }),
});
export type BookingsReport = Static<typeof BookingsReport>;

export const OccupancyQuery = Type.Object(
  { hotelId: Id, from: IsoDate, to: IsoDate },
  { additionalProperties: false },
);
export type OccupancyQuery = Static<typeof OccupancyQuery>;

export const OccupancyRow = Type.Object({
  date: IsoDate,
  totalRooms: Type.Integer(),
  bookedRooms: Type.Integer(),
  occupancy: Type.Number({ minimum: 0, maximum: 1, description: 'bookedRooms / totalRooms, 4 decimals' }),
});

export const OccupancyReport = Type.Object({
  hotelId: Id,
  from: IsoDate,
  to: IsoDate,
  rows: Type.Array(OccupancyRow, { description: 'One row per day from `from` to `to`, both included' }),
  average: Type.Number({ description: 'Booked room nights / total room nights over the range, 4 decimals' }),
});
export type OccupancyReport = Static<typeof OccupancyReport>;
