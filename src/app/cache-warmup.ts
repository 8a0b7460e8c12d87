import type { FastifyInstance } from 'fastify';
import type { Cache } from '../platform/cache/index.ts';
import type { Database } from '../platform/db/index.ts';
import { hotelRepository } from './hotels/hotel-repository.ts';

export interface WarmupOptions {
  readonly budgetMs: number;
  readonly hotels: number;
  readonly cities: number;
}

const CONCURRENCY = 4;
/** Stays starting in the next this many days say which hotels and cities are hot. */
const HORIZON_DAYS = 30;

/**
 * Fills the cache with the hottest pages after start: the detail pages of the hotels with the most
 * upcoming stays (booked, starting in the next 30 days: the bookings_status_dates_idx range) and the
 * first search page of their cities, through the real routes (`inject`), so the entries are exactly
 * what a client's first request would have stored. Runs in the background within `budgetMs`; the
 * app is ready before it ends, and it stops when the app closes. Never throws.
 */
export async function warmCache(
  app: FastifyInstance,
  db: Database,
  options: WarmupOptions,
  cache: Cache,
  stop: AbortSignal,
) {
  const startedAt = Date.now();
  const deadline = startedAt + options.budgetMs;
  try {
    // With Redis, wait (within the budget) until it is reachable: entries then go to L2 for everyone.
    if (cache.tiers === 'l1+l2') await cache.ready(Math.min(2_000, options.budgetMs / 2));
    const rows = await db.read((q) =>
      hotelRepository(q).hottest(Math.max(options.hotels, options.cities * 10), HORIZON_DAYS),
    );
    const cities = [...new Set(rows.map((r) => r.city))].slice(0, options.cities);
    const urls = [
      ...cities.map((city) => `/api/hotels/search?city=${encodeURIComponent(city)}`),
      ...rows.slice(0, options.hotels).map((r) => `/api/hotels/${r.hotelId}`),
    ];
    let done = 0;
    let next = 0;
    const worker = async () => {
      while (!stop.aborted && Date.now() < deadline && next < urls.length) {
        const url = urls[next++] as string;
        const res = await app.inject({ method: 'GET', url, headers: { 'x-innkeep-warmup': '1' } });
        if (res.statusCode === 200) done += 1;
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    app.log.info(
      { warmed: done, planned: urls.length, ms: Date.now() - startedAt, stopped: done < urls.length },
      'cache warm-up finished',
    );
  } catch (err) {
    if (!stop.aborted) app.log.warn({ err }, 'cache warm-up failed');
  }
}
