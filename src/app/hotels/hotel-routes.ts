import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { IdParams } from '../common/schemas.ts';
import { HotelDetail, NoQuery } from './detail-schema.ts';
import type { HotelService } from './hotel-service.ts';
import { HotelSearchQuery, HotelSearchResponse } from './search-schema.ts';

export interface HotelRoutesOptions {
  readonly hotels: HotelService;
}

/** Mounted at /api. */
export const hotelRoutes: FastifyPluginAsyncTypebox<HotelRoutesOptions> = async (app, { hotels }) => {
  app.get(
    '/hotels/search',
    {
      schema: {
        tags: ['hotels'],
        summary: 'Search hotels, each with its 3 cheapest room types',
        querystring: HotelSearchQuery,
        response: { 200: HotelSearchResponse },
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
    },
    async (request) => hotels.detail(request.params.id),
  );
};
