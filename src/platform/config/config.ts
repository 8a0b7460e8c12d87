import { readFileSync } from 'node:fs';
import { parseEnv } from 'node:util';
import type { TSchema } from 'typebox';
import Value from 'typebox/value';
import type { ConfigOf, Setting } from './setting.ts';
import { type LOG_LEVELS, type SEED_SCALES, settings } from './settings.ts';

export type LogLevel = (typeof LOG_LEVELS)[number];
/** The demo data sizes (`innkeep db seed --scale`, `DB_SEED_ON_EMPTY`, the bench). */
export type SeedScale = (typeof SEED_SCALES)[number];

/** The typed, frozen configuration: its shape and types come from the rows in `settings.ts`. */
export type Config = ConfigOf<typeof settings>;
export type DbConfig = Config['db'];
export type AuthConfig = Config['auth'];
export type TracingConfig = Config['tracing'];

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
  const config: Record<string, unknown> = {};
  const issues: ConfigIssue[] = [];
  for (const setting of settings) {
    const text = env[setting.env];
    let value: unknown = setting.default;
    if (text !== undefined && text !== '') {
      value = coerce(setting.schema, text);
      if (!Value.Check(setting.schema, value)) {
        issues.push({ variable: setting.env, value: text, message: describe(setting) });
        continue;
      }
    }
    place(config, setting.path, setting.toValue(value));
  }
  if (issues.length > 0) throw new ConfigError(issues);
  return deepFreeze(config as Config);
}

/** The configuration table for the README, generated from the settings list. */
export function configMarkdownTable(): string {
  const rows = settings.map(
    (s) =>
      `| \`${s.env}\` | ${s.default === undefined ? '(unset)' : `\`${String(s.default)}\``} | ${s.description} |`,
  );
  return ['| Variable | Default | Meaning |', '|---|---|---|', ...rows].join('\n');
}

/** Sets `target.a.b.c` for the path `'a.b.c'`, creating the objects on the way. */
function place(target: Record<string, unknown>, path: string, value: unknown): void {
  const keys = path.split('.');
  const last = keys.pop() as string;
  let node = target;
  for (const key of keys) {
    node[key] ??= {};
    node = node[key] as Record<string, unknown>;
  }
  node[last] = value;
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
