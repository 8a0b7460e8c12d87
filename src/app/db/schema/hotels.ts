import { sql } from 'drizzle-orm';
import {
  boolean,
  char,
  check,
  date,
  doublePrecision,
  index,
  integer,
  numeric,
  pgTable,
  primaryKey,
  smallint,
  text,
} from 'drizzle-orm/pg-core';
import { createdAt, tsvector, updatedAt } from './columns.ts';

export const hotels = pgTable(
  'hotels',
  {
    id: integer('id').primaryKey().generatedAlwaysAsIdentity(),
    name: text('name').notNull(),
    description: text('description').notNull().default(''),
    address: text('address').notNull().default(''),
    city: text('city').notNull(),
    country: text('country').notNull(),
    /** IANA zone of the hotel: nights are calendar dates in this zone. */
    timezone: text('timezone').notNull().default('UTC'),
    currency: char('currency', { length: 3 }).notNull().default('EUR'),
    stars: smallint('stars').notNull(),
    rating: numeric('rating', { precision: 3, scale: 2 }).notNull().default('0'),
    reviewCount: integer('review_count').notNull().default(0),
    isActive: boolean('is_active').notNull().default(true),
    lat: doublePrecision('lat'),
    lng: doublePrecision('lng'),
    amenities: text('amenities').array().notNull().default(sql`'{}'::text[]`),
    /** Cheapest room type's base price; kept by triggers on room_types (migration 0001). */
    minPriceCents: integer('min_price_cents'),
    searchVector: tsvector('search_vector')
      .notNull()
      .generatedAlwaysAs(
        sql`setweight(to_tsvector('english'::regconfig, name), 'A') || setweight(to_tsvector('english'::regconfig, city || ' ' || country), 'B') || setweight(to_tsvector('english'::regconfig, description), 'C')`,
      ),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    // hotel_search by city, sort=rating (the default): the index order is the ORDER BY, so a page
    // reads its rows and stops, however many hotels the city has (stars/rating filters are applied
    // on the way). The planner knows a city's size from hotels_lower_city_stats (migration 0003).
    index('hotels_active_city_rating_idx')
      .on(sql`lower(${t.city})`, t.rating.desc(), t.reviewCount.desc(), t.id)
      .where(sql`${t.isActive}`),
    // hotel_search by city, sort=stars.
    index('hotels_active_city_stars_idx')
      .on(sql`lower(${t.city})`, t.stars.desc(), t.rating.desc(), t.id)
      .where(sql`${t.isActive}`),
    // hotel_search by city, sort=price.
    index('hotels_active_city_price_idx')
      .on(sql`lower(${t.city})`, t.minPriceCents)
      .where(sql`${t.isActive}`),
    // hotel_search without a city (sort=rating): top-rated first, stops after one page.
    index('hotels_active_rating_idx')
      .on(t.rating.desc(), t.reviewCount.desc(), t.id)
      .where(sql`${t.isActive}`),
    // hotel_search name=prefix (autocomplete): lower(name) LIKE 'abc%'.
    index('hotels_name_lower_idx').on(sql`lower(${t.name}) text_pattern_ops`),
    // hotel_search q=...: full-text match on name, city, country, description.
    index('hotels_search_vector_idx').using('gin', t.searchVector),
    check('hotels_stars_ck', sql`${t.stars} BETWEEN 1 AND 5`),
    check('hotels_rating_ck', sql`${t.rating} BETWEEN 0 AND 5`),
  ],
);

export const roomTypes = pgTable(
  'room_types',
  {
    id: integer('id').primaryKey().generatedAlwaysAsIdentity(),
    hotelId: integer('hotel_id')
      .notNull()
      .references(() => hotels.id, { onDelete: 'cascade' }),
    name: text('name').notNull(),
    description: text('description').notNull().default(''),
    capacity: smallint('capacity').notNull(),
    basePriceCents: integer('base_price_cents').notNull(),
    totalRooms: integer('total_rooms').notNull(),
    amenities: text('amenities').array().notNull().default(sql`'{}'::text[]`),
    createdAt: createdAt(),
  },
  (t) => [
    // hotel_search (3 cheapest per hotel, LATERAL ... ORDER BY price LIMIT 3), hotel detail, min-price trigger.
    index('room_types_hotel_price_idx').on(t.hotelId, t.basePriceCents),
    check('room_types_capacity_ck', sql`${t.capacity} BETWEEN 1 AND 20`),
    check('room_types_price_ck', sql`${t.basePriceCents} >= 0`),
    check('room_types_total_rooms_ck', sql`${t.totalRooms} >= 0`),
  ],
);

export const roomInventory = pgTable(
  'room_inventory',
  {
    roomTypeId: integer('room_type_id')
      .notNull()
      .references(() => roomTypes.id, { onDelete: 'cascade' }),
    date: date('date', { mode: 'string' }).notNull(),
    availableRooms: integer('available_rooms').notNull(),
    priceCents: integer('price_cents').notNull(),
  },
  (t) => [
    // availability and booking: one row per room type and night; the key is (room_type_id, date).
    primaryKey({ name: 'room_inventory_pk', columns: [t.roomTypeId, t.date] }),
    // the last line of defence against overselling.
    check('room_inventory_available_ck', sql`${t.availableRooms} >= 0`),
    check('room_inventory_price_ck', sql`${t.priceCents} >= 0`),
  ],
);
