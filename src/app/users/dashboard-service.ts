import { msUntilNextQuarterHour } from '../../platform/cache/index.ts';
import type { Database, RepositoryFactory } from '../../platform/db/index.ts';
import { cacheTags, type DomainCache } from '../common/cache.ts';
import type { DashboardRepository } from './dashboard-repository.ts';
import type { Dashboard } from './dashboard-schema.ts';

export interface DashboardServiceDeps {
  readonly db: Database;
  readonly dashboards: RepositoryFactory<DashboardRepository>;
  readonly cache: DomainCache;
}

export class DashboardService {
  readonly #db: Database;
  readonly #dashboards: RepositoryFactory<DashboardRepository>;
  readonly #cache: DomainCache;
  constructor(deps: DashboardServiceDeps) {
    this.#cache = deps.cache;
    this.#db = deps.db;
    this.#dashboards = deps.dashboards;
  }

  /** One statement whatever the user's history: every list is bounded in SQL. */
  async forUser(userId: number): Promise<Dashboard> {
    return this.#cache.ns.dashboard.getOrSet(
      `${userId}`,
      () => this.#db.read((db) => this.#dashboards(db).forUser(userId)),
      // "Upcoming" is judged against each hotel's local date: never kept across a local midnight.
      { tags: [cacheTags.user(userId)], maxTtlMs: msUntilNextQuarterHour() },
    );
  }
}
