// Setup of `npm run loadtest`, through the API only: log the seeded users in, read the catalogue,
// and find the nights that have inventory.
import { CITIES } from '../../src/app/seed/cities.ts';
import { ADMIN_EMAIL, ADMIN_PASSWORD, DEMO_PASSWORD } from '../../src/app/seed/seed.ts';
import { addDays, type Catalogue, type HotelRef } from './load-mix.ts';

export interface LoadSetup {
  /** Access tokens of user1..userN. */
  readonly tokens: string[];
  readonly catalogue: Catalogue;
  readonly roomTypes: number;
  /** When the first access token expires (ms since the epoch); undefined if it carries no `exp`. */
  readonly tokensExpireAt: number | undefined;
  readonly durationMs: number;
}

/** Hotels read per city: the top-rated ones, the ones people look at. */
const HOTELS_PER_CITY = 20;
/** scrypt costs ~50 ms of the server's thread pool per login: a few at a time is enough. */
const PARALLEL_SETUP_REQUESTS = 4;
/** The longest stay the API accepts, so the probe reads 30 nights per call. */
const PROBE_NIGHTS = 30;
/** Give up looking for inventory after this many probes (a year). */
const MAX_PROBES = 13;

interface ApiAnswer {
  readonly status: number;
  readonly body: unknown;
}

/**
 * Logs in `users` seeded accounts (user1..userN@innkeep.test), reads up to 20 hotels of every seeded
 * city with their cheapest room types, and finds the inventory window from one hotel's availability.
 * Throws with a hint when the server is down, not seeded, or has no future inventory.
 */
export async function prepareLoad(baseUrl: string, users: number): Promise<LoadSetup> {
  const startedAt = performance.now();
  const tokens = await mapLimit(
    Array.from({ length: users }, (_, i) => i + 1),
    PARALLEL_SETUP_REQUESTS,
    async (n) => {
      const email = `user${n}@innkeep.test`;
      const res = await call(baseUrl, 'POST', '/api/auth/login', { email, password: DEMO_PASSWORD });
      if (res.status !== 200) {
        throw new Error(
          `${email} cannot log in (HTTP ${res.status}): is the database seeded (innkeep db seed) with at least ${users} users?`,
        );
      }
      return (res.body as { accessToken: string }).accessToken;
    },
  );

  const perCity = await mapLimit(CITIES, PARALLEL_SETUP_REQUESTS, async (city) => {
    const path = `/api/hotels/search?${new URLSearchParams({ city: city.name, limit: String(HOTELS_PER_CITY) })}`;
    const res = await call(baseUrl, 'GET', path);
    if (res.status !== 200) throw new Error(`GET ${path} answered ${res.status}`);
    const hotels = (res.body as { data: { id: number; cheapestRooms: { id: number; capacity: number }[] }[] })
      .data;
    return {
      city: city.name,
      hotels: hotels.map(
        (h): HotelRef => ({
          id: h.id,
          rooms: h.cheapestRooms.map((r) => ({ id: r.id, capacity: r.capacity })),
        }),
      ),
    };
  });
  const cities = perCity.filter((c) => c.hotels.length > 0);
  if (cities.length === 0)
    throw new Error('hotel search found no hotels: seed the database (innkeep db seed)');
  // Popularity rank: each city's best hotel in city order, then each city's second best, and so on.
  const hotels: HotelRef[] = [];
  for (let rank = 0; rank < HOTELS_PER_CITY; rank++) {
    for (const c of cities) if (c.hotels[rank]) hotels.push(c.hotels[rank]!);
  }
  const window = await findInventoryWindow(baseUrl, hotels[0]!.id);
  return {
    tokens,
    catalogue: { cities: cities.map((c) => c.city), hotels, ...window },
    roomTypes: hotels.reduce((n, h) => n + h.rooms.length, 0),
    tokensExpireAt: jwtExpiry(tokens[0]!),
    durationMs: Math.round(performance.now() - startedAt),
  };
}

/**
 * An access token of the seeded admin (admin@innkeep.test), to read `GET /api/admin/cache/stats`; the
 * reason when it cannot log in (not seeded, another password).
 */
export async function loginAdmin(
  baseUrl: string,
): Promise<{ token: string; reason?: undefined } | { token?: undefined; reason: string }> {
  const res = await call(baseUrl, 'POST', '/api/auth/login', {
    email: ADMIN_EMAIL,
    password: ADMIN_PASSWORD,
  });
  if (res.status !== 200) return { reason: `${ADMIN_EMAIL} cannot log in (HTTP ${res.status})` };
  return { token: (res.body as { accessToken: string }).accessToken };
}

/**
 * The nights with inventory, from tomorrow (UTC) on: tomorrow is not in the past for any hotel,
 * whatever its time zone. Reads one hotel's availability 30 nights at a time; a night without an
 * inventory row comes back with `availableRooms: null`.
 */
async function findInventoryWindow(
  baseUrl: string,
  hotelId: number,
): Promise<{ firstNight: string; lastNight: string }> {
  const tomorrow = addDays(new Date().toISOString().slice(0, 10), 1);
  let firstNight: string | undefined;
  let lastNight: string | undefined;
  for (let probe = 0; probe < MAX_PROBES; probe++) {
    const checkIn = addDays(tomorrow, probe * PROBE_NIGHTS);
    const path = `/api/hotels/${hotelId}/availability?checkIn=${checkIn}&checkOut=${addDays(checkIn, PROBE_NIGHTS)}&guests=1`;
    const res = await call(baseUrl, 'GET', path);
    if (res.status !== 200) throw new Error(`GET ${path} answered ${res.status}`);
    const rooms = (res.body as { roomTypes: { nights: { date: string; availableRooms: number | null }[] }[] })
      .roomTypes;
    const nights = rooms[0]?.nights ?? [];
    for (const night of nights) {
      if (night.availableRooms === null) {
        if (firstNight && lastNight) return { firstNight, lastNight };
        continue;
      }
      firstNight ??= night.date;
      lastNight = night.date;
    }
  }
  if (firstNight && lastNight) return { firstNight, lastNight };
  throw new Error(
    `hotel ${hotelId} has no inventory in the year from ${tomorrow}: seed again (innkeep db seed --reset)`,
  );
}

/** The `exp` claim of a JWT, in ms. Only read to warn when a run outlasts its tokens. */
function jwtExpiry(token: string): number | undefined {
  try {
    const payload = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as {
      exp?: unknown;
    };
    return typeof payload.exp === 'number' ? payload.exp * 1000 : undefined;
  } catch {
    return undefined;
  }
}

async function call(baseUrl: string, method: string, path: string, body?: unknown): Promise<ApiAnswer> {
  let res: Response;
  try {
    res = await fetch(new URL(path, baseUrl), {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(30_000),
    });
  } catch (err) {
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    const reason = cause?.code ?? cause?.message ?? (err as Error).message;
    throw new Error(`cannot reach Innkeep at ${baseUrl} (${reason}): is the server running?`, { cause: err });
  }
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // Not JSON: keep the text for the error message.
  }
  return { status: res.status, body: parsed };
}

/** Maps with at most `limit` calls in flight, keeping the input order. */
async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}
