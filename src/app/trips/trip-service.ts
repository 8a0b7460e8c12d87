import type { Database, RepositoryFactory } from '../../platform/db/index.ts';
import { appError } from '../../platform/errors/index.ts';
import { cacheTags, type DomainCache } from '../common/cache.ts';
import { toPage } from '../common/paging.ts';
import { daysBetween } from '../common/stay.ts';
import { domainError } from '../errors.ts';
import type { TripRepository } from './trip-repository.ts';
import {
  type CreateTripBody,
  MAX_TRIP_DAYS,
  type MyTripsQuery,
  type Trip,
  type TripPage,
} from './trip-schema.ts';

export interface TripServiceDeps {
  readonly db: Database;
  readonly trips: RepositoryFactory<TripRepository>;
  readonly cache: DomainCache;
}

export class TripService {
  readonly #db: Database;
  readonly #trips: RepositoryFactory<TripRepository>;
  readonly #cache: DomainCache;
  constructor(deps: TripServiceDeps) {
    this.#cache = deps.cache;
    this.#db = deps.db;
    this.#trips = deps.trips;
  }

  async create(userId: number, body: CreateTripBody): Promise<Trip> {
    const { startDate, endDate } = body;
    if (startDate !== undefined && endDate !== undefined) {
      const days = daysBetween(startDate, endDate);
      if (days < 0) {
        throw domainError(
          'INVALID_RANGE',
          `endDate (${endDate}) must not be before startDate (${startDate})`,
          {
            details: [{ field: 'endDate', message: 'must not be before startDate' }],
          },
        );
      }
      if (days > MAX_TRIP_DAYS) {
        throw domainError('DATE_RANGE_TOO_LONG', `A trip may span at most ${MAX_TRIP_DAYS} days`, {
          details: [{ field: 'endDate', message: `must be at most ${MAX_TRIP_DAYS} days after startDate` }],
        });
      }
    }
    // One INSERT is atomic on its own: no BEGIN/COMMIT round trips.
    try {
      return await this.#db.write((db) =>
        this.#trips(db).create(userId, body.name.trim(), startDate ?? null, endDate ?? null),
      );
    } finally {
      // Also when the INSERT's answer was lost: it may have committed.
      await this.#cache.invalidate([cacheTags.user(userId)]);
    }
  }

  /**
   * Puts one of the user's bookings into one of the user's trips. A booking belongs to at most one
   * trip, so one that was in another trip moves to this one. Returns the trip with its bookings.
   */
  async attachBooking(userId: number, tripId: number, bookingId: number): Promise<Trip> {
    return this.#db.transaction(async (tx) => {
      const repo = this.#trips(tx);
      const { tripFound, bookingFound } = await repo.attachBooking(tripId, bookingId, userId);
      if (!tripFound) throw appError('NOT_FOUND', `Trip ${tripId} not found`);
      if (!bookingFound) throw appError('NOT_FOUND', `Booking ${bookingId} not found`);
      const trip = await repo.findForUser(tripId, userId);
      if (!trip) throw appError('NOT_FOUND', `Trip ${tripId} not found`);
      // The user's trips, and the booking's tripId in their bookings and dashboard.
      tx.onCommit(() => this.#cache.invalidate([cacheTags.user(userId)]));
      return trip;
    });
  }

  async listMine(userId: number, query: MyTripsQuery): Promise<TripPage> {
    return this.#cache.ns['my-trips'].getOrSet(
      `${userId}:${query.status ?? '*'}:${query.page}:${query.limit}`,
      async () => {
        const rows = await this.#db.read((db) => this.#trips(db).listForUser(userId, query.status, query));
        return toPage(rows, query);
      },
      { tags: [cacheTags.user(userId)] },
    );
  }
}
