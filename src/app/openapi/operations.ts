import { ErrorCodes } from '../../platform/errors/index.ts';
import { DomainErrors } from '../errors.ts';
import { EXPORT_TTL_DAYS } from '../exports/export-schema.ts';
import { IDEMPOTENCY_KEY_FORMAT } from '../idempotency/idempotency-key.ts';

/** Every error a client can see, by catalogue name: the platform's and the booking domain's. */
export const ERROR_CATALOGUE = { ...ErrorCodes, ...DomainErrors };
export type ErrorName = keyof typeof ERROR_CATALOGUE;

/** An error an operation can answer, optionally with what it means there. */
export type ErrorUse = ErrorName | readonly [ErrorName, string];

export interface OperationDoc {
  /** Stable: generated clients name their methods after it. */
  readonly operationId: string;
  /** What the 2xx response is. */
  readonly success: string;
  /**
   * The errors this operation's own code can produce (read from its service). Those every operation
   * of its kind can answer are added by `route-transform.ts`: 400 for any input, 413/415 for a body,
   * 401 for bearer security, 408 for a body, 500 and 503 for all.
   */
  readonly errors?: readonly ErrorUse[];
  /**
   * Headers the route checks itself instead of through its schema, so it can answer with its own error
   * code (E_IDEMPOTENCY_KEY_REQUIRED, not E_VALIDATION): documented as required all the same.
   */
  readonly requiredHeaders?: readonly string[];
  /** The formats of those headers (their route schema accepts any text, for the same reason). */
  readonly headerFormats?: Readonly<Record<string, Readonly<Record<string, unknown>>>>;
  /** Headers of the 2xx response worth a client's attention, with what they carry. */
  readonly successHeaders?: Readonly<Record<string, string>>;
}

const STAY: readonly ErrorUse[] = [
  ['INVALID_STAY', 'checkOut is not after checkIn'],
  ['STAY_TOO_LONG', 'more than 30 nights'],
  ['DATE_IN_PAST', 'checkIn is before today in the hotel’s time zone'],
];
const RANGE: readonly ErrorUse[] = [
  ['INVALID_RANGE', 'to is before from'],
  ['DATE_RANGE_TOO_LONG', 'the range spans more than 366 days'],
];
const NOT_ADMIN: ErrorUse = ['ROUTE_NOT_FOUND', 'the caller is not an admin (admin routes stay unlisted)'];

/**
 * The document's view of each operation, by `METHOD /path` as it appears in the document. A route missing
 * here still gets an operationId and the generic errors, but test/openapi.test.ts asks for an entry.
 */
export const OPERATIONS: Readonly<Record<string, OperationDoc>> = {
  'POST /api/auth/register': {
    operationId: 'register',
    success: 'The new account and its first session',
    errors: [['EMAIL_TAKEN', 'an account with this e-mail exists (case-insensitive)']],
  },
  'POST /api/auth/login': {
    operationId: 'login',
    success: 'A new session',
    errors: [
      'INVALID_CREDENTIALS',
      ['TOO_MANY_ATTEMPTS', 'too many failures for the account or from the address; see Retry-After'],
    ],
  },
  'POST /api/auth/refresh': {
    operationId: 'refreshSession',
    success: 'A new session; the refresh token sent stops working',
    errors: ['INVALID_REFRESH_TOKEN', 'REFRESH_TOKEN_REUSED'],
  },
  'POST /api/auth/logout': {
    operationId: 'logout',
    success: 'The refresh token and every token rotated from it are revoked (unknown tokens too: no error)',
  },
  'GET /api/me': {
    operationId: 'getMe',
    success: 'The logged-in user',
    errors: [['UNAUTHORIZED', 'the account of the token no longer exists']],
  },
  'GET /api/hotels/search': {
    operationId: 'searchHotels',
    success: 'A page of active hotels, each with its 3 cheapest room types',
    errors: [['VALIDATION', 'page × limit is over 10,000']],
  },
  'GET /api/hotels/{id}': {
    operationId: 'getHotel',
    success: 'The hotel with its room types and rating summary',
    errors: [['NOT_FOUND', 'no such active hotel']],
  },
  'GET /api/hotels/{id}/availability': {
    operationId: 'getHotelAvailability',
    success: 'Every room type of the hotel for the stay',
    errors: [['NOT_FOUND', 'no such active hotel'], ...STAY],
  },
  'POST /api/availability/batch': {
    operationId: 'checkAvailabilityBatch',
    success: 'One entry per item, in the request order (unknown room types: found = false)',
    errors: STAY,
  },
  'GET /api/hotels/{id}/reviews': {
    operationId: 'listHotelReviews',
    success: 'A page of the hotel’s reviews',
    errors: [['NOT_FOUND', 'no such active hotel']],
  },
  'POST /api/hotels/{id}/reviews': {
    operationId: 'createHotelReview',
    success: 'The review; the hotel’s rating and review count include it',
    errors: [
      ['NOT_FOUND', 'no such active hotel'],
      ['REVIEW_NOT_ALLOWED', 'the caller has no stay at this hotel that has begun (a non-cancelled booking)'],
      'ALREADY_REVIEWED',
    ],
  },
  'GET /api/hotels/{id}/price-history': {
    operationId: 'getHotelPriceHistory',
    success: 'The prices recorded in the range, newest first',
    errors: [['NOT_FOUND', 'no such room type in this hotel'], ...RANGE],
  },
  'POST /api/bookings': {
    operationId: 'createBooking',
    success:
      'The confirmed booking (Location names it). A repeated Idempotency-Key replays the first answer ' +
      'with Idempotent-Replayed: true.',
    requiredHeaders: ['idempotency-key'],
    headerFormats: { 'idempotency-key': IDEMPOTENCY_KEY_FORMAT },
    successHeaders: {
      Location: 'The booking, /api/bookings/{id}',
      'Idempotent-Replayed': '`true` when this is the stored answer to an earlier request with the same key',
    },
    errors: [
      ['IDEMPOTENCY_KEY_REQUIRED', 'the Idempotency-Key header is missing or not 1-255 printable characters'],
      ['NOT_FOUND', 'no such room type'],
      ['SOLD_OUT', 'a night of the stay is full; details name the nights (replayed for the same key)'],
      ['IDEMPOTENCY_IN_PROGRESS', 'the first request with this key is still running; see Retry-After'],
      ...STAY,
      'CAPACITY_EXCEEDED',
      ['IDEMPOTENCY_MISMATCH', 'this key was used with another body'],
    ],
  },
  'GET /api/bookings/{id}': {
    operationId: 'getBooking',
    success: 'The booking',
    errors: [['NOT_FOUND', 'no such booking of the caller (admins: of anyone)']],
  },
  'POST /api/bookings/{id}/cancel': {
    operationId: 'cancelBooking',
    success: 'The cancelled booking (unchanged if it was already cancelled)',
    errors: [
      ['NOT_FOUND', 'no such booking of the caller'],
      ['NOT_CANCELLABLE', 'the stay has started or is completed'],
    ],
  },
  'GET /api/me/bookings': {
    operationId: 'listMyBookings',
    success: 'A page of the caller’s bookings, newest first',
  },
  'POST /api/waitlist': {
    operationId: 'joinWaitlist',
    success: 'The new waitlist entry',
    errors: [
      ['NOT_FOUND', 'no such room type'],
      ...STAY,
      'CAPACITY_EXCEEDED',
      ['ROOMS_AVAILABLE', 'a room is free on every night of the stay: book it instead'],
      'ALREADY_WAITLISTED',
    ],
  },
  'GET /api/me/waitlist': {
    operationId: 'listMyWaitlist',
    success: 'A page of the caller’s waitlist entries, newest first',
  },
  'DELETE /api/waitlist/{id}': {
    operationId: 'leaveWaitlist',
    success: 'The entry is cancelled (or already was)',
    errors: [
      ['NOT_FOUND', 'no such entry of the caller'],
      ['CONFLICT', 'the entry was booked or has expired'],
    ],
  },
  'POST /api/waitlist/{id}/book': {
    operationId: 'bookWaitlistOffer',
    success: 'The confirmed booking of the room the offer held (Location names it)',
    successHeaders: { Location: 'The booking, /api/bookings/{id}' },
    errors: [
      ['NOT_FOUND', 'no such entry of the caller'],
      [
        'OFFER_UNAVAILABLE',
        'the entry is not offered: not yet, or its offer expired, was booked or cancelled',
      ],
      ['DATE_IN_PAST', 'the stay has started in the hotel’s time zone'],
      'CAPACITY_EXCEEDED',
    ],
  },
  'POST /api/trips': {
    operationId: 'createTrip',
    success: 'The new trip, without bookings',
    errors: [
      ['INVALID_RANGE', 'endDate is before startDate'],
      ['DATE_RANGE_TOO_LONG', 'the trip spans more than 366 days'],
    ],
  },
  'POST /api/trips/{id}/bookings': {
    operationId: 'addBookingToTrip',
    success: 'The trip with its bookings',
    errors: [['NOT_FOUND', 'no such trip or booking of the caller']],
  },
  'GET /api/me/trips': {
    operationId: 'listMyTrips',
    success: 'A page of the caller’s trips with their bookings, newest first',
  },
  'GET /api/me/dashboard': {
    operationId: 'getMyDashboard',
    success: 'The caller’s upcoming bookings, active waitlist entries and latest reviews',
  },
  'POST /api/me/export': {
    operationId: 'requestMyDataExport',
    success:
      'The new queued export, or the one already queued or running (Location names its status); ' +
      'a completed or failed earlier export does not stop a new one',
    successHeaders: { Location: 'The export’s status, /api/me/export/{id}' },
  },
  'GET /api/me/export/{id}': {
    operationId: 'getMyDataExport',
    success: 'The export’s status and progress, with the download link once completed (until it expires)',
    errors: [['NOT_FOUND', 'no such export of the caller']],
  },
  'GET /api/me/export/{id}/download': {
    operationId: 'downloadMyDataExport',
    success: 'The export file (application/json, as an attachment)',
    successHeaders: { 'Content-Disposition': 'attachment; filename="innkeep-export-{id}.json"' },
    errors: [
      ['NOT_FOUND', 'no such export of the caller'],
      ['EXPORT_NOT_READY', 'the export is queued, running or failed'],
      [
        'EXPORT_EXPIRED',
        `the export completed more than ${EXPORT_TTL_DAYS} days ago (its file is no longer served)`,
      ],
    ],
  },
  'GET /api/admin/reports/bookings': {
    operationId: 'getBookingsReport',
    success: 'One row per group and currency',
    errors: [NOT_ADMIN, ...RANGE],
  },
  'GET /api/admin/reports/occupancy': {
    operationId: 'getOccupancyReport',
    success: 'One row per day of the range and the average',
    errors: [NOT_ADMIN, ['NOT_FOUND', 'no such hotel'], ...RANGE],
  },
  'GET /api/metrics': {
    operationId: 'getMetricsJson',
    success: 'Every metric with its series, as prom-client reports them',
    errors: [[NOT_ADMIN[0], `${NOT_ADMIN[1]}; also with METRICS_ENABLED=false`]],
  },
  'GET /api/performance': {
    operationId: 'getPerformanceReport',
    success: 'The live performance report; a section whose source failed says why instead',
    errors: [NOT_ADMIN],
  },
  'GET /health/detailed': {
    operationId: 'getDetailedHealth',
    success: 'The detailed health report, whatever the status (read `status`)',
    errors: [NOT_ADMIN],
  },
  'GET /api/admin/cache/stats': {
    operationId: 'getCacheStats',
    success: 'The cache counters per namespace and in total, and each namespace policy',
    errors: [NOT_ADMIN],
  },
  'GET /api/admin/breakers': {
    operationId: 'listBreakers',
    success: 'Every circuit breaker of this instance with its state, counts and next probe time',
    errors: [NOT_ADMIN],
  },
  'GET /api/admin/queues': {
    operationId: 'listQueues',
    success: 'Every job queue with its counts, oldest waiting job and throughput',
    errors: [NOT_ADMIN],
  },
  'POST /api/admin/queues/{name}/retry': {
    operationId: 'retryFailedJobs',
    success: 'How many failed jobs went back to waiting',
    errors: [NOT_ADMIN, ['VALIDATION', 'a malformed queue name'], ['NOT_FOUND', 'no such queue']],
  },
  'POST /api/admin/queues/{name}/clean': {
    operationId: 'cleanFinishedJobs',
    success: 'How many finished jobs were deleted',
    errors: [
      NOT_ADMIN,
      ['VALIDATION', 'a malformed queue name or olderThanS'],
      ['NOT_FOUND', 'no such queue'],
    ],
  },
  'GET /api/admin/queues/{name}/dead': {
    operationId: 'listDeadLetters',
    success: 'The queue’s dead letters, newest first',
    errors: [
      NOT_ADMIN,
      ['VALIDATION', 'a malformed queue name, limit or before'],
      ['NOT_FOUND', 'no such queue'],
    ],
  },
  'POST /api/admin/queues/{name}/dead/redrive': {
    operationId: 'redriveDeadLetters',
    success: 'The dead letters enqueued again, with their new job ids',
    errors: [
      NOT_ADMIN,
      ['VALIDATION', 'a malformed queue name or ids'],
      ['NOT_FOUND', 'no such queue, or none of the ids is one of its dead letters'],
    ],
  },
  'DELETE /api/admin/queues/{name}/dead/{id}': {
    operationId: 'deleteDeadLetter',
    success: 'The dead letter is gone',
    errors: [
      NOT_ADMIN,
      ['VALIDATION', 'a malformed queue name or id'],
      ['NOT_FOUND', 'no such queue or dead letter'],
    ],
  },
  'POST /api/admin/cache/invalidate': {
    operationId: 'invalidateCache',
    success: 'What was invalidated (on every instance)',
    errors: [
      NOT_ADMIN,
      ['VALIDATION', 'not exactly one of tag, namespace and all, or a malformed one'],
      ['NOT_FOUND', 'no such namespace'],
    ],
  },
};
