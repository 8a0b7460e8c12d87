// The naive variant's data access: whole rows (`SELECT *`), as an ORM model hands them out, and
// primary-key lookups that remember what this request already loaded. No joins, no SQL aggregates.
import type pg from 'pg';
import { pgTypes } from '../../src/platform/db/index.ts';

/** A pool or a transaction's client. */
export type Queryable = Pick<pg.Pool, 'query'>;

export interface HotelRow {
  readonly id: number;
  readonly name: string;
  readonly description: string;
  readonly address: string;
  readonly city: string;
  readonly country: string;
  readonly timezone: string;
  readonly currency: string;
  readonly stars: number;
  readonly rating: number;
  readonly review_count: number;
  readonly is_active: boolean;
  readonly lat: number | null;
  readonly lng: number | null;
  readonly amenities: string[];
  readonly min_price_cents: number | null;
  readonly created_at: Date;
  readonly updated_at: Date;
}

export interface RoomTypeRow {
  readonly id: number;
  readonly hotel_id: number;
  readonly name: string;
  readonly description: string;
  readonly capacity: number;
  readonly base_price_cents: number;
  readonly total_rooms: number;
  readonly amenities: string[];
}

export interface InventoryRow {
  readonly room_type_id: number;
  readonly date: string;
  readonly available_rooms: number;
  readonly price_cents: number;
}

export interface BookingRow {
  readonly id: number;
  readonly user_id: number;
  readonly hotel_id: number;
  readonly room_type_id: number;
  readonly trip_id: number | null;
  readonly start_date: string;
  readonly end_date: string;
  readonly guests: number;
  readonly status: 'pending' | 'confirmed' | 'cancelled' | 'completed';
  readonly total_cents: number;
  readonly currency: string;
  readonly cancelled_at: Date | null;
  readonly created_at: Date;
}

export interface PaymentRow {
  readonly id: number;
  readonly booking_id: number;
  readonly amount_cents: number;
  readonly provider: string;
  readonly status: string;
}

export interface UserRow {
  readonly id: number;
  readonly name: string;
}

/** `T` is `string` when read with `rawTimestamps`. */
export interface ReviewRow<T = Date> {
  readonly id: number;
  readonly user_id: number;
  readonly entity_id: number;
  readonly rating: number;
  readonly title: string;
  readonly body: string;
  readonly created_at: T;
}

/** Runs one statement and returns its rows; `types` overrides the pool's type parsers for it. */
export async function all<T extends pg.QueryResultRow>(
  db: Queryable,
  text: string,
  values: unknown[] = [],
  types?: pg.CustomTypesConfig,
): Promise<T[]> {
  const { rows } = await db.query<T>(types ? { text, values, types } : { text, values });
  return rows;
}

const TIMESTAMPTZ_OID = 1184;

/**
 * timestamptz as the text PostgreSQL sends. The real dashboard builds its lists with json_agg, which
 * writes timestamps with microseconds and the session's offset; a JS Date would drop both.
 */
export const rawTimestamps = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === TIMESTAMPTZ_OID) return (v: string) => v;
    return pgTypes.getTypeParser(oid, format);
  },
} as pg.CustomTypesConfig;

/** '2026-01-05 10:11:12.5+00' (text output) -> '2026-01-05T10:11:12.5+00:00' (what to_json writes). */
export function jsonTimestamp(text: string): string;
export function jsonTimestamp(text: string | null): string | null;
export function jsonTimestamp(text: string | null): string | null {
  if (text === null) return null;
  return text.replace(' ', 'T').replace(/([+-]\d\d)$/, '$1:00');
}

/**
 * findByPk with a per-request identity map: a row loaded once in a request is not read again
 * (a hotel shared by twenty bookings costs one query, as with an ORM's identity map).
 */
export class Records {
  readonly #db: Queryable;
  readonly #hotels = new Map<number, Promise<HotelRow | undefined>>();
  readonly #roomTypes = new Map<number, Promise<RoomTypeRow | undefined>>();
  readonly #users = new Map<number, Promise<UserRow | undefined>>();

  constructor(db: Queryable) {
    this.#db = db;
  }

  hotel(id: number): Promise<HotelRow | undefined> {
    return this.#byPk(this.#hotels, 'SELECT * FROM hotels WHERE id = $1', id);
  }

  roomType(id: number): Promise<RoomTypeRow | undefined> {
    return this.#byPk(this.#roomTypes, 'SELECT * FROM room_types WHERE id = $1', id);
  }

  user(id: number): Promise<UserRow | undefined> {
    return this.#byPk(this.#users, 'SELECT * FROM users WHERE id = $1', id);
  }

  #byPk<T extends pg.QueryResultRow>(
    cache: Map<number, Promise<T | undefined>>,
    text: string,
    id: number,
  ): Promise<T | undefined> {
    let row = cache.get(id);
    if (!row) {
      row = all<T>(this.#db, text, [id]).then((rows) => rows[0]);
      cache.set(id, row);
    }
    return row;
  }
}

const localDate = new Map<string, Intl.DateTimeFormat>();

/**
 * Today's date in an IANA zone, computed in JavaScript (the real code asks PostgreSQL for
 * `(now() AT TIME ZONE tz)::date`; both read the same clock).
 */
export function localToday(timezone: string, now = new Date()): string {
  let format = localDate.get(timezone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone: timezone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
    });
    localDate.set(timezone, format);
  }
  const parts = format.formatToParts(now);
  const part = (type: string) => parts.find((p) => p.type === type)?.value ?? '';
  return `${part('year')}-${part('month')}-${part('day')}`;
}

/** Today in UTC, 'YYYY-MM-DD'. */
export function utcToday(now = new Date()): string {
  return now.toISOString().slice(0, 10);
}

/** Rounds a non-negative ratio to `digits` decimals as PostgreSQL's numeric round() does (half up). */
export function roundRatio(numerator: number, denominator: number, digits: number): number {
  const scale = 10 ** digits;
  return Math.round((numerator * scale) / denominator) / scale;
}
