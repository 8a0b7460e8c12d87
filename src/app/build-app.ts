import { join } from 'node:path';
import type { FastifyBaseLogger } from 'fastify';
import type { Config } from '../platform/config/index.ts';
import { type Database, migrationStatus, openDatabase, runMigrations } from '../platform/db/index.ts';
import { createHttpServer, healthRoutes, Lifecycle } from '../platform/http/index.ts';
import { JwtSigner, loadOrCreateSecret } from '../platform/security/index.ts';
import { authPlugin } from './auth/auth-plugin.ts';
import { authRoutes } from './auth/auth-routes.ts';
import { ACCESS_TOKEN_ISSUER, AuthService } from './auth/auth-service.ts';
import { availabilityRoutes } from './availability/availability-routes.ts';
import { bookingRoutes } from './bookings/booking-routes.ts';
import { hotelRoutes } from './hotels/hotel-routes.ts';
import { HotelService } from './hotels/hotel-service.ts';
import { openApi } from './openapi.ts';
import { priceHistoryRoutes } from './pricing/price-history-routes.ts';
import { reportRoutes } from './reports/report-routes.ts';
import { reviewRoutes } from './reviews/review-routes.ts';
import { tripRoutes } from './trips/trip-routes.ts';
import { dashboardRoutes } from './users/dashboard-routes.ts';
import { waitlistRoutes } from './waitlist/waitlist-routes.ts';

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

  // Before every route, the probes included: @fastify/swagger only documents routes added after it.
  await app.register(openApi);
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
    liveness: [{ name: 'database', failure: () => db.liveness() }],
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

  if (!config.auth.jwtSecret && config.env === 'production') {
    app.log.warn(
      { dataDir: config.db.dataDir },
      'JWT_SECRET is unset: using a secret generated under INNKEEP_DATA_DIR; API processes on other hosts will not accept its tokens',
    );
  }
  const jwt = new JwtSigner(config.auth.jwtSecret ?? loadOrCreateSecret(config.db.dataDir, 'jwt'), {
    issuer: ACCESS_TOKEN_ISSUER,
  });
  const auth = new AuthService(db, jwt, config.auth, app.log);
  await app.register(authPlugin, { auth });
  await app.register(authRoutes, { prefix: '/api', auth });

  const hotels = new HotelService(db);
  await app.register(hotelRoutes, { prefix: '/api/hotels', hotels });
  // Each domain module is an encapsulated plugin; they share only the database and authentication.
  await app.register(availabilityRoutes, { prefix: '/api', db });
  await app.register(reviewRoutes, { prefix: '/api', db });
  await app.register(priceHistoryRoutes, { prefix: '/api', db });
  await app.register(bookingRoutes, { prefix: '/api', db });
  await app.register(waitlistRoutes, { prefix: '/api', db });
  await app.register(tripRoutes, { prefix: '/api', db });
  await app.register(dashboardRoutes, { prefix: '/api', db });
  await app.register(reportRoutes, { prefix: '/api/admin', db });

  await app.ready();
  if (!options.deferReady) lifecycle.markReady();
  return app;
}

async function dbCheck(db: Database) {
  const server = db.embeddedStatus();
  if (server && server.state !== 'running') {
    throw Object.assign(new Error('the embedded PostgreSQL is restarting'), { code: 'EMBEDDED_RESTARTING' });
  }
  const pingMs = await db.ping();
  return {
    pingMs: Math.round(pingMs * 100) / 100,
    embedded: db.embedded,
    pool: db.stats(),
    ...(server
      ? { server: { state: server.state, restarts: server.restarts, lastExit: server.lastExit } }
      : {}),
  };
}

export type App = Awaited<ReturnType<typeof buildApp>>;
