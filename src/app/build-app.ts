import { join } from 'node:path';
import type { FastifyBaseLogger } from 'fastify';
import type { Config } from '../platform/config/index.ts';
import { type Database, migrationStatus, openDatabase, runMigrations } from '../platform/db/index.ts';
import { createHttpServer, Lifecycle } from '../platform/http/index.ts';
import { healthRoutes } from '../platform/observability/index.ts';
import { hotelRoutes } from './hotels/hotel-routes.ts';
import { HotelService } from './hotels/hotel-service.ts';

export const MIGRATIONS_DIR = join(import.meta.dirname, '../../drizzle');

declare module 'fastify' {
  interface FastifyInstance {
    innkeep: { readonly config: Config; readonly db: Database; readonly lifecycle: Lifecycle };
  }
}

export interface BuildAppOptions {
  readonly logger?: FastifyBaseLogger;
  /** Leave readiness at "starting" until the caller calls `app.innkeep.lifecycle.markReady()`. */
  readonly deferReady?: boolean;
}

/**
 * Builds the whole application: opens the database (embedded PostgreSQL when DATABASE_URL is unset),
 * applies migrations, mounts the platform probes and the domain modules. Does not listen, so tests
 * use `app.inject()` or `listen({ port: 0 })`. `app.close()` drains the pool and stops PostgreSQL.
 */
export async function buildApp(config: Config, options: BuildAppOptions = {}) {
  const app = createHttpServer(config, options.logger ? { logger: options.logger } : {});
  const lifecycle = new Lifecycle();
  const db = await openDatabase(config.db, app.log);
  try {
    if (config.db.migrateOnStart) await runMigrations(db.pool, MIGRATIONS_DIR, app.log);
  } catch (err) {
    await db.close();
    throw err;
  }
  app.decorate('innkeep', { config, db, lifecycle });
  app.addHook('onClose', async () => {
    await db.close();
    lifecycle.markStopped();
  });

  let migrationsApplied = false;
  await app.register(healthRoutes, {
    lifecycle,
    checks: [
      {
        name: 'database',
        critical: true,
        check: async () => dbCheck(db),
      },
    ],
    readinessGates: [
      {
        name: 'migrations',
        isOpen: async () => {
          migrationsApplied ||= (await migrationStatus(db.pool, MIGRATIONS_DIR)).pending === 0;
          return migrationsApplied;
        },
      },
    ],
  });

  const hotels = new HotelService(db);
  await app.register(hotelRoutes, { prefix: '/api/hotels', hotels });

  await app.ready();
  if (!options.deferReady) lifecycle.markReady();
  return app;
}

async function dbCheck(db: Database) {
  const pingMs = await db.ping();
  return { pingMs: Math.round(pingMs * 100) / 100, embedded: db.embedded, pool: db.stats() };
}

export type App = Awaited<ReturnType<typeof buildApp>>;
