import pg from 'pg';
import { ACCESS_TOKEN_ISSUER } from '../../src/app/auth/auth-service.ts';
import { JwtSigner } from '../../src/platform/security/index.ts';
import type { BenchRequest } from './measure.ts';

/** What the write-ups claim for an operation: before -> after, in milliseconds. */
export interface Claim {
  readonly label: string;
  readonly beforeMs: number;
  readonly afterMs: number;
}

export interface Operation {
  readonly id: string;
  readonly title: string;
  readonly claim?: Claim;
  /** How many distinct inputs the requests cycle through (request i and i + period are the same). */
  readonly period: number;
  /** The request numbered `i`; both sides get the same sequence. */
  request(i: number): BenchRequest;
  /** Writes: their responses carry new ids, so the result check compares them without those. */
  readonly writes?: boolean;
}

/** Inputs drawn from the dataset once, deterministically, before anything is measured. */
export interface Fixture {
  readonly today: string;
  readonly cities: string[];
  readonly hotels: { id: number; roomTypeId: number }[];
  readonly roomTypes: number[];
  readonly bookable: number[];
  readonly users: number[];
  readonly adminId: number;
}

/** Spreads ids over the table the same way for every run: Knuth's multiplicative hash. */
const HASHED = (col: string) => `(${col}::bigint * 2654435761) % 4294967296`;

export async function loadFixture(url: string): Promise<Fixture> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const one = async <T>(text: string, values: unknown[] = []) =>
      (await client.query(text, values)).rows as T[];
    const [{ today } = { today: '' }] = await one<{ today: string }>(
      `SELECT to_char(min(date), 'YYYY-MM-DD') AS today FROM room_inventory`,
    );
    if (!today) throw new Error('the dataset has no room_inventory: was it seeded?');
    const cities = (
      await one<{ city: string }>(
        `SELECT city FROM hotels WHERE is_active GROUP BY city ORDER BY count(*) DESC, city LIMIT 12`,
      )
    ).map((r) => r.city);
    // Half popular hotels (most reviewed: where traffic goes), half spread over the catalogue.
    const hotels = await one<{ id: number; roomTypeId: number }>(
      `SELECT h.id, (SELECT min(rt.id) FROM room_types rt WHERE rt.hotel_id = h.id) AS "roomTypeId"
       FROM (
         (SELECT id FROM hotels WHERE is_active ORDER BY review_count DESC, id LIMIT 20)
         UNION
         (SELECT id FROM hotels WHERE is_active ORDER BY ${HASHED('id')} LIMIT 20)
       ) AS h ORDER BY ${HASHED('h.id')}`,
    );
    const roomTypes = (
      await one<{ id: number }>(`SELECT id FROM room_types ORDER BY ${HASHED('id')} LIMIT 400`)
    ).map((r) => r.id);
    // Room types with rooms left on every night the booking operation uses, in active hotels.
    const bookable = (
      await one<{ id: number }>(
        `SELECT ri.room_type_id AS id FROM room_inventory ri
         JOIN room_types rt ON rt.id = ri.room_type_id JOIN hotels h ON h.id = rt.hotel_id AND h.is_active
         WHERE ri.date >= $1::date + 5 AND ri.date < $1::date + 45
         GROUP BY ri.room_type_id HAVING min(ri.available_rooms) >= 3 AND count(*) = 40
         ORDER BY ${HASHED('ri.room_type_id')} LIMIT 500`,
        [today],
      )
    ).map((r) => r.id);
    const users = (
      await one<{ id: number }>(
        `SELECT DISTINCT user_id AS id, ${HASHED('user_id')} AS h FROM bookings ORDER BY h LIMIT 40`,
      )
    ).map((r) => r.id);
    const [admin] = await one<{ id: number }>(`SELECT min(id) AS id FROM users WHERE role = 'admin'`);
    if (!admin?.id || users.length === 0 || bookable.length === 0 || hotels.length === 0) {
      throw new Error('the dataset lacks users, an admin, hotels or bookable rooms');
    }
    return { today, cities, hotels, roomTypes, bookable, users, adminId: admin.id };
  } finally {
    await client.end();
  }
}

export function addDays(iso: string, days: number): string {
  const d = new Date(`${iso}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}

const at = <T>(list: readonly T[], i: number): T => list[i % list.length] as T;

/**
 * The benchmarked operations, writes last: each side makes as many bookings as its speed allows, so
 * after the first write the two databases differ, and a read measured later (occupancy) would no
 * longer give both sides the same answer. Claims are the write-ups' figures (see
 * ../shared/reference): the "after" must beat its "before" by at least the claimed ratio.
 */
export function operations(f: Fixture, jwtSecret: string, runId: string): Operation[] {
  const jwt = new JwtSigner(jwtSecret, { issuer: ACCESS_TOKEN_ISSUER });
  const tokens = new Map<number, string>();
  const bearer = (id: number, role: 'user' | 'admin' = 'user') => {
    let token = tokens.get(id);
    if (!token) {
      token = jwt.sign({ sub: String(id), role }, 24 * 3600);
      tokens.set(id, token);
    }
    return { authorization: `Bearer ${token}` };
  };
  const admin = () => bearer(f.adminId, 'admin');
  const checkIn = addDays(f.today, 3);
  const checkOut = addDays(f.today, 10);
  return [
    {
      id: 'search',
      period: f.cities.length,
      title: 'Hotel search (city, 20 per page)',
      claim: { label: 'hotel search', beforeMs: 850, afterMs: 150 },
      request: (i) => ({
        method: 'GET',
        path: `/api/hotels/search?city=${encodeURIComponent(at(f.cities, i))}&limit=20`,
      }),
    },
    {
      id: 'detail',
      period: f.hotels.length,
      title: 'Hotel detail',
      request: (i) => ({ method: 'GET', path: `/api/hotels/${at(f.hotels, i).id}` }),
    },
    {
      id: 'availability',
      period: f.hotels.length,
      title: 'Availability, 7 nights',
      claim: { label: 'availability 7 days', beforeMs: 800, afterMs: 80 },
      request: (i) => ({
        method: 'GET',
        path: `/api/hotels/${at(f.hotels, i).id}/availability?checkIn=${checkIn}&checkOut=${checkOut}&guests=2`,
      }),
    },
    {
      id: 'batch-availability',
      period: Math.ceil(f.roomTypes.length / 20),
      title: 'Batch availability, 20 room types',
      request: (i) => ({
        method: 'POST',
        path: '/api/availability/batch',
        body: {
          items: Array.from({ length: 20 }, (_, k) => ({
            roomTypeId: at(f.roomTypes, i * 20 + k),
            checkIn,
            checkOut,
          })),
          guests: 1,
        },
      }),
    },
    {
      id: 'user-bookings',
      period: f.users.length,
      title: 'User bookings',
      claim: { label: 'user bookings', beforeMs: 300, afterMs: 45 },
      request: (i) => ({ method: 'GET', path: '/api/me/bookings', headers: bearer(at(f.users, i)) }),
    },
    {
      id: 'dashboard',
      period: f.users.length,
      title: 'User dashboard',
      request: (i) => ({ method: 'GET', path: '/api/me/dashboard', headers: bearer(at(f.users, i)) }),
    },
    {
      id: 'price-history',
      period: f.hotels.length,
      title: 'Price history (90 days)',
      request: (i) => {
        const h = at(f.hotels, i);
        return { method: 'GET', path: `/api/hotels/${h.id}/price-history?roomTypeId=${h.roomTypeId}` };
      },
    },
    {
      id: 'reviews',
      period: f.hotels.length,
      title: 'Reviews list (newest, 20)',
      request: (i) => ({ method: 'GET', path: `/api/hotels/${at(f.hotels, i).id}/reviews?sort=newest` }),
    },
    {
      id: 'bookings-report',
      period: 1,
      title: 'Bookings report (365 days, by city)',
      claim: { label: 'report', beforeMs: 12000, afterMs: 3000 },
      request: () => ({
        method: 'GET',
        path: `/api/admin/reports/bookings?from=${addDays(f.today, -365)}&to=${f.today}&groupBy=city`,
        headers: admin(),
      }),
    },
    {
      id: 'occupancy-report',
      period: f.hotels.length,
      title: 'Occupancy report (61 days, one hotel)',
      claim: { label: 'report', beforeMs: 12000, afterMs: 3000 },
      request: (i) => ({
        method: 'GET',
        path: `/api/admin/reports/occupancy?hotelId=${at(f.hotels, i).id}&from=${addDays(f.today, -30)}&to=${addDays(f.today, 30)}`,
        headers: admin(),
      }),
    },
    {
      id: 'create-booking',
      period: f.bookable.length,
      title: 'Create booking (2 nights)',
      claim: { label: 'create booking', beforeMs: 2500, afterMs: 350 },
      writes: true,
      request: (i) => {
        // Each room type takes one 2-night stay per pass over the list, moving 3 nights on per pass,
        // so a night comes round again only every 12 passes (6,000 requests a side): nothing sells out.
        const pass = Math.floor(i / f.bookable.length);
        const start = addDays(f.today, 5 + ((pass * 3) % 36));
        return {
          method: 'POST',
          path: '/api/bookings',
          body: { roomTypeId: at(f.bookable, i), checkIn: start, checkOut: addDays(start, 2), guests: 1 },
          headers: { ...bearer(at(f.users, i)), 'idempotency-key': `bench-${runId}-${i}` },
        };
      },
    },
  ];
}

export const OPERATION_IDS: readonly string[] = [
  'search',
  'detail',
  'availability',
  'batch-availability',
  'user-bookings',
  'dashboard',
  'price-history',
  'reviews',
  'bookings-report',
  'occupancy-report',
  'create-booking',
];

/** Scaling curve: these two are served by an index, so their cost should not grow with the data. */
export const SCALING_OPS = ['search', 'user-bookings'] as const;
