import { AppError, type AppErrorOptions, type CatalogEntry } from '../platform/errors/index.ts';

/**
 * The booking domain's error catalogue (the platform's generic codes live in platform/errors).
 * Every code is listed in the README's error table.
 */
export const DomainErrors = {
  INVALID_STAY: { code: 'E_INVALID_STAY', status: 422, message: 'checkOut must be after checkIn' },
  STAY_TOO_LONG: { code: 'E_STAY_TOO_LONG', status: 422, message: 'A stay is at most 30 nights' },
  DATE_IN_PAST: { code: 'E_DATE_IN_PAST', status: 422, message: 'checkIn is in the past for this hotel' },
  INVALID_RANGE: { code: 'E_INVALID_RANGE', status: 422, message: 'to must not be before from' },
  DATE_RANGE_TOO_LONG: { code: 'E_DATE_RANGE_TOO_LONG', status: 422, message: 'The date range is too long' },
  CAPACITY_EXCEEDED: {
    code: 'E_CAPACITY_EXCEEDED',
    status: 422,
    message: 'The room type does not take that many guests',
  },
  SOLD_OUT: { code: 'E_SOLD_OUT', status: 409, message: 'No room of this type is free for every night' },
  NOT_CANCELLABLE: {
    code: 'E_BOOKING_NOT_CANCELLABLE',
    status: 409,
    message: 'Only confirmed or pending bookings can be cancelled',
  },
  IDEMPOTENCY_KEY_REQUIRED: {
    code: 'E_IDEMPOTENCY_KEY_REQUIRED',
    status: 400,
    message: 'This request needs an Idempotency-Key header (1-255 printable characters)',
  },
  IDEMPOTENCY_MISMATCH: {
    code: 'E_IDEMPOTENCY_MISMATCH',
    status: 422,
    message: 'This Idempotency-Key was used with different request parameters',
  },
  IDEMPOTENCY_IN_PROGRESS: {
    code: 'E_IDEMPOTENCY_IN_PROGRESS',
    status: 409,
    message: 'A request with this Idempotency-Key is still being processed',
  },
  EMAIL_TAKEN: { code: 'E_EMAIL_TAKEN', status: 409, message: 'An account with this e-mail already exists' },
  INVALID_CREDENTIALS: { code: 'E_INVALID_CREDENTIALS', status: 401, message: 'Wrong e-mail or password' },
  INVALID_TOKEN: { code: 'E_INVALID_TOKEN', status: 401, message: 'The access token is invalid or expired' },
  INVALID_REFRESH_TOKEN: {
    code: 'E_INVALID_REFRESH_TOKEN',
    status: 401,
    message: 'The refresh token is invalid, expired or revoked',
  },
  REFRESH_TOKEN_REUSED: {
    code: 'E_REFRESH_TOKEN_REUSED',
    status: 401,
    message: 'This refresh token was already used; every session of its family has been revoked',
  },
  TOO_MANY_ATTEMPTS: {
    code: 'E_TOO_MANY_ATTEMPTS',
    status: 429,
    message: 'Too many failed logins; wait and retry',
  },
  ALREADY_REVIEWED: {
    code: 'E_ALREADY_REVIEWED',
    status: 409,
    message: 'You have already reviewed this hotel',
  },
  REVIEW_NOT_ALLOWED: {
    code: 'E_REVIEW_NOT_ALLOWED',
    status: 403,
    message: 'Only guests who have stayed at this hotel can review it',
  },
  ALREADY_WAITLISTED: {
    code: 'E_ALREADY_WAITLISTED',
    status: 409,
    message: 'You are already on the waitlist for this room type and these dates',
  },
  ROOMS_AVAILABLE: {
    code: 'E_ROOMS_AVAILABLE',
    status: 409,
    message: 'A room of this type is free for every night of the stay: book it instead',
  },
  EXPORT_NOT_READY: {
    code: 'E_EXPORT_NOT_READY',
    status: 409,
    message: 'The data export is not completed: poll its status until it is',
  },
  EXPORT_EXPIRED: {
    code: 'E_EXPORT_EXPIRED',
    status: 410,
    message: 'The data export has expired: request a new one',
  },
  OFFER_UNAVAILABLE: {
    code: 'E_OFFER_UNAVAILABLE',
    status: 409,
    message:
      'This waitlist entry has no offer that can be booked now (not offered yet, expired, booked or cancelled)',
  },
} as const satisfies Record<string, CatalogEntry>;

export type DomainErrorName = keyof typeof DomainErrors;

/** A domain error, which knows its catalogue entry: match it with `isDomainError`, never by its code text. */
export class DomainError extends AppError {
  readonly kind: DomainErrorName;
  constructor(kind: DomainErrorName, message?: string, options?: AppErrorOptions) {
    const entry: CatalogEntry = DomainErrors[kind];
    super(entry.code, entry.status, message ?? entry.message, options);
    this.name = 'DomainError';
    this.kind = kind;
  }
}

export function domainError(name: DomainErrorName, message?: string, options?: AppErrorOptions): DomainError {
  return new DomainError(name, message, options);
}

/** True when `err` is the domain error `kind` (e.g. `isDomainError(err, 'SOLD_OUT')`). */
export function isDomainError(err: unknown, kind: DomainErrorName): err is DomainError {
  return err instanceof DomainError && err.kind === kind;
}
