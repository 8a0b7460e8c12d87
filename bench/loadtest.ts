// `npm run loadtest`: a realistic request mix against a running, seeded Innkeep (autocannon), then a
// check that the inventory still matches the bookings and the waitlist offers holding rooms.
//
//   npm run loadtest -- [--url http://127.0.0.1:3000] [--duration 30] [--connections 16] [--users 20]
//                       [--seed 42] [--warmup 0] [--database-url URL] [--stats-url URL] [--pid N] [--json file]
//
// Exit code 0: no connection error, timeout, 5xx or unexpected 4xx, the inventory is consistent and no
// availability answer was stale (or those checks were skipped for want of a database); 1: any of those
// failed, or setup failed; 2: bad arguments.
import { writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import pg from 'pg';
import { ConfigError, loadConfig } from '../src/platform/config/index.ts';
import { redactUrl } from '../src/platform/db/index.ts';
import { cacheInterval, readCacheStats, type StatsSource, watchServer } from './lib/cache-watch.ts';
import { type ConsistencyReport, checkInventoryConsistency } from './lib/consistency.ts';
import { runningEmbeddedUrl } from './lib/embedded-url.ts';
import { type PlannedRequest, type RequestKind, RequestMix } from './lib/load-mix.ts';
import { formatSummary, type LoadTestResult, ResponseTally } from './lib/load-report.ts';
import { loginAdmin, prepareLoad } from './lib/load-setup.ts';
import { readInventoryBaseline, StaleReadCheck } from './lib/stale-reads.ts';

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
  /**
   * Seconds of the same mix (the PRNG's sequence continues) before the measured pass: it fills the
   * cache, and only the measured pass is counted in the figures and the cache's hit rate. Default 0.
   */
  readonly warmupS?: number;
  /** When given, the inventory check runs against it after the load, and stale reads are checked. */
  readonly databaseUrl?: string;
  /** Why there is no databaseUrl, reported as the reason the check was skipped. */
  readonly noDatabaseReason?: string;
  /**
   * Where the server's cache stats are read before and after the measured pass. Default: the API's
   * `GET /api/admin/cache/stats` with the seeded admin's login; 'none': not read.
   */
  readonly cacheStats?: StatsSource | 'none';
  /** The server's process id on this machine: its VmRSS is sampled during the passes. */
  readonly pid?: number;
  /** Progress lines (setup done, load running, checking). */
  readonly onProgress?: (line: string) => void;
}

interface MixContext {
  planned?: PlannedRequest;
  /** The stale-read check's number of the planned request. */
  sentAt?: number;
}

/**
 * Logs in seeded users, reads the catalogue through the API, runs the mix for `durationS` on
 * `connections` keep-alive connections (after `warmupS` of it, not counted), then (with a databaseUrl)
 * checks the inventory invariant. With a databaseUrl, every availability answer is also checked
 * against the bookings this run made (bench/lib/stale-reads.ts), and each booking's 201 is followed by
 * a read of the stay it booked. Cache hit rates come from the server's stats, read around the
 * measured pass. Never throws for what the server answers; throws when setup fails (server down, not
 * seeded).
 *
 * @example
 * const result = await runLoadTest({ url: 'http://127.0.0.1:3000', durationS: 10, connections: 8, users: 5 });
 * console.log(result.requestsPerSecond, result.errors.total);
 */
export async function runLoadTest(options: LoadTestOptions): Promise<LoadTestResult> {
  const seed = options.seed ?? 42;
  const warmupS = options.warmupS ?? 0;
  const progress = options.onProgress ?? (() => undefined);
  const setup = await prepareLoad(options.url, options.users);
  const { catalogue } = setup;
  progress(
    `setup: ${setup.tokens.length} users, ${catalogue.hotels.length} hotels in ${catalogue.cities.length} cities, ` +
      `stays ${catalogue.firstNight}..${catalogue.lastNight} (${setup.durationMs} ms)`,
  );

  const tokenLifeS =
    setup.tokensExpireAt === undefined ? Infinity : (setup.tokensExpireAt - Date.now()) / 1000;
  if (tokenLifeS < options.durationS + warmupS) {
    progress(
      `warning: the access tokens expire after ${Math.floor(tokenLifeS)} s, before the run ends: ` +
        'authenticated requests will then get 401 (counted as unexpected 4xx); shorten --duration or raise ACCESS_TOKEN_TTL_S',
    );
  }

  const stats = await statsSource(options);
  if (stats.reason) progress(`cache stats skipped: ${stats.reason}`);

  let pool: pg.Pool | undefined;
  let databaseSkipped: string | undefined;
  let target = '';
  if (options.databaseUrl) {
    target = redactUrl(options.databaseUrl);
    pool = new pg.Pool({ connectionString: options.databaseUrl, max: 1, connectionTimeoutMillis: 5000 });
    try {
      await pool.query('SELECT 1');
    } catch (err) {
      databaseSkipped = `the database ${target} is not reachable (${(err as Error).message})`;
      await pool.end();
      pool = undefined;
    }
  } else {
    databaseSkipped = options.noDatabaseReason ?? 'no database URL given';
  }

  let check: StaleReadCheck | undefined;
  if (pool) {
    const roomTypes = [...new Set(catalogue.hotels.flatMap((h) => h.rooms.map((r) => r.id)))];
    check = new StaleReadCheck(
      await readInventoryBaseline(pool, roomTypes, catalogue.firstNight, catalogue.lastNight),
    );
  }

  // Idempotency keys are unique per run: a rerun with the same seed must not replay old bookings.
  const mix = new RequestMix(catalogue, setup.tokens, seed, `loadtest-${Date.now().toString(36)}`);
  const seen = new Set<string>();
  const pass = (durationS: number, tally: ResponseTally, inputs: InputCounts) =>
    runMix(options.url, options.connections, durationS, mix, tally, { check, seen, inputs });

  const watch = watchServer({ pid: options.pid, stats: stats.source });
  let warmup: LoadTestResult['warmup'];
  if (warmupS > 0) {
    progress(`warming up for ${warmupS} s on ${options.connections} connections`);
    const warmTally = new ResponseTally();
    const warmResult = await pass(warmupS, warmTally, new Map());
    warmup = {
      durationS: warmResult.duration,
      requests: warmTally.requests,
      errors: warmResult.errors + warmTally.server5xx + warmTally.unexpected4xx,
    };
  }
  const statsBefore = stats.source ? await readCacheStats(stats.source).catch(() => undefined) : undefined;

  const tally = new ResponseTally();
  const inputs: InputCounts = new Map();
  progress(`running for ${options.durationS} s on ${options.connections} connections`);
  const result = await pass(options.durationS, tally, inputs);
  const statsAfter = stats.source ? await readCacheStats(stats.source).catch(() => undefined) : undefined;
  const memory = await watch.stop();

  let consistency: ConsistencyReport | null = null;
  let consistencyError: string | undefined;
  if (pool) {
    progress(`checking inventory consistency in ${target}`);
    try {
      consistency = await checkInventoryConsistency(pool);
    } catch (err) {
      consistencyError = `the check failed on ${target}: ${(err as Error).message}`;
    }
    await pool.end();
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
  const staleReads = check?.report() ?? null;
  const cache =
    statsBefore && statsAfter
      ? { ...cacheInterval(statsBefore, statsAfter), inputs: inputSummary(inputs) }
      : null;
  const cacheSkipped = cache
    ? undefined
    : (stats.reason ?? 'the stats route did not answer before and after the measured pass');
  return {
    ok:
      errors.total === 0 &&
      (warmup?.errors ?? 0) === 0 &&
      !consistencyError &&
      (consistency?.ok ?? true) &&
      (staleReads?.stale ?? 0) === 0,
    options: {
      url: options.url,
      durationS: options.durationS,
      warmupS,
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
    ...(warmup ? { warmup } : {}),
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
    ...(databaseSkipped === undefined ? {} : { consistencySkipped: databaseSkipped }),
    ...(consistencyError === undefined ? {} : { consistencyError }),
    staleReads,
    ...(staleReads ? {} : { staleReadsSkipped: databaseSkipped ?? 'no database' }),
    cache,
    ...(cacheSkipped === undefined ? {} : { cacheSkipped }),
    memory,
  };
}

/** Per request kind: GET requests of the measured pass, and how many asked for an input never asked before. */
type InputCounts = Map<RequestKind, { requests: number; firstSeen: number }>;

function inputSummary(inputs: InputCounts): NonNullable<LoadTestResult['cache']>['inputs'] {
  return Object.fromEntries(inputs);
}

/** The stats route to read: the one given, else the API's with the seeded admin's token. */
async function statsSource(options: LoadTestOptions): Promise<{ source?: StatsSource; reason?: string }> {
  if (options.cacheStats === 'none') return { reason: 'not asked for' };
  if (options.cacheStats) return { source: options.cacheStats };
  const admin = await loginAdmin(options.url);
  if (!admin.token) return { reason: admin.reason };
  return {
    source: {
      url: new URL('/api/admin/cache/stats', options.url).toString(),
      headers: { authorization: `Bearer ${admin.token}` },
    },
  };
}

/**
 * One pass of the mix: autocannon for `durationS`. Bookings answered 201 are remembered (so a later
 * cancel can pick them) and, with the stale-read check, tracked and followed by a read of their stay.
 */
function runMix(
  url: string,
  connections: number,
  durationS: number,
  mix: RequestMix,
  tally: ResponseTally,
  track: { check: StaleReadCheck | undefined; seen: Set<string>; inputs: InputCounts },
): Promise<autocannon.Result> {
  const { check, seen, inputs } = track;
  // autocannon calls onResponse and then emits 'response' (with the latency) synchronously for the
  // same answer, so the kind noted by the first is the kind the second measures.
  let answeredKind: RequestKind = 'search';
  return new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(
      {
        url,
        connections,
        duration: durationS,
        requests: [
          {
            setupRequest: (request, context) => {
              const planned = mix.next();
              const ctx = context as MixContext;
              ctx.planned = planned;
              if (check) {
                ctx.sentAt = check.planned();
                if (planned.kind === 'cancel' && planned.bookingId !== undefined)
                  check.cancelPlanned(planned.bookingId);
              }
              if (planned.method === 'GET') {
                const key = `${planned.path} ${planned.headers.authorization ?? ''}`;
                const counts = inputs.get(planned.kind) ?? { requests: 0, firstSeen: 0 };
                counts.requests += 1;
                if (!seen.has(key)) {
                  seen.add(key);
                  counts.firstSeen += 1;
                }
                inputs.set(planned.kind, counts);
              }
              return {
                ...request,
                method: planned.method,
                path: planned.path,
                headers: planned.headers,
                body: planned.body ?? '',
              };
            },
            onResponse: (status, body, context) => {
              const { planned, sentAt } = context as MixContext;
              if (!planned) return;
              answeredKind = planned.kind;
              tally.record(planned.kind, status, body);
              if (planned.kind === 'book' && status === 201 && planned.user !== undefined) {
                const id = bookingId(body);
                if (id !== undefined) {
                  mix.recordCreated({ id, user: planned.user });
                  if (check && planned.stay) {
                    check.booked(id, planned.stay);
                    mix.recheck(planned.stay);
                  }
                }
              }
              if (
                check &&
                sentAt !== undefined &&
                status === 200 &&
                (planned.kind === 'availability' || planned.kind === 'recheck')
              ) {
                check.read(sentAt, planned.path, body);
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
still matches the confirmed bookings and the rooms waitlist offers hold: for every night,
total rooms = available + confirmed bookings + offers holding a room on it.

  --url URL             server base URL (default http://127.0.0.1:3000)
  --duration SECONDS    how long to send load (default 30)
  --connections N       concurrent keep-alive connections (default 16)
  --users N             seeded users to log in, user1..userN@innkeep.test (default 20)
  --seed N              PRNG seed of the request mix (default 42)
  --warmup SECONDS      run the mix this long first, not counted (fills the cache; default 0)
  --database-url URL    database for the inventory and stale-read checks (default: DATABASE_URL,
                        else the embedded PostgreSQL of a running \`npm start\` in INNKEEP_DATA_DIR)
  --stats-url URL       cache stats to read around the measured pass (default: the API's
                        /api/admin/cache/stats as the seeded admin; e.g. the internal listener's
                        http://127.0.0.1:9464/api/admin/cache/stats; "none" to skip)
  --pid N               the server's process id (same machine): its RSS is sampled
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
        warmup: { type: 'string', default: '0' },
        'database-url': { type: 'string' },
        'stats-url': { type: 'string' },
        pid: { type: 'string' },
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
  const warmupS = parseNumber('warmup', String(values.warmup), { min: 0, max: 86_400, integer: false });
  const pid =
    values.pid === undefined
      ? undefined
      : parseNumber('pid', String(values.pid), { min: 1, max: 2 ** 31 - 1, integer: true });
  const statsUrl = values['stats-url'] === undefined ? undefined : String(values['stats-url']);
  if (statsUrl !== undefined && statsUrl !== 'none' && !URL.canParse(statsUrl))
    usageError(`--stats-url must be a URL or "none", got '${statsUrl}'`);
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
      warmupS,
      ...(pid === undefined ? {} : { pid }),
      ...(statsUrl === undefined ? {} : { cacheStats: statsUrl === 'none' ? 'none' : { url: statsUrl } }),
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
