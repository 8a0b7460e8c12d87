// The request mix of `npm run loadtest`: what a browsing-then-booking crowd sends, drawn from one
// seeded PRNG so a seed always gives the same sequence of requests.

export const REQUEST_KINDS = [
  'search',
  'hotel',
  'availability',
  'reviews',
  'myBookings',
  'dashboard',
  'book',
  'cancel',
  'recheck',
] as const;
export type RequestKind = (typeof REQUEST_KINDS)[number];

/**
 * Share of each kind, in percent. A cancel with nothing to cancel yet becomes a my-bookings read.
 * `recheck` is never drawn: it is the availability read of a stay just booked, sent next when the
 * stale-read check asks for it (see {@link RequestMix.recheck}).
 */
export const MIX: Readonly<Record<RequestKind, number>> = {
  search: 55,
  hotel: 25,
  availability: 10,
  reviews: 3,
  myBookings: 1.5,
  dashboard: 1.5,
  book: 3,
  cancel: 1,
  recheck: 0,
};

export interface RoomRef {
  readonly id: number;
  readonly capacity: number;
}

export interface HotelRef {
  readonly id: number;
  readonly rooms: readonly RoomRef[];
}

export interface Catalogue {
  /** City names, most popular first (the Zipf rank). */
  readonly cities: readonly string[];
  /** Hotels, most popular first (the Zipf rank). */
  readonly hotels: readonly HotelRef[];
  /** First and last night a stay may use: 'YYYY-MM-DD', both inclusive. */
  readonly firstNight: string;
  readonly lastNight: string;
}

export interface PlannedRequest {
  readonly kind: RequestKind;
  readonly method: 'GET' | 'POST';
  readonly path: string;
  readonly headers: Record<string, string>;
  readonly body?: string;
  /** For a booking: the index of the user (token) making it. */
  readonly user?: number;
  /** For a booking: what it asks for. */
  readonly stay?: { readonly roomTypeId: number; readonly checkIn: string; readonly checkOut: string };
  /** For a cancel: the booking it cancels. */
  readonly bookingId?: number;
}

/** A booking this run created, cancellable by the user who made it. */
export interface CreatedBooking {
  readonly id: number;
  readonly user: number;
}

/** mulberry32: a tiny, fast, seedable PRNG; returns numbers in [0, 1). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Draws ranks 0..n-1 with P(rank k) proportional to 1 / (k + 1)^s: a few items get most draws. */
export function zipfSampler(n: number, s: number, random: () => number): () => number {
  const cdf = new Float64Array(n);
  let sum = 0;
  for (let k = 0; k < n; k++) {
    sum += 1 / (k + 1) ** s;
    cdf[k] = sum;
  }
  return () => {
    const x = random() * sum;
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (cdf[mid]! < x) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
}

/** 'YYYY-MM-DD' plus n days, in calendar arithmetic (no time zone involved). */
export function addDays(isoDate: string, n: number): string {
  const [y, m, d] = isoDate.split('-').map(Number) as [number, number, number];
  return new Date(Date.UTC(y, m - 1, d + n)).toISOString().slice(0, 10);
}

/** Whole days from a to b ('YYYY-MM-DD'). */
export function daysBetween(a: string, b: string): number {
  return Math.round((Date.parse(`${b}T00:00:00Z`) - Date.parse(`${a}T00:00:00Z`)) / 86_400_000);
}

const SEARCH_SORTS = ['price', 'stars', 'rating'] as const;

/**
 * Plans requests one at a time. Cities and hotels are Zipf-skewed (s = 1) by their rank in the
 * catalogue; stays fall in the inventory window; every booking gets a fresh Idempotency-Key.
 *
 * @example
 * const mix = new RequestMix(catalogue, tokens, 42, 'run-1');
 * const next = mix.next(); // { kind: 'search', method: 'GET', path: '/api/hotels/search?city=Paris', ... }
 */
export class RequestMix {
  readonly #catalogue: Catalogue;
  readonly #tokens: readonly string[];
  readonly #random: () => number;
  readonly #city: () => number;
  readonly #hotel: () => number;
  readonly #rooms: readonly RoomRef[];
  readonly #keyPrefix: string;
  readonly #cumulative: [RequestKind, number][];
  readonly #created: CreatedBooking[] = [];
  readonly #hotelOfRoom = new Map<number, number>();
  readonly #rechecks: PlannedRequest[] = [];
  #bookings = 0;

  constructor(catalogue: Catalogue, tokens: readonly string[], seed: number, keyPrefix: string) {
    if (catalogue.cities.length === 0 || catalogue.hotels.length === 0 || tokens.length === 0) {
      throw new Error('the request mix needs at least one city, hotel and user');
    }
    this.#catalogue = catalogue;
    this.#tokens = tokens;
    this.#random = seededRandom(seed);
    this.#city = zipfSampler(catalogue.cities.length, 1, this.#random);
    this.#hotel = zipfSampler(catalogue.hotels.length, 1, this.#random);
    this.#rooms = catalogue.hotels.flatMap((h) => h.rooms);
    for (const h of catalogue.hotels) for (const r of h.rooms) this.#hotelOfRoom.set(r.id, h.id);
    this.#keyPrefix = keyPrefix;
    let sum = 0;
    this.#cumulative = REQUEST_KINDS.map((kind) => {
      sum += MIX[kind];
      return [kind, sum];
    });
  }

  /** Remembers a booking this run made, so a later cancel can pick it. */
  recordCreated(booking: CreatedBooking): void {
    this.#created.push(booking);
  }

  /**
   * Queues the availability read of a stay this run just booked: the next request planned (by any
   * connection) is that read, ahead of the drawn mix. It draws nothing from the PRNG, so the drawn
   * sequence stays the seed's.
   */
  recheck(stay: { readonly roomTypeId: number; readonly checkIn: string; readonly checkOut: string }): void {
    const hotel = this.#hotelOfRoom.get(stay.roomTypeId);
    if (hotel === undefined) return;
    this.#rechecks.push(
      this.#get(
        'recheck',
        `/api/hotels/${hotel}/availability?checkIn=${stay.checkIn}&checkOut=${stay.checkOut}&guests=1`,
      ),
    );
  }

  next(): PlannedRequest {
    const queued = this.#rechecks.shift();
    if (queued) return queued;
    const x = this.#random() * 100;
    const kind = this.#cumulative.find(([, upTo]) => x < upTo)?.[0] ?? 'search';
    switch (kind) {
      case 'search':
        return this.#search();
      case 'hotel':
        return this.#get(kind, `/api/hotels/${this.#pickHotel().id}`);
      case 'availability':
        return this.#availability();
      case 'reviews': {
        const sort = this.#random() < 0.7 ? 'newest' : 'highest';
        return this.#get(kind, `/api/hotels/${this.#pickHotel().id}/reviews?sort=${sort}`);
      }
      case 'myBookings':
        return this.#get(kind, '/api/me/bookings', this.#pickUser());
      case 'dashboard':
        return this.#get(kind, '/api/me/dashboard', this.#pickUser());
      case 'book':
        return this.#book();
      case 'cancel':
        return this.#cancel();
      case 'recheck':
        // Never drawn (its share is 0); only queued by recheck().
        return this.#availability();
    }
  }

  #search(): PlannedRequest {
    const params = new URLSearchParams({ city: this.#catalogue.cities[this.#city()]! });
    const variant = this.#random();
    if (variant < 0.2) params.set('sort', 'price');
    else if (variant < 0.3) params.set('stars', String(3 + Math.floor(this.#random() * 3)));
    else if (variant < 0.4) {
      params.set('minRating', '4');
      params.set('sort', SEARCH_SORTS[Math.floor(this.#random() * SEARCH_SORTS.length)]!);
    } else if (variant < 0.5) params.set('page', String(2 + Math.floor(this.#random() * 2)));
    return this.#get('search', `/api/hotels/search?${params}`);
  }

  #availability(): PlannedRequest {
    const hotel = this.#pickHotel();
    const [checkIn, checkOut] = this.#stay(1 + Math.floor(this.#random() * 7));
    const guests = 1 + Math.floor(this.#random() * 2);
    return this.#get(
      'availability',
      `/api/hotels/${hotel.id}/availability?checkIn=${checkIn}&checkOut=${checkOut}&guests=${guests}`,
    );
  }

  #book(): PlannedRequest {
    const room = this.#rooms[Math.floor(this.#random() * this.#rooms.length)]!;
    const [checkIn, checkOut] = this.#stay(1 + Math.floor(this.#random() * 3));
    const guests = 1 + Math.floor(this.#random() * Math.min(2, room.capacity));
    const user = this.#pickUser();
    this.#bookings += 1;
    return {
      kind: 'book',
      method: 'POST',
      path: '/api/bookings',
      headers: {
        authorization: `Bearer ${this.#tokens[user]}`,
        'content-type': 'application/json',
        'idempotency-key': `${this.#keyPrefix}-${this.#bookings}`,
      },
      body: JSON.stringify({ roomTypeId: room.id, checkIn, checkOut, guests }),
      user,
      stay: { roomTypeId: room.id, checkIn, checkOut },
    };
  }

  #cancel(): PlannedRequest {
    if (this.#created.length === 0) return this.#get('myBookings', '/api/me/bookings', this.#pickUser());
    // Swap-remove a random one: each booking is cancelled at most once.
    const i = Math.floor(this.#random() * this.#created.length);
    const booking = this.#created[i]!;
    this.#created[i] = this.#created.at(-1)!;
    this.#created.pop();
    return {
      kind: 'cancel',
      method: 'POST',
      path: `/api/bookings/${booking.id}/cancel`,
      headers: { authorization: `Bearer ${this.#tokens[booking.user]}` },
      bookingId: booking.id,
    };
  }

  #get(kind: RequestKind, path: string, user?: number): PlannedRequest {
    const headers: Record<string, string> =
      user === undefined ? {} : { authorization: `Bearer ${this.#tokens[user]}` };
    return { kind, method: 'GET', path, headers };
  }

  #pickHotel(): HotelRef {
    return this.#catalogue.hotels[this.#hotel()]!;
  }

  #pickUser(): number {
    return Math.floor(this.#random() * this.#tokens.length);
  }

  /** A stay of `nights` (shortened to fit) starting on a uniform night of the window. */
  #stay(nights: number): [string, string] {
    const { firstNight, lastNight } = this.#catalogue;
    const span = daysBetween(firstNight, lastNight) + 1;
    const n = Math.max(1, Math.min(nights, span));
    const checkIn = addDays(firstNight, Math.floor(this.#random() * (span - n + 1)));
    return [checkIn, addDays(checkIn, n)];
  }
}
