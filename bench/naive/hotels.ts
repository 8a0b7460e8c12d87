import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { IdParams } from '../../src/app/common/schemas.ts';
import { HotelDetail, NoQuery } from '../../src/app/hotels/detail-schema.ts';
import {
  HotelSearchQuery,
  HotelSearchResponse,
  MAX_SEARCH_WINDOW,
} from '../../src/app/hotels/search-schema.ts';
import type { Database } from '../../src/platform/db/index.ts';
import { appError } from '../../src/platform/errors/index.ts';
import { all, type HotelRow, Records, type ReviewRow, type RoomTypeRow, roundRatio } from './records.ts';

// The same orders and tie-breakers as the real search.
const ORDER_BY = {
  rating: 'rating DESC, review_count DESC, id',
  price: 'min_price_cents ASC NULLS LAST, id',
  stars: 'stars DESC, rating DESC, id',
  relevance: "ts_rank_cd(search_vector, websearch_to_tsquery('english', $1)) DESC, rating DESC, id",
} as const;

/**
 * Hotel search and detail the ORM way: `Hotel.findAll({ where, order, limit })`, then each hotel's
 * room types loaded lazily (N+1); the detail's rating summary is computed from every review in JS.
 */
export const naiveHotelRoutes: FastifyPluginAsyncTypebox<{ db: Database }> = async (app, { db }) => {
  app.get(
    '/search',
    { schema: { querystring: HotelSearchQuery, response: { 200: HotelSearchResponse } } },
    async (request) => {
      const q = request.query;
      const { page, limit } = q;
      const offset = (page - 1) * limit;
      if (offset + limit > MAX_SEARCH_WINDOW) {
        throw appError(
          'VALIDATION',
          `page x limit must not exceed ${MAX_SEARCH_WINDOW}; narrow the search instead`,
          { details: [{ field: 'page', message: `page x limit must be <= ${MAX_SEARCH_WINDOW}` }] },
        );
      }
      const text = q.q?.trim() || undefined;
      const name = q.name?.trim() || undefined;
      const city = q.city?.trim();
      // $1 is the full-text query when there is one: the relevance order refers to it.
      const values: unknown[] = [];
      const where = ['is_active'];
      if (text !== undefined) {
        values.push(text);
        where.push(`search_vector @@ websearch_to_tsquery('english', $${values.length})`);
      }
      if (city !== undefined) {
        values.push(city);
        where.push(`lower(city) = lower($${values.length})`);
      }
      if (q.stars !== undefined) {
        values.push(q.stars);
        where.push(`stars >= $${values.length}`);
      }
      if (q.minRating !== undefined) {
        values.push(q.minRating);
        where.push(`rating >= $${values.length}`);
      }
      if (name !== undefined) {
        values.push(`${name.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`);
        where.push(`lower(name) LIKE $${values.length}`);
      }
      const requested = q.sort ?? (q.q ? 'relevance' : 'rating');
      const sort = requested === 'relevance' && text === undefined ? 'rating' : requested;
      values.push(limit + 1, offset);
      const hotels = await all<HotelRow>(
        db.pool,
        `SELECT * FROM hotels WHERE ${where.join(' AND ')} ORDER BY ${ORDER_BY[sort]}
         LIMIT $${values.length - 1} OFFSET $${values.length}`,
        values,
      );
      const data = [];
      for (const h of hotels.slice(0, limit)) {
        // N+1: the three cheapest room types of each hotel, one query per hotel.
        const rooms = await all<RoomTypeRow>(
          db.pool,
          'SELECT * FROM room_types WHERE hotel_id = $1 ORDER BY base_price_cents, id LIMIT 3',
          [h.id],
        );
        data.push({
          id: h.id,
          name: h.name,
          city: h.city,
          country: h.country,
          stars: h.stars,
          rating: h.rating,
          reviewCount: h.review_count,
          lat: h.lat,
          lng: h.lng,
          amenities: h.amenities,
          currency: h.currency,
          minPriceCents: h.min_price_cents,
          cheapestRooms: rooms.map((rt) => ({
            id: rt.id,
            name: rt.name,
            capacity: rt.capacity,
            basePriceCents: rt.base_price_cents,
          })),
        });
      }
      return { data, page, limit, hasMore: hotels.length > limit };
    },
  );

  app.get(
    '/:id',
    { schema: { params: IdParams, querystring: NoQuery, response: { 200: HotelDetail } } },
    async (request) => {
      const { id } = request.params;
      const hotel = await new Records(db.pool).hotel(id);
      if (!hotel?.is_active) throw appError('NOT_FOUND', `Hotel ${id} not found`);
      const roomTypes = await all<RoomTypeRow>(
        db.pool,
        'SELECT * FROM room_types WHERE hotel_id = $1 ORDER BY base_price_cents, id',
        [id],
      );
      // Every review of the hotel, summarised in JavaScript.
      const reviews = await all<ReviewRow>(
        db.pool,
        "SELECT * FROM reviews WHERE entity_type = 'hotel' AND entity_id = $1",
        [id],
      );
      const distribution = { '1': 0, '2': 0, '3': 0, '4': 0, '5': 0 };
      let total = 0;
      for (const r of reviews) {
        total += r.rating;
        const star = String(r.rating) as keyof typeof distribution;
        distribution[star] += 1;
      }
      return {
        id: hotel.id,
        name: hotel.name,
        description: hotel.description,
        address: hotel.address,
        city: hotel.city,
        country: hotel.country,
        timezone: hotel.timezone,
        currency: hotel.currency,
        stars: hotel.stars,
        rating: hotel.rating,
        reviewCount: hotel.review_count,
        lat: hotel.lat,
        lng: hotel.lng,
        amenities: hotel.amenities,
        minPriceCents: hotel.min_price_cents,
        createdAt: hotel.created_at.toISOString(),
        updatedAt: hotel.updated_at.toISOString(),
        roomTypes: roomTypes.map((rt) => ({
          id: rt.id,
          name: rt.name,
          description: rt.description,
          capacity: rt.capacity,
          basePriceCents: rt.base_price_cents,
          totalRooms: rt.total_rooms,
          amenities: rt.amenities,
        })),
        ratingSummary: {
          average: reviews.length > 0 ? roundRatio(total, reviews.length, 2) : null,
          count: reviews.length,
          distribution,
        },
      };
    },
  );
};
