// A guest's journey written as a client developer would write it, with openapi-fetch and the types
// openapi-typescript generates from the OpenAPI document. test/openapi-client.test.ts generates
// 'innkeep-api' (it exists only there, so tsconfig.json leaves this folder out), compiles this file
// with `tsc --strict`, then runs it against the app. Keep the calls natural: no parameter that has a
// default (page, limit, sort, guests) is passed, and errors are read as `r.error.code`.
import { randomUUID } from 'node:crypto';
import type { paths } from 'innkeep-api';
import createClient from 'openapi-fetch';

export interface JourneyInput {
  readonly baseUrl: string;
  readonly email: string;
  /** A city with a bookable hotel. */
  readonly city: string;
  readonly checkIn: string;
  readonly checkOut: string;
}

export interface JourneyReport {
  readonly hotelId: number;
  readonly bookingId: number;
  readonly bookingStatus: string;
  readonly replayed: string | null;
  readonly failure: { readonly status: number; readonly code: string; readonly requestId: string };
  readonly myBookingIds: number[];
  readonly cancelledStatus: string;
}

export async function bookingJourney(input: JourneyInput): Promise<JourneyReport> {
  const anonymous = createClient<paths>({ baseUrl: input.baseUrl });
  const password = 'journey password 1';

  const registered = await anonymous.POST('/api/auth/register', {
    body: { email: input.email, password, name: 'Journey Guest' },
  });
  if (registered.error) throw new Error(`register: ${registered.error.code}`);

  const login = await anonymous.POST('/api/auth/login', { body: { email: input.email, password } });
  if (login.error) throw new Error(`login: ${login.error.code} (request ${login.error.requestId})`);
  const api = createClient<paths>({
    baseUrl: input.baseUrl,
    headers: { Authorization: `Bearer ${login.data.accessToken}` },
  });

  const search = await api.GET('/api/hotels/search', { params: { query: { city: input.city } } });
  if (search.error) throw new Error(`search: ${search.error.code}`);
  const hotel = search.data.data[0];
  if (!hotel) throw new Error(`no hotel in ${input.city}`);

  const availability = await api.GET('/api/hotels/{id}/availability', {
    params: { path: { id: hotel.id }, query: { checkIn: input.checkIn, checkOut: input.checkOut } },
  });
  if (availability.error) throw new Error(`availability: ${availability.error.code}`);
  const room = availability.data.roomTypes.find((r) => r.available);
  if (!room) throw new Error(`nothing free in hotel ${hotel.id}`);

  const key = randomUUID();
  const stay = { roomTypeId: room.roomTypeId, checkIn: input.checkIn, checkOut: input.checkOut, guests: 1 };
  const booked = await api.POST('/api/bookings', {
    params: { header: { 'idempotency-key': key } },
    body: stay,
  });
  if (booked.error) throw new Error(`book: ${booked.error.code} (request ${booked.error.requestId})`);

  // The same key with another body: an error result, read through its typed body.
  const reused = await api.POST('/api/bookings', {
    params: { header: { 'idempotency-key': key } },
    body: { ...stay, guests: 2 },
  });
  if (!reused.error) throw new Error('a reused Idempotency-Key with another body was accepted');
  const failure = {
    status: reused.response.status,
    code: reused.error.code,
    requestId: reused.error.requestId,
  };

  const mine = await api.GET('/api/me/bookings');
  if (mine.error) throw new Error(`my bookings: ${mine.error.code}`);

  const cancelled = await api.POST('/api/bookings/{id}/cancel', { params: { path: { id: booked.data.id } } });
  if (cancelled.error) throw new Error(`cancel: ${cancelled.error.code}`);

  return {
    hotelId: hotel.id,
    bookingId: booked.data.id,
    bookingStatus: booked.data.status,
    replayed: booked.response.headers.get('idempotent-replayed'),
    failure,
    myBookingIds: mine.data.data.map((b) => b.id),
    cancelledStatus: cancelled.data.status,
  };
}
