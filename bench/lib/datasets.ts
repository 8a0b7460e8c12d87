import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import pg from 'pg';
import { MIGRATIONS_DIR } from '../../src/app/build-app.ts';
import { seedDatabase } from '../../src/app/seed/seed.ts';
import { progressReporter } from '../../src/cli/progress.ts';
import type { SeedScale } from '../../src/platform/config/index.ts';
import { redactUrl, runMigrations, startEmbeddedPostgres } from '../../src/platform/db/index.ts';
import type { Logger } from '../../src/platform/observability/logger.ts';

/** A PostgreSQL server the bench may create and drop databases on. */
export interface BenchCluster {
  /** Where it runs, without the password. */
  readonly target: string;
  readonly embedded: boolean;
  /** Connection string of database `name` on this server. */
  urlFor(name: string): string;
  /** Runs `fn` on a short-lived connection to the maintenance database. */
  admin<T>(fn: (client: pg.Client) => Promise<T>): Promise<T>;
  stop(): Promise<void>;
}

/** What a template database was seeded with; a template is reused only when all of it matches. */
export interface DatasetInfo {
  readonly scale: SeedScale;
  readonly seed: number;
  /** The seed's `today`: the first night of the inventory window ('YYYY-MM-DD'). */
  readonly today: string;
  readonly migrations: string;
  readonly counts: Record<string, number>;
  readonly seedMs: number;
  readonly reused: boolean;
}

/**
 * Names of the bench's databases: `<prefix>_tpl_<scale>_s<seed>`, `<prefix>_before`, `<prefix>_after`.
 * BENCH_DB_PREFIX lets two runs share a server (the tests use it).
 */
export const DB_PREFIX = /^[a-z_][a-z0-9_]{0,30}$/.test(process.env.BENCH_DB_PREFIX ?? '')
  ? (process.env.BENCH_DB_PREFIX as string)
  : 'innkeep_bench';

/**
 * BENCH_DATABASE_URL (any database on a server where its role may CREATE DATABASE), or an embedded
 * PostgreSQL kept under `dataDir`, so seeded templates survive between runs.
 */
export async function openBenchCluster(
  databaseUrl: string | undefined,
  dataDir: string,
  logger: Logger,
): Promise<BenchCluster> {
  const embedded = databaseUrl ? undefined : await startEmbeddedPostgres(dataDir, logger);
  const base = databaseUrl ?? embedded!.url;
  const urlFor = (name: string) => {
    const u = new URL(base);
    u.pathname = `/${name}`;
    return u.toString();
  };
  return {
    target: redactUrl(base),
    embedded: Boolean(embedded),
    urlFor,
    async admin(fn) {
      const client = new pg.Client({ connectionString: base });
      await client.connect();
      try {
        return await fn(client);
      } finally {
        await client.end();
      }
    },
    stop: async () => embedded?.stop(),
  };
}

const SEED_DIR = join(import.meta.dirname, '../../src/app/seed');

/** Digest of the migrations and the seed code: a template made by other versions of either is stale. */
export async function migrationsDigest(): Promise<string> {
  const hash = createHash('sha256');
  for (const dir of [MIGRATIONS_DIR, SEED_DIR]) {
    const files = (await readdir(dir)).filter((f) => f.endsWith('.sql') || f.endsWith('.ts')).sort();
    for (const f of files) hash.update(f).update(await readFile(join(dir, f)));
  }
  return hash.digest('hex').slice(0, 16);
}

export const templateName = (scale: SeedScale, seed: number) => `${DB_PREFIX}_tpl_${scale}_s${seed}`;
/** The two copies of the template a run compares: keys only, and the real schema. */
export const BEFORE_DB = `${DB_PREFIX}_before`;
export const AFTER_DB = `${DB_PREFIX}_after`;

/**
 * A migrated, seeded, analysed template database for (scale, seed), seeded with `today` as the first
 * inventory night. An existing template is reused when it was seeded today with the same migrations
 * (and `fresh` is false); the bench never writes to a template, it works on copies.
 */
export async function ensureTemplate(
  cluster: BenchCluster,
  options: { scale: SeedScale; seed: number; today: string; fresh: boolean; logger: Logger },
): Promise<DatasetInfo> {
  const name = templateName(options.scale, options.seed);
  const migrations = await migrationsDigest();
  if (!options.fresh) {
    const existing = await readDatasetInfo(cluster.urlFor(name));
    if (existing && existing.today === options.today && existing.migrations === migrations) {
      return { ...existing, reused: true };
    }
  }
  await dropDatabase(cluster, name);
  await cluster.admin((c) => c.query(`CREATE DATABASE ${name}`));
  const pool = new pg.Pool({ connectionString: cluster.urlFor(name), max: 2 });
  try {
    await runMigrations(pool, MIGRATIONS_DIR, options.logger);
    const progress = progressReporter(`seed ${options.scale}`);
    let result: Awaited<ReturnType<typeof seedDatabase>>;
    try {
      result = await seedDatabase(pool, {
        scale: options.scale,
        seed: options.seed,
        today: options.today,
        onProgress: (p) => progress.update(p.step, p.done, p.total),
      });
    } finally {
      progress.stop();
    }
    const info: DatasetInfo = {
      scale: options.scale,
      seed: options.seed,
      today: options.today,
      migrations,
      counts: result.counts,
      seedMs: result.durationMs,
      reused: false,
    };
    // Kept in the database's comment, not in a table, so the template's schema stays the app's own.
    await pool.query(`COMMENT ON DATABASE ${name} IS ${pg.escapeLiteral(JSON.stringify(info))}`);
    await pool.query('CHECKPOINT');
    return info;
  } finally {
    await pool.end();
  }
}

async function readDatasetInfo(url: string): Promise<DatasetInfo | undefined> {
  const client = new pg.Client({ connectionString: url });
  try {
    await client.connect();
  } catch {
    return undefined; // no such database yet
  }
  try {
    const { rows } = await client.query<{ info: string | null }>(
      'SELECT shobj_description(oid, $1) AS info FROM pg_database WHERE datname = current_database()',
      ['pg_database'],
    );
    return rows[0]?.info ? (JSON.parse(rows[0].info) as DatasetInfo) : undefined;
  } catch {
    return undefined;
  } finally {
    await client.end();
  }
}

/**
 * Copies `template` into a new database `name` (replacing it). FILE_COPY copies the files instead of
 * writing every page to the WAL, several times faster for gigabytes (PostgreSQL 15+; older servers
 * fall back to the plain copy).
 */
export async function cloneDatabase(cluster: BenchCluster, template: string, name: string): Promise<void> {
  await dropDatabase(cluster, name);
  await cluster.admin(async (c) => {
    try {
      await c.query(`CREATE DATABASE ${name} TEMPLATE ${template} STRATEGY = FILE_COPY`);
    } catch (err) {
      if ((err as { code?: string }).code !== '42601') throw err; // syntax error: before PostgreSQL 15
      await c.query(`CREATE DATABASE ${name} TEMPLATE ${template}`);
    }
  });
}

export async function dropDatabase(cluster: BenchCluster, name: string): Promise<void> {
  await cluster.admin((c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
}

export interface StrippedSchema {
  /** Index names dropped (secondary and unique indexes, unique constraints). */
  readonly dropped: string[];
  /** Primary keys and foreign keys left in place. */
  readonly primaryKeys: number;
  readonly foreignKeys: number;
}

/**
 * Turns a copy of the real schema into the "before" schema: primary keys and foreign keys only.
 * Every other index goes, unique ones included, as in a schema where nobody added an index beyond
 * what the ORM declared. Check constraints and triggers stay: they are not indexes.
 */
export async function stripToKeys(url: string): Promise<StrippedSchema> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query('BEGIN');
    const { rows: uniques } = await client.query<{ sql: string; name: string }>(
      `SELECT format('ALTER TABLE %s DROP CONSTRAINT %I', conrelid::regclass, conname) AS sql, conname AS name
       FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace
       WHERE c.contype IN ('u', 'x') AND n.nspname = 'public'`,
    );
    for (const u of uniques) await client.query(u.sql);
    const { rows: indexes } = await client.query<{ sql: string; name: string }>(
      `SELECT format('DROP INDEX %s', i.indexrelid::regclass) AS sql, i.indexrelid::regclass::text AS name
       FROM pg_index i
       JOIN pg_class t ON t.oid = i.indrelid
       JOIN pg_namespace n ON n.oid = t.relnamespace
       WHERE n.nspname = 'public' AND NOT i.indisprimary`,
    );
    for (const i of indexes) await client.query(i.sql);
    const { rows } = await client.query<{ pk: number; fk: number }>(
      `SELECT count(*) FILTER (WHERE contype = 'p')::int AS pk, count(*) FILTER (WHERE contype = 'f')::int AS fk
       FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace WHERE n.nspname = 'public'`,
    );
    await client.query('COMMIT');
    await client.query('ANALYZE');
    return {
      dropped: [...uniques, ...indexes].map((r) => r.name).sort(),
      primaryKeys: rows[0]?.pk ?? 0,
      foreignKeys: rows[0]?.fk ?? 0,
    };
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    await client.end();
  }
}

/** Secondary (non primary key) indexes in a database: 0 on a "before" copy. */
export async function secondaryIndexCount(url: string): Promise<number> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM pg_index i JOIN pg_class t ON t.oid = i.indrelid
       JOIN pg_namespace ns ON ns.oid = t.relnamespace
       WHERE ns.nspname = 'public' AND NOT i.indisprimary`,
    );
    return rows[0]?.n ?? 0;
  } finally {
    await client.end();
  }
}
