import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseEnv } from 'node:util';
import type { TSchema } from 'typebox';
import Value from 'typebox/value';
import { type LOG_LEVELS, type SEED_SCALES, type Setting, settings } from './settings.ts';

export type LogLevel = (typeof LOG_LEVELS)[number];
export type SeedScale = (typeof SEED_SCALES)[number];

export interface Config {
  readonly env: 'development' | 'production' | 'test';
  readonly http: {
    readonly host: string;
    readonly port: number;
    readonly trustProxy: boolean;
    readonly bodyLimitBytes: number;
    readonly requestTimeoutMs: number;
    readonly shutdownDrainDelayMs: number;
    readonly shutdownTimeoutMs: number;
  };
  readonly log: { readonly level: LogLevel };
  readonly db: DbConfig;
  readonly auth: AuthConfig;
}

export interface AuthConfig {
  /** Absent: generated once and persisted under the data directory. */
  readonly jwtSecret: string | undefined;
  readonly accessTokenTtlS: number;
  readonly refreshTokenTtlDays: number;
  readonly loginMaxFailures: number;
  readonly loginMaxFailuresPerIp: number;
  readonly loginThrottleWindowS: number;
}

export interface DbConfig {
  /** Absent: the app starts an embedded PostgreSQL under `dataDir`. */
  readonly url: string | undefined;
  readonly dataDir: string;
  readonly poolMax: number;
  readonly idleTimeoutMs: number;
  readonly connectTimeoutMs: number;
  readonly statementTimeoutMs: number;
  readonly readRetries: number;
  readonly slowQueryWarnMs: number;
  readonly slowQueryDebugMs: number;
  readonly migrateOnStart: boolean;
  readonly seedOnEmpty: SeedScale | 'none';
  /** Liveness fails once the embedded server has been down (and not restarted) this long. */
  readonly embeddedMaxDowntimeMs: number;
}

export interface ConfigIssue {
  readonly variable: string;
  readonly value: string | undefined;
  readonly message: string;
}

export class ConfigError extends Error {
  readonly code = 'E_CONFIG';
  readonly issues: readonly ConfigIssue[];
  constructor(issues: readonly ConfigIssue[]) {
    super(
      `Invalid configuration:\n${issues
        .map(
          (i) =>
            `  - ${i.variable}${i.value === undefined ? '' : `=${JSON.stringify(i.value)}`}: ${i.message}`,
        )
        .join('\n')}`,
    );
    this.name = 'ConfigError';
    this.issues = issues;
  }
}

export interface LoadConfigOptions {
  /** Variables to read; defaults to `process.env`. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Optional dotenv file merged *under* `env` (real variables win). `false` skips it. */
  readonly envFile?: string | false;
}

/**
 * Reads, validates and freezes the configuration. The only place that reads the environment.
 *
 * @example
 * const config = loadConfig({ env: { PORT: '0', DATABASE_URL: 'postgres://localhost/test' } });
 * config.http.port; // 0
 */
export function loadConfig(options: LoadConfigOptions = {}): Config {
  const env: Record<string, string | undefined> = readEnvFile(options.envFile ?? '.env');
  // A variable that is present but undefined must not hide the .env file's value.
  for (const [name, value] of Object.entries(options.env ?? process.env))
    if (value !== undefined) env[name] = value;
  const raw: Record<string, unknown> = {};
  const issues: ConfigIssue[] = [];
  for (const setting of settings) {
    const text = env[setting.env];
    if (text === undefined || text === '') {
      if (setting.default !== undefined) raw[setting.env] = setting.default;
      continue;
    }
    const value = coerce(setting.schema, text);
    if (!Value.Check(setting.schema, value)) {
      issues.push({ variable: setting.env, value: text, message: describe(setting) });
      continue;
    }
    raw[setting.env] = value;
  }
  if (issues.length > 0) throw new ConfigError(issues);
  const get = <T>(name: string) => raw[name] as T;
  const config: Config = {
    env: get('NODE_ENV'),
    http: {
      host: get('HOST'),
      port: get('PORT'),
      trustProxy: get('TRUST_PROXY'),
      bodyLimitBytes: get('HTTP_BODY_LIMIT_BYTES'),
      requestTimeoutMs: get('HTTP_REQUEST_TIMEOUT_MS'),
      shutdownDrainDelayMs: get('SHUTDOWN_DRAIN_DELAY_MS'),
      shutdownTimeoutMs: get('SHUTDOWN_TIMEOUT_MS'),
    },
    log: { level: get('LOG_LEVEL') },
    db: {
      url: get('DATABASE_URL'),
      dataDir: resolve(get<string>('INNKEEP_DATA_DIR')),
      poolMax: get('DB_POOL_MAX'),
      idleTimeoutMs: get('DB_POOL_IDLE_TIMEOUT_MS'),
      connectTimeoutMs: get('DB_CONNECT_TIMEOUT_MS'),
      statementTimeoutMs: get('DB_STATEMENT_TIMEOUT_MS'),
      readRetries: get('DB_QUERY_RETRIES'),
      slowQueryWarnMs: get('DB_SLOW_QUERY_WARN_MS'),
      slowQueryDebugMs: get('DB_SLOW_QUERY_DEBUG_MS'),
      migrateOnStart: get('DB_MIGRATE_ON_START'),
      seedOnEmpty: get('DB_SEED_ON_EMPTY'),
      embeddedMaxDowntimeMs: get('DB_EMBEDDED_MAX_DOWNTIME_MS'),
    },
    auth: {
      jwtSecret: get('JWT_SECRET'),
      accessTokenTtlS: get('ACCESS_TOKEN_TTL_S'),
      refreshTokenTtlDays: get('REFRESH_TOKEN_TTL_DAYS'),
      loginMaxFailures: get('LOGIN_MAX_FAILURES'),
      loginMaxFailuresPerIp: get('LOGIN_MAX_FAILURES_PER_IP'),
      loginThrottleWindowS: get('LOGIN_THROTTLE_WINDOW_S'),
    },
  };
  return deepFreeze(config);
}

/** The configuration table for the README, generated from the settings list. */
export function configMarkdownTable(): string {
  const rows = settings.map(
    (s) =>
      `| \`${s.env}\` | ${s.default === undefined ? '(unset)' : `\`${String(s.default)}\``} | ${s.description} |`,
  );
  return ['| Variable | Default | Meaning |', '|---|---|---|', ...rows].join('\n');
}

function readEnvFile(file: string | false): Record<string, string> {
  if (file === false) return {};
  try {
    return parseEnv(readFileSync(file, 'utf8')) as Record<string, string>;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw err;
  }
}

function coerce(schema: TSchema, text: string): unknown {
  const type = (schema as { type?: string }).type;
  if (type === 'integer' || type === 'number')
    return /^-?\d+(\.\d+)?$/.test(text.trim()) ? Number(text) : text;
  if (type === 'boolean') {
    const t = text.trim().toLowerCase();
    if (['true', '1', 'yes', 'on'].includes(t)) return true;
    if (['false', '0', 'no', 'off'].includes(t)) return false;
    return text;
  }
  return text;
}

function describe(setting: Setting): string {
  const s = setting.schema as {
    type?: string;
    minimum?: number;
    maximum?: number;
    pattern?: string;
    anyOf?: { const: string }[];
  };
  if (s.anyOf) return `must be one of ${s.anyOf.map((o) => o.const).join(', ')}`;
  if (s.type === 'boolean') return 'must be true or false';
  if (s.type === 'integer') return `must be a whole number from ${s.minimum} to ${s.maximum}`;
  if (s.pattern) return `must match ${s.pattern}`;
  return 'must be a non-empty string';
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}
