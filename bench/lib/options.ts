// `npm run bench` options: the command line parsed into the settings every phase reads.
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { SEED_SCALES, type SeedScale } from '../../src/platform/config/index.ts';
import { OPERATION_IDS } from './ops.ts';

const ROOT = join(import.meta.dirname, '../..');

/** How long each measuring phase runs, and how many requests it takes at least. */
export interface Timing {
  readonly latencyMs: number;
  readonly loadMs: number;
  readonly minLatency: number;
  readonly warmup: number;
}

export interface BenchOptions {
  readonly quick: boolean;
  /** Dataset of the before/after table. */
  readonly scale: SeedScale;
  readonly seed: number;
  readonly rounds: number;
  /** Connections in the throughput phases. */
  readonly concurrency: number;
  /** Reports hold hundreds of thousands of rows in the naive server's memory per request. */
  readonly reportConcurrency: number;
  /** Dataset sizes of the scaling curve; empty to skip it. */
  readonly scalingScales: readonly SeedScale[];
  /** Only these operations; undefined for all. */
  readonly only: readonly string[] | undefined;
  readonly fresh: boolean;
  readonly keep: boolean;
  /** Results file name: `<outDir>/<name>.md` and `.json`. */
  readonly name: string;
  readonly outDir: string;
  readonly timing: Timing;
  /** The cache rows (bench/lib/cache-phase.ts); undefined with `--cache none`. */
  readonly cache:
    | {
        /** Redis of the L1+L2 servers; undefined with `--redis none`. */
        readonly redisUrl: string | undefined;
        readonly loadWarmupS: number;
        readonly loadS: number;
        readonly profile: boolean;
        /** Results file name of the cache rows: `<outDir>/<name>.md` and `.json`. */
        readonly name: string;
      }
    | undefined;
}

export const USAGE = `Usage: npm run bench -- [options]
  --quick               small dataset, 2 short rounds, no scaling curve (< 3 min)
  --scale S             dataset of the before/after table: small | medium (default) | large
  --seed N              dataset seed (default 42)
  --rounds N            alternating A/B rounds per operation (default 3; quick 2)
  --concurrency N       connections in the throughput phase (default 8)
  --only a,b            only these operations (${OPERATION_IDS.join(', ')})
  --scaling a,b         dataset sizes of the scaling curve (default small,medium,large; "none" to skip)
  --fresh               reseed the datasets even if today's templates exist
  --keep                keep the before/after databases afterwards
  --name N              results file name: <out>/<N>.md and .json (default: the scale, or "quick")
  --out DIR             results directory (default bench/results)
  --phase-ms N          length of each measuring phase (default 1500/2000; quick 500/700)
  --cache none          skip the cache rows (default: measured after the operations)
  --redis URL           Redis of the cache's L1+L2 servers (default redis://127.0.0.1:6379, or
                        BENCH_REDIS_URL; "none": memory only, no Redis rows)
  --load-s N            measured seconds of each cache load test (default 30; quick 10)
  --load-warmup-s N     warm-up seconds before it (default 10; quick 5)
  --cache-profile       also profile a cached read (V8 profiler over the inspector)
Environment: BENCH_DATABASE_URL (default: embedded PostgreSQL under .innkeep/bench), BENCH_REDIS_URL.`;

/** Parses the command line; prints the usage and exits (0 for --help, 2 for a bad option). */
export function parseBenchArgs(args: string[]): BenchOptions {
  const { values } = parseArgs({
    args,
    options: {
      quick: { type: 'boolean', default: false },
      scale: { type: 'string' },
      seed: { type: 'string', default: '42' },
      rounds: { type: 'string' },
      concurrency: { type: 'string', default: '8' },
      only: { type: 'string' },
      scaling: { type: 'string' },
      fresh: { type: 'boolean', default: false },
      keep: { type: 'boolean', default: false },
      name: { type: 'string' },
      out: { type: 'string' },
      'phase-ms': { type: 'string' },
      cache: { type: 'string' },
      redis: { type: 'string' },
      'load-s': { type: 'string' },
      'load-warmup-s': { type: 'string' },
      'cache-profile': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const quick = values.quick;
  const scale = (values.scale ?? (quick ? 'small' : 'medium')) as SeedScale;
  if (!SEED_SCALES.includes(scale)) usage('--scale must be small, medium or large');
  const seed = int(values.seed, 'seed', 0, 2 ** 31 - 1, 42);
  const rounds = int(values.rounds, 'rounds', 1, 50, quick ? 2 : 3);
  const concurrency = int(values.concurrency, 'concurrency', 1, 256, 8);
  const scalingScales = (values.scaling ?? (quick ? 'none' : SEED_SCALES.join(',')))
    .split(',')
    .filter((s) => s && s !== 'none') as SeedScale[];
  for (const s of scalingScales) if (!SEED_SCALES.includes(s)) usage(`--scaling: unknown size '${s}'`);
  const only = values.only?.split(',');
  for (const id of only ?? []) {
    if (!OPERATION_IDS.includes(id))
      usage(`--only: unknown operation '${id}' (one of ${OPERATION_IDS.join(', ')})`);
  }
  const name = values.name ?? (quick ? 'quick' : scale);
  if (!/^[\w.-]{1,64}$/.test(name)) usage('--name may use letters, digits, ".", "-" and "_"');
  const phaseMs =
    values['phase-ms'] === undefined ? undefined : int(values['phase-ms'], 'phase-ms', 10, 600_000, 0);
  const timing = quick
    ? { latencyMs: phaseMs ?? 500, loadMs: phaseMs ?? 700, minLatency: 2, warmup: 3 }
    : { latencyMs: phaseMs ?? 1500, loadMs: phaseMs ?? 2000, minLatency: 3, warmup: 5 };
  if (values.cache !== undefined && values.cache !== 'none' && values.cache !== 'on')
    usage('--cache must be "on" or "none"');
  const redis = values.redis ?? process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
  if (redis !== 'none' && !/^rediss?:\/\//.test(redis)) usage('--redis must be redis://host:port or "none"');
  const cache =
    values.cache === 'none'
      ? undefined
      : {
          redisUrl: redis === 'none' ? undefined : redis,
          loadS: int(values['load-s'], 'load-s', 1, 3600, quick ? 10 : 30),
          loadWarmupS: int(values['load-warmup-s'], 'load-warmup-s', 0, 3600, quick ? 5 : 10),
          profile: values['cache-profile'],
          name: name === 'medium' ? 'cache' : `${name}-cache`,
        };
  return {
    quick,
    scale,
    seed,
    rounds,
    concurrency,
    reportConcurrency: Math.min(2, concurrency),
    scalingScales,
    only,
    fresh: values.fresh,
    keep: values.keep,
    name,
    outDir: values.out ?? join(ROOT, 'bench/results'),
    timing,
    cache,
  };
}

function usage(message: string): never {
  console.error(`${message}\n\n${USAGE}`);
  process.exit(2);
}

function int(v: string | undefined, name: string, min: number, max: number, fallback: number): number {
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max)
    usage(`--${name} must be a whole number in [${min}, ${max}]`);
  return n;
}
