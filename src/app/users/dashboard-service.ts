import type { Database } from '../../platform/db/index.ts';
import { DashboardRepository } from './dashboard-repository.ts';
import type { Dashboard } from './dashboard-schema.ts';

export class DashboardService {
  readonly #db: Database;
  constructor(db: Database) {
    this.#db = db;
  }

  /** One statement whatever the user's history: every list is bounded in SQL. */
  async forUser(userId: number): Promise<Dashboard> {
    return this.#db.read((pool) => new DashboardRepository(pool).forUser(userId));
  }
}
