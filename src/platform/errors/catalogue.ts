/**
 * The error catalogue: every error a client can see has a stable code and one HTTP status. Domain
 * modules keep catalogues of their own (CatalogEntry) and subclass AppError for them (DomainError).
 * Below every other platform folder: adapters (db, cache, queue) build these errors, http renders them.
 */
export interface ErrorDetail {
  readonly field?: string;
  readonly message: string;
  readonly [key: string]: unknown;
}

export interface AppErrorOptions {
  readonly details?: readonly ErrorDetail[];
  readonly hint?: string;
  readonly cause?: unknown;
  /** Extra response headers (Retry-After, ...). */
  readonly headers?: Readonly<Record<string, string>>;
}

export class AppError extends Error {
  readonly code: string;
  readonly statusCode: number;
  readonly details: readonly ErrorDetail[] | undefined;
  readonly hint: string | undefined;
  readonly headers: Readonly<Record<string, string>> | undefined;

  constructor(code: string, statusCode: number, message: string, options: AppErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'AppError';
    this.code = code;
    this.statusCode = statusCode;
    this.details = options.details;
    this.hint = options.hint;
    this.headers = options.headers;
  }
}

/** Codes the platform itself produces; documented in the README's error table. */
export const ErrorCodes = {
  VALIDATION: { code: 'E_VALIDATION', status: 400, message: 'The request is invalid' },
  BAD_REQUEST: { code: 'E_BAD_REQUEST', status: 400, message: 'The request is not valid HTTP' },
  BAD_JSON: { code: 'E_BAD_JSON', status: 400, message: 'The request body is not valid JSON' },
  UNAUTHORIZED: { code: 'E_UNAUTHORIZED', status: 401, message: 'Authentication required' },
  FORBIDDEN: { code: 'E_FORBIDDEN', status: 403, message: 'Not allowed' },
  NOT_FOUND: { code: 'E_NOT_FOUND', status: 404, message: 'Not found' },
  ROUTE_NOT_FOUND: { code: 'E_ROUTE_NOT_FOUND', status: 404, message: 'No such route' },
  METHOD_NOT_ALLOWED: { code: 'E_METHOD_NOT_ALLOWED', status: 405, message: 'Method not allowed' },
  CONFLICT: {
    code: 'E_CONFLICT',
    status: 409,
    message: 'The resource already exists or changed concurrently',
  },
  REQUEST_TIMEOUT: {
    code: 'E_REQUEST_TIMEOUT',
    status: 408,
    message: 'The request was not received in time',
  },
  PAYLOAD_TOO_LARGE: { code: 'E_PAYLOAD_TOO_LARGE', status: 413, message: 'The request body is too large' },
  UNSUPPORTED_MEDIA_TYPE: {
    code: 'E_UNSUPPORTED_MEDIA_TYPE',
    status: 415,
    message: 'Unsupported Content-Type',
  },
  HEADERS_TOO_LARGE: {
    code: 'E_HEADERS_TOO_LARGE',
    status: 431,
    message: 'The request headers are too large',
  },
  UNPROCESSABLE: { code: 'E_UNPROCESSABLE', status: 422, message: 'The request cannot be processed' },
  INVALID_REFERENCE: {
    code: 'E_INVALID_REFERENCE',
    status: 422,
    message: 'A referenced resource does not exist',
  },
  RATE_LIMITED: { code: 'E_RATE_LIMITED', status: 429, message: 'Too many requests' },
  INTERNAL: { code: 'E_INTERNAL', status: 500, message: 'Internal server error' },
  UNAVAILABLE: { code: 'E_UNAVAILABLE', status: 503, message: 'Service temporarily unavailable' },
  DB_UNAVAILABLE: { code: 'E_DB_UNAVAILABLE', status: 503, message: 'The database is unavailable' },
  DB_TIMEOUT: { code: 'E_DB_TIMEOUT', status: 503, message: 'The database did not answer in time' },
  DEPENDENCY_UNAVAILABLE: {
    code: 'E_DEPENDENCY_UNAVAILABLE',
    status: 503,
    message: 'A service this request needs is unavailable',
  },
  OVERLOADED: { code: 'E_OVERLOADED', status: 503, message: 'The server is overloaded; retry later' },
  TIMEOUT: { code: 'E_TIMEOUT', status: 504, message: 'The request did not finish within its time budget' },
} as const;

export type ErrorCodeName = keyof typeof ErrorCodes;

/** One entry of an error catalogue: the platform's (below) or a domain's. */
export interface CatalogEntry {
  readonly code: string;
  readonly status: number;
  readonly message: string;
}

/** Builds an error from a catalogue entry; `message` overrides the entry's default text. */
function catalogError(entry: CatalogEntry, message?: string, options?: AppErrorOptions): AppError {
  return new AppError(entry.code, entry.status, message ?? entry.message, options);
}

/**
 * Turns an adapter's own failure (a driver error) into a catalogued error, or undefined when it is not
 * one of its own. Each adapter exports one; the composition root hands them to the HTTP error handler,
 * which knows no driver.
 */
export type ErrorTranslator = (err: unknown) => AppError | undefined;

/** Builds a catalogued platform error; `message` overrides the default text. */
export function appError(name: ErrorCodeName, message?: string, options?: AppErrorOptions): AppError {
  return catalogError(ErrorCodes[name], message, options);
}
