import type { Database, RepositoryFactory } from '../../platform/db/index.ts';
import { appError } from '../../platform/errors/index.ts';
import { validateRange } from '../common/stay.ts';
import type { PriceHistoryRepository } from './price-history-repository.ts';
import {
  DEFAULT_HISTORY_DAYS,
  MAX_HISTORY_DAYS,
  type PriceHistory,
  type PriceHistoryQuery,
} from './price-history-schema.ts';

export interface PriceHistoryServiceDeps {
  readonly db: Database;
  readonly prices: RepositoryFactory<PriceHistoryRepository>;
}

export class PriceHistoryService {
  readonly #db: Database;
  readonly #prices: RepositoryFactory<PriceHistoryRepository>;
  constructor(deps: PriceHistoryServiceDeps) {
    this.#db = deps.db;
    this.#prices = deps.prices;
  }

  /** Prices recorded for a room type of the hotel between from and to (UTC days, both included). */
  async forRoomType(hotelId: number, query: PriceHistoryQuery): Promise<PriceHistory> {
    const { roomTypeId, from, to, limit } = query;
    // Both bounds given: fail before any query. Otherwise the defaults resolve in SQL (UTC today).
    if (from !== undefined && to !== undefined) validateRange(from, to, MAX_HISTORY_DAYS);
    const history = await this.#db.read((db) =>
      this.#prices(db).forRoomType({
        hotelId,
        roomTypeId,
        from,
        to,
        defaultDays: DEFAULT_HISTORY_DAYS,
        maxDays: MAX_HISTORY_DAYS,
        limit,
      }),
    );
    if (!history) throw appError('NOT_FOUND', `Room type ${roomTypeId} of hotel ${hotelId} not found`);
    validateRange(history.from, history.to, MAX_HISTORY_DAYS);
    return { ...history, points: history.points.slice(0, limit), truncated: history.points.length > limit };
  }
}
