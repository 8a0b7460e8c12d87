import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { currentUser } from '../auth/auth-plugin.ts';
import { cacheTags, type DomainCache } from '../common/cache.ts';
import { BEARER, IdParams } from '../common/schemas.ts';
import { CreateReviewBody, Review, ReviewListQuery, ReviewPage } from './review-schema.ts';
import type { ReviewService } from './review-service.ts';

/** Mounted at /api. Reading is anonymous; writing needs an access token. */
export const reviewRoutes: FastifyPluginAsyncTypebox<{ reviews: ReviewService; cache: DomainCache }> = async (
  app,
  { reviews, cache },
) => {
  app.get(
    '/hotels/:id/reviews',
    {
      schema: {
        tags: ['reviews'],
        summary: "A page of a hotel's reviews with their authors",
        params: IdParams,
        querystring: ReviewListQuery,
        response: { 200: ReviewPage },
      },
      config: {
        responseCache: {
          namespace: cache.ns.reviews,
          tags: (request) => [cacheTags.reviews((request.params as { id: number }).id)],
        },
      },
    },
    async (request) => reviews.list(request.params.id, request.query),
  );

  app.post(
    '/hotels/:id/reviews',
    {
      onRequest: app.authenticate,
      schema: {
        tags: ['reviews'],
        summary:
          "Review a hotel you have stayed at (once per user); updates the hotel's rating and review count",
        security: BEARER,
        params: IdParams,
        body: CreateReviewBody,
        response: { 201: Review },
      },
    },
    async (request, reply) => {
      const review = await reviews.create(request.params.id, currentUser(request).id, request.body);
      return reply.code(201).send(review);
    },
  );
};
