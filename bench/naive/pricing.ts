import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { IdParams } from '../../src/app/common/schemas.ts';
import { addDays, validateRange } from '../../src/app/common/stay.ts';
import {
  DEFAULT_HISTORY_DAYS,
  MAX_HISTORY_DAYS,
  PriceHistory,
  PriceHistoryQuery,
} from '../../src/app/pricing/price-history-schema.ts';
import type { Database } from '../../src/platform/db/index.ts';
import { appError } from '../../src/platform/errors/index.ts';
import { all, Records, utcToday } from './records.ts';

interface PriceHistoryRow {
  readonly price_cents: number;
  readonly stay_date: string | null;
  readonly created_at: Date;
}

/** The room type and its hotel by primary key, then the prices recorded in the range. */
export const naivePriceHistoryRoutes: FastifyPluginAsyncTypebox<{ db: Database }> = async (app, { db }) => {
  app.get(
    '/hotels/:id/price-history',
    { schema: { params: IdParams, querystring: PriceHistoryQuery, response: { 200: PriceHistory } } },
    async (request) => {
      const hotelId = request.params.id;
      const { roomTypeId, limit } = request.query;
      if (request.query.from !== undefined && request.query.to !== undefined) {
        validateRange(request.query.from, request.query.to, MAX_HISTORY_DAYS);
      }
      const records = new Records(db.pool);
      const roomType = await records.roomType(roomTypeId);
      const hotel = roomType?.hotel_id === hotelId ? await records.hotel(hotelId) : undefined;
      if (!hotel?.is_active) {
        throw appError('NOT_FOUND', `Room type ${roomTypeId} of hotel ${hotelId} not found`);
      }
      // UTC days, both included; the defaults are the real route's.
      const to = request.query.to ?? utcToday();
      const from = request.query.from ?? addDays(to, -DEFAULT_HISTORY_DAYS);
      validateRange(from, to, MAX_HISTORY_DAYS);
      const rows = await all<PriceHistoryRow>(
        db.pool,
        `SELECT * FROM price_history
         WHERE entity_type = 'room_type' AND entity_id = $1 AND created_at >= $2 AND created_at < $3
         ORDER BY created_at DESC, id DESC LIMIT $4`,
        [roomTypeId, `${from}T00:00:00Z`, `${addDays(to, 1)}T00:00:00Z`, limit + 1],
      );
      return {
        roomTypeId,
        currency: hotel.currency,
        from,
        to,
        points: rows.slice(0, limit).map((p) => ({
          priceCents: p.price_cents,
          stayDate: p.stay_date,
          recordedAt: p.created_at.toISOString(),
        })),
        truncated: rows.length > limit,
      };
    },
  );
};
