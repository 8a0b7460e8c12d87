import { appError, type ErrorTranslator } from '../errors/index.ts';
import { isTransientDbError } from './transient.ts';

interface PgErrorLike {
  code?: string;
  severity?: string;
  constraint?: string;
  detail?: string;
  message?: string;
}

/** A PostgreSQL server error (has a SQLSTATE and a severity) or a driver connection error. */
function isPgError(err: unknown): err is PgErrorLike {
  if (!err || typeof err !== 'object') return false;
  const e = err as PgErrorLike;
  return (
    (typeof e.code === 'string' && /^[0-9A-Z]{5}$/.test(e.code) && typeof e.severity === 'string') ||
    isTransientDbError(err)
  );
}

/**
 * True when `err` is PostgreSQL's unique violation (23505), of `constraint` when one is named: how app
 * code tells "already exists" from other failures without knowing SQLSTATEs.
 */
export function isUniqueViolation(err: unknown, constraint?: string): boolean {
  return (
    isPgError(err) && err.code === '23505' && (constraint === undefined || err.constraint === constraint)
  );
}

/**
 * Maps a PostgreSQL error to a catalogued AppError (an ErrorTranslator for the HTTP error handler). Constraint names are reported, values are not
 * (a unique violation's DETAIL holds the conflicting value, which may be personal data).
 */
export const translatePgError: ErrorTranslator = (err) => {
  if (!isPgError(err)) return undefined;
  const constraint = err.constraint
    ? [{ message: `constraint ${err.constraint}`, constraint: err.constraint }]
    : undefined;
  switch (err.code) {
    case '23505':
      return appError('CONFLICT', 'A resource with the same unique value already exists', {
        details: constraint,
        cause: err,
      });
    case '23503':
      return appError('INVALID_REFERENCE', undefined, { details: constraint, cause: err });
    case '23514':
    case '23502':
    case '23P01':
      return appError('UNPROCESSABLE', 'The request violates a data rule', {
        details: constraint,
        cause: err,
      });
    case '22P02':
    case '22021': // a NUL byte or invalid UTF-8 in text: PostgreSQL text cannot hold it
    case '22P05':
    case '22001':
    case '22003':
    case '22007':
    case '22008':
      return appError('VALIDATION', 'A value has the wrong format or is out of range', { cause: err });
    case '40001':
    case '40P01':
      return appError('CONFLICT', 'The request conflicted with a concurrent change; retry it', {
        cause: err,
        headers: { 'retry-after': '1' },
      });
    case '57014':
      return appError('DB_TIMEOUT', undefined, { cause: err, headers: { 'retry-after': '1' } });
    default:
      if (isTransientDbError(err)) {
        return appError('DB_UNAVAILABLE', undefined, { cause: err, headers: { 'retry-after': '2' } });
      }
      return undefined;
  }
};
