import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type pg from 'pg';
import type { AuthUser } from '../../src/app/auth/auth-service.ts';
import { sendBookingReply } from '../../src/app/bookings/booking-routes.ts';
import {
  Booking,
  BookingPage,
  CreateBookingBody,
  MyBookingsQuery,
} from '../../src/app/bookings/booking-schema.ts';
import { ErrorResponse } from '../../src/app/common/schemas.ts';
import { assertNotPast, daysBetween, nightsOf, validateStay } from '../../src/app/common/stay.ts';
import { domainError } from '../../src/app/errors.ts';
import { IdempotencyHeaders, idempotencyKey } from '../../src/app/idempotency/idempotency-key.ts';
import {
  ABANDONED_CLAIM_SECONDS,
  IDEMPOTENCY_TTL_HOURS,
  requestFingerprint,
} from '../../src/app/idempotency/idempotency-store.ts';
import type { IdempotentOutcome } from '../../src/app/idempotency/idempotent-requests.ts';
import { PayAtPropertyProvider } from '../../src/app/payments/payment-provider.ts';
import type { Database } from '../../src/platform/db/index.ts';
import { type AppError, appError } from '../../src/platform/errors/index.ts';
import { errorBody } from '../../src/platform/http/index.ts';
import type { NaiveAuth } from './auth.ts';
import {
  all,
  type BookingRow,
  type HotelRow,
  type InventoryRow,
  localToday,
  type PaymentRow,
  type Queryable,
  Records,
  type RoomTypeRow,
} from './records.ts';

interface IdempotencyRow {
  readonly id: number;
  readonly request_hash: string;
  readonly status: 'in_progress' | 'completed';
  readonly response_status: number | null;
  /** The response text, stored as a jsonb string. */
  readonly response_body: string | null;
  readonly created_at: Date;
  readonly expires_at: Date;
}

/** What the route sends: the exact JSON text, fresh or replayed, as in the real booking route. */
type Outcome = IdempotentOutcome;

/** A booking in the API's shape, from its row and the related rows loaded one by one. */
function toBooking(b: BookingRow, hotel: HotelRow, roomType: RoomTypeRow, payment: PaymentRow | undefined) {
  return {
    id: b.id,
    status: b.status,
    checkIn: b.start_date,
    checkOut: b.end_date,
    nights: daysBetween(b.start_date, b.end_date),
    guests: b.guests,
    totalCents: b.total_cents,
    currency: b.currency,
    hotel: { id: hotel.id, name: hotel.name, city: hotel.city, timezone: hotel.timezone },
    roomType: { id: roomType.id, name: roomType.name },
    tripId: b.trip_id,
    payment: payment
      ? { provider: payment.provider, status: payment.status, amountCents: payment.amount_cents }
      : null,
    createdAt: b.created_at.toISOString(),
    cancelledAt: b.cancelled_at?.toISOString() ?? null,
  };
}

function inProgress(): AppError {
  return domainError('IDEMPOTENCY_IN_PROGRESS', undefined, {
    headers: { 'retry-after': '1' },
    hint: 'Retry with the same key shortly to get the result',
  });
}

/**
 * Creating a booking, written as one ORM transaction: the idempotency key is looked up with a SELECT
 * (the before database has no unique index to claim it with), the room type and hotel are loaded by
 * key, every night is locked and decremented one statement at a time, and the booking, payment,
 * notification, waitlist update, nightly prices and stored answer are each their own statement.
 * Row effects match the real path's; a sold-out answer is stored for replay, as there.
 */
async function createBooking(
  db: Database,
  user: AuthUser,
  body: CreateBookingBody,
  key: string,
  renderError: (err: AppError) => unknown,
): Promise<Outcome> {
  validateStay(body.checkIn, body.checkOut);
  const fingerprint = requestFingerprint('POST', '/bookings', { ...body });
  const client = await db.pool.connect();
  let broken: Error | undefined;
  try {
    await client.query('BEGIN');
    const outcome = await book(client, user, body, key, fingerprint, renderError);
    await client.query('COMMIT');
    return outcome;
  } catch (err) {
    await client.query('ROLLBACK').catch((rollbackErr: Error) => {
      // The connection is unusable: drop it instead of returning it to the pool.
      broken = rollbackErr;
    });
    throw err;
  } finally {
    client.release(broken);
  }
}

async function book(
  client: pg.PoolClient,
  user: AuthUser,
  body: CreateBookingBody,
  key: string,
  fingerprint: string,
  renderError: (err: AppError) => unknown,
): Promise<Outcome> {
  // Stands in for the unique index on (user_id, key) the before database lacks: a concurrent request
  // with the same key waits here until this transaction ends, then finds its stored answer.
  await client.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [user.id, key]);
  const [stored] = await all<IdempotencyRow>(
    client,
    'SELECT * FROM idempotency_keys WHERE user_id = $1 AND key = $2',
    [user.id, key],
  );
  if (stored) {
    const expired = stored.expires_at.getTime() <= Date.now();
    const abandoned =
      stored.status === 'in_progress' &&
      stored.request_hash === fingerprint &&
      stored.created_at.getTime() < Date.now() - ABANDONED_CLAIM_SECONDS * 1000;
    if (expired || abandoned) {
      await client.query('DELETE FROM idempotency_keys WHERE id = $1', [stored.id]);
    } else if (stored.request_hash !== fingerprint) {
      throw domainError('IDEMPOTENCY_MISMATCH', undefined, {
        hint: 'Use a new Idempotency-Key for a different booking',
      });
    } else if (stored.status === 'in_progress') {
      throw inProgress();
    } else {
      return { status: stored.response_status ?? 200, json: stored.response_body ?? '', replayed: true };
    }
  }

  const records = new Records(client);
  const roomType = await records.roomType(body.roomTypeId);
  const hotel = roomType ? await records.hotel(roomType.hotel_id) : undefined;
  if (!roomType || !hotel?.is_active) throw appError('NOT_FOUND', `Room type ${body.roomTypeId} not found`);
  assertNotPast(body.checkIn, localToday(hotel.timezone));
  if (body.guests > roomType.capacity) {
    throw domainError('CAPACITY_EXCEEDED', `${roomType.name} takes at most ${roomType.capacity} guests`, {
      details: [{ field: 'guests', message: `must be at most ${roomType.capacity}` }],
    });
  }

  // The stay's nights.
  const wanted = nightsOf(body.checkIn, body.checkOut);
  const nights: (InventoryRow | undefined)[] = [];
  // One range read, locked, in date order (so overlapping stays queue instead of deadlocking).
  const locked = await all<InventoryRow>(
    client,
    'SELECT * FROM room_inventory WHERE room_type_id = $1 AND date BETWEEN $2 AND $3 ORDER BY date FOR UPDATE',
    [roomType.id, wanted[0], wanted.at(-1)],
  );
  const byDate = new Map(locked.map((r) => [String(r.date), r]));
  for (const date of wanted) nights.push(byDate.get(date));
  const missing = wanted.filter((_, i) => !((nights[i]?.available_rooms ?? 0) > 0));
  if (missing.length > 0) {
    const err = domainError('SOLD_OUT', `No ${roomType.name} is free on ${missing.join(', ')}`, {
      details: missing.map((date) => ({ field: 'checkIn', message: 'no room free this night', date })),
      hint: 'Join the waitlist with POST /api/waitlist and the same roomTypeId, checkIn and checkOut',
    });
    const json = JSON.stringify(renderError(err));
    await storeAnswer(client, user.id, key, fingerprint, err.statusCode, json);
    return { status: err.statusCode, json, replayed: false };
  }
  const taken = nights as InventoryRow[];
  for (const night of taken) {
    await client.query(
      'UPDATE room_inventory SET available_rooms = available_rooms - 1 WHERE room_type_id = $1 AND date = $2',
      [night.room_type_id, night.date],
    );
  }
  const totalCents = taken.reduce((sum, n) => sum + n.price_cents, 0);
  const payment = new PayAtPropertyProvider().decide();
  const [booking] = await all<BookingRow>(
    client,
    `INSERT INTO bookings (user_id, hotel_id, room_type_id, start_date, end_date, guests, status, total_cents, currency)
     VALUES ($1, $2, $3, $4, $5, $6, 'confirmed', $7, $8) RETURNING *`,
    [user.id, hotel.id, roomType.id, body.checkIn, body.checkOut, body.guests, totalCents, hotel.currency],
  );
  if (!booking) throw new Error('INSERT INTO bookings returned no row');
  await client.query(
    `INSERT INTO payments (booking_id, user_id, amount_cents, currency, provider, provider_ref, status)
     VALUES ($1, $2, $3, $4, $5, $6, $7)`,
    [booking.id, user.id, totalCents, hotel.currency, payment.provider, payment.providerRef, payment.status],
  );
  await client.query(
    `INSERT INTO notifications (user_id, type, payload) VALUES ($1, 'booking_confirmed', $2)`,
    [
      user.id,
      JSON.stringify({
        bookingId: booking.id,
        hotelName: hotel.name,
        checkIn: body.checkIn,
        checkOut: body.checkOut,
      }),
    ],
  );
  // The guest got the room they were waiting for: their entry is done. (An offer keeps its held room
  // until it expires: this booking took another one.)
  await client.query(
    `UPDATE waitlist SET status = 'booked'
     WHERE user_id = $1 AND room_type_id = $2 AND start_date = $3 AND end_date = $4
       AND status = 'waiting'`,
    [user.id, roomType.id, body.checkIn, body.checkOut],
  );
  for (const night of taken) {
    await client.query(
      `INSERT INTO price_history (entity_type, entity_id, price_cents, currency, stay_date)
       VALUES ('room_type', $1, $2, $3, $4)`,
      [roomType.id, night.price_cents, hotel.currency, night.date],
    );
  }
  const result = toBooking(booking, hotel, roomType, {
    id: 0,
    booking_id: booking.id,
    provider: payment.provider,
    status: payment.status,
    amount_cents: totalCents,
  });
  const json = JSON.stringify(result);
  await storeAnswer(client, user.id, key, fingerprint, 201, json);
  return { status: 201, json, replayed: false };
}

/** The answer under its key, as the exact text sent (a jsonb string keeps it byte for byte). */
async function storeAnswer(
  db: Queryable,
  userId: number,
  key: string,
  fingerprint: string,
  status: number,
  json: string,
): Promise<void> {
  await db.query(
    `INSERT INTO idempotency_keys (user_id, key, request_hash, status, response_status, response_body, expires_at)
     VALUES ($1, $2, $3, 'completed', $4, $5, $6)`,
    [
      userId,
      key,
      fingerprint,
      status,
      JSON.stringify(json),
      new Date(Date.now() + IDEMPOTENCY_TTL_HOURS * 3_600_000),
    ],
  );
}

/** Mounted at /api. */
export const naiveBookingRoutes: FastifyPluginAsyncTypebox<{ db: Database; auth: NaiveAuth }> = async (
  app,
  { db, auth },
) => {
  app.post(
    '/bookings',
    {
      onRequest: auth.authenticate,
      schema: {
        headers: IdempotencyHeaders,
        body: CreateBookingBody,
        response: { 201: Booking, 409: ErrorResponse },
      },
    },
    async (request, reply) => {
      const key = idempotencyKey(request.headers['idempotency-key']);
      const outcome = await createBooking(db, auth.user(request), request.body, key, (err) =>
        errorBody(request, err),
      );
      return sendBookingReply(reply, outcome);
    },
  );

  app.get(
    '/me/bookings',
    {
      onRequest: auth.authenticate,
      schema: { querystring: MyBookingsQuery, response: { 200: BookingPage } },
    },
    async (request) => {
      const user = auth.user(request);
      const { status, page, limit } = request.query;
      const values: unknown[] = [user.id, limit + 1, (page - 1) * limit];
      if (status !== undefined) values.push(status);
      const bookings = await all<BookingRow>(
        db.pool,
        `SELECT * FROM bookings WHERE user_id = $1${status === undefined ? '' : ' AND status = $4'}
         ORDER BY created_at DESC, id DESC LIMIT $2 OFFSET $3`,
        values,
      );
      const records = new Records(db.pool);
      const data = [];
      // N+1: each booking's hotel, room type and latest payment, loaded lazily.
      for (const b of bookings.slice(0, limit)) {
        const hotel = await records.hotel(b.hotel_id);
        const roomType = await records.roomType(b.room_type_id);
        const [payment] = await all<PaymentRow>(
          db.pool,
          'SELECT * FROM payments WHERE booking_id = $1 ORDER BY id DESC LIMIT 1',
          [b.id],
        );
        if (hotel && roomType) data.push(toBooking(b, hotel, roomType, payment));
      }
      return { data, page, limit, hasMore: bookings.length > limit };
    },
  );
};
