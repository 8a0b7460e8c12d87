/**
 * Lookups two indexes serve equally well: the planner's costs for them are a near tie, and which one
 * it takes varies with the PostgreSQL version and with which index was built last. A catalogue entry
 * names the list, and a plan using either passes.
 */

/**
 * A user's bookings in no particular order (a trip's bookings through b.user_id = t.user_id; the
 * stay check of a review): both indexes lead with user_id.
 */
export const USER_BOOKINGS = ['bookings_user_created_idx', 'bookings_user_status_created_idx'] as const;

/**
 * All of a hotel's reviews (the rating summary, the recount after a review): hotel-repository names
 * reviews_entity_rating_idx; reviews_entity_created_idx leads with the same (entity_type, entity_id).
 */
export const HOTEL_REVIEWS = ['reviews_entity_rating_idx', 'reviews_entity_created_idx'] as const;
