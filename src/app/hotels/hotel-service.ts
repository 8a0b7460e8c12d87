import type { Database, RepositoryFactory } from '../../platform/db/index.ts';
import { appError } from '../../platform/errors/index.ts';
import { toPage } from '../common/paging.ts';
import type { HotelDetail } from './detail-schema.ts';
import type { HotelRepository } from './hotel-repository.ts';
import { type HotelSearchQuery, type HotelSearchResponse, MAX_SEARCH_WINDOW } from './search-schema.ts';

export interface HotelServiceDeps {
  readonly db: Database;
  readonly hotels: RepositoryFactory<HotelRepository>;
}

export class HotelService {
  readonly #db: Database;
  readonly #hotels: RepositoryFactory<HotelRepository>;
  constructor(deps: HotelServiceDeps) {
    this.#db = deps.db;
    this.#hotels = deps.hotels;
  }

  async search(query: HotelSearchQuery): Promise<HotelSearchResponse> {
    const { page, limit } = query;
    const offset = (page - 1) * limit;
    if (offset + limit > MAX_SEARCH_WINDOW) {
      throw appError(
        'VALIDATION',
        `page x limit must not exceed ${MAX_SEARCH_WINDOW}; narrow the search instead`,
        {
          details: [{ field: 'page', message: `page x limit must be <= ${MAX_SEARCH_WINDOW}` }],
        },
      );
    }
    const rows = await this.#db.read((db) =>
      this.#hotels(db).search({
        city: query.city?.trim(),
        minStars: query.stars,
        minRating: query.minRating,
        text: query.q?.trim() || undefined,
        namePrefix: query.name?.trim() || undefined,
        sort: query.sort ?? (query.q ? 'relevance' : 'rating'),
        limit,
        offset,
      }),
    );
    return toPage(rows, query);
  }

  async detail(id: number): Promise<HotelDetail> {
    const hotel = await this.#db.read((db) => this.#hotels(db).findDetail(id));
    if (!hotel) throw appError('NOT_FOUND', `Hotel ${id} not found`);
    return hotel;
  }
}
