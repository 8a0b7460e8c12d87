import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { IdParams } from '../../src/app/common/schemas.ts';
import { ReviewListQuery, ReviewPage, type ReviewSort } from '../../src/app/reviews/review-schema.ts';
import type { Database } from '../../src/platform/db/index.ts';
import { appError } from '../../src/platform/errors/index.ts';
import { all, Records, type ReviewRow } from './records.ts';

// The same orders and tie-breakers as the real list.
const ORDER_BY: Record<ReviewSort, string> = {
  newest: 'created_at DESC, id DESC',
  highest: 'rating DESC, created_at DESC, id DESC',
  lowest: 'rating ASC, created_at DESC, id DESC',
};

/** A page of reviews (`findAll({ order, limit, offset })`), then each review's author loaded lazily (N+1). */
export const naiveReviewRoutes: FastifyPluginAsyncTypebox<{ db: Database }> = async (app, { db }) => {
  app.get(
    '/hotels/:id/reviews',
    { schema: { params: IdParams, querystring: ReviewListQuery, response: { 200: ReviewPage } } },
    async (request) => {
      const { id } = request.params;
      const { page, limit, sort } = request.query;
      const records = new Records(db.pool);
      const hotel = await records.hotel(id);
      if (!hotel?.is_active) throw appError('NOT_FOUND', `Hotel ${id} not found`);
      const reviews = await all<ReviewRow>(
        db.pool,
        `SELECT * FROM reviews WHERE entity_type = 'hotel' AND entity_id = $1
         ORDER BY ${ORDER_BY[sort]} LIMIT $2 OFFSET $3`,
        [id, limit + 1, (page - 1) * limit],
      );
      const data = [];
      for (const r of reviews.slice(0, limit)) {
        const author = await records.user(r.user_id);
        data.push({
          id: r.id,
          rating: r.rating,
          title: r.title,
          body: r.body,
          createdAt: r.created_at.toISOString(),
          author: { id: r.user_id, name: author?.name ?? '' },
        });
      }
      return { data, page, limit, hasMore: reviews.length > limit };
    },
  );
};
