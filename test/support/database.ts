import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import pg from 'pg';
import { loadConfig } from '../../src/platform/config/index.ts';
import { runMigrations } from '../../src/platform/db/migrate.ts';
import { createPool } from '../../src/platform/db/pool.ts';
import { recordingLogger } from './silent-logger.ts';

export const MIGRATIONS = join(import.meta.dirname, '../../drizzle');

export interface TestDatabase {
  /** Connection string of a fresh, empty database that only this test file uses. */
  readonly url: string;
  /** A pool on it (instrumented like the app's); closed by drop(). */
  readonly pool: pg.Pool;
  drop(): Promise<void>;
}

/**
 * Which server the integration tests run on: `scripts/test.ts` sets TEST_ADMIN_DATABASE_URL (once to an
 * embedded PostgreSQL, once to the machine's PostgreSQL) and TEST_TARGET; a file run alone gets an
 * embedded one from `ensureTestServer()` (test/support/test-server.ts) in its root before/after hooks.
 */
export function testTarget(): 'embedded' | 'external' {
  return process.env.TEST_TARGET === 'external' ? 'external' : 'embedded';
}

function adminUrl(): string {
  const url = process.env.TEST_ADMIN_DATABASE_URL;
  if (!url)
    throw new Error(
      'TEST_ADMIN_DATABASE_URL is unset: run `npm test`, or call ensureTestServer() in before()',
    );
  return url;
}

/** Creates an empty database (migrated unless `migrate: false`) on the test server. */
export async function createTestDatabase(
  options: { migrate?: boolean } = { migrate: true },
): Promise<TestDatabase> {
  const admin = adminUrl();
  const name = `innkeep_t_${process.pid}_${randomBytes(4).toString('hex')}`;
  const client = new pg.Client({ connectionString: admin });
  await client.connect();
  await client.query(`CREATE DATABASE ${name}`);
  await client.end();
  const u = new URL(admin);
  u.pathname = `/${name}`;
  const url = u.toString();
  const config = loadConfig({ env: { DATABASE_URL: url }, envFile: false });
  const pool = createPool(url, config.db, recordingLogger(), { applicationName: 'innkeep-test' });
  if (options.migrate !== false) await runMigrations(pool, MIGRATIONS, recordingLogger());
  return {
    url,
    pool,
    async drop() {
      await pool.end();
      const c = new pg.Client({ connectionString: admin });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}

/**
 * Resolves once at least `n` backends of the pool's database are waiting for a lock (a request queued
 * behind a test's blocking transaction); fails the test after about `timeoutMs`.
 */
export async function lockWaiters(pool: pg.Pool, n: number, timeoutMs = 5000): Promise<void> {
  for (let i = 0; i < timeoutMs / 10; i++) {
    const { rows } = await pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM pg_stat_activity
       WHERE datname = current_database() AND wait_event_type = 'Lock'`,
    );
    if ((rows[0]?.n ?? 0) >= n) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`${n} backend(s) never waited for a lock`);
}
