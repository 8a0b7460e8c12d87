import { domainError } from '../errors.ts';

export const MAX_NIGHTS = 30;
const DAY_MS = 86_400_000;

/** Days from `from` to `to` (calendar dates, `YYYY-MM-DD`); no time zone can shift the result. */
export function daysBetween(from: string, to: string): number {
  return Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / DAY_MS);
}

export function addDays(date: string, days: number): string {
  return new Date(Date.parse(`${date}T00:00:00Z`) + days * DAY_MS).toISOString().slice(0, 10);
}

/** The nights of a stay: checkIn, ..., checkOut - 1 day. */
export function nightsOf(checkIn: string, checkOut: string): string[] {
  return Array.from({ length: daysBetween(checkIn, checkOut) }, (_, i) => addDays(checkIn, i));
}

/**
 * Checks the parts of a stay that need no hotel: order and length. Returns the number of nights.
 * Whether checkIn is in the past depends on the hotel's time zone: see `assertNotPast`.
 */
export function validateStay(checkIn: string, checkOut: string, field = ''): number {
  const nights = daysBetween(checkIn, checkOut);
  const at = (name: string) => (field ? `${field}.${name}` : name);
  if (nights <= 0) {
    throw domainError('INVALID_STAY', `checkOut (${checkOut}) must be after checkIn (${checkIn})`, {
      details: [{ field: at('checkOut'), message: 'must be after checkIn' }],
    });
  }
  if (nights > MAX_NIGHTS) {
    throw domainError('STAY_TOO_LONG', `A stay is at most ${MAX_NIGHTS} nights; this one has ${nights}`, {
      details: [{ field: at('checkOut'), message: `must be at most ${MAX_NIGHTS} nights after checkIn` }],
    });
  }
  return nights;
}

/** `today` is the hotel-local date, computed by PostgreSQL as `(now() AT TIME ZONE h.timezone)::date`. */
export function assertNotPast(checkIn: string, today: string, field = 'checkIn'): void {
  if (checkIn < today) {
    throw domainError('DATE_IN_PAST', `checkIn ${checkIn} is before today (${today}) at the hotel`, {
      details: [{ field, message: `must be ${today} or later` }],
    });
  }
}

/** For reports and history queries: `to` not before `from`, and at most `maxDays` apart. */
export function validateRange(from: string, to: string, maxDays: number): void {
  const days = daysBetween(from, to);
  if (days < 0) {
    throw domainError('INVALID_RANGE', `to (${to}) must not be before from (${from})`, {
      details: [{ field: 'to', message: 'must not be before from' }],
    });
  }
  if (days > maxDays) {
    throw domainError('DATE_RANGE_TOO_LONG', `The range may span at most ${maxDays} days`, {
      details: [{ field: 'to', message: `must be at most ${maxDays} days after from` }],
    });
  }
}
