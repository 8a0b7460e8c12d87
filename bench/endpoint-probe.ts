// Times every booking-domain endpoint of a running Innkeep against its seeded demo data:
//   npm run probe -- [baseUrl] [iterations]   (npm runs it on the pinned Node, which strips types)
// Prints, per endpoint, the status, client-side p50/p95 latency, and the server's own SQL statement
// count and database time (from the Server-Timing header). Bookings it makes are cancelled again.
// The full A/B benchmark (naive vs Innkeep, before/after indexes) is `npm run bench` (issue 4).

const base = process.argv[2] ?? 'http://127.0.0.1:3000';
const iterations = Number(process.argv[3] ?? 20);

interface Result {
  status: number;
  ms: number;
  queries: number;
  dbMs: number;
  body: string;
}

async function call(
  method: string,
  path: string,
  options: { token?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<Result> {
  const startedAt = performance.now();
  const res = await fetch(base + path, {
    method,
    headers: {
      ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
      ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
      ...options.headers,
    },
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
  });
  const body = await res.text();
  const timing = res.headers.get('server-timing') ?? '';
  return {
    status: res.status,
    ms: performance.now() - startedAt,
    queries: Number(/desc="(\d+) queries"/.exec(timing)?.[1] ?? 0),
    dbMs: Number(/dur=([\d.]+)/.exec(timing)?.[1] ?? 0),
    body,
  };
}

async function login(email: string, password: string): Promise<string> {
  const res = await call('POST', '/api/auth/login', { body: { email, password } });
  if (res.status !== 200) throw new Error(`login ${email}: ${res.status} ${res.body}`);
  return (JSON.parse(res.body) as { accessToken: string }).accessToken;
}

const pct = (xs: number[], q: number) => [...xs].sort((a, b) => a - b)[Math.floor(q * (xs.length - 1))] ?? 0;
const day = (offset: number) => new Date(Date.now() + offset * 86_400_000).toISOString().slice(0, 10);

const admin = await login('admin@innkeep.test', 'innkeep-admin');
const user = await login('user2@innkeep.test', 'innkeep-demo');
const search = JSON.parse((await call('GET', '/api/hotels/search?limit=1')).body) as {
  data: { id: number; cheapestRooms: { id: number }[] }[];
};
const hotel = search.data[0];
const roomTypeId = hotel?.cheapestRooms[0]?.id;
if (!hotel || !roomTypeId) throw new Error('no hotels: seed the database first (innkeep db seed)');

let run = 0;
const probes: [string, string, () => Promise<Result>][] = [
  ['GET', '/api/hotels/:id', () => call('GET', `/api/hotels/${hotel.id}`)],
  [
    'GET',
    '/api/hotels/:id/availability (7 nights)',
    () => call('GET', `/api/hotels/${hotel.id}/availability?checkIn=${day(3)}&checkOut=${day(10)}&guests=2`),
  ],
  [
    'POST',
    '/api/availability/batch (20 items)',
    () =>
      call('POST', '/api/availability/batch', {
        body: {
          items: Array.from({ length: 20 }, (_, i) => ({
            roomTypeId: roomTypeId + i,
            checkIn: day(3),
            checkOut: day(10),
          })),
        },
      }),
  ],
  ['GET', '/api/hotels/:id/reviews', () => call('GET', `/api/hotels/${hotel.id}/reviews?sort=newest`)],
  [
    'GET',
    '/api/hotels/:id/price-history',
    () => call('GET', `/api/hotels/${hotel.id}/price-history?roomTypeId=${roomTypeId}`),
  ],
  ['GET', '/api/me/bookings', () => call('GET', '/api/me/bookings', { token: user })],
  ['GET', '/api/me/dashboard', () => call('GET', '/api/me/dashboard', { token: user })],
  ['GET', '/api/me/trips', () => call('GET', '/api/me/trips', { token: user })],
  ['GET', '/api/me/waitlist', () => call('GET', '/api/me/waitlist', { token: user })],
  [
    'POST',
    '/api/bookings (+ cancel)',
    async () => {
      run += 1;
      const res = await call('POST', '/api/bookings', {
        token: user,
        body: { roomTypeId, checkIn: day(40 + (run % 10)), checkOut: day(42 + (run % 10)), guests: 1 },
        headers: { 'idempotency-key': `probe-${Date.now()}-${run}` },
      });
      if (res.status === 201) {
        const { id } = JSON.parse(res.body) as { id: number };
        await call('POST', `/api/bookings/${id}/cancel`, { token: user });
      }
      return res;
    },
  ],
  [
    'GET',
    '/api/admin/reports/bookings (30 days, by day)',
    () =>
      call('GET', `/api/admin/reports/bookings?from=${day(-30)}&to=${day(0)}&groupBy=day`, { token: admin }),
  ],
  [
    'GET',
    '/api/admin/reports/bookings (365 days, by city)',
    () =>
      call('GET', `/api/admin/reports/bookings?from=${day(-365)}&to=${day(0)}&groupBy=city`, {
        token: admin,
      }),
  ],
  [
    'GET',
    '/api/admin/reports/occupancy (61 days)',
    () =>
      call('GET', `/api/admin/reports/occupancy?hotelId=${hotel.id}&from=${day(-30)}&to=${day(30)}`, {
        token: admin,
      }),
  ],
];

console.log(`| Endpoint | Status | p50 ms | p95 ms | Statements | DB ms (p50) |`);
console.log(`|---|---|---|---|---|---|`);
for (const [method, name, probe] of probes) {
  const results: Result[] = [];
  // The first calls prepare statements and warm caches; they are not counted.
  for (let i = 0; i < 3; i++) await probe();
  for (let i = 0; i < iterations; i++) results.push(await probe());
  const last = results.at(-1) as Result;
  console.log(
    `| ${method} ${name} | ${last.status} | ${pct(
      results.map((r) => r.ms),
      0.5,
    ).toFixed(1)} | ${pct(
      results.map((r) => r.ms),
      0.95,
    ).toFixed(1)} | ${last.queries} | ${pct(
      results.map((r) => r.dbMs),
      0.5,
    ).toFixed(1)} |`,
  );
}
