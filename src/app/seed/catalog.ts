import { CITIES, CURRENCY_PER_EUR } from './cities.ts';
import type { SeedContext } from './sql.ts';
import { exec, pick, pickText, SALT, textArray, utc, valuesList } from './sql.ts';
import {
  AUDIENCE_SENTENCES,
  BEACH_PHRASES,
  CITY_PHRASES,
  FIRST_NAMES,
  HOTEL_AMENITIES,
  HOTEL_TYPES_BUDGET,
  HOTEL_TYPES_LUXURY,
  LAST_NAMES,
  NAME_ADJECTIVES,
  NAME_NOUNS,
  ROOM_AMENITIES,
  ROOM_TEMPLATES,
  STAR_BASE_PRICE_EUR_CENTS,
  STREET_NAMES,
  STREET_SUFFIXES,
  STYLES_BUDGET,
  STYLES_LUXURY,
} from './words.ts';

/** Offset of the hotel popularity Zipf curve 1/(rank + q): a larger q flattens the head. */
const POPULARITY_OFFSET = 10;
const INACTIVE_SHARE = 0.03;

/**
 * Lookup tables (cities, amenities, room templates) and `seed_hotel`, the per-hotel plan every later
 * step reads: city, stars, popularity weight and the id range of its room types.
 */
export async function createPlan(ctx: SeedContext): Promise<void> {
  const { u, size } = ctx;
  const cityRows = CITIES.map((c, i) => {
    const fx = CURRENCY_PER_EUR[c.currency];
    if (fx === undefined) throw new Error(`no exchange rate for ${c.currency}`);
    return [i, c.name, c.country, c.lat, c.lng, c.timezone, c.currency, fx, c.priceFactor, c.coastal];
  });
  const amenityRows = HOTEL_AMENITIES.map(([name, p], k) => [k + 1, name, p]);
  const templateRows = ROOM_TEMPLATES.map(([name, capacity, mult, beds, m2], i) => [
    i,
    name,
    capacity,
    mult,
    beds,
    m2,
  ]);
  await exec(
    ctx,
    'lookup tables',
    `CREATE TEMP TABLE seed_city (idx int PRIMARY KEY, name text, country text, lat float8, lng float8,
       timezone text, currency text, fx float8, price_factor float8, coastal boolean) ON COMMIT DROP;
     INSERT INTO seed_city VALUES ${valuesList(cityRows)};
     CREATE TEMP TABLE seed_amenity (k int PRIMARY KEY, name text, p float8) ON COMMIT DROP;
     INSERT INTO seed_amenity VALUES ${valuesList(amenityRows)};
     CREATE TEMP TABLE seed_room_template (idx int PRIMARY KEY, name text, capacity int, mult float8,
       beds text, m2 int) ON COMMIT DROP;
     INSERT INTO seed_room_template VALUES ${valuesList(templateRows)};
     ANALYZE seed_city, seed_amenity, seed_room_template;`,
  );
  const { min, max } = size.roomTypesPerHotel;
  await exec(
    ctx,
    'hotel plan',
    `CREATE TEMP TABLE seed_hotel ON COMMIT DROP AS
     SELECT g.id AS hotel_id, s.city_idx, s.stars, s.rt_count,
       (sum(s.rt_count) OVER (ORDER BY g.id) - s.rt_count + 1)::int AS first_rt,
       least(floor((s.stars - 1) * 1.3 + ${u('g.id', SALT.firstTemplate)} * 3)::int,
             ${ROOM_TEMPLATES.length} - s.rt_count) AS first_template,
       ${u('g.id', SALT.active)} >= ${INACTIVE_SHARE} AS is_active,
       1.0 / (row_number() OVER (ORDER BY ${u('g.id', SALT.popularity)}, g.id) + ${POPULARITY_OFFSET}) AS weight
     FROM generate_series(1, ${size.hotels}) AS g(id)
     CROSS JOIN LATERAL (SELECT
       -- u^3 puts a quarter of all hotels in the first city and a handful in the last ones.
       floor(${CITIES.length} * power(${u('g.id', SALT.city)}, 3))::int AS city_idx,
       1 + least(4, floor((${u('g.id', SALT.stars1)} + ${u('g.id', SALT.stars2)}) * 2.5))::int AS stars,
       ${min} + ${pick(u('g.id', SALT.roomTypeCount), max - min + 1)} AS rt_count) AS s;
     ALTER TABLE seed_hotel ADD PRIMARY KEY (hotel_id);
     ANALYZE seed_hotel;`,
  );
}

export async function seedHotels(ctx: SeedContext): Promise<number> {
  const { u, todaySql } = ctx;
  const id = 'm.hotel_id';
  // Amenities that read as nouns after 'Guests enjoy'.
  const enjoy = `array_remove(array_remove(x.amenities, 'pet friendly'), 'wifi')`;
  const amenitySentence = `CASE
      WHEN cardinality(${enjoy}) >= 3 THEN 'Guests enjoy ' || (${enjoy})[cardinality(${enjoy}) - 2] || ', '
        || (${enjoy})[cardinality(${enjoy}) - 1] || ' and ' || (${enjoy})[cardinality(${enjoy})] || '.'
      WHEN cardinality(x.amenities) > 0 THEN 'Amenities include ' || array_to_string(x.amenities, ' and ') || '.'
      ELSE 'Simple, clean rooms at a fair price.' END`;
  const audience = textArray(AUDIENCE_SENTENCES);
  const nAudience = AUDIENCE_SENTENCES.length;
  return exec(
    ctx,
    'hotels',
    `INSERT INTO hotels (id, name, description, address, city, country, timezone, currency, stars, is_active,
       lat, lng, amenities, created_at, updated_at)
     OVERRIDING SYSTEM VALUE
     SELECT x.hotel_id,
       CASE x.pattern
         WHEN 0 THEN x.adjective || ' ' || x.noun || ' ' || x.kind
         WHEN 1 THEN 'Hotel ' || x.noun || ' ' || x.city
         WHEN 2 THEN x.city || ' ' || x.noun || ' ' || x.kind
         ELSE 'The ' || x.adjective || ' ' || x.noun END,
       CASE WHEN x.style ~ '^[aeiou]' THEN 'An ' ELSE 'A ' END || x.style || ' ' || lower(x.kind) || ' in '
         || x.city || ', ' || x.location || '. ' || ${amenitySentence} || ' '
         || (${audience})[1 + x.a1] || ' ' || (${audience})[1 + (x.a1 + 1 + x.a2) % ${nAudience}],
       x.address, x.city, x.country, x.timezone, x.currency, x.stars, x.is_active, x.lat, x.lng, x.amenities,
       ${utc('x.created_ts')}, ${utc('x.created_ts + x.updated_after')}
     FROM (
       SELECT m.hotel_id, m.stars, m.is_active, c.name AS city, c.country, c.timezone, c.currency,
         ${pick(u(id, SALT.namePattern), 4)} AS pattern,
         ${pickText(NAME_ADJECTIVES, u(id, SALT.nameAdjective))} AS adjective,
         ${pickText(NAME_NOUNS, u(id, SALT.nameNoun))} AS noun,
         CASE WHEN m.stars >= 4 THEN ${pickText(HOTEL_TYPES_LUXURY, u(id, SALT.nameType))}
           ELSE ${pickText(HOTEL_TYPES_BUDGET, u(id, SALT.nameType))} END AS kind,
         CASE WHEN m.stars >= 4 THEN ${pickText(STYLES_LUXURY, u(id, SALT.style))}
           ELSE ${pickText(STYLES_BUDGET, u(id, SALT.style))} END AS style,
         CASE WHEN c.coastal AND ${u(id, SALT.beach)} < 0.5 THEN ${pickText(BEACH_PHRASES, u(id, SALT.location))}
           ELSE ${pickText(CITY_PHRASES, u(id, SALT.location))} END AS location,
         ${pick(u(id, SALT.audience1), nAudience)} AS a1,
         ${pick(u(id, SALT.audience2), nAudience - 1)} AS a2,
         (1 + ${pick(u(id, SALT.streetNo), 199)}) || ' ' || ${pickText(STREET_NAMES, u(id, SALT.street))} || ' '
           || ${pickText(STREET_SUFFIXES, u(id, SALT.streetSuffix))} AS address,
         round((c.lat + (${u(id, SALT.lat)} - 0.5) * 0.12)::numeric, 5)::float8 AS lat,
         round((c.lng + (${u(id, SALT.lng)} - 0.5) * 0.16)::numeric, 5)::float8 AS lng,
         ARRAY(SELECT a.name FROM seed_amenity a
               WHERE (a.name <> 'beach access' OR c.coastal)
                 AND ${u(`${id}::bigint * 64 + a.k`, SALT.hotelAmenity)} < a.p * (0.6 + 0.2 * m.stars)
               ORDER BY a.k) AS amenities,
         ${todaySql}::timestamp - make_interval(days => 1100 + ${pick(u(id, SALT.hotelCreated), 1100)})
           + make_interval(secs => floor(${u(id, SALT.hotelCreated + 50)} * 86400)) AS created_ts,
         make_interval(days => ${pick(u(id, SALT.hotelUpdated), 300)}) AS updated_after
       FROM seed_hotel m JOIN seed_city c ON c.idx = m.city_idx
       OFFSET 0 -- keeps the amenities subquery from being inlined into every reference
     ) AS x
     ORDER BY x.hotel_id`,
  );
}

export async function seedRoomTypes(ctx: SeedContext): Promise<number> {
  const { u } = ctx;
  const extras = ROOM_AMENITIES.filter((a) => a !== 'wifi');
  const starPrice = `(ARRAY[${STAR_BASE_PRICE_EUR_CENTS.join(', ')}])[r.stars]`;
  return exec(
    ctx,
    'room_types',
    `INSERT INTO room_types (id, hotel_id, name, description, capacity, base_price_cents, total_rooms, amenities,
       created_at)
     OVERRIDING SYSTEM VALUE
     SELECT r.id, r.hotel_id, t.name,
       upper(left(t.beds, 1)) || substr(t.beds, 2) || ', up to ' || t.capacity
         || CASE WHEN t.capacity = 1 THEN ' guest' ELSE ' guests' END || ', ' || t.m2 || ' m².',
       t.capacity,
       greatest(100, round(${starPrice} * t.mult * c.price_factor * (0.85 + 0.3 * ${u('r.id', SALT.roomPrice)})
         * c.fx / 100) * 100)::int,
       CASE WHEN t.capacity <= 2 THEN 5 + ${pick(u('r.id', SALT.roomTotal), 36)}
         ELSE 2 + ${pick(u('r.id', SALT.roomTotal), 11)} END,
       ARRAY['wifi'] || ARRAY(SELECT x.a FROM unnest(${textArray(extras)}) WITH ORDINALITY AS x(a, k)
         WHERE (x.a <> 'sea view' OR c.coastal) AND ${u('r.id::bigint * 32 + x.k', SALT.roomAmenity)} < 0.2 + 0.1 * r.stars
         ORDER BY x.k),
       h.created_at
     FROM (
       SELECT m.hotel_id, m.first_rt + k - 1 AS id, m.first_template + k - 1 AS template, m.stars, m.city_idx
       FROM seed_hotel m CROSS JOIN LATERAL generate_series(1, m.rt_count) AS k
     ) AS r
     JOIN seed_room_template t ON t.idx = r.template
     JOIN seed_city c ON c.idx = r.city_idx
     JOIN hotels h ON h.id = r.hotel_id
     ORDER BY r.id`,
  );
}

export async function seedUsers(ctx: SeedContext, adminHash: string, demoHash: string): Promise<number> {
  const { u, todaySql, size } = ctx;
  const admin = await exec(
    ctx,
    'admin user',
    `INSERT INTO users (id, email, password_hash, name, role, created_at, updated_at)
     OVERRIDING SYSTEM VALUE
     VALUES (1, 'admin@innkeep.test', $1, 'Innkeep Admin', 'admin',
       ${utc(`${todaySql}::timestamp - interval '1500 days'`)}, ${utc(`${todaySql}::timestamp - interval '1500 days'`)})`,
    [adminHash],
  );
  const users = await exec(
    ctx,
    'users',
    `INSERT INTO users (id, email, password_hash, name, role, created_at, updated_at)
     OVERRIDING SYSTEM VALUE
     SELECT n + 1, 'user' || n || '@innkeep.test', $1,
       ${pickText(FIRST_NAMES, u('n', SALT.userFirst))} || ' ' || ${pickText(LAST_NAMES, u('n', SALT.userLast))},
       'user', ${utc('c.ts')}, ${utc('c.ts')}
     FROM generate_series(1, ${size.users}) AS n
     CROSS JOIN LATERAL (SELECT ${todaySql}::timestamp
       - make_interval(secs => floor((900 + ${u('n', SALT.userCreated)} * 400) * 86400)) AS ts) AS c`,
    [demoHash],
  );
  return admin + users;
}
