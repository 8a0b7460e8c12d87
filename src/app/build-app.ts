import { join } from 'node:path';
import fastifyCompress from '@fastify/compress';
import type { FastifyBaseLogger } from 'fastify';
import type { Redis } from 'ioredis';
import { Cache, exportCacheMetrics } from '../platform/cache/index.ts';
import type { Config } from '../platform/config/index.ts';
import { type Database, openDatabase, translatePgError } from '../platform/db/index.ts';
import {
  createHttpServer,
  createInternalServer,
  type HttpServer,
  healthRoutes,
  type InternalServer,
  Lifecycle,
  metricsRoutes,
  rateLimitRedis,
  registerEdgeProtection,
  registerLoadShedding,
  registerResponseCache,
} from '../platform/http/index.ts';
import { createMailer } from '../platform/mail/index.ts';
import {
  type Logger,
  Metrics,
  ProcessSamples,
  RouteWindows,
  type Tracing,
} from '../platform/observability/index.ts';
import {
  breakerRoutes,
  cacheRoutes,
  DEFAULT_THRESHOLDS,
  opsRoutes,
  PerformanceMonitor,
  queueDashboard,
  queueRoutes,
} from '../platform/ops/index.ts';
import { buildJobQueue, type JobQueue } from '../platform/queue/index.ts';
import { buildResilience, type Resilience } from '../platform/resilience/index.ts';
import { JwtSigner, loadOrCreateSecret } from '../platform/security/index.ts';
import { type AppJobs, registerAppJobs } from './app-jobs.ts';
import { ADMIN_LOGOUT_PATH, adminPageGuard, adminPages } from './auth/admin-pages.ts';
import { authPlugin } from './auth/auth-plugin.ts';
import { authRepository } from './auth/auth-repository.ts';
import { authRoutes } from './auth/auth-routes.ts';
import { ACCESS_TOKEN_ISSUER, AuthService } from './auth/auth-service.ts';
import { availabilityRepository } from './availability/availability-repository.ts';
import { availabilityRoutes } from './availability/availability-routes.ts';
import { AvailabilityService } from './availability/availability-service.ts';
import { bookingOutcomes } from './bookings/booking-outcomes.ts';
import { bookingRepository } from './bookings/booking-repository.ts';
import { bookingRoutes } from './bookings/booking-routes.ts';
import { BookingService } from './bookings/booking-service.ts';
import { warmCache } from './cache-warmup.ts';
import { CACHE_POLICIES, type DomainCache } from './common/cache.ts';
import { BEARER } from './common/schemas.ts';
import { exportRepository } from './exports/export-repository.ts';
import { exportRoutes } from './exports/export-routes.ts';
import { ExportService } from './exports/export-service.ts';
import { hotelRepository } from './hotels/hotel-repository.ts';
import { hotelRoutes } from './hotels/hotel-routes.ts';
import { HotelService } from './hotels/hotel-service.ts';
import { IdempotentRequests } from './idempotency/idempotent-requests.ts';
import { openApi } from './openapi.ts';
import { PayAtPropertyProvider } from './payments/payment-provider.ts';
import { priceHistoryRepository } from './pricing/price-history-repository.ts';
import { priceHistoryRoutes } from './pricing/price-history-routes.ts';
import { PriceHistoryService } from './pricing/price-history-service.ts';
import { limitsPrefix, loginLimiters, registerRateLimit } from './rate-limits.ts';
import { reportRepository } from './reports/report-repository.ts';
import { reportRoutes } from './reports/report-routes.ts';
import { ReportService } from './reports/report-service.ts';
import { reviewRepository } from './reviews/review-repository.ts';
import { reviewRoutes } from './reviews/review-routes.ts';
import { ReviewService } from './reviews/review-service.ts';
import { tripRepository } from './trips/trip-repository.ts';
import { tripRoutes } from './trips/trip-routes.ts';
import { TripService } from './trips/trip-service.ts';
import { dashboardRepository } from './users/dashboard-repository.ts';
import { dashboardRoutes } from './users/dashboard-routes.ts';
import { DashboardService } from './users/dashboard-service.ts';
import { waitlistRepository } from './waitlist/waitlist-repository.ts';
import { waitlistRoutes } from './waitlist/waitlist-routes.ts';
import { WaitlistService } from './waitlist/waitlist-service.ts';

export const MIGRATIONS_DIR = join(import.meta.dirname, '../../drizzle');

declare module 'fastify' {
  interface FastifyInstance {
    innkeep: {
      readonly config: Config;
      readonly db: Database;
      readonly lifecycle: Lifecycle;
      /** The Prometheus registry; undefined with METRICS_ENABLED=false. */
      readonly metrics: Metrics | undefined;
      /** The operators' listener (not listening until `listenInternal`): /metrics, /health/detailed. */
      readonly internal: InternalServer;
      /** The two-tier cache (disabled with CACHE_ENABLED=false). */
      readonly cache: Cache;
      /** Every outbound dependency's policies and circuit breakers (shared through Redis when set). */
      readonly resilience: Resilience;
      /** The job queue: producing everywhere, running jobs when ROLE is worker or all. */
      readonly jobs: JobQueue;
      /** Aborted when the app starts closing: background work (the cache warm-up) stops on it. */
      readonly stopping: AbortSignal;
      /**
       * Starts the cache warm-up in the background (once; nothing when CACHE_ENABLED or CACHE_WARMUP
       * is false). `buildApp` calls it unless `deferReady`; `innkeep start` calls it once it has
       * seeded an empty database and is listening, so that there is something to warm.
       */
      readonly startWarmup: () => void;
    };
  }
}

export interface BuildAppOptions {
  readonly logger?: FastifyBaseLogger;
  /** Leave readiness at "starting" until the caller calls `app.innkeep.lifecycle.markReady()`. */
  readonly deferReady?: boolean;
  /** Tracing started by `startTracing` before fastify and pg were imported (see src/main.ts). */
  readonly tracing?: Tracing;
}

/**
 * Builds the whole application: opens the database (embedded PostgreSQL when DATABASE_URL is unset),
 * applies migrations, mounts the platform probes and the domain modules. Does not listen, so tests
 * use `app.inject()` or `listen({ port: 0 })`. `app.close()` drains the pool and stops PostgreSQL.
 */
export async function buildApp(config: Config, options: BuildAppOptions = {}) {
  const metrics = config.metrics.enabled ? new Metrics() : undefined;
  const routeWindows = metrics ? new RouteWindows() : undefined;
  const app = createHttpServer(config, {
    ...(options.logger ? { logger: options.logger } : {}),
    ...(options.tracing ? { tracing: options.tracing } : {}),
    errorTranslators: [translatePgError],
    metrics,
    routeWindows,
  });
  const lifecycle = new Lifecycle();
  const db = await openDatabase(config.db, app.log, {
    onStatement: metrics
      ? (statement, durationMs, failed, slow) =>
          metrics.observeStatement(statement, durationMs / 1000, failed, slow)
      : undefined,
  });
  const cache = new Cache(
    {
      ...config.cache,
      redisUrl: config.cache.enabled ? config.redis.url : undefined,
    },
    app.log,
  );
  const resilience = await buildResilience(config, app.log, metrics);
  // The rate limiter's own connection (login throttling uses it too): commands fail fast to memory.
  const limitsRedis = config.redis.url ? rateLimitRedis(config.redis.url, app.log) : undefined;
  try {
    await mount(app, { config, db, cache, resilience, lifecycle, metrics, routeWindows, limitsRedis });
  } catch (err) {
    // Nothing else would stop the embedded server (its child process would keep this one alive).
    limitsRedis?.disconnect();
    await resilience.close();
    await cache.close();
    await db.close();
    throw err;
  }
  if (!options.deferReady) {
    lifecycle.markReady();
    app.innkeep.startWarmup();
  }
  return app;
}

interface Platform {
  readonly config: Config;
  readonly db: Database;
  readonly cache: Cache;
  readonly resilience: Resilience;
  readonly lifecycle: Lifecycle;
  readonly metrics: Metrics | undefined;
  readonly routeWindows: RouteWindows | undefined;
  readonly limitsRedis: Redis | undefined;
}

/** Migrations, the probes, the OpenAPI document and every domain module, on an open database. */
async function mount(app: HttpServer, platform: Platform): Promise<void> {
  const { config, db, cache, resilience, lifecycle, metrics, routeWindows, limitsRedis } = platform;
  if (config.db.migrateOnStart) await db.migrate(MIGRATIONS_DIR);
  const jobs = buildJobQueue(config, db, app.log, metrics);
  const mailer = createMailer(
    {
      smtpUrl: config.mail.smtpUrl,
      from: config.mail.from,
      poolMax: config.mail.poolMax,
      dataDir: config.db.dataDir,
    },
    app.log,
  );
  const internal = createInternalServer(app.log);
  const stopping = new AbortController();
  let warming = false;
  // In the background: readiness never waits for it, and closing the app stops it.
  const startWarmup = () => {
    if (warming || !config.cache.enabled || !config.cache.warmup.enabled) return;
    warming = true;
    void warmCache(app, db, config.cache.warmup, cache, stopping.signal);
  };
  app.decorate('innkeep', {
    config,
    db,
    lifecycle,
    metrics,
    internal,
    cache,
    resilience,
    jobs,
    stopping: stopping.signal,
    startWarmup,
  });
  const performance = new PerformanceMonitor({
    db,
    excludeSchemas: [config.queue.namespace],
    windows: routeWindows,
    samples: new ProcessSamples(),
    thresholds: { ...DEFAULT_THRESHOLDS, ...config.performance },
    log: app.log,
    cache: () =>
      cache.stats.namespaces().map((ns) => ({
        namespace: ns.namespace,
        hits: ns.hitsL1 + ns.hitsL2 + ns.coalesced + ns.stale,
        misses: ns.misses,
      })),
  });
  app.addHook('onClose', async () => {
    stopping.abort();
    performance.stop();
    // Running jobs finish (or are aborted at WORKER_SHUTDOWN_TIMEOUT_MS) while the database is up.
    await jobs.close().catch((err: unknown) => app.log.warn({ err }, 'closing the job queue failed'));
    await mailer.close().catch(() => {});
    await internal.close();
    await resilience.close();
    await cache.close();
    await limitsRedis?.quit().catch(() => limitsRedis.disconnect());
    await db.close();
    lifecycle.markStopped();
  });
  if (metrics) {
    metrics.sampledGauges(
      'innkeep_db_pool',
      {
        connections: 'Connections the pool holds (busy and idle)',
        idle: 'Connections the pool holds that are idle',
        waiting: 'Callers queued for a connection',
        max: 'The pool size limit (DB_POOL_MAX)',
      },
      () => {
        const stats = db.stats();
        return { connections: stats.total, idle: stats.idle, waiting: stats.waiting, max: stats.max };
      },
    );
    exportCacheMetrics(metrics, cache);
    await internal.register(metricsRoutes, { metrics });
    if (config.metrics.token) await app.register(metricsRoutes, { metrics, token: config.metrics.token });
  }

  // Security headers first, so that every answer below (a shed 503 included) carries them; then
  // shedding, before any work is done for a request.
  await registerEdgeProtection(app, {
    production: config.env === 'production',
    corsOrigins: config.http.corsOrigins,
    authBodyLimitBytes: config.http.authBodyLimitBytes,
    htmlPrefixes: ['/docs', '/admin'],
  });
  await registerLoadShedding(app, config.shedding, metrics);
  // Before every route, the probes included: @fastify/swagger only documents routes added after it.
  await app.register(openApi);
  // Compression for answers that are not cached bytes (those carry their Content-Encoding already).
  await app.register(fastifyCompress, { global: true, threshold: 1024, encodings: ['br', 'gzip'] });
  // Before the response cache: a cached answer is still a request the client spends.
  if (config.rateLimit.enabled) await registerRateLimit(app, { config, db, metrics, redis: limitsRedis });
  registerResponseCache(app);
  let migrationsApplied = false;
  const checks = [
    { name: 'database', critical: true, check: async () => dbCheck(db) },
    { name: 'cache', critical: false, check: async () => cacheCheck(cache) },
  ];
  await app.register(healthRoutes, {
    lifecycle,
    checks,
    liveness: [{ name: 'database', failure: () => db.liveness() }],
    readinessGates: [
      {
        name: 'migrations',
        isOpen: async () => {
          migrationsApplied ||= (await db.migrationStatus(MIGRATIONS_DIR)).pending === 0;
          return migrationsApplied;
        },
      },
    ],
  });

  const domainCache: DomainCache = {
    ns: Object.fromEntries(
      Object.entries(CACHE_POLICIES).map(([name, policy]) => [name, cache.namespace(policy)]),
    ) as DomainCache['ns'],
    invalidate: (tags) => cache.invalidate(tags),
  };
  // The recurring warm-up: worth it where its entries reach someone, i.e. in Redis (L2) for every
  // instance, or in this process's memory when it also serves the API (ROLE all).
  const warmUseful = cache.tiers === 'l1+l2' || config.role !== 'worker';
  const appJobs = registerAppJobs(jobs, {
    config,
    db,
    mailer,
    cache: domainCache,
    ...(config.cache.enabled && config.cache.warmup.enabled && warmUseful
      ? {
          warmCache: (signal: AbortSignal) =>
            warmCache(app, db, config.cache.warmup, cache, AbortSignal.any([signal, app.innkeep.stopping])),
        }
      : {}),
  });
  const services = buildServices(config, db, app.log, metrics, domainCache, limitsRedis, appJobs);
  // Each domain module is an encapsulated plugin mounted at /api (its routes carry the rest of their
  // paths) and gets the services it uses, built once above; only authentication is shared globally.
  const api = { prefix: '/api' };
  await app.register(authPlugin, { auth: services.auth });
  const ops = {
    metrics,
    performance,
    health: {
      checks,
      lifecycle,
      db,
      sections: { cache: () => cacheSummary(cache), breakers: () => resilience.summary() },
      migrations: () => db.migrationStatus(MIGRATIONS_DIR),
      windows: routeWindows,
    },
  };
  await app.register(opsRoutes, { ...ops, guard: app.requireAdmin, security: BEARER });
  await internal.register(opsRoutes, ops);
  await app.register(cacheRoutes, { cache, guard: app.requireAdmin, security: BEARER });
  await internal.register(cacheRoutes, { cache });
  await app.register(breakerRoutes, { resilience, guard: app.requireAdmin, security: BEARER });
  await internal.register(breakerRoutes, { resilience });
  await app.register(queueRoutes, { jobs, db, guard: app.requireAdmin, security: BEARER });
  await internal.register(queueRoutes, { jobs, db });
  // The dashboard at /admin/queues (bull-board with BullMQ), behind the admin pages' login on the
  // API and open on the internal listener like the rest of the operators' routes.
  const production = config.env === 'production';
  await app.register(adminPages, { auth: services.auth, production });
  await app.register(queueDashboard, {
    jobs,
    db,
    guard: adminPageGuard(services.auth),
    logoutPath: ADMIN_LOGOUT_PATH,
  });
  await internal.register(queueDashboard, { jobs, db });
  await app.register(authRoutes, { ...api, auth: services.auth });
  const cached = { cache: domainCache };
  await app.register(hotelRoutes, { ...api, ...cached, hotels: services.hotels });
  await app.register(availabilityRoutes, { ...api, ...cached, availability: services.availability });
  await app.register(reviewRoutes, { ...api, ...cached, reviews: services.reviews });
  await app.register(priceHistoryRoutes, { ...api, ...cached, prices: services.prices });
  await app.register(bookingRoutes, { ...api, bookings: services.bookings, idempotent: services.idempotent });
  await app.register(waitlistRoutes, { ...api, waitlist: services.waitlist });
  await app.register(tripRoutes, { ...api, trips: services.trips });
  await app.register(dashboardRoutes, { ...api, dashboard: services.dashboard });
  await app.register(exportRoutes, { ...api, exports: services.exports });
  await app.register(reportRoutes, { ...api, reports: services.reports });

  await app.ready();
  await internal.ready();
  // Producing works from here; with ROLE worker or all this process also runs the jobs.
  await jobs.start({ work: config.role !== 'api' });
  performance.start();
}

/** Starts the operators' listener (METRICS_HOST:METRICS_PORT); resolves with its address. */
export async function listenInternal(app: App): Promise<string> {
  const { config, internal } = app.innkeep;
  return internal.listen({ host: config.metrics.host, port: config.metrics.port });
}

/**
 * The composition root of the domain: every repository factory, provider and service, built once.
 * A cache, a metrics registry or another payment provider is wired in here.
 */
function buildServices(
  config: Config,
  db: Database,
  log: Logger,
  metrics: Metrics | undefined,
  cache: DomainCache,
  limitsRedis: Redis | undefined,
  jobs: AppJobs,
) {
  if (!config.auth.jwtSecret && config.env === 'production') {
    log.warn(
      { dataDir: config.db.dataDir },
      'JWT_SECRET is unset: using a secret generated under INNKEEP_DATA_DIR; API processes on other hosts will not accept its tokens',
    );
  }
  const jwt = new JwtSigner(config.auth.jwtSecret ?? loadOrCreateSecret(config.db.dataDir, 'jwt'), {
    issuer: ACCESS_TOKEN_ISSUER,
  });
  const payments = new PayAtPropertyProvider();
  return {
    auth: new AuthService({
      db,
      users: authRepository,
      jwt,
      config: config.auth,
      log,
      throttle: loginLimiters(config.auth, limitsRedis, limitsPrefix(config)),
    }),
    hotels: new HotelService({ db, hotels: hotelRepository }),
    availability: new AvailabilityService({ db, availability: availabilityRepository, cache }),
    reviews: new ReviewService({ db, reviews: reviewRepository, cache }),
    prices: new PriceHistoryService({ db, prices: priceHistoryRepository }),
    bookings: new BookingService({
      db,
      bookings: bookingRepository,
      payments,
      outcomes: bookingOutcomes(metrics),
      cache,
      offerHoldMinutes: config.waitlist.offerHoldMinutes,
      notifications: jobs.notifications,
    }),
    idempotent: new IdempotentRequests(db),
    waitlist: new WaitlistService({
      db,
      waitlist: waitlistRepository,
      cache,
      offerHoldMinutes: config.waitlist.offerHoldMinutes,
      notifications: jobs.notifications,
    }),
    trips: new TripService({ db, trips: tripRepository, cache }),
    dashboard: new DashboardService({ db, dashboards: dashboardRepository, cache }),
    exports: new ExportService({
      db,
      exports: exportRepository,
      dataDir: config.db.dataDir,
      jobs: jobs.exports,
    }),
    reports: new ReportService({ db, reports: reportRepository, cache }),
  };
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

/**
 * The cache as a health check: up without Redis (memory only) or with Redis reachable; down (the
 * service is degraded, not unhealthy: reads go to PostgreSQL) when REDIS_URL is set and Redis is away.
 */
async function cacheCheck(cache: Cache) {
  const summary = cacheSummary(cache);
  if (cache.redis === 'down') {
    throw Object.assign(new Error('redis is unreachable'), { code: 'REDIS_DOWN' });
  }
  return summary;
}

function cacheSummary(cache: Cache) {
  const s = cache.snapshot();
  return {
    enabled: s.enabled,
    tiers: s.tiers,
    redis: s.redis,
    coherent: cache.coherent,
    hitRate: s.totals.hitRate,
    hits: s.totals.hitsL1 + s.totals.hitsL2,
    misses: s.totals.misses,
    stale: s.totals.stale,
    errors: s.totals.errors,
    entries: s.memory.entries,
    bytes: s.memory.bytes,
  };
}

export type App = Awaited<ReturnType<typeof buildApp>>;
