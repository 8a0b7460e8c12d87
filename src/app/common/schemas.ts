import Type, { type Static } from 'typebox';
import { ErrorBodySchema } from '../../platform/http/index.ts';

/** A row id: PostgreSQL `integer`, so anything above 2^31-1 is a 400, not a 500 from the driver. */
export const Id = Type.Integer({ minimum: 1, maximum: 2_147_483_647 });

/** A calendar date (`YYYY-MM-DD`, a real day: 2026-02-30 is rejected). Nights are hotel-local. */
export const IsoDate = Type.String({
  format: 'date',
  // Years 1900-2999: a booking system has no use for year 1 or 9999, and date arithmetic stays in range.
  pattern: '^(19|2\\d)\\d{2}-\\d{2}-\\d{2}$',
  // The document gives the end of a range (checkOut, to, endDate) an example 3 days later.
  examples: ['2027-06-14'],
});

export const IdParams = Type.Object({ id: Id }, { additionalProperties: false });
export type IdParams = Static<typeof IdParams>;

export const Page = Type.Integer({ minimum: 1, maximum: 1000, default: 1 });
export const Limit = Type.Integer({ minimum: 1, maximum: 100, default: 20 });

export const Money = Type.Integer({ description: 'Amount in the currency’s minor unit (cents)' });
export const Currency = Type.String({ minLength: 3, maxLength: 3 });

/** For OpenAPI: routes that need `Authorization: Bearer <access token>`. */
export const BEARER = [{ bearerAuth: [] }];

/** A `{ data, page, limit, hasMore }` page of `item`. */
export function Paged<T extends Parameters<typeof Type.Array>[0]>(item: T) {
  return Type.Object({
    data: Type.Array(item),
    page: Type.Integer(),
    limit: Type.Integer(),
    hasMore: Type.Boolean(),
  });
}

/** The standard error body (platform/http/error-body.ts), for route schemas and the OpenAPI document. */
export const ErrorResponse = ErrorBodySchema;
