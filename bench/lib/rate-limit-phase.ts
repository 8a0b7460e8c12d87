// Throughput with rate limiting on vs off: two Innkeep servers, identical but for RATE_LIMIT_ENABLED,
// measured in alternating rounds (A/B/A/B...) in one run so drift on the machine hits both alike.
// Run alone: npm run bench:rate-limit -- [--rounds 4] [--amount 20000] [--connections 32]
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { median, runLoad } from './measure.ts';
import { type ServerProcess, startServer } from './servers.ts';

export interface RateLimitPhaseOptions {
  /** Base environment of both servers (database, secret, data dir...); rate-limit settings are added. */
  readonly env: Record<string, string>;
  /** Set: both servers keep their buckets in this Redis (the production shape with several instances). */
  readonly redisUrl?: string | undefined;
  readonly rounds?: number;
  /** Requests per round and side. */
  readonly amount?: number;
  readonly connections?: number;
}

export interface RateLimitPhaseResult {
  /** Median requests/s over the rounds, limiter on / limiter off. Goal ≥ 0.95. */
  readonly ratio: number;
  readonly onRps: number;
  readonly offRps: number;
  readonly rounds: number;
  readonly markdown: string;
}

/** Every request is one client's; the limits are set far above what a round sends, so none is refused. */
const HIGH = '1000000';
/**
 * A cheap route of the read class: an unmatched GET (404 in the standard body) runs the whole hook
 * chain (request context, limiter, error handler) but no handler and no SQL, so the limiter's share is
 * as large as it can be on any real route.
 */
const PATH = '/api/rate-limit-bench';

/** The servers' base environment: DATABASE_URL if set, else an embedded PostgreSQL under `scratch`. */
export function rateLimitBenchEnv(scratch: string): Record<string, string> {
  return {
    NODE_ENV: 'production',
    LOG_LEVEL: 'warn',
    JWT_SECRET: 'rate-limit-bench-secret-0123456789abcdef',
    DB_SEED_ON_EMPTY: 'none',
    CACHE_ENABLED: 'false',
    INNKEEP_DATA_DIR: scratch,
    ...(process.env.DATABASE_URL ? { DATABASE_URL: process.env.DATABASE_URL } : {}),
  };
}

/**
 * Measures HTTP throughput with rate limiting on and off and returns the ratio with a markdown
 * fragment for the results file.
 */
export async function measureRateLimitOverhead(
  options: RateLimitPhaseOptions,
): Promise<RateLimitPhaseResult> {
  const rounds = options.rounds ?? 4;
  const amount = options.amount ?? 20_000;
  const connections = options.connections ?? 32;
  const redis: Record<string, string> = options.redisUrl ? { REDIS_URL: options.redisUrl } : {};
  const servers: ServerProcess[] = [];
  try {
    // One after the other: both migrate the same database on start.
    for (const enabled of ['true', 'false']) {
      servers.push(
        await startServer({
          name: `rate-limit-${enabled === 'true' ? 'on' : 'off'}`,
          script: 'src/main.ts',
          args: ['start'],
          env: {
            ...options.env,
            ...redis,
            RATE_LIMIT_ENABLED: enabled,
            RATE_LIMIT_READ_POINTS: HIGH,
            RATE_LIMIT_ABUSE_THRESHOLD: HIGH,
            CACHE_PREFIX: `rlbench-${process.pid}-${enabled}`,
          },
          readyPath: '/ready',
        }),
      );
    }
    const [on, off] = servers as [ServerProcess, ServerProcess];
    const request = () => ({ method: 'GET' as const, path: PATH });
    // Warm-up: JIT and connections, not counted.
    for (const s of [on, off]) await runLoad(s, request, { connections, amount: Math.ceil(amount / 4) });
    const rps = { on: [] as number[], off: [] as number[] };
    for (let r = 0; r < rounds; r++) {
      // Alternate which side goes first, so neither always runs on the warmer machine.
      const order = r % 2 === 0 ? ([on, off] as const) : ([off, on] as const);
      for (const s of order) {
        const res = await runLoad(s, request, { connections, amount });
        if (res.statuses['429']) throw new Error(`${s.name}: ${res.statuses['429']} requests were refused`);
        (s === on ? rps.on : rps.off).push((res.completed / res.elapsedMs) * 1000);
      }
    }
    const onRps = median(rps.on);
    const offRps = median(rps.off);
    const ratio = onRps / offRps;
    const store = options.redisUrl ? 'Redis' : 'memory';
    const markdown = [
      `| rate limiting (${store} buckets) | req/s, median of ${rounds} rounds | goal |`,
      '|---|---|---|',
      `| off | ${Math.round(offRps)} | |`,
      `| on | ${Math.round(onRps)} | |`,
      `| on / off | **${ratio.toFixed(3)}** | ≥ 0.95 ${ratio >= 0.95 ? '(met)' : '(short)'} |`,
      '',
      `GET ${PATH} (a 404 of the read class: no handler, no SQL, so the limiter's share is the largest any route shows), ` +
        `${connections} connections, ${amount} requests per round and side, rounds alternating which side goes first. ` +
        `Rounds (req/s): on ${rps.on.map(Math.round).join(', ')}; off ${rps.off.map(Math.round).join(', ')}.`,
    ].join('\n');
    return { ratio, onRps, offRps, rounds, markdown };
  } finally {
    await Promise.all(servers.map((s) => s.stop()));
  }
}

if (import.meta.main) {
  const { values } = parseArgs({
    options: {
      rounds: { type: 'string', default: '4' },
      amount: { type: 'string', default: '20000' },
      connections: { type: 'string', default: '32' },
      redis: { type: 'string' },
    },
  });
  // Without DATABASE_URL each server starts its own embedded PostgreSQL in a scratch directory.
  const scratch = await mkdtemp(join(tmpdir(), 'innkeep-rlbench-'));
  const env = rateLimitBenchEnv(scratch);
  try {
    const result = await measureRateLimitOverhead({
      env,
      redisUrl: values.redis,
      rounds: Number(values.rounds),
      amount: Number(values.amount),
      connections: Number(values.connections),
    });
    console.log(result.markdown);
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}
