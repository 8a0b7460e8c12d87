import type { Queryable, RepositoryFactory } from '../../platform/db/index.ts';
import type { PriceHistory, PricePoint } from './price-history-schema.ts';

interface PriceHistoryRow {
  readonly roomTypeId: number;
  readonly currency: string;
  readonly from: string;
  readonly to: string;
  readonly priceCents: number | null;
  readonly stayDate: string | null;
  readonly recordedAt: Date | null;
}

/**
 * price_history_room_type: one statement. Missing bounds default in SQL (to = today in UTC,
 * from = to - 90 days) and come back resolved, so the caller validates the range it really ran. The
 * room type must belong to the (active) hotel: no row means 404, one row with null point means none.
 * Points are read newest first on price_history_entity_created_idx (NULLS LAST as in the index, so
 * its order is used), only when the range is valid.
 */
const PRICE_HISTORY = `
WITH b AS (
  SELECT COALESCE($4::date, $3::date - $5::int, (now() AT TIME ZONE 'UTC')::date - $5::int) AS from_d,
         COALESCE($3::date, (now() AT TIME ZONE 'UTC')::date) AS to_d
)
SELECT rt.id AS "roomTypeId", h.currency, b.from_d AS "from", b.to_d AS "to",
       p.price_cents AS "priceCents", p.stay_date AS "stayDate", p.created_at AS "recordedAt"
FROM room_types rt
JOIN hotels h ON h.id = rt.hotel_id AND h.is_active
CROSS JOIN b
LEFT JOIN LATERAL (
  SELECT p.id, p.price_cents, p.stay_date, p.created_at
  FROM price_history p
  WHERE p.entity_type = 'room_type' AND p.entity_id = rt.id
    AND p.created_at >= b.from_d::timestamp AT TIME ZONE 'UTC'
    AND p.created_at < (b.to_d + 1)::timestamp AT TIME ZONE 'UTC'
    AND b.to_d - b.from_d BETWEEN 0 AND $6::int
  ORDER BY p.created_at DESC NULLS LAST, p.id DESC
  LIMIT $7
) p ON true
WHERE rt.id = $1 AND rt.hotel_id = $2
ORDER BY p.created_at DESC NULLS LAST, p.id DESC`;

export class PriceHistoryRepository {
  readonly #db: Queryable;
  constructor(db: Queryable) {
    this.#db = db;
  }

  /** Undefined when the room type is unknown or not one of this active hotel's. */
  async forRoomType(q: {
    hotelId: number;
    roomTypeId: number;
    from: string | undefined;
    to: string | undefined;
    defaultDays: number;
    maxDays: number;
    /** Returns up to limit + 1 points, so the caller can tell whether there were more. */
    limit: number;
  }): Promise<Omit<PriceHistory, 'truncated'> | undefined> {
    const { rows } = await this.#db.query<PriceHistoryRow>({
      name: 'price_history_room_type',
      text: PRICE_HISTORY,
      values: [q.roomTypeId, q.hotelId, q.to ?? null, q.from ?? null, q.defaultDays, q.maxDays, q.limit + 1],
    });
    const first = rows[0];
    if (!first) return undefined;
    const points: PricePoint[] = [];
    for (const row of rows) {
      if (row.recordedAt === null) continue;
      points.push({
        priceCents: row.priceCents as number,
        stayDate: row.stayDate,
        // A Date: the response schema's date-time format serializes it as ISO 8601.
        recordedAt: row.recordedAt as unknown as string,
      });
    }
    return { roomTypeId: first.roomTypeId, currency: first.currency, from: first.from, to: first.to, points };
  }
}

/** Builds the repository on a pool, connection or transaction (the composition root wires it in). */
export const priceHistoryRepository: RepositoryFactory<PriceHistoryRepository> = (db) =>
  new PriceHistoryRepository(db);
