import type { CacheNamespace, NamespacePolicy } from '../../platform/cache/index.ts';

/**
 * Every namespace of the domain's cache, with what it holds, how stale it may be and what invalidates
 * it (README, "Caching"). Strict: never answered after a write that changed it (same instance at once;
 * other instances within the bus latency), nor stale when PostgreSQL fails. Graceful: reloaded after a
 * write like the strict ones, but when PostgreSQL fails an expired entry may be served for up to its
 * grace.
 */
export const CACHE_POLICIES = {
  search: {
    name: 'search',
    ttl: 'MEDIUM',
    mode: 'graceful',
    grace: 'VERY_LONG',
    description:
      'GET /api/hotels/search pages (bytes). Tags: the city searched, or all searches without a city; a review in that city drops them.',
  },
  hotel: {
    name: 'hotel',
    ttl: 'LONG',
    mode: 'graceful',
    grace: 'VERY_LONG',
    description: 'GET /api/hotels/:id (bytes). Tag: the hotel; a review of it drops it.',
  },
  reviews: {
    name: 'reviews',
    ttl: 'MEDIUM',
    mode: 'graceful',
    grace: 'LONG',
    description:
      'GET /api/hotels/:id/reviews pages (bytes). Tag: reviews of the hotel; a review of it drops them.',
  },
  prices: {
    name: 'prices',
    ttl: 'MEDIUM',
    mode: 'graceful',
    grace: 'LONG',
    description:
      'GET /api/hotels/:id/price-history (bytes), kept at most to the next quarter hour (the default range ends today). Tag: prices of the hotel; a booking there (it records the nightly prices paid) drops them.',
  },
  availability: {
    name: 'availability',
    ttl: 'SHORT',
    mode: 'strict',
    description:
      'GET /api/hotels/:id/availability (bytes), kept at most to the next quarter hour (a hotel-local midnight turns a stay into the past). Tag: the hotel; a booking or cancellation there drops them.',
  },
  stays: {
    name: 'stays',
    ttl: 'SHORT',
    mode: 'strict',
    description:
      'POST /api/availability/batch items, one entry per (room type, stay, guests), kept at most to the next quarter hour. Tag: the room type; a booking or cancellation of it drops them.',
  },
  'my-bookings': {
    name: 'my-bookings',
    ttl: 'SHORT',
    mode: 'strict',
    description:
      "GET /api/me/bookings pages. Tag: the user; the user's bookings, cancellations and trips drop them.",
  },
  'my-waitlist': {
    name: 'my-waitlist',
    ttl: 'SHORT',
    mode: 'strict',
    description:
      "GET /api/me/waitlist pages. Tag: the user; joining, leaving, booking, and an offer after someone else's cancellation drop them.",
  },
  'my-trips': {
    name: 'my-trips',
    ttl: 'SHORT',
    mode: 'strict',
    description:
      "GET /api/me/trips pages. Tag: the user; the user's trips, bookings and cancellations drop them.",
  },
  dashboard: {
    name: 'dashboard',
    ttl: 'SHORT',
    mode: 'strict',
    description:
      'GET /api/me/dashboard, kept at most to the next quarter hour (upcoming is judged by hotel-local dates). Tag: the user; any booking, cancellation, waitlist change, offer, trip or review of the user drops it.',
  },
  reports: {
    name: 'reports',
    ttl: 'VERY_SHORT',
    mode: 'graceful',
    grace: 'MEDIUM',
    description: 'GET /api/admin/reports/*. Tag: reports; every booking and cancellation drops them.',
  },
} as const satisfies Record<string, NamespacePolicy>;

export type CacheNamespaceName = keyof typeof CACHE_POLICIES;

/** The tags writes invalidate and cached reads carry; one builder per kind, shared by every module. */
export const cacheTags = {
  /** The hotel's detail page. */
  hotel: (hotelId: number) => `hotel:${hotelId}`,
  reviews: (hotelId: number) => `reviews:${hotelId}`,
  prices: (hotelId: number) => `prices:${hotelId}`,
  availability: (hotelId: number) => `avail:${hotelId}`,
  roomType: (roomTypeId: number) => `room-type:${roomTypeId}`,
  /** Searches filtered on this city (compared as the search compares it: trimmed, lower case). */
  city: (city: string) => `city:${cityKey(city)}`,
  /** Searches without a city: any hotel may be on them. */
  anyCity: 'city:*',
  user: (userId: number) => `user:${userId}`,
  reports: 'reports',
} as const;

/**
 * The city as the search matches it (`lower(h.city) = lower($city)`), so that every spelling PostgreSQL
 * finds a hotel by shares that hotel's tag. lower() maps each character on its own, but JavaScript's
 * toLowerCase() applies Unicode's full mapping: 'İ' becomes 'i' + U+0307 (lower() gives 'i') and a
 * word-final 'Σ' becomes 'ς' (lower() gives 'σ'). Both are folded back; folding 'ς' into 'σ' also merges
 * spellings lower() keeps apart, which costs an extra invalidation, never a stale search.
 */
function cityKey(city: string): string {
  return city.trim().toLowerCase().replaceAll('i\u0307', 'i').replaceAll('ς', 'σ');
}

/** What the domain sees of the cache: its namespaces, and invalidation after a commit. */
export interface DomainCache {
  readonly ns: { readonly [K in CacheNamespaceName]: CacheNamespace };
  /** Resolves when this process no longer answers with entries carrying `tags`; never rejects. */
  invalidate(tags: readonly string[]): Promise<void>;
}
