import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { msUntilNextQuarterHour } from '../../platform/cache/index.ts';
import { cacheTags, type DomainCache } from '../common/cache.ts';
import { IdParams } from '../common/schemas.ts';
import { PriceHistory, PriceHistoryQuery } from './price-history-schema.ts';
import type { PriceHistoryService } from './price-history-service.ts';

/** Mounted at /api. Anonymous. */
export const priceHistoryRoutes: FastifyPluginAsyncTypebox<{
  prices: PriceHistoryService;
  cache: DomainCache;
}> = async (app, { prices, cache }) => {
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
      config: {
        responseCache: {
          namespace: cache.ns.prices,
          tags: (request) => [cacheTags.prices((request.params as { id: number }).id)],
          maxTtlMs: () => msUntilNextQuarterHour(),
        },
      },
    },
    async (request) => prices.forRoomType(request.params.id, request.query),
  );
};
