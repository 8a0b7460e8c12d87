import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { msUntilNextQuarterHour } from '../../platform/cache/index.ts';
import { cacheTags, type DomainCache } from '../common/cache.ts';
import { IdParams } from '../common/schemas.ts';
import {
  BatchAvailabilityBody,
  BatchAvailabilityResponse,
  HotelAvailability,
  HotelAvailabilityQuery,
} from './availability-schema.ts';
import type { AvailabilityService } from './availability-service.ts';

/** Mounted at /api. Anonymous. */
export const availabilityRoutes: FastifyPluginAsyncTypebox<{
  availability: AvailabilityService;
  cache: DomainCache;
}> = async (app, { availability, cache }) => {
  app.get(
    '/hotels/:id/availability',
    {
      schema: {
        tags: ['availability'],
        summary: 'Every room type of a hotel for one stay: nightly prices, rooms left, total',
        params: IdParams,
        querystring: HotelAvailabilityQuery,
        response: { 200: HotelAvailability },
      },
      config: {
        responseCache: {
          namespace: cache.ns.availability,
          tags: (request) => [cacheTags.availability((request.params as { id: number }).id)],
          maxTtlMs: () => msUntilNextQuarterHour(),
        },
      },
    },
    async (request) => availability.forHotel(request.params.id, request.query),
  );

  app.post(
    '/availability/batch',
    {
      schema: {
        tags: ['availability'],
        summary: 'Availability of up to 100 (room type, stay) pairs in one query',
        body: BatchAvailabilityBody,
        response: { 200: BatchAvailabilityResponse },
      },
    },
    async (request) => availability.batch(request.body),
  );
};
