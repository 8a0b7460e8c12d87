import { AvailabilityRepository } from '../availability/availability-repository.ts';
import { HotelRepository, type HotelSearchFilter } from '../hotels/hotel-repository.ts';
import { PriceHistoryRepository } from '../pricing/price-history-repository.ts';
import { ReportRepository } from '../reports/report-repository.ts';
import type { ReportGroup } from '../reports/report-schema.ts';
import { ReviewRepository } from '../reviews/review-repository.ts';
import type { ReviewSort } from '../reviews/review-schema.ts';
import type { CatalogueEntry } from './catalogue-entry.ts';
import { HOTEL_REVIEWS } from './index-alternatives.ts';
import type { StatementSamples } from './statement-samples.ts';

const CHEAPEST_ROOMS = 'room_types_hotel_price_idx';

type SearchFilter = Omit<HotelSearchFilter, 'limit' | 'offset'>;

/**
 * hotel_search:<filters>:<sort>: each filter combination is its own statement (2^5 shapes x sorts).
 * These are the shapes the API's traffic sends (the load test's mix: a city, sorted each way, with
 * the stars and rating filters; no city; full text; a name prefix). The other combinations add
 * filters to one of these and read the same index.
 */
function search(
  shape: string,
  filter: (s: StatementSamples) => SearchFilter,
  indexes: readonly string[],
  extra: Partial<CatalogueEntry> = {},
): CatalogueEntry {
  return {
    name: `hotel_search:${shape}`,
    kind: 'read',
    send: (db, s) => new HotelRepository(db).search({ ...filter(s), limit: 20, offset: 0 }),
    indexes: [...indexes, CHEAPEST_ROOMS],
    ...extra,
  };
}

const SEARCHES: CatalogueEntry[] = [
  search('city:rating', (s) => ({ city: s.city, sort: 'rating' }), ['hotels_active_city_rating_idx']),
  search('city:price', (s) => ({ city: s.city, sort: 'price' }), ['hotels_active_city_price_idx']),
  search('city:stars', (s) => ({ city: s.city, sort: 'stars' }), ['hotels_active_city_stars_idx']),
  search('city+stars:rating', (s) => ({ city: s.city, minStars: 4, sort: 'rating' }), [
    'hotels_active_city_rating_idx',
  ]),
  search('city+rating:rating', (s) => ({ city: s.city, minRating: 4, sort: 'rating' }), [
    'hotels_active_city_rating_idx',
  ]),
  search('all:rating', () => ({ sort: 'rating' }), ['hotels_active_rating_idx']),
  search('all:price', () => ({ sort: 'price' }), [], {
    note: 'no index orders all active hotels by price: a top-N sort of every active hotel',
  }),
  search('all:stars', () => ({ sort: 'stars' }), [], {
    note: 'no index orders all active hotels by stars: a top-N sort of every active hotel',
  }),
  search('q:relevance', (s) => ({ text: firstWord(s.hotelName), sort: 'relevance' }), [
    'hotels_search_vector_idx',
  ]),
  search('name:rating', (s) => ({ namePrefix: s.hotelName.slice(0, 4), sort: 'rating' }), [
    'hotels_name_lower_idx',
  ]),
];

const REVIEW_ORDER_INDEX: Record<ReviewSort, string> = {
  newest: 'reviews_entity_created_idx',
  highest: 'reviews_entity_rating_idx',
  lowest: 'reviews_entity_rating_idx',
};

const REVIEW_LISTS: CatalogueEntry[] = Object.entries(REVIEW_ORDER_INDEX).map(([sort, index]) => ({
  name: `reviews_list_${sort}`,
  kind: 'read',
  send: (db, s) => new ReviewRepository(db).list(s.hotelId, sort as ReviewSort, { page: 1, limit: 20 }),
  indexes: ['hotels_pkey', index, 'users_pkey'],
}));

/**
 * Stays starting on the range's live days walk bookings_status_dates_idx once per status and day
 * (see report-repository); the aggregated days' rows of booking_daily_stats are read by whichever
 * scan is cheaper (the table is empty until the aggregation job runs).
 */
const BOOKING_REPORT_INDEXES: Record<ReportGroup, readonly string[]> = {
  day: ['bookings_status_dates_idx'],
  hotel: ['bookings_status_dates_idx'],
  city: ['bookings_status_dates_idx'],
};

const BOOKING_REPORTS: CatalogueEntry[] = Object.entries(BOOKING_REPORT_INDEXES).map(([group, indexes]) => ({
  name: `reports_bookings_by_${group}`,
  kind: 'read',
  send: (db, s) => new ReportRepository(db).bookings(group as ReportGroup, s.reportFrom, s.reportTo, 1000),
  indexes,
}));

/** Hotel pages: search, detail, availability, reviews, price history and the admin reports. */
export const HOTEL_STATEMENTS: readonly CatalogueEntry[] = [
  ...SEARCHES,
  {
    name: 'hotel_detail',
    kind: 'read',
    send: (db, s) => new HotelRepository(db).findDetail(s.hotelId),
    indexes: ['hotels_pkey', CHEAPEST_ROOMS, HOTEL_REVIEWS],
  },
  {
    name: 'hotels_hottest',
    kind: 'read',
    send: (db) => new HotelRepository(db).hottest(200, 30),
    // The hotels of the grouped bookings are joined by whichever way is cheaper (a hash of the
    // hotels on small data); only the range over the bookings is fixed.
    indexes: ['bookings_status_dates_idx'],
  },
  {
    name: 'availability_hotel',
    kind: 'read',
    send: (db, s) => new AvailabilityRepository(db).forHotel(s.hotelId, s.checkIn, s.checkOut, 2),
    indexes: ['hotels_pkey', CHEAPEST_ROOMS, 'room_inventory_pk'],
  },
  {
    name: 'availability_batch',
    kind: 'read',
    send: (db, s) =>
      new AvailabilityRepository(db).batch(
        [{ roomTypeId: s.roomTypeId, checkIn: s.checkIn, checkOut: s.checkOut }],
        2,
      ),
    indexes: ['room_types_pkey', 'hotels_pkey', 'room_inventory_pk'],
  },
  ...REVIEW_LISTS,
  {
    name: 'price_history_room_type',
    kind: 'read',
    send: (db, s) =>
      new PriceHistoryRepository(db).forRoomType({
        hotelId: s.hotelId,
        roomTypeId: s.roomTypeId,
        from: undefined,
        to: undefined,
        defaultDays: 90,
        maxDays: 366,
        limit: 100,
      }),
    indexes: ['room_types_pkey', 'price_history_entity_created_idx'],
  },
  ...BOOKING_REPORTS,
  {
    name: 'reports_occupancy',
    kind: 'read',
    send: (db, s) => new ReportRepository(db).occupancy(s.hotelId, s.reportFrom, s.reportTo),
    indexes: [CHEAPEST_ROOMS, 'room_inventory_pk'],
  },
];

function firstWord(text: string): string {
  return text.split(/\s+/).find((w) => w.length > 3) ?? text;
}
