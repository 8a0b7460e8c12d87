// The benchmark's "before" application: the same API as src/app, written the way a typical ORM
// codebase is (lazy relations loaded one query per row, filtering and aggregation in JavaScript).
// Only the bench uses it; src/ never imports it.
import type { FastifyBaseLogger } from 'fastify';
import type { Config } from '../../src/platform/config/index.ts';
import { type Database, translatePgError } from '../../src/platform/db/index.ts';
import { createHttpServer } from '../../src/platform/http/index.ts';
import { naiveAuth } from './auth.ts';
import { naiveAvailabilityRoutes } from './availability.ts';
import { naiveBookingRoutes } from './bookings.ts';
import { naiveHotelRoutes } from './hotels.ts';
import { naivePriceHistoryRoutes } from './pricing.ts';
import { naiveReportRoutes } from './reports.ts';
import { naiveReviewRoutes } from './reviews.ts';
import { naiveUserRoutes } from './users.ts';

export interface NaiveAppOptions {
  readonly logger?: FastifyBaseLogger;
}

/**
 * Builds the naive app on an open database, with the platform's HTTP server, so it has the real
 * app's request ids, error bodies, validation and `Server-Timing` statement count: the bench compares
 * the two on equal terms. Needs `config.auth.jwtSecret`: the bench mints tokens with it. Does not
 * listen, migrate or seed; closing the app leaves the database open (the caller owns it).
 */
export async function buildNaiveApp(config: Config, db: Database, options: NaiveAppOptions = {}) {
  const secret = config.auth.jwtSecret;
  if (!secret) throw new Error('The naive app needs JWT_SECRET: the bench signs its tokens with it');
  const app = createHttpServer(config, {
    ...(options.logger ? { logger: options.logger } : {}),
    errorTranslators: [translatePgError],
  });
  const auth = naiveAuth(secret);

  app.get('/healthz', async () => ({ status: 'ok' }));
  await app.register(naiveHotelRoutes, { prefix: '/api/hotels', db });
  await app.register(naiveAvailabilityRoutes, { prefix: '/api', db });
  await app.register(naiveReviewRoutes, { prefix: '/api', db });
  await app.register(naivePriceHistoryRoutes, { prefix: '/api', db });
  await app.register(naiveBookingRoutes, { prefix: '/api', db, auth });
  await app.register(naiveUserRoutes, { prefix: '/api', db, auth });
  await app.register(naiveReportRoutes, { prefix: '/api/admin', db, auth });
  await app.ready();
  return app;
}

export type NaiveApp = Awaited<ReturnType<typeof buildNaiveApp>>;
