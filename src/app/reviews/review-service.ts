import type { Database, RepositoryFactory } from '../../platform/db/index.ts';
import { appError } from '../../platform/errors/index.ts';
import { cacheTags, type DomainCache } from '../common/cache.ts';
import { toPage } from '../common/paging.ts';
import { domainError } from '../errors.ts';
import type { ReviewRepository } from './review-repository.ts';
import type { CreateReviewBody, Review, ReviewListQuery, ReviewPage } from './review-schema.ts';

export interface ReviewServiceDeps {
  readonly db: Database;
  readonly reviews: RepositoryFactory<ReviewRepository>;
  readonly cache: DomainCache;
}

export class ReviewService {
  readonly #db: Database;
  readonly #reviews: RepositoryFactory<ReviewRepository>;
  readonly #cache: DomainCache;
  constructor(deps: ReviewServiceDeps) {
    this.#db = deps.db;
    this.#reviews = deps.reviews;
    this.#cache = deps.cache;
  }

  async list(hotelId: number, query: ReviewListQuery): Promise<ReviewPage> {
    const rows = await this.#db.read((db) => this.#reviews(db).list(hotelId, query.sort, query));
    if (!rows) throw appError('NOT_FOUND', `Hotel ${hotelId} not found`);
    return toPage(rows, query);
  }

  /**
   * The review and the hotel's rating and review count change in one transaction. Checked in this
   * order: the hotel exists (404), the user has stayed there (403), the user has not reviewed it (409).
   */
  async create(hotelId: number, userId: number, body: CreateReviewBody): Promise<Review> {
    return this.#db.transaction(async (tx) => {
      const repo = this.#reviews(tx);
      const hotel = await repo.lockHotel(hotelId);
      if (!hotel) throw appError('NOT_FOUND', `Hotel ${hotelId} not found`);
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
      // The rating and review count changed: the hotel's page, its reviews, the searches that show it
      // (its city's and those without a city) and the author's dashboard.
      tx.onCommit(() =>
        this.#cache.invalidate([
          cacheTags.hotel(hotelId),
          cacheTags.reviews(hotelId),
          cacheTags.city(hotel.city),
          cacheTags.anyCity,
          cacheTags.user(userId),
        ]),
      );
      return result.review;
    });
  }
}
