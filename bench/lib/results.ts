// The end of a bench run: notes on what to distrust, the report (machine, versions, dataset,
// settings, every figure) and its files, bench/results/<name>.md and .json.
import { readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import {
  type CacheMeasurements,
  type CacheReport,
  cachedResponseCell,
  cacheMarkdown,
} from './cache-report.ts';
import type { PreparedDatasets } from './prepare.ts';
import { type BenchReport, claimRatio, markdown, type OpResult, type ScalingPoint } from './report.ts';
import type { BenchRun } from './run-context.ts';

const ROOT = join(import.meta.dirname, '../..');

export interface Findings {
  readonly notes: string[];
  /** Operations with a non-2xx answer on either side: their figures are not comparable. */
  readonly failed: OpResult[];
  /** Operations whose two sides answered differently. */
  readonly mismatched: OpResult[];
}

/** What the report's notes say about the figures; a failed or mismatched operation fails the run. */
export function findings(results: readonly OpResult[], scalingSkipped: boolean): Findings {
  const notes: string[] = [];
  if (scalingSkipped) notes.push('Scaling curve skipped (`--quick` or `--scaling none`).');
  for (const r of results.filter((x) => x.claim && !x.claimMet)) {
    notes.push(
      `${r.title}: ${r.speedup.toFixed(1)}× is short of the write-ups' ${claimRatio(r.claim!).toFixed(1)}× (${r.claim!.label}).`,
    );
  }
  const failed = results.filter((r) =>
    [r.naive, r.innkeep].some((side) => Object.keys(side.statuses).some((code) => !code.startsWith('2'))),
  );
  for (const r of failed) {
    notes.push(
      `${r.title}: not every answer was a success (naive ${JSON.stringify(r.naive.statuses)}, Innkeep ${JSON.stringify(r.innkeep.statuses)}); its figures are not comparable.`,
    );
  }
  const mismatched = results.filter((r) => !r.sameAnswer);
  for (const r of mismatched)
    notes.push(`${r.title}: the naive and Innkeep answers differ; see the JSON for both bodies.`);
  return { notes, failed, mismatched };
}

export async function buildReport(
  run: BenchRun,
  prepared: PreparedDatasets,
  measured: {
    readonly ceilings: ReadonlyMap<number, number>;
    readonly operations: OpResult[];
    readonly scaling: ScalingPoint[];
    readonly notes: string[];
    readonly cache?: CacheReport | undefined;
  },
): Promise<BenchReport> {
  const { options } = run;
  return {
    name: options.name,
    startedAt: run.startedAt.toISOString(),
    durationS: run.elapsedS(),
    command: commandLine(),
    machine: machine(),
    versions: {
      node: process.versions.node,
      fastify: packageVersion('fastify'),
      pg: packageVersion('pg'),
      postgres: await serverVersion(prepared.afterUrl),
    },
    git: run.git,
    dataset: {
      ...prepared.dataset,
      beforeIndexesDropped: prepared.stripped.dropped.length,
      afterSecondaryIndexes: prepared.afterIndexes,
    },
    settings: {
      database: run.cluster.embedded ? 'embedded' : 'BENCH_DATABASE_URL',
      rounds: options.rounds,
      concurrency: options.concurrency,
      reportConcurrency: options.reportConcurrency,
      ...options.timing,
    },
    ceiling: {
      rps: measured.ceilings.get(options.concurrency)!,
      byConnections: Object.fromEntries(measured.ceilings),
      concurrency: options.concurrency,
    },
    operations: measured.operations,
    scaling: measured.scaling,
    ...(measured.cache
      ? { cache: { name: measured.cache.name, cell: cachedResponseCell(measured.cache) } }
      : {}),
    notes: measured.notes,
  };
}

/** Writes `<outDir>/<name>.md` and `.json`; returns the markdown. */
export async function writeReport(outDir: string, report: BenchReport): Promise<string> {
  const text = markdown(report);
  await mkdir(outDir, { recursive: true });
  await writeFile(join(outDir, `${report.name}.md`), text);
  await writeFile(join(outDir, `${report.name}.json`), `${JSON.stringify(report, null, 2)}\n`);
  return text;
}

/** The cache rows' report: the run's header (machine, versions, dataset, settings) and every figure. */
export async function buildCacheReport(
  run: BenchRun,
  dataset: { readonly info: PreparedDatasets['dataset']; readonly afterUrl: string },
  measured: CacheMeasurements,
  phase: { readonly startedAt: Date; readonly startedS: number; readonly loadAverage: number[] },
): Promise<CacheReport> {
  const { options } = run;
  const cache = options.cache!;
  return {
    name: cache.name,
    startedAt: phase.startedAt.toISOString(),
    durationS: run.elapsedS() - phase.startedS,
    command: commandLine(),
    machine: machine(),
    loadAverage: { start: phase.loadAverage, end: os.loadavg() },
    versions: {
      node: process.versions.node,
      fastify: packageVersion('fastify'),
      bentocache: packageVersion('bentocache'),
      ioredis: packageVersion('ioredis'),
      redis: measured.redis.version,
      postgres: await serverVersion(dataset.afterUrl),
    },
    git: run.git,
    dataset: dataset.info as unknown as Record<string, unknown>,
    settings: {
      database: run.cluster.embedded ? 'embedded' : 'BENCH_DATABASE_URL',
      rounds: options.rounds,
      connections: options.concurrency,
      ...options.timing,
      loadWarmupS: cache.loadWarmupS,
      loadS: cache.loadS,
      loadConnections: 16,
      loadUsers: 20,
      smallL1Mb: 8,
      profile: cache.profile,
    },
    redis: {
      url: measured.redis.url,
      reachable: measured.redis.reachable,
      ...(measured.redis.reason ? { reason: measured.redis.reason } : {}),
      prefixes: measured.redis.prefixes,
    },
    latency: measured.latency,
    throughput: measured.throughput,
    ...(measured.profile ? { profile: measured.profile } : {}),
    load: measured.load,
    redisMemory: measured.redisMemory,
    notes: measured.notes,
  };
}

/** Writes `<outDir>/<name>.md` and `.json` of the cache rows; returns the markdown. */
export async function writeCacheReport(outDir: string, report: CacheReport): Promise<string> {
  const text = cacheMarkdown(report);
  await mkdir(outDir, { recursive: true });
  await writeFile(join(outDir, `${report.name}.md`), text);
  await writeFile(join(outDir, `${report.name}.json`), `${JSON.stringify(report, null, 2)}\n`);
  return text;
}

function commandLine(): string {
  const script = process.argv[1]?.endsWith('cache.ts') ? 'npm run bench:cache' : 'npm run bench';
  return [script, ...(process.argv.length > 2 ? ['--', ...process.argv.slice(2)] : [])].join(' ');
}

function machine(): Record<string, string | number> {
  return {
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model.trim() ?? 'unknown',
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    os: `${os.type()} ${os.release()} ${os.arch()}`,
  };
}

function packageVersion(pkg: string): string {
  try {
    return (
      JSON.parse(readFileSync(join(ROOT, 'node_modules', pkg, 'package.json'), 'utf8')) as { version: string }
    ).version;
  } catch {
    return 'unknown';
  }
}

async function serverVersion(url: string): Promise<string> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (
      (await client.query<{ v: string }>("SELECT current_setting('server_version') AS v")).rows[0]?.v ??
      'unknown'
    );
  } finally {
    await client.end();
  }
}
