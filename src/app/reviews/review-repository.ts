import type { Queryable, RepositoryFactory } from '../../platform/db/index.ts';
import { type PageRequest, pageWindow } from '../common/paging.ts';
import type { Review, ReviewSort } from './review-schema.ts';

interface ReviewRow {
  readonly hotelId: number;
  readonly id: number | null;
  readonly rating: number;
  readonly title: string;
  readonly body: string;
  readonly createdAt: Date;
  readonly authorId: number;
  readonly authorName: string;
}

export interface NewReview {
  readonly hotelId: number;
  readonly userId: number;
  readonly rating: number;
  readonly title: string;
  readonly body: string;
}

export type CreateReviewResult =
  | { readonly outcome: 'created'; readonly review: Review }
  | { readonly outcome: 'hotel_not_found' }
  | { readonly outcome: 'no_stay' }
  | { readonly outcome: 'already_reviewed' };

// Each order walks an index on (entity_type, entity_id, ...): created_at DESC NULLS LAST or rating
// DESC NULLS LAST (backwards for lowest). The NULLS clauses must match the index for the planner to
// use its order, although the columns are NOT NULL; ties are sorted incrementally.
const ORDER_BY: Record<ReviewSort, string> = {
  newest: 'r.created_at DESC NULLS LAST, r.id DESC',
  highest: 'r.rating DESC NULLS LAST, r.created_at DESC, r.id DESC',
  lowest: 'r.rating ASC NULLS FIRST, r.created_at DESC, r.id DESC',
};

/**
 * reviews_list_<sort>: one statement. The hotel row decides 404 (no row) versus an empty page (one
 * row with a null review); the page itself is a LATERAL subquery on the reviews index.
 */
function listText(sort: ReviewSort): string {
  return `
SELECT h.id AS "hotelId", r.id, r.rating, r.title, r.body, r.created_at AS "createdAt",
       r.user_id AS "authorId", r.author_name AS "authorName"
FROM hotels h
LEFT JOIN LATERAL (
  -- Page first on the index, then look up only that page's authors.
  SELECT r.id, r.rating, r.title, r.body, r.created_at, r.user_id, u.name AS author_name
  FROM (
    SELECT r.id, r.rating, r.title, r.body, r.created_at, r.user_id
    FROM reviews r
    WHERE r.entity_type = 'hotel' AND r.entity_id = h.id
    ORDER BY ${ORDER_BY[sort]}
    LIMIT $2 OFFSET $3
  ) r
  JOIN users u ON u.id = r.user_id
) r ON true
WHERE h.id = $1 AND h.is_active
ORDER BY ${ORDER_BY[sort]}`;
}

/**
 * reviews_create: one statement, run after `lockHotel` in the same transaction. The review is inserted
 * only for an active hotel, only by a guest who has stayed there (a pending, confirmed or completed
 * booking at the hotel whose check-in is on or before the hotel-local today, as the booking code judges
 * the past) and only once per user (ON CONFLICT DO NOTHING). The hotel's rating and
 * review_count are recomputed from the hotel's reviews: the lock was taken by an earlier statement, so
 * this statement's snapshot holds every review committed before ours (ours is added by hand: a CTE's
 * insert is not visible to its siblings). A running average rounded to 2 decimals would stop moving
 * once a step is below 0.005 (a hotel with 100 reviews at 4.50 stays 4.50 after any number of 5s).
 */
const CREATE = `
WITH h AS (
  SELECT id, (now() AT TIME ZONE timezone)::date AS today FROM hotels WHERE id = $1 AND is_active
), stay AS (
  -- bookings_user_status_created_idx: the user's few bookings, then the hotel and the date.
  SELECT EXISTS (
    SELECT 1 FROM bookings b, h
    WHERE b.user_id = $2 AND b.status IN ('pending', 'confirmed', 'completed')
      AND b.hotel_id = h.id AND b.start_date <= h.today
  ) AS stayed
), ins AS (
  INSERT INTO reviews (user_id, entity_type, entity_id, rating, title, body)
  SELECT $2, 'hotel', h.id, $3::int, $4, $5 FROM h, stay WHERE stay.stayed
  ON CONFLICT (user_id, entity_type, entity_id) DO NOTHING
  RETURNING id, entity_id, rating, title, body, created_at
), upd AS (
  UPDATE hotels
  SET rating = round((s.total + ins.rating)::numeric / (s.n + 1), 2),
      review_count = s.n + 1,
      updated_at = now()
  FROM ins, (SELECT COALESCE(sum(r.rating), 0) AS total, count(*) AS n
             FROM reviews r WHERE r.entity_type = 'hotel' AND r.entity_id = $1) s
  WHERE hotels.id = ins.entity_id
  RETURNING hotels.id
)
SELECT h.id AS "hotelId", stay.stayed, ins.id, ins.rating, ins.title, ins.body, ins.created_at AS "createdAt",
       u.id AS "authorId", u.name AS "authorName"
FROM stay
LEFT JOIN h ON true
LEFT JOIN ins ON true
LEFT JOIN upd ON true
LEFT JOIN users u ON u.id = $2 AND ins.id IS NOT NULL`;

export class ReviewRepository {
  readonly #db: Queryable;
  constructor(db: Queryable) {
    this.#db = db;
  }

  /** Up to `limit + 1` reviews (so the caller can tell if there is another page); undefined: no hotel. */
  async list(hotelId: number, sort: ReviewSort, page: PageRequest): Promise<Review[] | undefined> {
    const { fetch, offset } = pageWindow(page);
    const { rows } = await this.#db.query<ReviewRow>({
      name: `reviews_list_${sort}`,
      text: listText(sort),
      values: [hotelId, fetch, offset],
    });
    if (rows.length === 0) return undefined;
    return rows.filter((row) => row.id !== null).map(toReview);
  }

  /**
   * reviews_lock_hotel: locks an active hotel's row until the transaction ends, so reviews of one hotel
   * are written one after another. Returns its city (the cached searches a review changes are those
   * of its city); undefined when the hotel is unknown or inactive.
   */
  async lockHotel(hotelId: number): Promise<{ city: string } | undefined> {
    const { rows } = await this.#db.query<{ city: string }>({
      name: 'reviews_lock_hotel',
      text: 'SELECT city FROM hotels WHERE id = $1 AND is_active FOR NO KEY UPDATE',
      values: [hotelId],
    });
    return rows[0];
  }

  /** In this order: an unknown hotel, then a user without a stay there, then a duplicate. */
  async create(review: NewReview): Promise<CreateReviewResult> {
    const { rows } = await this.#db.query<
      (ReviewRow & { stayed: boolean }) | { hotelId: null; stayed: boolean; id: null }
    >({
      name: 'reviews_create',
      text: CREATE,
      values: [review.hotelId, review.userId, review.rating, review.title, review.body],
    });
    const row = rows[0];
    if (!row || row.hotelId === null) return { outcome: 'hotel_not_found' };
    if (!row.stayed) return { outcome: 'no_stay' };
    if (row.id === null) return { outcome: 'already_reviewed' };
    return { outcome: 'created', review: toReview(row as ReviewRow) };
  }
}

function toReview(row: ReviewRow): Review {
  return {
    id: row.id as number,
    rating: row.rating,
    title: row.title,
    body: row.body,
    // A Date: the response schema's date-time format serializes it as ISO 8601.
    createdAt: row.createdAt as unknown as string,
    author: { id: row.authorId, name: row.authorName },
  };
}

/** Builds the repository on a pool, connection or transaction (the composition root wires it in). */
export const reviewRepository: RepositoryFactory<ReviewRepository> = (db) => new ReviewRepository(db);
