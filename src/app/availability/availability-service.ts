import { msUntilNextQuarterHour } from '../../platform/cache/index.ts';
import type { Database, RepositoryFactory } from '../../platform/db/index.ts';
import { appError } from '../../platform/errors/index.ts';
import { cacheTags, type DomainCache } from '../common/cache.ts';
import { assertNotPast, validateStay } from '../common/stay.ts';
import type { AvailabilityRepository } from './availability-repository.ts';
import type {
  BatchAvailabilityBody,
  BatchAvailabilityResponse,
  HotelAvailability,
  HotelAvailabilityQuery,
} from './availability-schema.ts';

export interface AvailabilityServiceDeps {
  readonly db: Database;
  readonly availability: RepositoryFactory<AvailabilityRepository>;
  readonly cache: DomainCache;
}

export class AvailabilityService {
  readonly #db: Database;
  readonly #availability: RepositoryFactory<AvailabilityRepository>;
  readonly #cache: DomainCache;
  constructor(deps: AvailabilityServiceDeps) {
    this.#cache = deps.cache;
    this.#db = deps.db;
    this.#availability = deps.availability;
  }

  /**
   * Every room type of a hotel for one stay. One statement: it also returns the hotel-local date,
   * so "checkIn in the past" is judged in the hotel's time zone after the fact.
   */
  async forHotel(hotelId: number, query: HotelAvailabilityQuery): Promise<HotelAvailability> {
    const { checkIn, checkOut, guests } = query;
    validateStay(checkIn, checkOut);
    const found = await this.#db.read((db) =>
      this.#availability(db).forHotel(hotelId, checkIn, checkOut, guests),
    );
    if (!found) throw appError('NOT_FOUND', `Hotel ${hotelId} not found`);
    assertNotPast(checkIn, found.today);
    return {
      hotelId: found.hotelId,
      checkIn,
      checkOut,
      guests,
      currency: found.currency,
      roomTypes: found.roomTypes,
    };
  }

  /**
   * Many (room type, stay) pairs in one statement. Every stay is checked before the query; a
   * checkIn before its hotel's local today fails the batch (422) and names the item. Each item is
   * cached on its own (strict, tagged with its room type): the statement runs for the missing ones.
   */
  async batch(body: BatchAvailabilityBody): Promise<BatchAvailabilityResponse> {
    body.items.forEach((item, i) => {
      validateStay(item.checkIn, item.checkOut, `items.${i}`);
    });
    const rows = await this.#cache.ns.stays.getMany(
      body.items.map((item) => ({
        key: `${item.roomTypeId}:${item.checkIn}:${item.checkOut}:${body.guests}`,
        tags: [cacheTags.roomType(item.roomTypeId)],
      })),
      (missing) =>
        this.#db.read((db) =>
          this.#availability(db).batch(
            missing.map((i) => body.items[i] as (typeof body.items)[number]),
            body.guests,
          ),
        ),
      { maxTtlMs: msUntilNextQuarterHour() },
    );
    rows.forEach((row, i) => {
      if (row.today !== null) assertNotPast(row.checkIn, row.today, `items.${i}.checkIn`);
    });
    return {
      data: rows.map(({ today: _today, ...item }) => item),
    };
  }
}
