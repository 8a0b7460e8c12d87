import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type pg from 'pg';
import { loadConfig } from '../../src/platform/config/index.ts';
import {
  createPool,
  type Database,
  migrationStatus,
  openDatabase,
  retryTransientRead,
  runMigrations,
  translatePgError,
} from '../../src/platform/db/index.ts';
import { currentRequestContext, withRequestContext } from '../../src/platform/observability/index.ts';
import { createTestDatabase, MIGRATIONS, type TestDatabase } from '../support/database.ts';
import { recordingLogger } from '../support/silent-logger.ts';
import { ensureTestServer } from '../support/test-server.ts';

type Entry = ReturnType<typeof recordingLogger>['entries'][number];

/** The message of a log entry, whether logged as (obj, msg) or as a bare string. */
function messageOf(entry: Entry): string | undefined {
  return entry.msg ?? (typeof entry.obj === 'string' ? entry.obj : undefined);
}

function slowQueryEntries(entries: readonly Entry[]) {
  return entries
    .filter((e) => messageOf(e) === 'slow query')
    .map((e) => ({
      level: e.level,
      ...(e.obj as { statement: string; durationMs: number; requestId?: string; failed?: boolean }),
    }));
}

/** The SQLSTATE a statement fails with on the given pool (fails the test if it succeeds). */
async function pgErrorOf(pool: pg.Pool, sql: string, values?: unknown[]): Promise<Error & { code?: string }> {
  try {
    await pool.query(sql, values);
  } catch (err) {
    return err as Error & { code?: string };
  }
  assert.fail(`expected ${sql} to fail`);
}

function migrationCount(): number {
  const journal = JSON.parse(readFileSync(join(MIGRATIONS, 'meta/_journal.json'), 'utf8')) as {
    entries: unknown[];
  };
  return journal.entries.length;
}

let stopServer: (() => Promise<void>) | undefined;
let db: TestDatabase;

before(async () => {
  stopServer = await ensureTestServer();
  db = await createTestDatabase();
});

after(async () => {
  await db?.drop();
  await stopServer?.();
});

describe('instrumented pool: slow query log', () => {
  const logger = recordingLogger();
  let pool: pg.Pool;

  before(async () => {
    const config = loadConfig({
      env: { DATABASE_URL: db.url, DB_SLOW_QUERY_WARN_MS: '150', DB_SLOW_QUERY_DEBUG_MS: '50' },
      envFile: false,
    });
    pool = createPool(db.url, config.db, logger);
    await pool.query('SELECT 1');
    logger.entries.length = 0;
  });

  after(async () => {
    await pool?.end();
  });

  it('when a named query is slower than DB_SLOW_QUERY_WARN_MS, then it is logged at warn with its name', async () => {
    logger.entries.length = 0;
    await pool.query({ name: 'sleepy', text: 'SELECT pg_sleep(0.2)' });
    const entries = slowQueryEntries(logger.entries);
    assert.equal(entries.length, 1, JSON.stringify(logger.entries));
    const [entry] = entries;
    assert.equal(entry?.level, 'warn');
    assert.equal(entry?.statement, 'sleepy');
    assert.ok((entry?.durationMs ?? 0) >= 150, `durationMs ${entry?.durationMs}`);
    assert.equal(entry?.failed, undefined);
  });

  it('when a query is between the debug and warn thresholds, then it is logged at debug only', async () => {
    logger.entries.length = 0;
    await pool.query('SELECT pg_sleep(0.08)');
    const entries = slowQueryEntries(logger.entries);
    assert.equal(entries.length, 1, JSON.stringify(logger.entries));
    assert.equal(entries[0]?.level, 'debug');
    assert.equal(entries[0]?.statement, 'SELECT pg_sleep(0.08)');
    assert.ok((entries[0]?.durationMs ?? 0) >= 50);
  });

  it('when a query is fast, then nothing is logged', async () => {
    logger.entries.length = 0;
    for (let i = 0; i < 20; i++) {
      await pool.query('SELECT 1');
      await pool.query({ name: 'fast', text: 'SELECT $1::int AS n', values: [2] });
    }
    // On a loaded CI machine a trivial statement can really take over 50 ms, and then logging it is
    // right. What must never happen is an entry for a statement under the threshold.
    const entries = slowQueryEntries(logger.entries);
    assert.deepEqual(
      entries.filter((e) => (e.durationMs ?? 0) < 50),
      [],
    );
    assert.ok(entries.length < 40, 'most of 40 trivial statements are not logged');
  });

  it('when a slow query fails, then its entry is marked failed', async () => {
    logger.entries.length = 0;
    await assert.rejects(
      pool.query("DO $$ BEGIN PERFORM pg_sleep(0.08); RAISE EXCEPTION 'late failure'; END $$"),
      /late failure/,
    );
    const entries = slowQueryEntries(logger.entries);
    assert.equal(entries.length, 1);
    assert.equal(entries[0]?.failed, true);
  });

  it('when an unnamed slow query spans lines, then its text is logged compacted and cut at 120 characters', async () => {
    logger.entries.length = 0;
    await pool.query(`SELECT pg_sleep(0.06) AS slept,\n       '${'x'.repeat(200)}' AS filler`);
    const [entry] = slowQueryEntries(logger.entries);
    assert.ok(entry);
    assert.equal(entry.statement.length, 120);
    assert.ok(entry.statement.startsWith("SELECT pg_sleep(0.06) AS slept, 'xxx"), entry.statement);
    assert.ok(entry.statement.endsWith('...'));
  });

  it('when a slow query runs on a checked-out client inside a request context, then the entry has the request id', async () => {
    logger.entries.length = 0;
    await withRequestContext('req-client-7', async () => {
      const client = await pool.connect();
      try {
        await client.query('SELECT pg_sleep(0.06)');
      } finally {
        client.release();
      }
    });
    assert.equal(slowQueryEntries(logger.entries)[0]?.requestId, 'req-client-7');
  });

  it('when a slow pool.query runs inside a request context, then the entry has that request id', async () => {
    logger.entries.length = 0;
    await withRequestContext('req-pool-8', () => pool.query('SELECT pg_sleep(0.06)'));
    assert.equal(slowQueryEntries(logger.entries)[0]?.requestId, 'req-pool-8');
  });
});

describe('instrumented pool: request context', () => {
  it('when pool.query runs inside withRequestContext, then each statement is counted', async () => {
    const ctx = await withRequestContext('count-pool', async () => {
      await db.pool.query('SELECT 1');
      await db.pool.query({ name: 'two', text: 'SELECT 2' });
      return currentRequestContext();
    });
    assert.equal(ctx?.queryCount, 2);
  });

  it('when a checked-out client runs queries inside withRequestContext, then each is counted', async () => {
    const ctx = await withRequestContext('count-client', async () => {
      const client = await db.pool.connect();
      try {
        await client.query('SELECT 1');
        await client.query('SELECT 2');
        await client.query('SELECT 3');
      } finally {
        client.release();
      }
      return currentRequestContext();
    });
    assert.equal(ctx?.queryCount, 3);
    assert.ok((ctx?.queryTimeMs ?? 0) > 0);
  });

  it('when a transaction runs inside withRequestContext, then BEGIN and COMMIT are counted too', async () => {
    const ctx = await withRequestContext('count-tx', async () => {
      const client = await db.pool.connect();
      try {
        await client.query('BEGIN');
        await client.query('SELECT count(*) FROM hotels');
        await client.query('SELECT pg_sleep(0.02)');
        await client.query('COMMIT');
      } finally {
        client.release();
      }
      return currentRequestContext();
    });
    assert.equal(ctx?.queryCount, 4);
    assert.ok((ctx?.queryTimeMs ?? 0) >= 20, `queryTimeMs ${ctx?.queryTimeMs}`);
  });

  it('when two request contexts follow each other, then the second starts from zero', async () => {
    await withRequestContext('first', () => db.pool.query('SELECT 1'));
    const ctx = await withRequestContext('second', async () => currentRequestContext());
    assert.deepEqual(ctx, { requestId: 'second', queryCount: 0, queryTimeMs: 0 });
  });

  it('when pool.query runs on an already open connection, then its time is added to the current context', async () => {
    await db.pool.query('SELECT 1');
    const ctx = await withRequestContext('time-pool', async () => {
      await db.pool.query('SELECT pg_sleep(0.03)');
      return currentRequestContext();
    });
    assert.equal(ctx?.queryCount, 1);
    assert.ok(
      (ctx?.queryTimeMs ?? 0) >= 30,
      `queryTimeMs ${ctx?.queryTimeMs} should include the 30 ms pg_sleep`,
    );
  });

  it('when concurrent contexts wait for the only pooled connection, then each counts only its own queries', async () => {
    const config = loadConfig({ env: { DATABASE_URL: db.url, DB_POOL_MAX: '1' }, envFile: false });
    const pool = createPool(db.url, config.db, recordingLogger());
    try {
      await pool.query('SELECT 1');
      const run = (id: string) =>
        withRequestContext(id, async () => {
          await pool.query('SELECT pg_sleep(0.01)');
          return { ...currentRequestContext()! };
        });
      const results = await Promise.all(['a', 'b', 'c'].map(run));
      assert.deepEqual(
        results.map((r) => [r.requestId, r.queryCount]),
        [
          ['a', 1],
          ['b', 1],
          ['c', 1],
        ],
      );
    } finally {
      await pool.end();
    }
  });
});

describe('statement timeout', () => {
  it('when a statement runs longer than DB_STATEMENT_TIMEOUT_MS, then PostgreSQL cancels it with 57014', async () => {
    const config = loadConfig({
      env: { DATABASE_URL: db.url, DB_STATEMENT_TIMEOUT_MS: '100' },
      envFile: false,
    });
    const pool = createPool(db.url, config.db, recordingLogger());
    try {
      const { rows } = await pool.query<{ statement_timeout: string }>('SHOW statement_timeout');
      assert.equal(rows[0]?.statement_timeout, '100ms');
      const startedAt = performance.now();
      await assert.rejects(
        pool.query('SELECT pg_sleep(1)'),
        (err: { code?: string }) => err.code === '57014',
      );
      assert.ok(performance.now() - startedAt < 900, 'cancelled well before the sleep ended');
      const after = await pool.query<{ n: number }>('SELECT 1 AS n');
      assert.equal(after.rows[0]?.n, 1, 'the connection is still usable');
    } finally {
      await pool.end();
    }
  });

  it('when DB_STATEMENT_TIMEOUT_MS is 0, then no statement timeout is set', async () => {
    const config = loadConfig({
      env: { DATABASE_URL: db.url, DB_STATEMENT_TIMEOUT_MS: '0' },
      envFile: false,
    });
    const pool = createPool(db.url, config.db, recordingLogger());
    try {
      const { rows } = await pool.query<{ statement_timeout: string }>('SHOW statement_timeout');
      assert.equal(rows[0]?.statement_timeout, '0');
    } finally {
      await pool.end();
    }
  });
});

describe('migrations', () => {
  const listIndexes = async (pool: pg.Pool) =>
    (
      await pool.query<{ indexname: string; indexdef: string }>(
        "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' ORDER BY indexname",
      )
    ).rows;

  it('when migrations run again on a migrated database, then nothing is applied and the schema is unchanged', async () => {
    const total = migrationCount();
    const indexesBefore = await listIndexes(db.pool);
    assert.ok(indexesBefore.length > 20);
    const logger = recordingLogger();
    const status = await runMigrations(db.pool, MIGRATIONS, logger);
    assert.deepEqual(status, { total, applied: total, pending: 0 });
    assert.equal(logger.entries.filter((e) => messageOf(e) === 'database migrations applied').length, 0);
    assert.deepEqual(await migrationStatus(db.pool, MIGRATIONS), { total, applied: total, pending: 0 });
    assert.deepEqual(await listIndexes(db.pool), indexesBefore);
    const { rows } = await db.pool.query<{ n: number }>(
      'SELECT count(*) AS n FROM drizzle.__drizzle_migrations',
    );
    assert.equal(rows[0]?.n, total);
  });

  it('when two pools migrate a fresh database at once, then both succeed and the migrations apply once', async () => {
    const fresh = await createTestDatabase({ migrate: false });
    const config = loadConfig({ env: { DATABASE_URL: fresh.url }, envFile: false });
    const pools = [
      createPool(fresh.url, config.db, recordingLogger()),
      createPool(fresh.url, config.db, recordingLogger()),
    ];
    try {
      const total = migrationCount();
      assert.deepEqual(await migrationStatus(fresh.pool, MIGRATIONS), { total, applied: 0, pending: total });
      const loggers = [recordingLogger(), recordingLogger()];
      const results = await Promise.all(pools.map((p, i) => runMigrations(p, MIGRATIONS, loggers[i]!)));
      for (const status of results) assert.deepEqual(status, { total, applied: total, pending: 0 });
      const applied = loggers
        .flatMap((l) => l.entries)
        .filter((e) => messageOf(e) === 'database migrations applied');
      assert.equal(applied.length, 1, 'exactly one process applied the migrations');
      assert.equal((applied[0]?.obj as { applied?: number } | undefined)?.applied, total);
      const { rows } = await fresh.pool.query<{ n: number }>(
        'SELECT count(*) AS n FROM drizzle.__drizzle_migrations',
      );
      assert.equal(rows[0]?.n, total);
      assert.deepEqual(await listIndexes(fresh.pool), await listIndexes(db.pool));
    } finally {
      await Promise.all(pools.map((p) => p.end()));
      await fresh.drop();
    }
  });

  it('when migrations finish, then the connection has the application statement timeout again', async () => {
    const config = loadConfig({
      env: { DATABASE_URL: db.url, DB_POOL_MAX: '1', DB_STATEMENT_TIMEOUT_MS: '1234' },
      envFile: false,
    });
    const pool = createPool(db.url, config.db, recordingLogger());
    try {
      await runMigrations(pool, MIGRATIONS, recordingLogger());
      const { rows } = await pool.query<{ statement_timeout: string }>('SHOW statement_timeout');
      assert.equal(rows[0]?.statement_timeout, '1234ms');
    } finally {
      await pool.end();
    }
  });
});

describe('schema indexes', () => {
  const expected: Record<string, { table: string; def: RegExp }> = {
    hotels_active_city_rating_idx: {
      table: 'hotels',
      def: /USING btree \(lower\(city\), rating DESC NULLS LAST, review_count DESC NULLS LAST, id\) WHERE is_active$/,
    },
    hotels_active_city_stars_idx: {
      table: 'hotels',
      def: /USING btree \(lower\(city\), stars DESC NULLS LAST, rating DESC NULLS LAST, id\) WHERE is_active$/,
    },
    hotels_name_lower_idx: { table: 'hotels', def: /USING btree \(lower\(name\) text_pattern_ops\)$/ },
    hotels_search_vector_idx: { table: 'hotels', def: /USING gin \(search_vector\)$/ },
    bookings_user_created_idx: {
      table: 'bookings',
      def: /USING btree \(user_id, created_at DESC NULLS LAST\)$/,
    },
    bookings_user_status_created_idx: {
      table: 'bookings',
      def: /USING btree \(user_id, status, created_at\)$/,
    },
    bookings_room_type_dates_idx: {
      table: 'bookings',
      def: /USING btree \(room_type_id, start_date, end_date\)$/,
    },
    bookings_status_dates_idx: { table: 'bookings', def: /USING btree \(status, start_date, end_date\)$/ },
    room_inventory_pk: {
      table: 'room_inventory',
      def: /^CREATE UNIQUE INDEX .* USING btree \(room_type_id, date\)$/,
    },
    price_history_entity_created_idx: {
      table: 'price_history',
      def: /USING btree \(entity_type, entity_id, created_at DESC NULLS LAST\)$/,
    },
    reviews_entity_rating_idx: {
      table: 'reviews',
      def: /USING btree \(entity_type, entity_id, rating DESC NULLS LAST\)$/,
    },
    trips_user_status_idx: { table: 'trips', def: /USING btree \(user_id, status\)$/ },
    waitlist_room_type_status_created_idx: {
      table: 'waitlist',
      def: /USING btree \(room_type_id, status, created_at\)$/,
    },
    waitlist_status_dates_idx: { table: 'waitlist', def: /USING btree \(status, start_date, end_date\)$/ },
    payments_status_created_idx: { table: 'payments', def: /USING btree \(status, created_at\)$/ },
    payments_user_status_idx: { table: 'payments', def: /USING btree \(user_id, status\)$/ },
    notifications_status_scheduled_idx: {
      table: 'notifications',
      def: /USING btree \(status, scheduled_at\)$/,
    },
    notifications_user_type_status_idx: {
      table: 'notifications',
      def: /USING btree \(user_id, type, status\)$/,
    },
  };

  it('when the schema is migrated, then every required index exists on its table with its columns', async () => {
    const { rows } = await db.pool.query<{ indexname: string; tablename: string; indexdef: string }>(
      "SELECT indexname, tablename, indexdef FROM pg_indexes WHERE schemaname = 'public' AND indexname = ANY($1)",
      [Object.keys(expected)],
    );
    const found = new Map(rows.map((r) => [r.indexname, r]));
    assert.deepEqual(
      Object.keys(expected).filter((name) => !found.has(name)),
      [],
      'missing indexes',
    );
    for (const [name, want] of Object.entries(expected)) {
      const row = found.get(name)!;
      assert.equal(row.tablename, want.table, name);
      assert.match(row.indexdef, want.def, name);
    }
  });

  it('when the schema is migrated, then the partial, gin and unique indexes have those properties', async () => {
    const { rows } = await db.pool.query<{
      name: string;
      unique: boolean;
      partial: boolean;
      method: string;
      valid: boolean;
    }>(
      `SELECT c.relname AS name, i.indisunique AS unique, i.indpred IS NOT NULL AS partial, am.amname AS method,
              i.indisvalid AS valid
         FROM pg_index i
         JOIN pg_class c ON c.oid = i.indexrelid
         JOIN pg_am am ON am.oid = c.relam
        WHERE c.relname = ANY($1)`,
      [Object.keys(expected)],
    );
    const byName = new Map(rows.map((r) => [r.name, r]));
    assert.equal(byName.get('hotels_active_city_rating_idx')?.partial, true);
    assert.equal(byName.get('hotels_active_city_stars_idx')?.partial, true);
    assert.equal(byName.get('hotels_search_vector_idx')?.method, 'gin');
    assert.equal(byName.get('room_inventory_pk')?.unique, true);
    for (const row of rows) assert.equal(row.valid, true, `${row.name} is valid`);
    assert.equal(rows.filter((r) => r.partial).length, 2, 'only the active-hotels indexes are partial');
  });
});

describe('hotels.min_price_cents trigger', () => {
  const minPrice = async (hotelId: number) =>
    (
      await db.pool.query<{ p: number | null }>('SELECT min_price_cents AS p FROM hotels WHERE id = $1', [
        hotelId,
      ])
    ).rows[0]?.p;
  let hotelA: number;
  let hotelB: number;

  before(async () => {
    const { rows } = await db.pool.query<{ id: number }>(
      "INSERT INTO hotels (name, city, country, stars) VALUES ('Trigger A', 'Lisbon', 'PT', 4), ('Trigger B', 'Porto', 'PT', 3) RETURNING id",
    );
    hotelA = rows[0]!.id;
    hotelB = rows[1]!.id;
  });

  const addRoomTypes = (hotelId: number, ...prices: number[]) =>
    db.pool.query<{ id: number }>(
      `INSERT INTO room_types (hotel_id, name, capacity, base_price_cents, total_rooms)
       SELECT $1, 'Room ' || p, 2, p, 5 FROM unnest($2::int[]) AS p RETURNING id`,
      [hotelId, prices],
    );

  it('when a hotel has no room types, then its min price is null', async () => {
    assert.equal(await minPrice(hotelA), null);
  });

  it('when room types are inserted in one statement, then the hotel gets the cheapest base price', async () => {
    await addRoomTypes(hotelA, 12_000, 9_000);
    assert.equal(await minPrice(hotelA), 9_000);
    await addRoomTypes(hotelA, 15_000);
    assert.equal(await minPrice(hotelA), 9_000, 'a dearer room type does not change it');
  });

  it('when the cheapest room type gets dearer, then the min price moves to the next cheapest', async () => {
    await db.pool.query(
      'UPDATE room_types SET base_price_cents = 20000 WHERE hotel_id = $1 AND base_price_cents = 9000',
      [hotelA],
    );
    assert.equal(await minPrice(hotelA), 12_000);
  });

  it('when a room type moves to another hotel, then both hotels are updated', async () => {
    await db.pool.query(
      'UPDATE room_types SET hotel_id = $2 WHERE hotel_id = $1 AND base_price_cents = 12000',
      [hotelA, hotelB],
    );
    assert.equal(await minPrice(hotelA), 15_000);
    assert.equal(await minPrice(hotelB), 12_000);
  });

  it('when one statement updates room types of several hotels, then every hotel is updated', async () => {
    await db.pool.query(
      'UPDATE room_types SET base_price_cents = base_price_cents - 100 WHERE hotel_id = ANY($1)',
      [[hotelA, hotelB]],
    );
    assert.equal(await minPrice(hotelA), 14_900);
    assert.equal(await minPrice(hotelB), 11_900);
  });

  it('when the cheapest room type is deleted, then the min price rises; when all are deleted, it is null', async () => {
    await db.pool.query('DELETE FROM room_types WHERE hotel_id = $1 AND base_price_cents = 14900', [hotelA]);
    assert.equal(await minPrice(hotelA), 19_900);
    await db.pool.query('DELETE FROM room_types WHERE hotel_id = $1', [hotelA]);
    assert.equal(await minPrice(hotelA), null);
    assert.equal(await minPrice(hotelB), 11_900, 'other hotels are untouched');
  });
});

describe('retryTransientRead', () => {
  const failing = (err: unknown) => {
    let attempts = 0;
    const fn = async () => {
      attempts++;
      throw err;
    };
    return { fn, attempts: () => attempts };
  };

  for (const [label, err] of [
    [
      "SQLSTATE '40001'",
      Object.assign(new Error('could not serialize access'), { code: '40001', severity: 'ERROR' }),
    ],
    ["code 'ECONNRESET'", Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' })],
    ['"Connection terminated unexpectedly"', new Error('Connection terminated unexpectedly')],
  ] as const) {
    it(`when a read keeps failing with ${label}, then it is retried up to the bound and the error rethrown`, async () => {
      const { fn, attempts } = failing(err);
      const retries: number[] = [];
      await assert.rejects(
        retryTransientRead(fn, {
          retries: 2,
          baseDelayMs: 1,
          onRetry: (_e, attempt) => retries.push(attempt),
        }),
        (thrown) => thrown === err,
      );
      assert.equal(attempts(), 3);
      assert.deepEqual(retries, [1, 2]);
    });
  }

  it("when a read fails with a non-transient error like '23505', then it is not retried", async () => {
    const err = Object.assign(new Error('duplicate key'), { code: '23505', severity: 'ERROR' });
    const { fn, attempts } = failing(err);
    let retried = false;
    await assert.rejects(
      retryTransientRead(fn, { retries: 5, baseDelayMs: 1, onRetry: () => (retried = true) }),
      (thrown) => thrown === err,
    );
    assert.equal(attempts(), 1);
    assert.equal(retried, false);
  });

  it('when retries is 0, then a transient error is thrown after one attempt', async () => {
    const { fn, attempts } = failing(Object.assign(new Error('x'), { code: '40P01' }));
    await assert.rejects(retryTransientRead(fn, { retries: 0, baseDelayMs: 1 }));
    assert.equal(attempts(), 1);
  });

  it('when a transient failure is followed by success, then the result is returned', async () => {
    let attempts = 0;
    const value = await retryTransientRead(
      async () => {
        attempts++;
        if (attempts < 3) throw Object.assign(new Error('terminating connection'), { code: '57P01' });
        return 'answer';
      },
      { retries: 2, baseDelayMs: 1 },
    );
    assert.equal(value, 'answer');
    assert.equal(attempts, 3);
  });
});

describe('translatePgError', () => {
  it('when a unique index is violated, then 409 E_CONFLICT names the constraint but not the value', async () => {
    await db.pool.query(
      "INSERT INTO users (email, password_hash, name) VALUES ('grace@example.test', 'x', 'G')",
    );
    const err = await pgErrorOf(
      db.pool,
      "INSERT INTO users (email, password_hash, name) VALUES ('GRACE@example.test', 'x', 'G')",
    );
    assert.equal(err.code, '23505');
    const app = translatePgError(err);
    assert.equal(app?.statusCode, 409);
    assert.equal(app?.code, 'E_CONFLICT');
    assert.deepEqual(app?.details, [
      { message: 'constraint users_email_lower_uq', constraint: 'users_email_lower_uq' },
    ]);
    assert.ok(!JSON.stringify({ message: app?.message, details: app?.details }).includes('grace@'));
    assert.equal(app?.cause, err);
  });

  it('when a foreign key is violated, then 422 E_INVALID_REFERENCE', async () => {
    const err = await pgErrorOf(
      db.pool,
      "INSERT INTO room_types (hotel_id, name, capacity, base_price_cents, total_rooms) VALUES (424242, 'R', 2, 1, 1)",
    );
    assert.equal(err.code, '23503');
    const app = translatePgError(err);
    assert.equal(app?.statusCode, 422);
    assert.equal(app?.code, 'E_INVALID_REFERENCE');
    assert.equal(app?.details?.[0]?.constraint, 'room_types_hotel_id_hotels_id_fk');
  });

  it('when a check or not-null constraint is violated, then 422 E_UNPROCESSABLE', async () => {
    const check = await pgErrorOf(
      db.pool,
      "INSERT INTO hotels (name, city, country, stars) VALUES ('H', 'C', 'X', 6)",
    );
    assert.equal(check.code, '23514');
    assert.equal(translatePgError(check)?.code, 'E_UNPROCESSABLE');
    assert.equal(translatePgError(check)?.details?.[0]?.constraint, 'hotels_stars_ck');
    const notNull = await pgErrorOf(
      db.pool,
      "INSERT INTO hotels (name, city, country, stars) VALUES (NULL, 'C', 'X', 3)",
    );
    assert.equal(notNull.code, '23502');
    assert.equal(translatePgError(notNull)?.statusCode, 422);
    const exclusion = await pgErrorOf(
      db.pool,
      "DO $$ BEGIN RAISE EXCEPTION 'overlap' USING ERRCODE = 'exclusion_violation'; END $$",
    );
    assert.equal(translatePgError(exclusion)?.code, 'E_UNPROCESSABLE');
  });

  it('when a value has the wrong format or range, then 400 E_VALIDATION', async () => {
    for (const [sql, code] of [
      ["SELECT 'abc'::integer", '22P02'],
      ["SELECT '99999999999'::integer", '22003'],
      ["SELECT '2024-02-30'::date", '22008'],
      ["SELECT 'yesterday-ish'::date", '22007'],
    ]) {
      const err = await pgErrorOf(db.pool, sql!);
      assert.equal(err.code, code, sql);
      const app = translatePgError(err);
      assert.equal(app?.statusCode, 400, sql);
      assert.equal(app?.code, 'E_VALIDATION', sql);
    }
  });

  it('when a serialization failure or deadlock happens, then 409 E_CONFLICT with retry-after 1', async () => {
    for (const errcode of ['serialization_failure', 'deadlock_detected']) {
      const err = await pgErrorOf(
        db.pool,
        `DO $$ BEGIN RAISE EXCEPTION 'x' USING ERRCODE = '${errcode}'; END $$`,
      );
      const app = translatePgError(err);
      assert.equal(app?.statusCode, 409, errcode);
      assert.equal(app?.code, 'E_CONFLICT');
      assert.deepEqual(app?.headers, { 'retry-after': '1' });
    }
  });

  it('when a statement is cancelled by statement_timeout, then 503 E_DB_TIMEOUT', async () => {
    const client = await db.pool.connect();
    let err: unknown;
    try {
      await client.query("SET statement_timeout = '20ms'");
      await client.query('SELECT pg_sleep(1)').catch((e: unknown) => {
        err = e;
      });
    } finally {
      await client.query('RESET statement_timeout');
      client.release();
    }
    assert.equal((err as { code?: string }).code, '57014');
    const app = translatePgError(err);
    assert.equal(app?.statusCode, 503);
    assert.equal(app?.code, 'E_DB_TIMEOUT');
    assert.deepEqual(app?.headers, { 'retry-after': '1' });
  });

  it('when the server is shutting down or the connection is reset, then 503 E_DB_UNAVAILABLE', async () => {
    const shutdown = await pgErrorOf(
      db.pool,
      "DO $$ BEGIN RAISE EXCEPTION 'x' USING ERRCODE = 'admin_shutdown'; END $$",
    );
    assert.equal(translatePgError(shutdown)?.code, 'E_DB_UNAVAILABLE');
    const reset = Object.assign(new Error('read ECONNRESET'), {
      code: 'ECONNRESET',
      errno: -104,
      syscall: 'read',
    });
    const app = translatePgError(reset);
    assert.equal(app?.statusCode, 503);
    assert.equal(app?.code, 'E_DB_UNAVAILABLE');
    assert.deepEqual(app?.headers, { 'retry-after': '2' });
  });

  it('when the error is not a mapped database error, then nothing is translated', async () => {
    const undefinedTable = await pgErrorOf(db.pool, 'SELECT * FROM no_such_table');
    assert.equal(undefinedTable.code, '42P01');
    assert.equal(translatePgError(undefinedTable), undefined);
    assert.equal(translatePgError(new Error('plain')), undefined);
    assert.equal(translatePgError(Object.assign(new Error('no severity'), { code: '23505' })), undefined);
    assert.equal(translatePgError(undefined), undefined);
    assert.equal(translatePgError('23505'), undefined);
  });
});

describe('openDatabase: transient errors', () => {
  let database: Database;
  const logger = recordingLogger();
  const pidOf = async (queryable: Pick<pg.Pool, 'query'>) =>
    (await queryable.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
  const terminate = async (pid: number) => {
    await db.pool.query('SELECT pg_terminate_backend($1)', [pid]);
    for (let i = 0; i < 100; i++) {
      const { rowCount } = await db.pool.query('SELECT 1 FROM pg_stat_activity WHERE pid = $1', [pid]);
      if (!rowCount) return;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    assert.fail(`backend ${pid} did not go away`);
  };

  before(async () => {
    database = await openDatabase(
      loadConfig({ env: { DATABASE_URL: db.url, DB_POOL_MAX: '1' }, envFile: false }).db,
      logger,
    );
  });

  after(async () => {
    await database?.close();
  });

  it('when the only pooled backend is terminated, then db.read still returns the right answer', async () => {
    const pid = await pidOf(database.pool);
    logger.entries.length = 0;
    await db.pool.query('SELECT pg_terminate_backend($1)', [pid]);
    const { rows } = await database.read((pool) => pool.query<{ answer: number }>('SELECT 6 * 7 AS answer'));
    assert.equal(rows[0]?.answer, 42);
    assert.notEqual(await pidOf(database.pool), pid, 'a new backend serves the pool');
    const noticed = logger.entries.map(messageOf);
    assert.ok(
      noticed.includes('transient database error; retrying read') ||
        noticed.includes('PostgreSQL connection failed; it will be discarded'),
      JSON.stringify(noticed),
    );
  });

  it('when a read fails because its connection was terminated, then it is retried once and succeeds', async () => {
    logger.entries.length = 0;
    let attempts = 0;
    const answer = await database.read(async (db) => {
      attempts++;
      // The pool behind the port, to terminate this very connection between two statements.
      const client = await (db as pg.Pool).connect();
      client.on('error', () => undefined);
      let failure: Error | undefined;
      try {
        if (attempts === 1) await terminate(await pidOf(client));
        return (await client.query<{ answer: number }>('SELECT 40 + 2 AS answer')).rows[0]?.answer;
      } catch (err) {
        failure = err as Error;
        throw err;
      } finally {
        client.release(failure);
      }
    });
    assert.equal(answer, 42);
    assert.equal(attempts, 2);
    const retries = logger.entries.filter((e) => messageOf(e) === 'transient database error; retrying read');
    assert.equal(retries.length, 1);
    assert.equal((retries[0]?.obj as { attempt?: number } | undefined)?.attempt, 1);
  });

  it('when a read fails with a non-transient error, then db.read does not retry it', async () => {
    let attempts = 0;
    await assert.rejects(
      database.read(async (pool) => {
        attempts++;
        return pool.query('SELECT 1 / 0');
      }),
      (err: { code?: string }) => err.code === '22012',
    );
    assert.equal(attempts, 1);
  });

  it('when the database is opened with a URL, then ping answers, stats show the bound and the target hides the password', async () => {
    assert.equal(database.embedded, false);
    assert.ok((await database.ping()) >= 0);
    assert.equal(database.stats().max, 1);
    const password = new URL(db.url).password;
    if (password) {
      assert.ok(!database.target.includes(password));
      assert.match(database.target, /:\*\*\*@/);
    } else {
      assert.equal(database.target, new URL(db.url).toString());
    }
  });
});
