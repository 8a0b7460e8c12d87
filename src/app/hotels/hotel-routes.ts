import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { cacheTags, type DomainCache } from '../common/cache.ts';
import { IdParams } from '../common/schemas.ts';
import { HotelDetail, NoQuery } from './detail-schema.ts';
import type { HotelService } from './hotel-service.ts';
import { HotelSearchQuery, HotelSearchResponse } from './search-schema.ts';

export interface HotelRoutesOptions {
  readonly hotels: HotelService;
  readonly cache: DomainCache;
}

/** Mounted at /api. */
export const hotelRoutes: FastifyPluginAsyncTypebox<HotelRoutesOptions> = async (app, { hotels, cache }) => {
  app.get(
    '/hotels/search',
    {
      schema: {
        tags: ['hotels'],
        summary: 'Search hotels, each with its 3 cheapest room types',
        querystring: HotelSearchQuery,
        response: { 200: HotelSearchResponse },
      },
      config: {
        responseCache: {
          namespace: cache.ns.search,
          // A review changes a hotel's rating and review count, which every search showing it prints
          // and the default order sorts on: it drops the searches of its city and those without one.
          tags: (request) => {
            const { city } = request.query as { city?: string };
            return [city?.trim() ? cacheTags.city(city) : cacheTags.anyCity];
          },
        },
      },
    },
    async (request) => hotels.search(request.query),
  );

  // A static segment wins over a parameter in Fastify's router, so /search never reaches this route.
  app.get(
    '/hotels/:id',
    {
      schema: {
        tags: ['hotels'],
        summary: 'A hotel with all its room types (cheapest first) and a summary of its reviews',
        params: IdParams,
        querystring: NoQuery,
        response: { 200: HotelDetail },
      },
      config: {
        responseCache: {
          namespace: cache.ns.hotel,
          tags: (request) => [cacheTags.hotel((request.params as { id: number }).id)],
        },
      },
    },
    async (request) => hotels.detail(request.params.id),
  );
};
