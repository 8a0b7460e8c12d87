import { type AppError, appError } from '../http/errors.ts';
import { isTransientDbError } from './transient.ts';

interface PgErrorLike {
  code?: string;
  severity?: string;
  constraint?: string;
  detail?: string;
  message?: string;
}

/** A PostgreSQL server error (has a SQLSTATE and a severity) or a driver connection error. */
export function isPgError(err: unknown): err is PgErrorLike {
  if (!err || typeof err !== 'object') return false;
  const e = err as PgErrorLike;
  return (
    (typeof e.code === 'string' && /^[0-9A-Z]{5}$/.test(e.code) && typeof e.severity === 'string') ||
    isTransientDbError(err)
  );
}

/**
 * Maps a PostgreSQL error to a catalogued AppError. Constraint names are reported, values are not
 * (a unique violation's DETAIL holds the conflicting value, which may be personal data).
 */
export function translatePgError(err: unknown): AppError | undefined {
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
}
