import Type from 'typebox';
import { PublicUser, Session } from '../auth/auth-schema.ts';
import {
  BatchAvailabilityResponse,
  HotelAvailability,
  RoomTypeAvailability,
} from '../availability/availability-schema.ts';
import { Booking, BookingPage } from '../bookings/booking-schema.ts';
import { ErrorResponse } from '../common/schemas.ts';
import { HotelDetail } from '../hotels/detail-schema.ts';
import { HotelSearchItem, HotelSearchResponse } from '../hotels/search-schema.ts';
import { PriceHistory } from '../pricing/price-history-schema.ts';
import { BookingsReport, OccupancyReport } from '../reports/report-schema.ts';
import { Review, ReviewPage } from '../reviews/review-schema.ts';
import { Trip, TripPage } from '../trips/trip-schema.ts';
import { Dashboard } from '../users/dashboard-schema.ts';
import { WaitlistEntry, WaitlistPage } from '../waitlist/waitlist-schema.ts';

/**
 * Names a schema that the finished document keeps once, under components.schemas, and references with
 * `$ref` everywhere it occurs. Set by route-transform.ts on copies made for the document only (the routes'
 * own schemas, which validate and serialize, stay as they are), removed by document-transform.ts.
 */
export const COMPONENT = 'x-innkeep-component';

/** The component every 4xx and 5xx response of the document references. */
export const ERROR_COMPONENT = 'Error';

/**
 * The standard error body as documented: `ErrorResponse` (common/schemas.ts) and what only some answers
 * carry. ErrorResponse itself stays lenient because a route may serialize errors with it.
 */
export const ErrorBody = Type.Object(
  {
    ...ErrorResponse.properties,
    error: Type.String({ description: 'The HTTP status text, e.g. "Conflict"' }),
    message: Type.String({ description: 'For people; may change between versions' }),
    statusCode: Type.Integer({ description: 'The HTTP status of the response' }),
    code: Type.String({ description: 'Stable and machine-readable, e.g. E_SOLD_OUT; the README lists them' }),
    timestamp: Type.String({ format: 'date-time' }),
    path: Type.String({ description: 'The request path and query' }),
    requestId: Type.String({ description: 'Also in the x-request-id header and in every log line' }),
    traceId: Type.Optional(
      Type.String({
        pattern: '^[0-9a-f]{32}$',
        description:
          'Only when the server traces (OpenTelemetry): the W3C trace id of the request, also in the x-trace-id header and in its log lines',
      }),
    ),
    details: Type.Optional(
      Type.Array(
        Type.Object(
          {
            field: Type.Optional(Type.String({ description: 'e.g. "checkOut" or "items.0.checkIn"' })),
            message: Type.String(),
          },
          { additionalProperties: true },
        ),
        { description: 'What was wrong, one entry per problem; some codes add keys (e.g. `date`, `in`)' },
      ),
    ),
    hint: Type.Optional(Type.String({ description: 'What to do about it' })),
    stack: Type.Optional(Type.String({ description: 'Only with NODE_ENV=development, on 5xx' })),
  },
  { description: 'The one body every error has' },
);

/**
 * Response schemas that become named components, so generated clients get `components['schemas'][name]`.
 * Matched by content: an inline schema equal to one of these is the component.
 */
export const RESPONSE_COMPONENTS = {
  PublicUser,
  Session,
  HotelSearchItem,
  HotelSearchPage: HotelSearchResponse,
  HotelDetail,
  RoomTypeAvailability,
  HotelAvailability,
  BatchAvailability: BatchAvailabilityResponse,
  PriceHistory,
  Review,
  ReviewPage,
  Booking,
  BookingPage,
  WaitlistEntry,
  WaitlistPage,
  Trip,
  TripPage,
  Dashboard,
  BookingsReport,
  OccupancyReport,
} as const;
