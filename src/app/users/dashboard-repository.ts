import type { Queryable, RepositoryFactory } from '../../platform/db/index.ts';
import { ENTRY_COLUMNS } from '../waitlist/waitlist-repository.ts';
import { DASHBOARD_LIMITS, type Dashboard } from './dashboard-schema.ts';

/**
 * The whole dashboard in one statement: three bounded json_agg subqueries, each on an index that
 * starts with user_id (bookings_user_status_created_idx, waitlist_user_idx, reviews_user_entity_uq).
 */
const DASHBOARD_SQL = `
SELECT
  COALESCE((
    SELECT json_agg(x ORDER BY x."checkIn", x.id)
    FROM (
      SELECT b.id, b.start_date AS "checkIn", b.end_date AS "checkOut", b.guests, b.status,
             b.total_cents AS "totalCents", b.currency,
             json_build_object('id', h.id, 'name', h.name, 'city', h.city) AS hotel,
             json_build_object('id', rt.id, 'name', rt.name) AS "roomType"
      FROM bookings b
      JOIN hotels h ON h.id = b.hotel_id
      JOIN room_types rt ON rt.id = b.room_type_id
      WHERE b.user_id = $1 AND b.status IN ('confirmed', 'pending')
        AND b.end_date >= (now() AT TIME ZONE h.timezone)::date
      ORDER BY b.start_date, b.id
      LIMIT ${DASHBOARD_LIMITS.upcomingBookings}
    ) x
  ), '[]'::json) AS "upcomingBookings",
  COALESCE((
    SELECT json_agg(x ORDER BY x."checkIn", x.id)
    FROM (
      SELECT ${ENTRY_COLUMNS}
      FROM waitlist w
      JOIN room_types rt ON rt.id = w.room_type_id
      JOIN hotels h ON h.id = rt.hotel_id
      WHERE w.user_id = $1 AND w.status IN ('waiting', 'offered')
      ORDER BY w.start_date, w.id
      LIMIT ${DASHBOARD_LIMITS.waitlist}
    ) x
  ), '[]'::json) AS waitlist,
  COALESCE((
    SELECT json_agg(x ORDER BY x."createdAt" DESC, x.id DESC)
    FROM (
      SELECT r.id, r.rating, r.title, r.created_at AS "createdAt",
             json_build_object('id', h.id, 'name', h.name) AS hotel
      FROM reviews r
      JOIN hotels h ON h.id = r.entity_id
      WHERE r.user_id = $1 AND r.entity_type = 'hotel'
      ORDER BY r.created_at DESC, r.id DESC
      LIMIT ${DASHBOARD_LIMITS.recentReviews}
    ) x
  ), '[]'::json) AS "recentReviews"`;

export class DashboardRepository {
  readonly #db: Queryable;
  constructor(db: Queryable) {
    this.#db = db;
  }

  async forUser(userId: number): Promise<Dashboard> {
    const { rows } = await this.#db.query<Dashboard>({
      name: 'users_dashboard',
      text: DASHBOARD_SQL,
      values: [userId],
    });
    return rows[0]!;
  }
}

/** Builds the repository on a pool, connection or transaction (the composition root wires it in). */
export const dashboardRepository: RepositoryFactory<DashboardRepository> = (db) =>
  new DashboardRepository(db);
