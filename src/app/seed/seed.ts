import { createHash, scryptSync } from 'node:crypto';
import type { SeedScale } from '../../platform/config/index.ts';
import type { Queryable, TransactionPool } from '../../platform/db/index.ts';
import { seedBookings, seedInventory } from './bookings.ts';
import { BULK_TABLES, deferIndexesAndConstraints, INDEX_ONLY_TABLES } from './bulk.ts';
import { createPlan, seedHotels, seedRoomTypes, seedUsers } from './catalog.ts';
import { seedNotifications, seedPayments, seedTrips, seedWaitlist } from './extras.ts';
import { seedPriceHistory, seedReviews } from './reviews.ts';
import { SEED_SIZES } from './sizes.ts';
import type { SeedContext } from './sql.ts';
import { uniformFactory } from './sql.ts';

export type { SeedSize } from './sizes.ts';
export { SEED_SIZES } from './sizes.ts';

export interface SeedProgress {
  step: string;
  done: number;
  total: number;
}

export interface SeedOptions {
  scale: SeedScale;
  /** Same seed and same `today` give identical rows, ids included. Default 42. */
  seed?: number;
  onProgress?: (p: SeedProgress) => void;
  /** 'YYYY-MM-DD': first night of the inventory window. Default: the server's CURRENT_DATE. */
  today?: string;
}

export interface SeedResult {
  scale: SeedScale;
  seed: number;
  counts: Record<string, number>;
  durationMs: number;
}

export const ADMIN_EMAIL = 'admin@innkeep.test';
export const ADMIN_PASSWORD = 'innkeep-admin';
/** Every seeded user is `user<n>@innkeep.test` (n = 1..users, id n + 1) with this password. */
export const DEMO_PASSWORD = 'innkeep-demo';

const DEFAULT_SEED = 42;

/** Tables holding demo or user data, children included; resetDemoData empties all of them. */
const DOMAIN_TABLES = [
  'users',
  'hotels',
  'room_types',
  'room_inventory',
  'bookings',
  'waitlist',
  'payments',
  'notifications',
  'price_history',
  'reviews',
  'trips',
  'refresh_tokens',
  'idempotency_keys',
  'security_events',
  'data_exports',
  'price_drop_alerts',
];

/** Tables seedDatabase fills with explicit ids: their identity sequences must continue after them. */
const IDENTITY_TABLES = [
  'users',
  'hotels',
  'room_types',
  'bookings',
  'trips',
  'waitlist',
  'payments',
  'notifications',
  'price_history',
  'reviews',
];

const STEPS = [
  'hotels',
  'room_types',
  'users',
  'bookings',
  'room_inventory',
  'trips_waitlist',
  'payments',
  'notifications',
  'reviews',
  'price_history',
  'indexes',
  'commit',
  'analyze',
] as const;

export async function isDatabaseEmpty(pool: Queryable): Promise<boolean> {
  const { rows } = await pool.query<{ empty: boolean }>('SELECT NOT EXISTS (SELECT 1 FROM hotels) AS empty');
  return rows[0]?.empty ?? true;
}

/** Empties every domain table and restarts its ids, so a following seedDatabase starts from scratch. */
export async function resetDemoData(pool: Queryable): Promise<void> {
  await pool.query(`TRUNCATE ${DOMAIN_TABLES.join(', ')} RESTART IDENTITY CASCADE`);
}

/**
 * Fills an empty database with demo data, set-based (INSERT ... SELECT over generate_series) in one
 * transaction. Every pseudo-random value is a hash of (seed, row key, column), so a seed and a
 * `today` always give the same rows.
 *
 * @example
 * const result = await seedDatabase(pool, { scale: 'small', onProgress: (p) => console.error(p.step) });
 */
export async function seedDatabase(pool: TransactionPool, options: SeedOptions): Promise<SeedResult> {
  const startedAt = performance.now();
  const size = SEED_SIZES[options.scale];
  if (!size)
    throw new Error(`unknown seed scale '${String(options.scale)}' (expected small, medium or large)`);
  const seed = options.seed ?? DEFAULT_SEED;
  if (!Number.isSafeInteger(seed) || seed < 0 || seed > 2 ** 31 - 1) {
    throw new Error(`seed must be an integer between 0 and 2147483647, got ${seed}`);
  }
  if (options.today !== undefined && !isIsoDate(options.today)) {
    throw new Error(`today must be a 'YYYY-MM-DD' date, got '${options.today}'`);
  }
  // Hashed once here: scrypt per user would take minutes. Salts derive from the seed to stay reproducible.
  const adminHash = passwordHash(ADMIN_PASSWORD, seed);
  const demoHash = passwordHash(DEMO_PASSWORD, seed);

  let done = 0;
  const progress = (step: string) => {
    done++;
    options.onProgress?.({ step, done, total: STEPS.length });
  };
  const counts: Record<string, number> = {};
  const client = await pool.connect();
  let broken = false;
  try {
    await client.query('BEGIN');
    try {
      await client.query(`SET LOCAL statement_timeout = 0;
        SET LOCAL synchronous_commit = off;
        SET LOCAL work_mem = '256MB';
        SET LOCAL maintenance_work_mem = '512MB';
        SET LOCAL jit = off`);
      // Serializes concurrent seeders: the second one waits here, then finds hotels and refuses.
      await client.query('LOCK TABLE hotels IN SHARE ROW EXCLUSIVE MODE');
      const { rows } = await client.query<{ present: boolean; today: string }>(
        `SELECT EXISTS (SELECT 1 FROM hotels) AS present,
           to_char(coalesce($1::date, CURRENT_DATE), 'YYYY-MM-DD') AS today`,
        [options.today ?? null],
      );
      if (rows[0]?.present) {
        throw new Error(
          'refusing to seed: the database already contains hotels; reset the demo data first (--reset)',
        );
      }
      const today = rows[0]!.today;
      const deferred = await deferIndexesAndConstraints(client, BULK_TABLES, INDEX_ONLY_TABLES);
      const ctx: SeedContext = {
        client,
        seed,
        size,
        today,
        todaySql: `DATE '${today}'`,
        u: uniformFactory(seed),
      };

      await createPlan(ctx);
      counts.hotels = await seedHotels(ctx);
      progress('hotels');
      counts.room_types = await seedRoomTypes(ctx);
      progress('room_types');
      counts.users = await seedUsers(ctx, adminHash, demoHash);
      progress('users');
      counts.bookings = await seedBookings(ctx);
      progress('bookings');
      const inventory = await seedInventory(ctx);
      counts.room_inventory = inventory.rows;
      counts.room_types_raised = inventory.raised;
      progress('room_inventory');
      counts.trips = await seedTrips(ctx);
      counts.waitlist = await seedWaitlist(ctx);
      progress('trips_waitlist');
      counts.payments = await seedPayments(ctx);
      progress('payments');
      counts.notifications = await seedNotifications(ctx);
      progress('notifications');
      counts.reviews = await seedReviews(ctx);
      progress('reviews');
      counts.price_history = await seedPriceHistory(ctx);
      progress('price_history');
      await deferred.restore();
      progress('indexes');

      for (const table of IDENTITY_TABLES) {
        await client.query(
          `SELECT setval(pg_get_serial_sequence('${table}', 'id'), coalesce((SELECT max(id) FROM ${table}), 0) + 1, false)`,
        );
      }
      await client.query('COMMIT');
      progress('commit');
    } catch (err) {
      await client.query('ROLLBACK').catch(() => {
        broken = true;
      });
      throw err;
    }
    await client.query('SET statement_timeout = 0');
    try {
      await client.query('ANALYZE');
    } finally {
      await client.query('RESET statement_timeout');
    }
    progress('analyze');
  } finally {
    // A connection that could not roll back is discarded rather than returned to the pool.
    client.release(broken);
  }
  return { scale: options.scale, seed, counts, durationMs: Math.round(performance.now() - startedAt) };
}

/** `scrypt$N$r$p$saltB64$hashB64`, the format the auth module verifies. */
function passwordHash(password: string, seed: number): string {
  const N = 16384;
  const r = 8;
  const p = 1;
  const salt = createHash('sha256').update(`innkeep-seed:${seed}:${password}`).digest().subarray(0, 16);
  const hash = scryptSync(password, salt, 64, { N, r, p });
  return `scrypt$${N}$${r}$${p}$${salt.toString('base64')}$${hash.toString('base64')}`;
}

function isIsoDate(value: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(value)) return false;
  const d = new Date(`${value}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === value;
}
