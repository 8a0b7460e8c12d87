import { readMigrationFiles } from 'drizzle-orm/migrator';
import { drizzle } from 'drizzle-orm/node-postgres';
import { migrate } from 'drizzle-orm/node-postgres/migrator';
import type pg from 'pg';
import type { Logger } from '../observability/logger.ts';

/** Any constant works; it only has to be the same for every process migrating this database. */
const MIGRATION_LOCK_KEY = 0x1e4b_0001;

export interface MigrationStatus {
  readonly total: number;
  readonly applied: number;
  readonly pending: number;
}

/**
 * Applies the drizzle-kit migrations in `folder`, holding an advisory lock so several processes
 * starting at once migrate one after another (the later ones find nothing to do). Idempotent.
 *
 * @example
 * await runMigrations(pool, './drizzle', logger);
 */
export async function runMigrations(pool: pg.Pool, folder: string, logger: Logger): Promise<MigrationStatus> {
  const client = await pool.connect();
  try {
    // DDL on big tables must not hit the application statement timeout.
    await client.query('SET statement_timeout = 0');
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    try {
      const before = await migrationStatus(client, folder);
      if (before.pending > 0) {
        const startedAt = performance.now();
        await migrate(drizzle({ client }), { migrationsFolder: folder });
        logger.info(
          { applied: before.pending, durationMs: Math.round(performance.now() - startedAt) },
          'database migrations applied',
        );
      }
      return await migrationStatus(client, folder);
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]);
      await client.query('RESET statement_timeout');
    }
  } finally {
    client.release();
  }
}

/** How many of the migrations in `folder` the database has applied (drizzle's bookkeeping table). */
export async function migrationStatus(
  db: Pick<pg.Pool, 'query'> | Pick<pg.PoolClient, 'query'>,
  folder: string,
): Promise<MigrationStatus> {
  const files = readMigrationFiles({ migrationsFolder: folder });
  // Two statements: a query naming a table that does not exist fails at parse time.
  const { rows: found } = await db.query<{ present: boolean }>({
    name: 'migration_table_exists',
    text: "SELECT to_regclass('drizzle.__drizzle_migrations') IS NOT NULL AS present",
  });
  const rows = found[0]?.present
    ? (
        await db.query<{ last: number | null }>({
          name: 'migration_last_applied',
          text: 'SELECT max(created_at) AS last FROM drizzle.__drizzle_migrations',
        })
      ).rows
    : [];
  const last = rows[0]?.last ?? null;
  const pending = files.filter((f) => last === null || f.folderMillis > Number(last)).length;
  return { total: files.length, applied: files.length - pending, pending };
}
