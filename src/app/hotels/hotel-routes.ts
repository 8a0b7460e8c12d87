import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { HotelService } from './hotel-service.ts';
import { HotelSearchQuery, HotelSearchResponse } from './search-schema.ts';

export interface HotelRoutesOptions {
  readonly hotels: HotelService;
}

/** Mounted at /api/hotels. */
export const hotelRoutes: FastifyPluginAsyncTypebox<HotelRoutesOptions> = async (app, { hotels }) => {
  app.get(
    '/search',
    {
      schema: {
        summary: 'Search hotels, each with its 3 cheapest room types',
        querystring: HotelSearchQuery,
        response: { 200: HotelSearchResponse },
      },
    },
    async (request) => hotels.search(request.query),
  );
};
