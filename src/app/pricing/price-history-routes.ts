import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { IdParams } from '../common/schemas.ts';
import { PriceHistory, PriceHistoryQuery } from './price-history-schema.ts';
import type { PriceHistoryService } from './price-history-service.ts';

/** Mounted at /api. Anonymous. */
export const priceHistoryRoutes: FastifyPluginAsyncTypebox<{ prices: PriceHistoryService }> = async (
  app,
  { prices },
) => {
  app.get(
    '/hotels/:id/price-history',
    {
      schema: {
        tags: ['hotels'],
        summary: 'Prices recorded for one room type of the hotel, newest first',
        description:
          'Base-price snapshots and the nightly prices of bookings, recorded between from and to ' +
          '(UTC days, both included). Defaults: to = today (UTC), from = to - 90 days; at most 366 days.',
        params: IdParams,
        querystring: PriceHistoryQuery,
        response: { 200: PriceHistory },
      },
    },
    async (request) => prices.forRoomType(request.params.id, request.query),
  );
};
