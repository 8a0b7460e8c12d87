import type { Database } from '../../platform/db/index.ts';
import { appError } from '../../platform/http/index.ts';
import { daysBetween } from '../common/stay.ts';
import { domainError } from '../errors.ts';
import { TripRepository } from './trip-repository.ts';
import {
  type CreateTripBody,
  MAX_TRIP_DAYS,
  type MyTripsQuery,
  type Trip,
  type TripPage,
} from './trip-schema.ts';

export class TripService {
  readonly #db: Database;
  constructor(db: Database) {
    this.#db = db;
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
    return new TripRepository(this.#db.pool).create(
      userId,
      body.name.trim(),
      startDate ?? null,
      endDate ?? null,
    );
  }

  /**
   * Puts one of the user's bookings into one of the user's trips. A booking belongs to at most one
   * trip, so one that was in another trip moves to this one. Returns the trip with its bookings.
   */
  async attachBooking(userId: number, tripId: number, bookingId: number): Promise<Trip> {
    return this.#db.transaction(async (client) => {
      const repo = new TripRepository(client);
      const { tripFound, bookingFound } = await repo.attachBooking(tripId, bookingId, userId);
      if (!tripFound) throw appError('NOT_FOUND', `Trip ${tripId} not found`);
      if (!bookingFound) throw appError('NOT_FOUND', `Booking ${bookingId} not found`);
      const trip = await repo.findForUser(tripId, userId);
      if (!trip) throw appError('NOT_FOUND', `Trip ${tripId} not found`);
      return trip;
    });
  }

  async listMine(userId: number, query: MyTripsQuery): Promise<TripPage> {
    const { page, limit } = query;
    const rows = await this.#db.read((pool) =>
      new TripRepository(pool).listForUser(userId, query.status, limit, (page - 1) * limit),
    );
    return { data: rows.slice(0, limit), page, limit, hasMore: rows.length > limit };
  }
}
