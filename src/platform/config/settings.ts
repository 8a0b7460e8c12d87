import Type, { type TSchema } from 'typebox';

/**
 * One row per environment variable. This list is the single source of truth for
 * validation, defaults and the README's configuration table (`innkeep config --markdown`).
 */
export interface Setting {
  readonly env: string;
  readonly schema: TSchema;
  readonly default?: string | number | boolean;
  readonly description: string;
}

const int = (min: number, max: number) => Type.Integer({ minimum: min, maximum: max });
const ms = (min = 0, max = 3_600_000) => int(min, max);
const oneOf = (...values: string[]) => Type.Union(values.map((v) => Type.Literal(v)));

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export const SEED_SCALES = ['small', 'medium', 'large'] as const;

export const settings: readonly Setting[] = [
  {
    env: 'NODE_ENV',
    schema: oneOf('development', 'production', 'test'),
    // What `npm start` (what people deploy) runs as unless told otherwise; `npm run dev` sets development.
    default: 'production',
    description:
      'Runtime mode. `npm start` runs as `production`; `npm run dev` sets `development`, the only mode whose 500 bodies carry stack traces.',
  },
  {
    env: 'HOST',
    schema: Type.String({ minLength: 1 }),
    default: '127.0.0.1',
    description: 'Interface to listen on. Use `0.0.0.0` in a container.',
  },
  { env: 'PORT', schema: int(0, 65535), default: 3000, description: 'HTTP port (0 picks a free one).' },
  { env: 'LOG_LEVEL', schema: oneOf(...LOG_LEVELS), default: 'info', description: 'pino log level.' },
  {
    env: 'TRUST_PROXY',
    schema: Type.Boolean(),
    default: false,
    description: 'Trust `X-Forwarded-*` headers (set when behind a load balancer).',
  },
  {
    env: 'HTTP_BODY_LIMIT_BYTES',
    schema: int(1024, 10 * 1024 * 1024),
    default: 102_400,
    description: 'Largest accepted request body; bigger bodies get 413.',
  },
  {
    env: 'HTTP_REQUEST_TIMEOUT_MS',
    schema: ms(),
    default: 30_000,
    description: 'Server-side limit for receiving a whole request (0 disables).',
  },
  {
    env: 'SHUTDOWN_DRAIN_DELAY_MS',
    schema: ms(0, 120_000),
    default: 0,
    description:
      'On SIGTERM, time `/ready` reports 503 before the listener closes (lets a load balancer stop routing).',
  },
  {
    env: 'SHUTDOWN_TIMEOUT_MS',
    schema: ms(100, 300_000),
    default: 10_000,
    description: 'Hard limit for graceful shutdown; past it the process exits with code 1.',
  },
  {
    env: 'DATABASE_URL',
    schema: Type.String({ pattern: '^postgres(ql)?://' }),
    description:
      'PostgreSQL connection string. Unset: an embedded PostgreSQL is started with its data under `INNKEEP_DATA_DIR`.',
  },
  {
    env: 'INNKEEP_DATA_DIR',
    schema: Type.String({ minLength: 1 }),
    default: './.innkeep',
    description: 'Where the embedded PostgreSQL keeps its data and the app keeps generated secrets.',
  },
  {
    env: 'DB_POOL_MAX',
    schema: int(1, 1000),
    default: 10,
    description: 'Largest number of pooled connections per process.',
  },
  {
    env: 'DB_POOL_IDLE_TIMEOUT_MS',
    schema: ms(),
    default: 10_000,
    description: 'Close a pooled connection idle this long.',
  },
  {
    env: 'DB_CONNECT_TIMEOUT_MS',
    schema: ms(100, 120_000),
    default: 5_000,
    description: 'Give up opening a connection (or waiting for a free one) after this long.',
  },
  {
    env: 'DB_STATEMENT_TIMEOUT_MS',
    schema: ms(),
    default: 5_000,
    description: 'PostgreSQL `statement_timeout` for application connections (0 disables).',
  },
  {
    env: 'DB_QUERY_RETRIES',
    schema: int(0, 10),
    default: 2,
    description:
      'Retries for idempotent reads that fail with a transient error (connection reset, serialization failure).',
  },
  {
    env: 'DB_SLOW_QUERY_WARN_MS',
    schema: ms(),
    default: 1_000,
    description: 'Log a query at `warn` when it takes longer than this.',
  },
  {
    env: 'DB_SLOW_QUERY_DEBUG_MS',
    schema: ms(),
    default: 500,
    description: 'Log a query at `debug` when it takes longer than this.',
  },
  {
    env: 'DB_MIGRATE_ON_START',
    schema: Type.Boolean(),
    default: true,
    description: 'Apply pending migrations when the server starts.',
  },
  {
    env: 'DB_SEED_ON_EMPTY',
    schema: oneOf('none', ...SEED_SCALES),
    default: 'small',
    description: 'Demo data scale loaded by `npm start` when the database has no hotels (`none` to skip).',
  },
  {
    env: 'DB_EMBEDDED_MAX_DOWNTIME_MS',
    schema: ms(1_000, 3_600_000),
    default: 30_000,
    description:
      'The embedded PostgreSQL is restarted when it dies; if it is still down after this long, `/healthz` fails so a supervisor restarts the app.',
  },
  {
    env: 'JWT_SECRET',
    schema: Type.String({ minLength: 32 }),
    description:
      'HS256 key for access tokens (32+ bytes). Unset: a random one is generated and kept in `INNKEEP_DATA_DIR/secrets.json`; set it when several API processes run on different hosts.',
  },
  {
    env: 'ACCESS_TOKEN_TTL_S',
    schema: int(60, 86_400),
    default: 900,
    description: 'Lifetime of an access token (JWT), in seconds.',
  },
  {
    env: 'REFRESH_TOKEN_TTL_DAYS',
    schema: int(1, 365),
    default: 30,
    description: 'Lifetime of a refresh token; each refresh rotates it.',
  },
  {
    env: 'LOGIN_MAX_FAILURES',
    schema: int(1, 1000),
    default: 5,
    description:
      'Failed logins for one account within `LOGIN_THROTTLE_WINDOW_S` before further attempts get 429.',
  },
  {
    env: 'LOGIN_MAX_FAILURES_PER_IP',
    schema: int(1, 100_000),
    default: 50,
    description: 'Failed logins from one client address within the window before it gets 429.',
  },
  {
    env: 'LOGIN_THROTTLE_WINDOW_S',
    schema: int(10, 86_400),
    default: 900,
    description: 'Window over which failed logins are counted, in seconds.',
  },
];
