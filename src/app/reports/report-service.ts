import type { Database, RepositoryFactory } from '../../platform/db/index.ts';
import { appError } from '../../platform/errors/index.ts';
import { cacheTags, type DomainCache } from '../common/cache.ts';
import { validateRange } from '../common/stay.ts';
import type { ReportRepository } from './report-repository.ts';
import {
  type BookingsReport,
  type BookingsReportQuery,
  MAX_REPORT_DAYS,
  MAX_REPORT_ROWS,
  type OccupancyQuery,
  type OccupancyReport,
} from './report-schema.ts';

export interface ReportServiceDeps {
  readonly db: Database;
  readonly reports: RepositoryFactory<ReportRepository>;
  readonly cache: DomainCache;
}

export class ReportService {
  readonly #db: Database;
  readonly #reports: RepositoryFactory<ReportRepository>;
  readonly #cache: DomainCache;
  constructor(deps: ReportServiceDeps) {
    this.#cache = deps.cache;
    this.#db = deps.db;
    this.#reports = deps.reports;
  }

  /** Bookings by check-in date in [from, to], grouped by day, hotel or city (and currency). */
  async bookings(query: BookingsReportQuery): Promise<BookingsReport> {
    const { from, to, groupBy } = query;
    validateRange(from, to, MAX_REPORT_DAYS);
    const rows = await this.#cache.ns.reports.getOrSet(
      `bookings:${groupBy}:${from}:${to}`,
      () => this.#db.read((db) => this.#reports(db).bookings(groupBy, from, to, MAX_REPORT_ROWS)),
      { tags: [cacheTags.reports] },
    );
    return {
      from,
      to,
      groupBy,
      rows: rows.slice(0, MAX_REPORT_ROWS),
      truncated: rows.length > MAX_REPORT_ROWS,
    };
  }

  async occupancy(query: OccupancyQuery): Promise<OccupancyReport> {
    const { hotelId, from, to } = query;
    validateRange(from, to, MAX_REPORT_DAYS);
    const report = await this.#cache.ns.reports.getOrSet(
      `occupancy:${hotelId}:${from}:${to}`,
      () => this.#db.read((db) => this.#reports(db).occupancy(hotelId, from, to)),
      { tags: [cacheTags.reports] },
    );
    if (!report) throw appError('NOT_FOUND', `Hotel ${hotelId} not found`);
    return { hotelId, from, to, ...report };
  }
}
