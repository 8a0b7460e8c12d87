import type { Database } from '../../platform/db/index.ts';
import { appError } from '../../platform/http/index.ts';
import { domainError } from '../errors.ts';
import { ReviewRepository } from './review-repository.ts';
import type { CreateReviewBody, Review, ReviewListQuery, ReviewPage } from './review-schema.ts';

export class ReviewService {
  readonly #db: Database;
  constructor(db: Database) {
    this.#db = db;
  }

  async list(hotelId: number, query: ReviewListQuery): Promise<ReviewPage> {
    const { page, limit, sort } = query;
    const rows = await this.#db.read((pool) =>
      new ReviewRepository(pool).list(hotelId, sort, limit, (page - 1) * limit),
    );
    if (!rows) throw appError('NOT_FOUND', `Hotel ${hotelId} not found`);
    return { data: rows.slice(0, limit), page, limit, hasMore: rows.length > limit };
  }

  /**
   * The review and the hotel's rating and review count change in one transaction. Checked in this
   * order: the hotel exists (404), the user has stayed there (403), the user has not reviewed it (409).
   */
  async create(hotelId: number, userId: number, body: CreateReviewBody): Promise<Review> {
    return this.#db.transaction(async (client) => {
      const repo = new ReviewRepository(client);
      if (!(await repo.lockHotel(hotelId))) throw appError('NOT_FOUND', `Hotel ${hotelId} not found`);
      const result = await repo.create({
        hotelId,
        userId,
        rating: body.rating,
        title: body.title ?? '',
        body: body.body ?? '',
      });
      if (result.outcome === 'hotel_not_found') throw appError('NOT_FOUND', `Hotel ${hotelId} not found`);
      if (result.outcome === 'no_stay') {
        throw domainError(
          'REVIEW_NOT_ALLOWED',
          `Only guests who have stayed at hotel ${hotelId} can review it`,
          {
            hint: 'A review needs a pending, confirmed or completed booking at this hotel whose check-in date has come (hotel-local); see GET /api/me/bookings',
          },
        );
      }
      if (result.outcome === 'already_reviewed') {
        throw domainError('ALREADY_REVIEWED', `You have already reviewed hotel ${hotelId}`, {
          hint: 'Each user may review a hotel once',
        });
      }
      return result.review;
    });
  }
}
