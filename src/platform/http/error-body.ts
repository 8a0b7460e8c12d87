import Type, { type Static } from 'typebox';
import type { ErrorDetail } from '../errors/index.ts';

/**
 * The one error body every endpoint returns, as a schema: the error handler's type, the route
 * schemas that serialize errors, and the OpenAPI document all derive from it.
 */
export const ErrorBodySchema = Type.Object({
  success: Type.Literal(false),
  error: Type.String(),
  message: Type.String(),
  statusCode: Type.Integer(),
  code: Type.String(),
  timestamp: Type.String({ format: 'date-time' }),
  path: Type.String(),
  requestId: Type.String(),
  /** Only when tracing is on: the W3C trace id of the request (also in the `x-trace-id` header). */
  traceId: Type.Optional(Type.String({ pattern: '^[0-9a-f]{32}$' })),
  details: Type.Optional(
    Type.Array(
      Type.Object(
        { field: Type.Optional(Type.String()), message: Type.String() },
        { additionalProperties: true },
      ),
    ),
  ),
  hint: Type.Optional(Type.String()),
  /** Only in development, on 5xx. */
  stack: Type.Optional(Type.String()),
});

/** A detail carries what its error adds (`in`, `date`, `constraint`) beside field and message. */
export type ErrorBody = Omit<Static<typeof ErrorBodySchema>, 'details'> & { details?: ErrorDetail[] };
