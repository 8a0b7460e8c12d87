import type { SeedContext } from './sql.ts';
import { exec, pick, SALT, textArray, utc } from './sql.ts';
import { REVIEW_ADJECTIVES, REVIEW_ASPECTS, REVIEW_CLOSINGS, REVIEW_TITLES } from './words.ts';

/** `list[rating][i]` for a table of equally long rows, flattened into one SQL array. */
function byRating(table: readonly (readonly string[])[], rating: string, uniform: string): string {
  const width = table[0]?.length ?? 0;
  if (table.some((row) => row.length !== width))
    throw new Error('rating table rows must have the same length');
  return `(${textArray(table.flat())})[(${rating} - 1) * ${width} + 1 + ${pick(uniform, width)}]`;
}

/**
 * Reviews written after completed stays, at most one per (user, hotel), so they follow the booking
 * skew and the API's rule (the author's stay at the hotel began before the review and before today). Ratings lean on the hotel's stars and a hidden per-hotel quality. Then hotels.rating and
 * review_count are set from them.
 */
export async function seedReviews(ctx: SeedContext): Promise<number> {
  const { u, todaySql: today, size } = ctx;
  const b = 'r.booking_id';
  const aspects = textArray(REVIEW_ASPECTS);
  const nAspects = REVIEW_ASPECTS.length;
  const reviews = await exec(
    ctx,
    'reviews',
    `INSERT INTO reviews (id, user_id, entity_type, entity_id, rating, title, body, created_at)
     OVERRIDING SYSTEM VALUE
     SELECT row_number() OVER (ORDER BY r.created_ts, r.booking_id)::int, r.user_id, 'hotel', r.hotel_id, r.rating,
       ${byRating(REVIEW_TITLES, 'r.rating', u(b, SALT.reviewTitle))},
       'The ' || (${aspects})[1 + r.a1] || ' was ' || ${byRating(REVIEW_ADJECTIVES, 'r.rating', u(b, SALT.reviewAdjective1))}
         || ' and the ' || (${aspects})[1 + (r.a1 + 1 + r.a2) % ${nAspects}] || ' was '
         || ${byRating(REVIEW_ADJECTIVES, 'r.rating', u(b, SALT.reviewAdjective2))} || '. '
         || (${textArray(REVIEW_CLOSINGS)})[r.rating],
       ${utc('r.created_ts')}
     FROM (
       SELECT s.booking_id, s.user_id, s.hotel_id,
         greatest(1, least(5, round(2.6 + 0.35 * h.stars + 1.2 * (${u('s.hotel_id', SALT.hotelQuality)} - 0.5)
           + (${u('s.booking_id', SALT.reviewNoise1)} + ${u('s.booking_id', SALT.reviewNoise2)} - 1) * 2)))::int AS rating,
         ${pick(u('s.booking_id', SALT.reviewAspect1), nAspects)} AS a1,
         ${pick(u('s.booking_id', SALT.reviewAspect2), nAspects - 1)} AS a2,
         -- Written within two weeks of check-out, and before today.
         date_trunc('second', s.end_date::timestamp
           + (least(s.end_date + 14, ${today})::timestamp - s.end_date::timestamp) * ${u('s.booking_id', SALT.reviewDelay)})
           AS created_ts
       FROM (
         SELECT d.* FROM (
           SELECT DISTINCT ON (user_id, hotel_id) id AS booking_id, user_id, hotel_id, end_date
           FROM bookings WHERE status = 'completed'
           ORDER BY user_id, hotel_id, ${u('id', SALT.reviewChoice)}, id
         ) AS d
         ORDER BY ${u('d.booking_id', SALT.reviewPick)}, d.booking_id
         LIMIT ${size.reviews}
       ) AS s
       JOIN seed_hotel h ON h.hotel_id = s.hotel_id
     ) AS r
     ORDER BY 1`,
  );
  await exec(
    ctx,
    'hotel ratings',
    `UPDATE hotels h SET rating = s.rating, review_count = s.n
     FROM (SELECT entity_id, round(avg(rating), 2) AS rating, count(*)::int AS n
           FROM reviews WHERE entity_type = 'hotel' GROUP BY entity_id) AS s
     WHERE h.id = s.entity_id`,
  );
  return reviews;
}

/** Weekly base-price snapshots per room type; the newest equals the current base price. */
export async function seedPriceHistory(ctx: SeedContext): Promise<number> {
  const { u, todaySql: today, size } = ctx;
  const per = size.priceHistoryPerRoomType;
  const key = 'rt.id::bigint * 64 + w';
  return exec(
    ctx,
    'price_history',
    `INSERT INTO price_history (id, entity_type, entity_id, price_cents, currency, stay_date, created_at)
     OVERRIDING SYSTEM VALUE
     SELECT (rt.id - 1)::bigint * ${per} + (${per} - w), 'room_type', rt.id,
       CASE WHEN w = 0 THEN rt.base_price_cents
         ELSE greatest(100, round(rt.base_price_cents * (0.88 + 0.24 * ${u(key, SALT.priceHistory)}) / 100) * 100)::int
       END,
       h.currency, NULL,
       ${utc(`${today}::timestamp - make_interval(days => 7 * w + 1)
         + make_interval(secs => floor(${u(key, SALT.priceHistory + 50)} * 86400))`)}
     FROM room_types rt
     JOIN hotels h ON h.id = rt.hotel_id
     CROSS JOIN generate_series(0, ${per - 1}) AS w
     ORDER BY 1`,
  );
}
