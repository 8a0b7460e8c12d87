import { resolve } from 'node:path';
import Type, { type TLiteral, type TUnion } from 'typebox';
import { OVERRIDES_PATTERN, parseOverrides } from './resilience-overrides.ts';
import { setting } from './setting.ts';

const int = (min: number, max: number) => Type.Integer({ minimum: min, maximum: max });
const ms = (min = 0, max = 3_600_000) => int(min, max);
type Literals<V extends readonly string[]> = { -readonly [K in keyof V]: TLiteral<V[K]> };
/** A union of string literals, typed as those literals so that the config's type is their union. */
const oneOf = <const V extends readonly string[]>(...values: V): TUnion<Literals<V>> =>
  Type.Union(values.map((v) => Type.Literal(v))) as TUnion<Literals<V>>;

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export const SEED_SCALES = ['small', 'medium', 'large'] as const;

/**
 * One row per environment variable, in the README table's order. This list is the single source of
 * truth for validation, defaults, the README's configuration table (`innkeep config --markdown`) and
 * the `Config` type (each row's `path` is where its value lands). Adding a setting is adding a row.
 */
export const settings = [
  setting({
    path: 'env',
    env: 'NODE_ENV',
    schema: oneOf('development', 'production', 'test'),
    // What `npm start` (what people deploy) runs as unless told otherwise; `npm run dev` sets development.
    default: 'production',
    description:
      'Runtime mode. `npm start` runs as `production`; `npm run dev` sets `development`, the only mode whose 500 bodies carry stack traces.',
  }),
  setting({
    path: 'http.host',
    env: 'HOST',
    schema: Type.String({ minLength: 1 }),
    default: '127.0.0.1',
    description: 'Interface to listen on. Use `0.0.0.0` in a container.',
  }),
  setting({
    path: 'http.port',
    env: 'PORT',
    schema: int(0, 65535),
    default: 3000,
    description: 'HTTP port (0 picks a free one).',
  }),
  setting({
    path: 'log.level',
    env: 'LOG_LEVEL',
    schema: oneOf(...LOG_LEVELS),
    default: 'info',
    description: 'pino log level.',
  }),
  setting({
    path: 'tracing.otlpEndpoint',
    env: 'OTEL_EXPORTER_OTLP_ENDPOINT',
    schema: Type.String({ pattern: '^https?://' }),
    description:
      'OpenTelemetry tracing: base URL of an OTLP/HTTP receiver (an OpenTelemetry Collector, e.g. `http://127.0.0.1:4318`); traces are sent to `<url>/v1/traces` (OTLP/JSON). Unset (and `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` unset): tracing is off and the OpenTelemetry SDK is not loaded.',
  }),
  setting({
    path: 'tracing.otlpTracesEndpoint',
    env: 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT',
    schema: Type.String({ pattern: '^https?://' }),
    description:
      'Full URL traces are sent to, used as is; wins over `OTEL_EXPORTER_OTLP_ENDPOINT`, and also turns tracing on.',
  }),
  setting({
    path: 'tracing.sampler',
    env: 'OTEL_TRACES_SAMPLER',
    schema: oneOf(
      'parentbased_always_on',
      'parentbased_traceidratio',
      'parentbased_always_off',
      'always_on',
      'traceidratio',
      'always_off',
    ),
    default: 'parentbased_always_on',
    description:
      'Which traces are recorded (the OpenTelemetry names). `parentbased_traceidratio` with `OTEL_TRACES_SAMPLER_ARG=0.1` records one trace in ten and follows an incoming `traceparent`’s decision: the way to cut tracing’s cost (see Tracing).',
  }),
  setting({
    path: 'tracing.samplerArg',
    env: 'OTEL_TRACES_SAMPLER_ARG',
    schema: Type.Number({ minimum: 0, maximum: 1 }),
    default: 1,
    description: 'The share of traces the `traceidratio` samplers record (0 to 1).',
  }),
  setting({
    path: 'tracing.serviceName',
    env: 'OTEL_SERVICE_NAME',
    schema: Type.String({ minLength: 1 }),
    default: 'innkeep',
    description: 'The `service.name` the traces carry.',
  }),
  setting({
    path: 'http.trustProxy',
    env: 'TRUST_PROXY',
    schema: Type.Boolean(),
    default: false,
    description: 'Trust `X-Forwarded-*` headers (set when behind a load balancer).',
  }),
  setting({
    path: 'http.bodyLimitBytes',
    env: 'HTTP_BODY_LIMIT_BYTES',
    schema: int(1024, 10 * 1024 * 1024),
    default: 102_400,
    description: 'Largest accepted request body; bigger bodies get 413.',
  }),
  setting({
    path: 'http.requestTimeoutMs',
    env: 'HTTP_REQUEST_TIMEOUT_MS',
    schema: ms(),
    default: 30_000,
    description: 'Server-side limit for receiving a whole request (0 disables).',
  }),
  setting({
    path: 'http.shutdownDrainDelayMs',
    env: 'SHUTDOWN_DRAIN_DELAY_MS',
    schema: ms(0, 120_000),
    default: 0,
    description:
      'On SIGTERM, time `/ready` reports 503 before the listener closes (lets a load balancer stop routing).',
  }),
  setting({
    path: 'http.shutdownTimeoutMs',
    env: 'SHUTDOWN_TIMEOUT_MS',
    schema: ms(100, 300_000),
    default: 10_000,
    description: 'Hard limit for graceful shutdown; past it the process exits with code 1.',
  }),
  setting({
    path: 'http.keepAliveTimeoutMs',
    env: 'HTTP_KEEP_ALIVE_TIMEOUT_MS',
    schema: ms(1000, 600_000),
    default: 72_000,
    description:
      "How long an idle keep-alive connection is kept open. Keep it above the load balancer's idle timeout (60 s on common ones), or the balancer may reuse a socket the server is closing.",
  }),
  setting({
    path: 'http.maxHeadersCount',
    env: 'HTTP_MAX_HEADERS_COUNT',
    schema: int(20, 2000),
    default: 100,
    description:
      "Most request headers read per request; the rest are dropped (the headers' total size is capped at 16 KB: 431).",
  }),
  setting({
    path: 'http.authBodyLimitBytes',
    env: 'HTTP_AUTH_BODY_LIMIT_BYTES',
    schema: int(1024, 1024 * 1024),
    default: 16_384,
    description:
      'Largest accepted body on `/api/auth/...` routes (login, register, refresh); bigger gets 413.',
  }),
  setting({
    path: 'http.corsOrigins',
    env: 'CORS_ORIGINS',
    schema: Type.String({ pattern: '^\\s*https?://[^\\s,/]+(\\s*,\\s*https?://[^\\s,/]+)*\\s*$' }),
    transform: (list: string) => list.split(',').map((o) => o.trim()),
    description:
      'Comma list of browser origins (`https://app.example.com`) allowed to call the API cross-origin; unset allows none. Credentials are never allowed.',
  }),
  setting({
    path: 'http.timeBudgetMs',
    env: 'HTTP_TIME_BUDGET_MS',
    schema: ms(0, 600_000),
    default: 10_000,
    description:
      'Time budget of a request (0: none): past it the client gets 504 `E_TIMEOUT` and its running statements are cancelled. Probes have none.',
  }),
  setting({
    path: 'http.timeBudgetExpensiveMs',
    env: 'HTTP_TIME_BUDGET_EXPENSIVE_MS',
    schema: ms(0, 600_000),
    default: 30_000,
    description: 'The time budget of `expensive` routes (reports).',
  }),
  setting({
    path: 'shedding.maxInFlight',
    env: 'HTTP_MAX_IN_FLIGHT',
    schema: int(0, 100_000),
    default: 512,
    description:
      'Requests handled at once before further ones get 503 `E_OVERLOADED` at once (0: no cap). Probes are never counted or refused.',
  }),
  setting({
    path: 'shedding.maxInFlightExpensive',
    env: 'HTTP_MAX_IN_FLIGHT_EXPENSIVE',
    schema: int(0, 10_000),
    default: 25,
    description: 'Requests to `expensive` routes (reports) handled at once (0: no cap of their own).',
  }),
  setting({
    path: 'shedding.maxEventLoopDelayMs',
    env: 'SHED_EVENT_LOOP_DELAY_MS',
    schema: ms(0, 60_000),
    default: 1000,
    description: 'Mean event-loop delay over the last sample above which requests are shed (0: off).',
  }),
  setting({
    path: 'shedding.maxEventLoopUtilization',
    env: 'SHED_EVENT_LOOP_UTILIZATION_PCT',
    schema: int(0, 100),
    default: 0,
    description:
      'Event-loop utilisation (percent of the last sample) above which requests are shed (0: off; a busy healthy server runs near 100 %, so the delay is the better signal).',
  }),
  setting({
    path: 'shedding.maxHeapUsedMb',
    env: 'SHED_HEAP_USED_MB',
    schema: int(0, 1_000_000),
    default: 0,
    description: 'V8 heap in use, in MiB, above which requests are shed (0: off).',
  }),
  setting({
    path: 'shedding.maxRssMb',
    env: 'SHED_RSS_MB',
    schema: int(0, 1_000_000),
    default: 0,
    description: 'Resident memory, in MiB, above which requests are shed (0: off).',
  }),
  setting({
    path: 'shedding.sampleIntervalMs',
    env: 'SHED_SAMPLE_INTERVAL_MS',
    schema: ms(10, 10_000),
    default: 500,
    description: 'How often the event loop and memory are sampled for shedding.',
  }),
  setting({
    path: 'db.url',
    env: 'DATABASE_URL',
    schema: Type.String({ pattern: '^postgres(ql)?://' }),
    description:
      'PostgreSQL connection string. Unset: an embedded PostgreSQL is started with its data under `INNKEEP_DATA_DIR`.',
  }),
  setting({
    path: 'db.dataDir',
    env: 'INNKEEP_DATA_DIR',
    schema: Type.String({ minLength: 1 }),
    default: './.innkeep',
    // Absolute once, at boot: a later chdir must not move the data.
    transform: (dir) => resolve(dir),
    description: 'Where the embedded PostgreSQL keeps its data and the app keeps generated secrets.',
  }),
  setting({
    path: 'db.poolMax',
    env: 'DB_POOL_MAX',
    schema: int(1, 1000),
    default: 10,
    description: 'Largest number of pooled connections per process.',
  }),
  setting({
    path: 'db.idleTimeoutMs',
    env: 'DB_POOL_IDLE_TIMEOUT_MS',
    schema: ms(),
    default: 10_000,
    description: 'Close a pooled connection idle this long.',
  }),
  setting({
    path: 'db.connectTimeoutMs',
    env: 'DB_CONNECT_TIMEOUT_MS',
    schema: ms(100, 120_000),
    default: 5_000,
    description: 'Give up opening a connection (or waiting for a free one) after this long.',
  }),
  setting({
    path: 'db.statementTimeoutMs',
    env: 'DB_STATEMENT_TIMEOUT_MS',
    schema: ms(),
    default: 5_000,
    description: 'PostgreSQL `statement_timeout` for application connections (0 disables).',
  }),
  setting({
    path: 'db.readRetries',
    env: 'DB_QUERY_RETRIES',
    schema: int(0, 10),
    default: 2,
    description:
      'Retries for idempotent reads that fail with a transient error (connection reset, serialization failure).',
  }),
  setting({
    path: 'db.slowQueryWarnMs',
    env: 'DB_SLOW_QUERY_WARN_MS',
    schema: ms(),
    default: 1_000,
    description: 'Log a query at `warn` when it takes longer than this.',
  }),
  setting({
    path: 'db.slowQueryDebugMs',
    env: 'DB_SLOW_QUERY_DEBUG_MS',
    schema: ms(),
    default: 500,
    description: 'Log a query at `debug` when it takes longer than this.',
  }),
  setting({
    path: 'db.migrateOnStart',
    env: 'DB_MIGRATE_ON_START',
    schema: Type.Boolean(),
    default: true,
    description: 'Apply pending migrations when the server starts.',
  }),
  setting({
    path: 'db.seedOnEmpty',
    env: 'DB_SEED_ON_EMPTY',
    schema: oneOf('none', ...SEED_SCALES),
    default: 'small',
    description: 'Demo data scale loaded by `npm start` when the database has no hotels (`none` to skip).',
  }),
  setting({
    path: 'db.embeddedMaxDowntimeMs',
    env: 'DB_EMBEDDED_MAX_DOWNTIME_MS',
    schema: ms(1_000, 3_600_000),
    default: 30_000,
    description:
      'The embedded PostgreSQL is restarted when it dies; if it is still down after this long, `/healthz` fails so a supervisor restarts the app.',
  }),
  setting({
    path: 'metrics.enabled',
    env: 'METRICS_ENABLED',
    schema: Type.Boolean(),
    default: true,
    description:
      'Record Prometheus metrics (request, statement, pool, business figures). `false` removes the hooks and the `/metrics` endpoints.',
  }),
  setting({
    path: 'metrics.host',
    env: 'METRICS_HOST',
    schema: Type.String({ minLength: 1 }),
    default: '127.0.0.1',
    description:
      'Interface of the internal listener serving `/metrics` and `/health/detailed` without a token. Keep it off the public network.',
  }),
  setting({
    path: 'metrics.port',
    env: 'METRICS_PORT',
    schema: int(0, 65535),
    default: 9464,
    description:
      'Port of the internal listener (0 picks a free one). It fails to start, and so does the app, if the port is taken.',
  }),
  setting({
    path: 'metrics.token',
    env: 'METRICS_TOKEN',
    schema: Type.String({ minLength: 16 }),
    description:
      'When set, `/metrics` is also served on the main port to `Authorization: Bearer <token>` (16+ characters); unset, it is only on the internal listener.',
  }),
  setting({
    path: 'metrics.nPlusOneWarnAt',
    env: 'N_PLUS_ONE_WARN_AT',
    schema: int(0, 100_000),
    description:
      'Warn when one request runs the same statement more than this many times (an N+1 loop); 0 turns it off. Unset: 10, except under `NODE_ENV=production`, where it is off.',
  }),
  setting({
    path: 'performance.routeP95TargetMs',
    env: 'PERF_ROUTE_P95_TARGET_MS',
    schema: ms(1, 600_000),
    default: 500,
    description:
      '`/api/performance` recommends looking at a route whose p95 over 5 minutes (20+ requests) is above this.',
  }),
  setting({
    path: 'performance.seqScanMinRows',
    env: 'PERF_SEQ_SCAN_MIN_ROWS',
    schema: int(1, 2 ** 31 - 1),
    default: 10_000,
    description:
      'Tables this large (live rows) that are read whole by sequential scans since the app started are reported.',
  }),
  setting({
    path: 'performance.unusedIndexMinAgeS',
    env: 'PERF_UNUSED_INDEX_MIN_AGE_S',
    schema: int(0, 10 * 365 * 86_400),
    default: 604_800,
    description:
      'Indexes never scanned are reported once the statistics are at least this old (seconds; default 7 days, so that weekly jobs count).',
  }),
  setting({
    path: 'performance.poolWaitingMs',
    env: 'PERF_POOL_WAITING_MS',
    schema: ms(1_000, 3_600_000),
    default: 60_000,
    description: 'Callers waiting for a database connection without a break for this long are reported.',
  }),
  setting({
    path: 'performance.eventLoopLagMs',
    env: 'PERF_EVENT_LOOP_LAG_MS',
    schema: ms(1, 60_000),
    default: 200,
    description: 'An event-loop delay p99 above this over the last minute is reported.',
  }),
  setting({
    path: 'redis.url',
    env: 'REDIS_URL',
    schema: Type.String({ pattern: '^rediss?://' }),
    description:
      "Redis 7 (`redis://host:port/db`). Set: the cache gets a shared second tier (L2) and a bus that keeps every instance's memory tier coherent. Unset: the cache is memory only, for one API process.",
  }),
  setting({
    path: 'cache.enabled',
    env: 'CACHE_ENABLED',
    schema: Type.Boolean(),
    default: true,
    description:
      'Cache reads (memory, plus Redis when `REDIS_URL` is set) and public GET responses. `false`: every read goes to PostgreSQL.',
  }),
  setting({
    path: 'cache.prefix',
    env: 'CACHE_PREFIX',
    schema: Type.String({ pattern: '^[A-Za-z0-9_.-]{1,40}$' }),
    default: 'innkeep',
    description:
      'Prefix of every Redis key and of the bus channel; deployments sharing one Redis need different ones.',
  }),
  setting({
    path: 'cache.l1MaxMb',
    env: 'CACHE_L1_MAX_MB',
    schema: int(1, 65_536),
    default: 64,
    description: 'Bound of the in-process tier, in MiB of cached values (least recently used go first).',
  }),
  setting({
    path: 'cache.l1MaxEntries',
    env: 'CACHE_L1_MAX_ENTRIES',
    schema: int(100, 10_000_000),
    default: 50_000,
    description: 'Bound of the in-process tier in entries.',
  }),
  setting({
    path: 'cache.ttl.veryShort',
    env: 'CACHE_TTL_VERY_SHORT_S',
    schema: int(1, 604_800),
    default: 60,
    description: 'The `VERY_SHORT` TTL preset, seconds.',
  }),
  setting({
    path: 'cache.ttl.short',
    env: 'CACHE_TTL_SHORT_S',
    schema: int(1, 604_800),
    default: 300,
    description: 'The `SHORT` TTL preset, seconds (availability, per-user pages).',
  }),
  setting({
    path: 'cache.ttl.medium',
    env: 'CACHE_TTL_MEDIUM_S',
    schema: int(1, 604_800),
    default: 1_800,
    description: 'The `MEDIUM` TTL preset, seconds (search, reviews, price history).',
  }),
  setting({
    path: 'cache.ttl.long',
    env: 'CACHE_TTL_LONG_S',
    schema: int(1, 604_800),
    default: 3_600,
    description: 'The `LONG` TTL preset, seconds (hotel detail).',
  }),
  setting({
    path: 'cache.ttl.veryLong',
    env: 'CACHE_TTL_VERY_LONG_S',
    schema: int(1, 604_800),
    default: 86_400,
    description: 'The `VERY_LONG` TTL preset, seconds.',
  }),
  setting({
    path: 'cache.compressMinBytes',
    env: 'CACHE_COMPRESS_MIN_BYTES',
    schema: int(0, 16_777_216),
    default: 1_024,
    description:
      'Values at least this large are stored Brotli-compressed in Redis (0: always; a huge value: never).',
  }),
  setting({
    path: 'cache.l2TimeoutMs',
    env: 'CACHE_L2_TIMEOUT_MS',
    schema: ms(10, 60_000),
    default: 250,
    description: 'A Redis command that takes longer fails; the read falls back to memory and PostgreSQL.',
  }),
  setting({
    path: 'cache.l2BreakerMs',
    env: 'CACHE_L2_BREAKER_MS',
    schema: ms(0, 600_000),
    default: 5_000,
    description:
      'After a Redis failure the cache stops trying Redis for this long (0: no breaker) and serves from memory and PostgreSQL.',
  }),
  setting({
    path: 'cache.warmup.enabled',
    env: 'CACHE_WARMUP',
    schema: Type.Boolean(),
    default: true,
    description:
      'On start, fill the cache with the hottest hotel pages and searches (by bookings of the last 30 days), in the background.',
  }),
  setting({
    path: 'cache.warmup.budgetMs',
    env: 'CACHE_WARMUP_BUDGET_MS',
    schema: ms(100, 600_000),
    default: 10_000,
    description: 'Warm-up stops after this long, finished or not; readiness never waits for it.',
  }),
  setting({
    path: 'cache.warmup.hotels',
    env: 'CACHE_WARMUP_HOTELS',
    schema: int(0, 10_000),
    default: 200,
    description: 'How many of the most booked hotels get their detail page warmed.',
  }),
  setting({
    path: 'cache.warmup.cities',
    env: 'CACHE_WARMUP_CITIES',
    schema: int(0, 1_000),
    default: 20,
    description: 'How many of the most booked cities get their first search page warmed.',
  }),
  setting({
    path: 'resilience.failureThreshold',
    env: 'BREAKER_FAILURE_THRESHOLD',
    schema: int(1, 1_000),
    default: 5,
    description:
      "Consecutive failures (timeouts, connection errors, HTTP 429 and 5xx) that open a dependency's circuit breaker.",
  }),
  setting({
    path: 'resilience.halfOpenAfterMs',
    env: 'BREAKER_HALF_OPEN_AFTER_MS',
    schema: ms(100),
    default: 30_000,
    description: 'How long an open breaker fails fast before one probe call is let through (half-open).',
  }),
  setting({
    path: 'resilience.successThreshold',
    env: 'BREAKER_SUCCESS_THRESHOLD',
    schema: int(1, 100),
    default: 2,
    description: 'Successful half-open probes in a row that close the breaker again.',
  }),
  setting({
    path: 'resilience.retries',
    env: 'RETRY_ATTEMPTS',
    schema: int(0, 10),
    default: 3,
    description:
      'Retries after the first attempt of an outbound call that failed in a way that counts (never after another 4xx).',
  }),
  setting({
    path: 'resilience.baseDelayMs',
    env: 'RETRY_BASE_DELAY_MS',
    schema: ms(1, 60_000),
    default: 1_000,
    description:
      'Backoff base: retry n waits a random time in [0, base × 2^(n-1)] (full jitter), at least a sent `Retry-After`.',
  }),
  setting({
    path: 'resilience.maxDelayMs',
    env: 'RETRY_MAX_DELAY_MS',
    schema: ms(1, 600_000),
    default: 30_000,
    description: 'Longest wait between retries; a `Retry-After` asking for more gives up at once.',
  }),
  setting({
    path: 'resilience.timeoutMs',
    env: 'OUTBOUND_TIMEOUT_MS',
    schema: ms(1, 600_000),
    default: 30_000,
    description: 'Time limit of one outbound attempt; its AbortSignal is aborted at the limit.',
  }),
  setting({
    path: 'resilience.shared',
    env: 'BREAKER_SHARED',
    schema: Type.Boolean(),
    description:
      'Share breaker state across instances through Redis (one probe per cluster). Unset: on when `REDIS_URL` is set.',
  }),
  setting({
    path: 'resilience.overrides',
    env: 'RESILIENCE_OVERRIDES',
    schema: Type.String({ pattern: OVERRIDES_PATTERN }),
    transform: (text) => parseOverrides(text),
    description:
      'Per dependency: `name:key=value,...;name:...`, keys `failures`, `successes`, `halfOpenAfterMs`, `timeoutMs`, `retries`, `baseDelayMs`, `maxDelayMs`, `maxConcurrent`, `maxQueue`, `sampleRatio` (0..1: a sampling breaker), `sampleWindowMs`, `sampleMinCalls`; e.g. `llm:failures=5,halfOpenAfterMs=60000,successes=3`.',
  }),
  setting({
    path: 'auth.jwtSecret',
    env: 'JWT_SECRET',
    schema: Type.String({ minLength: 32 }),
    description:
      'HS256 key for access tokens (32+ bytes). Unset: a random one is generated and kept in `INNKEEP_DATA_DIR/secrets.json`; set it when several API processes run on different hosts.',
  }),
  setting({
    path: 'auth.accessTokenTtlS',
    env: 'ACCESS_TOKEN_TTL_S',
    schema: int(60, 86_400),
    default: 900,
    description: 'Lifetime of an access token (JWT), in seconds.',
  }),
  setting({
    path: 'auth.refreshTokenTtlDays',
    env: 'REFRESH_TOKEN_TTL_DAYS',
    schema: int(1, 365),
    default: 30,
    description: 'Lifetime of a refresh token; each refresh rotates it.',
  }),
  setting({
    path: 'auth.loginMaxFailures',
    env: 'LOGIN_MAX_FAILURES',
    schema: int(1, 1000),
    default: 5,
    description:
      'Failed logins for one account within `LOGIN_THROTTLE_WINDOW_S` before further attempts get 429.',
  }),
  setting({
    path: 'auth.loginMaxFailuresPerIp',
    env: 'LOGIN_MAX_FAILURES_PER_IP',
    schema: int(1, 100_000),
    default: 50,
    description: 'Failed logins from one client address within the window before it gets 429.',
  }),
  setting({
    path: 'auth.loginThrottleWindowS',
    env: 'LOGIN_THROTTLE_WINDOW_S',
    schema: int(1, 86_400),
    default: 900,
    description: 'Window over which failed logins are counted, in seconds.',
  }),
  setting({
    path: 'rateLimit.enabled',
    env: 'RATE_LIMIT_ENABLED',
    schema: Type.Boolean(),
    default: true,
    description:
      'Rate limiting per client address (anonymous) or per user (authenticated), per route class; Redis-backed when `REDIS_URL` is set, with a memory fallback. Probes are never limited.',
  }),
  setting({
    path: 'rateLimit.auth.points',
    env: 'RATE_LIMIT_AUTH_POINTS',
    schema: int(1, 1_000_000),
    default: 20,
    description:
      'Requests per client in `RATE_LIMIT_AUTH_DURATION_S` for the auth class. Logging in, registering, refreshing: strict (password guessing).',
  }),
  setting({
    path: 'rateLimit.auth.durationS',
    env: 'RATE_LIMIT_AUTH_DURATION_S',
    schema: int(1, 86_400),
    default: 60,
    description: 'The window of the auth class, in seconds.',
  }),
  setting({
    path: 'rateLimit.read.points',
    env: 'RATE_LIMIT_READ_POINTS',
    schema: int(1, 1_000_000),
    default: 600,
    description:
      'Requests per client in `RATE_LIMIT_READ_DURATION_S` for the read class. GET/HEAD requests: generous.',
  }),
  setting({
    path: 'rateLimit.read.durationS',
    env: 'RATE_LIMIT_READ_DURATION_S',
    schema: int(1, 86_400),
    default: 60,
    description: 'The window of the read class, in seconds.',
  }),
  setting({
    path: 'rateLimit.write.points',
    env: 'RATE_LIMIT_WRITE_POINTS',
    schema: int(1, 1_000_000),
    default: 120,
    description:
      'Requests per client in `RATE_LIMIT_WRITE_DURATION_S` for the write class. POST/PUT/PATCH/DELETE (bookings): moderate.',
  }),
  setting({
    path: 'rateLimit.write.durationS',
    env: 'RATE_LIMIT_WRITE_DURATION_S',
    schema: int(1, 86_400),
    default: 60,
    description: 'The window of the write class, in seconds.',
  }),
  setting({
    path: 'rateLimit.admin.points',
    env: 'RATE_LIMIT_ADMIN_POINTS',
    schema: int(1, 1_000_000),
    default: 300,
    description:
      'Requests per client in `RATE_LIMIT_ADMIN_DURATION_S` for the admin class. `/api/admin/...` and the operators routes: a separate budget.',
  }),
  setting({
    path: 'rateLimit.admin.durationS',
    env: 'RATE_LIMIT_ADMIN_DURATION_S',
    schema: int(1, 86_400),
    default: 60,
    description: 'The window of the admin class, in seconds.',
  }),
  setting({
    path: 'rateLimit.expensive.points',
    env: 'RATE_LIMIT_EXPENSIVE_POINTS',
    schema: int(1, 1_000_000),
    default: 60,
    description:
      'Requests per client in `RATE_LIMIT_EXPENSIVE_DURATION_S` for the expensive class. Heavy reads (reports): their own, smaller budget.',
  }),
  setting({
    path: 'rateLimit.expensive.durationS',
    env: 'RATE_LIMIT_EXPENSIVE_DURATION_S',
    schema: int(1, 86_400),
    default: 60,
    description: 'The window of the expensive class, in seconds.',
  }),
  setting({
    path: 'rateLimit.abuseThreshold',
    env: 'RATE_LIMIT_ABUSE_THRESHOLD',
    schema: int(1, 1_000_000),
    default: 100,
    description:
      'Rejections of one client within `RATE_LIMIT_BLOCK_S` after which it is blocked on every class for `RATE_LIMIT_BLOCK_S` (recorded as a `rate_limit_blocked` security event).',
  }),
  setting({
    path: 'rateLimit.blockS',
    env: 'RATE_LIMIT_BLOCK_S',
    schema: int(1, 86_400),
    default: 900,
    description:
      'How long an abusive client stays blocked, in seconds (also the window its rejections are counted over).',
  }),
  setting({
    path: 'role',
    env: 'ROLE',
    schema: oneOf('all', 'api', 'worker'),
    default: 'all',
    description:
      'What this process runs: `api` (HTTP only; jobs are enqueued, not run), `worker` (jobs and recurring jobs only; `innkeep worker` sets it) or `all` (both: what `npm start` runs, so one command is a working installation).',
  }),
  setting({
    path: 'queue.driver',
    env: 'QUEUE_DRIVER',
    schema: oneOf('pgboss', 'bullmq'),
    default: 'pgboss',
    description:
      "Job queue engine: `pgboss` (on the app's own PostgreSQL; enqueued inside the business transaction) or `bullmq` (on `REDIS_URL`; enqueued through an outbox table relayed after commit).",
  }),
  setting({
    path: 'queue.namespace',
    env: 'QUEUE_NAMESPACE',
    schema: Type.String({ pattern: '^[a-z][a-z0-9_]{0,40}$' }),
    default: 'innkeep_jobs',
    description:
      'Where the queue keeps its jobs: the pg-boss schema, or the BullMQ key prefix in Redis. Processes sharing jobs must share it.',
  }),
  setting({
    path: 'queue.pollIntervalMs',
    env: 'QUEUE_POLL_INTERVAL_MS',
    schema: ms(500, 60_000),
    default: 1000,
    description: 'pg-boss: how often an idle worker looks for new jobs (pg-boss refuses less than 500).',
  }),
  setting({
    path: 'queue.stalledAfterS',
    env: 'QUEUE_STALLED_AFTER_S',
    schema: int(10, 3600),
    default: 30,
    description:
      'A job whose worker stopped answering for this long (killed, frozen) is given to another worker: the pg-boss heartbeat, the BullMQ lock duration.',
  }),
  setting({
    path: 'queue.shutdownTimeoutMs',
    env: 'WORKER_SHUTDOWN_TIMEOUT_MS',
    schema: ms(0, 600_000),
    default: 25_000,
    description:
      'On SIGTERM a worker stops taking jobs and gives running ones this long to finish; the rest are aborted and go back to the queue (their attempt counts).',
  }),
  setting({
    path: 'queue.timeZone',
    env: 'QUEUE_TIME_ZONE',
    schema: Type.String({ minLength: 1, maxLength: 64 }),
    default: 'UTC',
    description: "Time zone of the recurring jobs' cron expressions (an IANA name such as `Europe/Paris`).",
  }),
  setting({
    path: 'queue.keepCompletedHours',
    env: 'QUEUE_KEEP_COMPLETED_HOURS',
    schema: int(1, 24 * 90),
    default: 24,
    description:
      'How long finished jobs stay visible (and deduplicate re-sent job ids) before they are deleted.',
  }),
  setting({
    path: 'queue.queues.email.concurrency',
    env: 'QUEUE_EMAIL_CONCURRENCY',
    schema: int(1, 100),
    default: 3,
    description:
      'Jobs of the `email` queue (confirmation, receipt, offer and alert e-mails) one worker runs at once.',
  }),
  setting({
    path: 'queue.queues.email.attempts',
    env: 'QUEUE_EMAIL_ATTEMPTS',
    schema: int(1, 50),
    default: 3,
    description: 'Attempts of a `email` job (the first run included) before it goes to the dead letters.',
  }),
  setting({
    path: 'queue.queues.email.backoff',
    env: 'QUEUE_EMAIL_BACKOFF',
    schema: oneOf('fixed', 'exponential'),
    default: 'exponential',
    description: 'Delay between attempts of a `email` job: `fixed` or `exponential` (doubling, with jitter).',
  }),
  setting({
    path: 'queue.queues.email.backoffMs',
    env: 'QUEUE_EMAIL_BACKOFF_MS',
    schema: ms(0, 86_400_000),
    default: 5000,
    description: 'The first delay between attempts of a `email` job.',
  }),
  setting({
    path: 'queue.queues.email.timeoutMs',
    env: 'QUEUE_EMAIL_TIMEOUT_MS',
    schema: ms(100, 86_400_000),
    default: 30000,
    description: 'A `email` job running longer than this is aborted and counts as a failed attempt.',
  }),
  setting({
    path: 'queue.queues.email.ratePerSecond',
    env: 'QUEUE_EMAIL_RATE_PER_S',
    schema: int(0, 100_000),
    default: 10,
    description: 'At most this many `email` jobs start per second across all workers (0: no limit).',
  }),
  setting({
    path: 'queue.queues.processing.concurrency',
    env: 'QUEUE_PROCESSING_CONCURRENCY',
    schema: int(1, 100),
    default: 5,
    description:
      'Jobs of the `processing` queue (data exports, price-drop scans, cache warm-up) one worker runs at once.',
  }),
  setting({
    path: 'queue.queues.processing.attempts',
    env: 'QUEUE_PROCESSING_ATTEMPTS',
    schema: int(1, 50),
    default: 5,
    description:
      'Attempts of a `processing` job (the first run included) before it goes to the dead letters.',
  }),
  setting({
    path: 'queue.queues.processing.backoff',
    env: 'QUEUE_PROCESSING_BACKOFF',
    schema: oneOf('fixed', 'exponential'),
    default: 'exponential',
    description:
      'Delay between attempts of a `processing` job: `fixed` or `exponential` (doubling, with jitter).',
  }),
  setting({
    path: 'queue.queues.processing.backoffMs',
    env: 'QUEUE_PROCESSING_BACKOFF_MS',
    schema: ms(0, 86_400_000),
    default: 10000,
    description: 'The first delay between attempts of a `processing` job.',
  }),
  setting({
    path: 'queue.queues.processing.timeoutMs',
    env: 'QUEUE_PROCESSING_TIMEOUT_MS',
    schema: ms(100, 86_400_000),
    default: 300000,
    description: 'A `processing` job running longer than this is aborted and counts as a failed attempt.',
  }),
  setting({
    path: 'queue.queues.processing.ratePerSecond',
    env: 'QUEUE_PROCESSING_RATE_PER_S',
    schema: int(0, 100_000),
    default: 0,
    description: 'At most this many `processing` jobs start per second across all workers (0: no limit).',
  }),
  setting({
    path: 'queue.queues.scheduled.concurrency',
    env: 'QUEUE_SCHEDULED_CONCURRENCY',
    schema: int(1, 100),
    default: 2,
    description:
      'Jobs of the `scheduled` queue (the recurring maintenance jobs (cron)) one worker runs at once.',
  }),
  setting({
    path: 'queue.queues.scheduled.attempts',
    env: 'QUEUE_SCHEDULED_ATTEMPTS',
    schema: int(1, 50),
    default: 3,
    description: 'Attempts of a `scheduled` job (the first run included) before it goes to the dead letters.',
  }),
  setting({
    path: 'queue.queues.scheduled.backoff',
    env: 'QUEUE_SCHEDULED_BACKOFF',
    schema: oneOf('fixed', 'exponential'),
    default: 'fixed',
    description:
      'Delay between attempts of a `scheduled` job: `fixed` or `exponential` (doubling, with jitter).',
  }),
  setting({
    path: 'queue.queues.scheduled.backoffMs',
    env: 'QUEUE_SCHEDULED_BACKOFF_MS',
    schema: ms(0, 86_400_000),
    default: 60000,
    description: 'The first delay between attempts of a `scheduled` job.',
  }),
  setting({
    path: 'queue.queues.scheduled.timeoutMs',
    env: 'QUEUE_SCHEDULED_TIMEOUT_MS',
    schema: ms(100, 86_400_000),
    default: 600000,
    description: 'A `scheduled` job running longer than this is aborted and counts as a failed attempt.',
  }),
  setting({
    path: 'queue.queues.scheduled.ratePerSecond',
    env: 'QUEUE_SCHEDULED_RATE_PER_S',
    schema: int(0, 100_000),
    default: 0,
    description: 'At most this many `scheduled` jobs start per second across all workers (0: no limit).',
  }),
  setting({
    path: 'mail.smtpUrl',
    env: 'SMTP_URL',
    schema: Type.String({ pattern: '^smtps?://' }),
    description:
      'SMTP server for e-mail (`smtp://user:pass@host:587`, `smtps://` for implicit TLS), used through a connection pool. Unset: each message is written as an `.eml` file under `INNKEEP_DATA_DIR/mail/` and its path is logged.',
  }),
  setting({
    path: 'mail.from',
    env: 'MAIL_FROM',
    schema: Type.String({ minLength: 3, maxLength: 320 }),
    default: 'Innkeep <no-reply@innkeep.localhost>',
    description: 'The From address of every e-mail; its domain also names the stable Message-IDs.',
  }),
  setting({
    path: 'mail.poolMax',
    env: 'SMTP_POOL_MAX',
    schema: int(1, 50),
    default: 3,
    description: 'SMTP connections kept open per worker process.',
  }),
  setting({
    path: 'mail.publicUrl',
    env: 'PUBLIC_URL',
    schema: Type.String({ pattern: '^https?://' }),
    default: 'http://localhost:3000',
    description: 'Base URL of the site, for the links in e-mails (book a waitlist offer, see a booking).',
  }),
  setting({
    path: 'waitlist.offerHoldMinutes',
    env: 'WAITLIST_OFFER_HOLD_MINUTES',
    schema: int(1, 7 * 24 * 60),
    default: 30,
    description:
      'A waitlist offer holds its room this long for the user it was offered to; unbooked, the room goes to the next in line.',
  }),
] as const;
