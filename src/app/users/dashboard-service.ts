import type { Database, RepositoryFactory } from '../../platform/db/index.ts';
import type { DashboardRepository } from './dashboard-repository.ts';
import type { Dashboard } from './dashboard-schema.ts';

export interface DashboardServiceDeps {
  readonly db: Database;
  readonly dashboards: RepositoryFactory<DashboardRepository>;
}

export class DashboardService {
  readonly #db: Database;
  readonly #dashboards: RepositoryFactory<DashboardRepository>;
  constructor(deps: DashboardServiceDeps) {
    this.#db = deps.db;
    this.#dashboards = deps.dashboards;
  }

  /** One statement whatever the user's history: every list is bounded in SQL. */
  async forUser(userId: number): Promise<Dashboard> {
    return this.#db.read((db) => this.#dashboards(db).forUser(userId));
  }
}
