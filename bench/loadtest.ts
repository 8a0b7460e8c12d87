// `npm run loadtest`: a realistic request mix against a running, seeded Innkeep (autocannon), then a
// check that the inventory still matches the bookings.
//
//   npm run loadtest -- [--url http://127.0.0.1:3000] [--duration 30] [--connections 16] [--users 20]
//                       [--seed 42] [--database-url URL] [--json file]
//
// Exit code 0: no connection error, timeout, 5xx or unexpected 4xx, and the inventory is consistent (or the check was
// skipped for want of a database); 1: any of those failed, or setup failed; 2: bad arguments.
import { writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import pg from 'pg';
import { ConfigError, loadConfig } from '../src/platform/config/index.ts';
import { redactUrl } from '../src/platform/db/index.ts';
import { type ConsistencyReport, checkInventoryConsistency } from './lib/consistency.ts';
import { runningEmbeddedUrl } from './lib/embedded-url.ts';
import { type PlannedRequest, type RequestKind, RequestMix } from './lib/load-mix.ts';
import { formatSummary, type LoadTestResult, ResponseTally } from './lib/load-report.ts';
import { prepareLoad } from './lib/load-setup.ts';

export type { LoadTestResult } from './lib/load-report.ts';

export interface LoadTestOptions {
  /** Base URL of the running server. */
  readonly url: string;
  readonly durationS: number;
  readonly connections: number;
  /** Seeded users to log in (user1..userN@innkeep.test). */
  readonly users: number;
  /** PRNG seed of the request mix. Default 42. */
  readonly seed?: number;
  /** When given, the inventory check runs against it after the load. */
  readonly databaseUrl?: string;
  /** Why there is no databaseUrl, reported as the reason the check was skipped. */
  readonly noDatabaseReason?: string;
  /** Progress lines (setup done, load running, checking). */
  readonly onProgress?: (line: string) => void;
}

interface MixContext {
  planned?: PlannedRequest;
}

/**
 * Logs in seeded users, reads the catalogue through the API, runs the mix for `durationS` on
 * `connections` keep-alive connections, then (with a databaseUrl) checks the inventory invariant.
 * Never throws for what the server answers; throws when setup fails (server down, not seeded).
 *
 * @example
 * const result = await runLoadTest({ url: 'http://127.0.0.1:3000', durationS: 10, connections: 8, users: 5 });
 * console.log(result.requestsPerSecond, result.errors.total);
 */
export async function runLoadTest(options: LoadTestOptions): Promise<LoadTestResult> {
  const seed = options.seed ?? 42;
  const progress = options.onProgress ?? (() => undefined);
  const setup = await prepareLoad(options.url, options.users);
  const { catalogue } = setup;
  progress(
    `setup: ${setup.tokens.length} users, ${catalogue.hotels.length} hotels in ${catalogue.cities.length} cities, ` +
      `stays ${catalogue.firstNight}..${catalogue.lastNight} (${setup.durationMs} ms)`,
  );

  const tokenLifeS =
    setup.tokensExpireAt === undefined ? Infinity : (setup.tokensExpireAt - Date.now()) / 1000;
  if (tokenLifeS < options.durationS) {
    progress(
      `warning: the access tokens expire after ${Math.floor(tokenLifeS)} s, before the run ends: ` +
        'authenticated requests will then get 401 (counted as unexpected 4xx); shorten --duration or raise ACCESS_TOKEN_TTL_S',
    );
  }

  // Idempotency keys are unique per run: a rerun with the same seed must not replay old bookings.
  const mix = new RequestMix(catalogue, setup.tokens, seed, `loadtest-${Date.now().toString(36)}`);
  const tally = new ResponseTally();
  // autocannon calls onResponse and then emits 'response' (with the latency) synchronously for the
  // same answer, so the kind noted by the first is the kind the second measures.
  let answeredKind: RequestKind = 'search';

  progress(`running for ${options.durationS} s on ${options.connections} connections`);
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(
      {
        url: options.url,
        connections: options.connections,
        duration: options.durationS,
        requests: [
          {
            setupRequest: (request, context) => {
              const planned = mix.next();
              (context as MixContext).planned = planned;
              return {
                ...request,
                method: planned.method,
                path: planned.path,
                headers: planned.headers,
                body: planned.body ?? '',
              };
            },
            onResponse: (status, body, context) => {
              const planned = (context as MixContext).planned;
              if (!planned) return;
              answeredKind = planned.kind;
              tally.record(planned.kind, status, body);
              if (planned.kind === 'book' && status === 201 && planned.user !== undefined) {
                const id = bookingId(body);
                if (id !== undefined) mix.recordCreated({ id, user: planned.user });
              }
            },
          },
        ],
      },
      (err, res) => (err ? reject(err) : resolve(res)),
    );
    instance.on('response', (_client, _status, _bytes, responseTime) =>
      tally.latency(answeredKind, responseTime),
    );
  });

  let consistency: ConsistencyReport | null = null;
  let consistencySkipped: string | undefined;
  let consistencyError: string | undefined;
  if (options.databaseUrl) {
    const target = redactUrl(options.databaseUrl);
    const pool = new pg.Pool({
      connectionString: options.databaseUrl,
      max: 1,
      connectionTimeoutMillis: 5000,
    });
    try {
      await pool.query('SELECT 1');
    } catch (err) {
      consistencySkipped = `the database ${target} is not reachable (${(err as Error).message})`;
    }
    if (!consistencySkipped) {
      progress(`checking inventory consistency in ${target}`);
      try {
        consistency = await checkInventoryConsistency(pool);
      } catch (err) {
        consistencyError = `the check failed on ${target}: ${(err as Error).message}`;
      }
    }
    await pool.end();
  } else {
    consistencySkipped = options.noDatabaseReason ?? 'no database URL given';
  }

  const connection = result.errors - result.timeouts;
  const errors = {
    total: result.errors + tally.server5xx + tally.unexpected4xx,
    connection,
    timeouts: result.timeouts,
    server5xx: tally.server5xx,
    unexpected4xx: tally.unexpected4xx,
    byCode: tally.errorsByCode,
  };
  return {
    ok: errors.total === 0 && !consistencyError && (consistency?.ok ?? true),
    options: {
      url: options.url,
      durationS: options.durationS,
      connections: options.connections,
      users: options.users,
      seed,
    },
    setup: {
      users: setup.tokens.length,
      cities: catalogue.cities.length,
      hotels: catalogue.hotels.length,
      roomTypes: setup.roomTypes,
      firstNight: catalogue.firstNight,
      lastNight: catalogue.lastNight,
      durationMs: setup.durationMs,
    },
    durationS: result.duration,
    requests: tally.requests,
    requestsPerSecond: Math.round(tally.requests / Math.max(result.duration, 0.001)),
    latency: {
      p50: result.latency.p50,
      p90: result.latency.p90,
      p99: result.latency.p99,
      max: result.latency.max,
      mean: result.latency.mean,
    },
    statuses: tally.statuses,
    non2xx: result.non2xx,
    byKind: tally.kindStats(),
    bookings: { created: tally.created, soldOut: tally.soldOut, cancelled: tally.cancelled },
    expected: { soldOut409: tally.soldOut, tooManyRequests429: tally.tooMany },
    errors,
    consistency,
    ...(consistencySkipped === undefined ? {} : { consistencySkipped }),
    ...(consistencyError === undefined ? {} : { consistencyError }),
  };
}

function bookingId(body: string): number | undefined {
  try {
    const id = (JSON.parse(body) as { id?: unknown }).id;
    return typeof id === 'number' ? id : undefined;
  } catch {
    return undefined;
  }
}

const USAGE = `Usage: npm run loadtest -- [options]

Runs a realistic request mix against a running, seeded Innkeep, then checks that room_inventory
still matches the confirmed bookings.

  --url URL             server base URL (default http://127.0.0.1:3000)
  --duration SECONDS    how long to send load (default 30)
  --connections N       concurrent keep-alive connections (default 16)
  --users N             seeded users to log in, user1..userN@innkeep.test (default 20)
  --seed N              PRNG seed of the request mix (default 42)
  --database-url URL    database for the inventory check (default: DATABASE_URL, else the
                        embedded PostgreSQL of a running \`npm start\` in INNKEEP_DATA_DIR)
  --json FILE           also write the full result as JSON
  --help                this text`;

function usageError(message: string): never {
  console.error(`loadtest: ${message}\n\n${USAGE}`);
  process.exit(2);
}

function parseNumber(
  name: string,
  text: string,
  { min, max, integer }: { min: number; max: number; integer: boolean },
) {
  const value = Number(text);
  if (
    text.trim() === '' ||
    !Number.isFinite(value) ||
    value < min ||
    value > max ||
    (integer && !Number.isInteger(value))
  ) {
    usageError(
      `--${name} must be ${integer ? 'an integer' : 'a number'} from ${min} to ${max}, got '${text}'`,
    );
  }
  return value;
}

/** Flag, else the app's own DATABASE_URL (environment or .env), else a running embedded server. */
async function resolveDatabase(flag: string | undefined): Promise<{ url?: string; reason?: string }> {
  if (flag) return { url: flag };
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) return { reason: `the configuration is invalid (${err.message.trim()})` };
    throw err;
  }
  if (config.db.url) return { url: config.db.url };
  const embedded = await runningEmbeddedUrl(config.db.dataDir);
  if (embedded.url) return embedded;
  return { reason: `no --database-url, DATABASE_URL is unset, and ${embedded.reason}` };
}

async function main(): Promise<void> {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      options: {
        url: { type: 'string', default: 'http://127.0.0.1:3000' },
        duration: { type: 'string', default: '30' },
        connections: { type: 'string', default: '16' },
        users: { type: 'string', default: '20' },
        seed: { type: 'string', default: '42' },
        'database-url': { type: 'string' },
        json: { type: 'string' },
        help: { type: 'boolean', default: false },
      },
    }));
  } catch (err) {
    usageError((err as Error).message);
  }
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const url = String(values.url);
  if (!URL.canParse(url) || !/^https?:$/.test(new URL(url).protocol))
    usageError(`--url must be an http(s) URL, got '${url}'`);
  const durationS = parseNumber('duration', String(values.duration), { min: 1, max: 86_400, integer: false });
  const connections = parseNumber('connections', String(values.connections), {
    min: 1,
    max: 10_000,
    integer: true,
  });
  const users = parseNumber('users', String(values.users), { min: 1, max: 100_000, integer: true });
  const seed = parseNumber('seed', String(values.seed), { min: 0, max: 2 ** 32 - 1, integer: true });
  const jsonFile = values.json === undefined ? undefined : String(values.json);
  if (jsonFile === '') usageError('--json needs a file name');

  const database = await resolveDatabase(values['database-url'] as string | undefined);
  if (!database.url) console.error(`loadtest: the inventory check will be skipped: ${database.reason}`);
  let result: LoadTestResult;
  try {
    result = await runLoadTest({
      url,
      durationS,
      connections,
      users,
      seed,
      ...(database.url ? { databaseUrl: database.url } : { noDatabaseReason: database.reason }),
      onProgress: (line) => console.error(`loadtest: ${line}`),
    });
  } catch (err) {
    console.error(`loadtest: ${(err as Error).message}`);
    process.exit(1);
  }
  console.log(formatSummary(result));
  if (jsonFile) {
    await writeFile(jsonFile, `${JSON.stringify(result, null, 2)}\n`);
    console.error(`loadtest: wrote ${jsonFile}`);
  }
  process.exitCode = result.ok ? 0 : 1;
}

if (import.meta.main) await main();
