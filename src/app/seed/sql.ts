import type { Queryable } from '../../platform/db/index.ts';
import type { SeedSize } from './sizes.ts';

/** Everything a seeding step needs: the transaction's client and the knobs that make it reproducible. */
export interface SeedContext {
  readonly client: Queryable;
  readonly seed: number;
  readonly size: SeedSize;
  /** 'YYYY-MM-DD'; first night of the inventory window. */
  readonly today: string;
  /** SQL literal for `today` (a `date`). */
  readonly todaySql: string;
  /**
   * SQL expression for a pseudo-random number in [0, 1) determined only by (seed, key, salt).
   * random() is not used because its sequence depends on the plan and on parallel workers. Keys
   * must be distinct below 2^32: hashint8extended folds the high 32 bits onto the low ones, so keys
   * packed into the high bits collide.
   */
  u(key: string, salt: number): string;
}

const MASK_53 = '9007199254740991';
const TWO_53 = '9007199254740992.0';

export function uniformFactory(seed: number): (key: string, salt: number) => string {
  return (key, salt) => {
    // Salts stay below 1000, so every (seed, salt) pair gets its own hash seed.
    const hashSeed = BigInt(seed) * 1000n + BigInt(salt);
    return `((hashint8extended((${key})::bigint, ${hashSeed}) & ${MASK_53})::float8 / ${TWO_53})`;
  };
}

/** Integer in [0, n) from a uniform expression. */
export function pick(uniform: string, n: number | string): string {
  return `floor(${uniform} * (${n}))::int`;
}

export function quote(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

export function textArray(values: readonly string[]): string {
  return `ARRAY[${values.map(quote).join(', ')}]::text[]`;
}

/** `arr[1 + floor(u * n)]` for a JS list inlined as an array literal. */
export function pickText(values: readonly string[], uniform: string): string {
  return `(${textArray(values)})[1 + ${pick(uniform, values.length)}]`;
}

/** A literal for a VALUES list row: strings quoted, numbers and booleans as they are. */
export function literal(value: string | number | boolean | null): string {
  if (value === null) return 'NULL';
  if (typeof value === 'string') return quote(value);
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (!Number.isFinite(value)) throw new Error(`not a finite number: ${value}`);
  return String(value);
}

export function valuesList(rows: readonly (readonly (string | number | boolean | null)[])[]): string {
  return rows.map((row) => `(${row.map(literal).join(', ')})`).join(',\n    ');
}

/**
 * Nightly price of a room type: Friday and Saturday nights cost 20% more, rounded to whole units.
 * Integer arithmetic (days since a Monday, cents) because numeric math dominated the inventory insert.
 */
export function nightlyPrice(baseCents: string, night: string): string {
  return `(CASE WHEN (${night} - DATE '1970-01-05') % 7 IN (4, 5)
    THEN ((${baseCents})::bigint * 12 + 500) / 1000 * 100 ELSE (${baseCents}) END)::int`;
}

/** A timestamptz from a `timestamp` computed in UTC, so the value does not depend on the session time zone. */
export function utc(timestampExpr: string): string {
  return `((${timestampExpr}) AT TIME ZONE 'UTC')`;
}

export async function exec(
  ctx: SeedContext,
  name: string,
  text: string,
  values?: unknown[],
): Promise<number> {
  // The first line names the statement in slow-query logs.
  const result = await ctx.client.query(`-- seed: ${name}\n${text}`, values);
  return result.rowCount ?? 0;
}

/** Column salts: every pseudo-random column draws from its own stream. */
export const SALT = {
  city: 1,
  stars1: 2,
  stars2: 3,
  roomTypeCount: 4,
  firstTemplate: 5,
  active: 6,
  popularity: 7,
  namePattern: 8,
  nameAdjective: 9,
  nameNoun: 10,
  nameType: 11,
  style: 12,
  location: 13,
  beach: 14,
  audience1: 15,
  audience2: 16,
  street: 17,
  streetNo: 18,
  streetSuffix: 19,
  lat: 20,
  lng: 21,
  hotelCreated: 22,
  hotelUpdated: 23,
  hotelAmenity: 24,
  roomPrice: 30,
  roomTotal: 31,
  roomAmenity: 32,
  userFirst: 40,
  userLast: 41,
  userCreated: 42,
  allocation: 100,
  nights: 101,
  future: 102,
  when: 103,
  status: 104,
  lead: 105,
  timeOfDay: 106,
  cancel: 107,
  bookingUser: 108,
  guests: 109,
  overbookMargin: 110,
  trip: 120,
  tripName: 121,
  waitlist: 130,
  waitlistUser: 131,
  waitlistCreated: 132,
  notification: 140,
  reviewPick: 200,
  reviewChoice: 201,
  hotelQuality: 202,
  reviewNoise1: 203,
  reviewNoise2: 204,
  reviewTitle: 205,
  reviewAspect1: 206,
  reviewAspect2: 207,
  reviewAdjective1: 208,
  reviewAdjective2: 209,
  reviewDelay: 210,
  priceHistory: 220,
} as const;
