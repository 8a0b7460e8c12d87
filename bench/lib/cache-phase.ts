// The cache rows of `npm run bench` (and `npm run bench:cache`): Innkeep with CACHE_ENABLED=true, memory
// only (L1) and with Redis (L1+L2), against the same Innkeep with it off, on the run's "after" copy.
//   1. latency, one request at a time, of hotel search and hotel detail, warm (inputs repeated);
//   2. throughput at 8 connections of one ~2 KB cached answer, identity and Brotli, as a share of the
//      hello world measured in the same rounds (beside: Fastify sending the same Buffer, Innkeep's
//      own hooks on a trivial route, and the uncached read);
//   3–4. `npm run loadtest` against fresh servers: hit rate, stale strict reads, RSS, the L1 bound
//      (once with a small CACHE_L1_MAX_MB);
//   5. Redis memory of the same warm pass with L2 compression on and off.
// Every server is its own process; within a row the sides alternate (rotating who goes first).
import { writeFile } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { ACCESS_TOKEN_ISSUER } from '../../src/app/auth/auth-service.ts';
import { JwtSigner } from '../../src/platform/security/index.ts';
import { runLoadTest } from '../loadtest.ts';
import { appEnv, type Endpoint } from './bench-servers.ts';
import type {
  CachedLatencyRow,
  CacheMeasurements,
  CacheProfile,
  LatencyStats,
  LoadRun,
  RedisMemory,
  RedisMemoryRow,
  ThroughputRow,
  ThroughputVariant,
} from './cache-report.ts';
import { CACHE_GOALS, type CacheReport } from './cache-report.ts';
import { cpuMs, readCacheStats, type StatsSource } from './cache-watch.ts';
import { profileDuring, summarizeProfile } from './cpu-profile.ts';
import type { DatasetInfo } from './datasets.ts';
import { type PlannedRequest, RequestMix } from './load-mix.ts';
import { prepareLoad } from './load-setup.ts';
import { type BenchRequest, percentile, runLoad, runPhase, type Sample, Target } from './measure.ts';
import { type Fixture, type Operation, operations } from './ops.ts';
import type { Timing } from './options.ts';
import { clamp, sequential } from './phases.ts';
import { buildCacheReport, writeCacheReport } from './results.ts';
import type { BenchRun } from './run-context.ts';
import { freePort, type ServerProcess, startServer } from './servers.ts';

export interface CacheSettings {
  readonly rounds: number;
  readonly timing: Timing;
  /** Connections of row 2. */
  readonly connections: number;
  /** Redis of the L1+L2 servers; undefined: memory only, rows 5 and the L1+L2 columns are skipped. */
  readonly redisUrl: string | undefined;
  /** The load test of rows 3–4: warm-up and measured seconds, connections, users. */
  readonly load: {
    readonly warmupS: number;
    readonly durationS: number;
    readonly connections: number;
    readonly users: number;
  };
  /** CACHE_L1_MAX_MB of the bounded run of row 4. */
  readonly smallL1Mb: number;
  /** Reads of row 5's warm pass. */
  readonly memoryRequests: number;
  /** Profile the L1 server during an extra throughput phase (V8, over the inspector). */
  readonly profile: boolean;
}

export interface CacheContext {
  readonly afterUrl: string;
  readonly fixture: Fixture;
  /** Innkeep with the cache off on the same database (the before/after table's "after"). */
  readonly uncached: Endpoint;
  readonly hello: Endpoint;
  /** The run's hello-world ceiling by connections (measureCeilings). */
  readonly ceilings: ReadonlyMap<number, number>;
}

interface CacheServer extends Endpoint {
  readonly process: ServerProcess;
  readonly prefix?: string;
}

/** Runs rows 1–5; servers it starts are stopped (and their Redis keys deleted) before it returns. */
export async function measureCache(
  run: BenchRun,
  ctx: CacheContext,
  settings: CacheSettings,
): Promise<CacheMeasurements> {
  const { log } = run;
  const notes: string[] = [];
  const redis = await probeRedis(settings.redisUrl);
  if (settings.redisUrl && !redis.reachable) {
    notes.push(
      `Redis at ${settings.redisUrl} not reachable (${redis.reason}): L1+L2 rows and row 5 skipped.`,
    );
  }
  const redisUrl = redis.reachable ? (settings.redisUrl ?? undefined) : undefined;
  const admin = adminHeaders(run, ctx.fixture);
  const prefixes: string[] = [];
  const start = async (id: string, env: Record<string, string>, nodeArgs: string[] = []) => {
    const prefix = env.REDIS_URL ? `ib-${run.runId}-${id}` : undefined;
    if (prefix) prefixes.push(prefix);
    const server = await startServer({
      name: `innkeep-cache-${id}`,
      script: 'src/main.ts',
      args: ['start'],
      nodeArgs,
      env: {
        ...cacheEnv(run, ctx.afterUrl),
        ...(prefix ? { CACHE_PREFIX: prefix } : {}),
        ...env,
      },
      readyPath: '/ready',
    });
    run.servers.push(server);
    const target = new Target(server.name, server.url, 512);
    run.targets.push(target);
    const stats: StatsSource = { url: `${server.url}/api/admin/cache/stats`, headers: admin };
    if (env.REDIS_URL) await waitForRedis(stats, server.name);
    return {
      name: server.name,
      url: server.url,
      target,
      pid: server.pid,
      process: server,
      ...(prefix ? { prefix } : {}),
    };
  };
  const redisClient = redisUrl
    ? new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 })
    : undefined;
  if (redisClient) await redisClient.connect();
  try {
    // Rows 1 and 2 share two servers: memory only, and memory plus Redis.
    const l1 = await start('l1', {});
    const l2 = redisUrl ? await start('l2', { REDIS_URL: redisUrl }) : undefined;
    const ops = operations(ctx.fixture, run.jwtSecret, run.runId).filter(
      (o) => o.id === 'search' || o.id === 'detail',
    );
    const latency: CachedLatencyRow[] = [];
    for (const op of ops) {
      const row = await measureLatency(op, ctx, l1, l2, settings);
      latency.push(row);
      log(
        `cache ${op.id}: p50 ${row.off.p50.toFixed(2)} → ${row.l1.p50.toFixed(2)} ms L1 (${row.speedupL1.toFixed(1)}×)` +
          (row.l2 ? `, ${row.l2.p50.toFixed(2)} ms L1+L2 (${row.speedupL2!.toFixed(1)}×)` : '') +
          `; hello-world floor ${row.floor.p50.toFixed(2)} ms`,
      );
      if (!row.sameAnswer) notes.push(`${op.title}: a cached answer differed from the uncached one.`);
    }

    const body = await pickBody(ctx.fixture, l1);
    log(`cache throughput body: GET ${body.path}, ${body.identity.length} bytes (br ${body.brBytes})`);
    const bytesFile = join(run.scratch, 'cached-body.json');
    await writeFile(bytesFile, body.identity);
    const bytesServer = await startServer({
      name: 'bytes',
      script: 'bench/hello-server.ts',
      env: { HELLO_BYTES_FILE: bytesFile },
      readyPath: '/healthz',
    });
    run.servers.push(bytesServer);
    const throughput = await measureThroughput(ctx, body, { l1, l2, bytes: bytesServer }, settings);
    for (const v of throughput.variants) {
      log(
        `cache throughput ${v.id}: ${v.rps.toFixed(0)} req/s, ${(v.share * 100).toFixed(1)}% of hello world, ${v.cpuUsPerRequest.toFixed(0)} µs CPU/req`,
      );
    }
    await bytesServer.stop();

    let profile: CacheMeasurements['profile'];
    if (settings.profile) {
      const port = await freePort();
      const profiled = await start('l1-profiled', {}, [`--inspect=127.0.0.1:${port}`]);
      profile = await profileCachedReads(profiled, port, body.path, settings);
      log(
        `cache profile: ${profile.categories
          .slice(0, 5)
          .map((c) => `${c.name} ${(c.share * 100).toFixed(0)}%`)
          .join(', ')}`,
      );
      await profiled.process.stop();
    }
    await l1.process.stop();
    await l2?.process.stop();

    // Row 5 before the load tests: only reads, the same ones on both servers.
    let redisMemory: RedisMemoryRow | null = null;
    if (redisUrl && redisClient) {
      const compressed = await start('mem-br', { REDIS_URL: redisUrl, CACHE_COMPRESS_MIN_BYTES: '1024' });
      const plain = await start('mem-plain', { REDIS_URL: redisUrl, CACHE_COMPRESS_MIN_BYTES: '16777216' });
      redisMemory = await measureRedisMemory(redisClient, compressed, plain, settings.memoryRequests);
      log(
        `cache redis memory: ${(redisMemory.compressed.bytes / 2 ** 20).toFixed(2)} MiB compressed, ${(redisMemory.plain.bytes / 2 ** 20).toFixed(2)} MiB plain (${redisMemory.ratio.toFixed(2)}×)`,
      );
      await compressed.process.stop();
      await plain.process.stop();
    }

    // Rows 3–4: a fresh server each (empty cache, counters at zero), one after the other.
    const load: LoadRun[] = [];
    const loadRuns: Array<{ id: string; label: string; env: Record<string, string> }> = [
      { id: 'load-off', label: 'off (CACHE_ENABLED=false)', env: { CACHE_ENABLED: 'false' } },
      { id: 'load-l1', label: 'L1', env: {} },
      ...(redisUrl ? [{ id: 'load-l2', label: 'L1+L2', env: { REDIS_URL: redisUrl } }] : []),
      {
        id: 'load-l1-small',
        label: `L1, CACHE_L1_MAX_MB=${settings.smallL1Mb}`,
        env: { CACHE_L1_MAX_MB: String(settings.smallL1Mb) },
      },
    ];
    for (const spec of loadRuns) {
      const server = await start(spec.id, spec.env);
      const result = await runLoadTest({
        url: server.url,
        durationS: settings.load.durationS,
        warmupS: settings.load.warmupS,
        connections: settings.load.connections,
        users: settings.load.users,
        databaseUrl: ctx.afterUrl,
        cacheStats:
          spec.env.CACHE_ENABLED === 'false'
            ? 'none'
            : { url: `${server.url}/api/admin/cache/stats`, headers: admin },
        pid: server.pid,
        onProgress: (line) => log(`cache ${spec.id}: ${line}`),
      });
      await server.process.stop();
      load.push({ id: spec.id, label: spec.label, env: spec.env, result });
      const c = result.cache;
      log(
        `cache ${spec.id}: ${result.requestsPerSecond} req/s, hit rate ${c?.total.hitRate === null || !c ? '-' : (c.total.hitRate * 100).toFixed(1)}%, ` +
          `stale ${result.staleReads?.stale ?? '-'} of ${result.staleReads?.reads ?? '-'}, RSS peak ${result.memory.rss ? (result.memory.rss.peak / 2 ** 20).toFixed(0) : '-'} MiB, ` +
          `L1 peak ${result.memory.l1 ? (result.memory.l1.peakBytes / 2 ** 20).toFixed(1) : '-'} MiB, ${result.ok ? 'ok' : 'FAILED'}`,
      );
      if (!result.ok)
        notes.push(
          `Load test on ${spec.label} failed: ${JSON.stringify(result.errors)}; stale ${result.staleReads?.stale}; consistency ${result.consistency?.ok}.`,
        );
    }
    notes.push(...goalNotes(latency, throughput, load, redisMemory));
    return {
      redis: { url: settings.redisUrl ?? null, ...redis, prefixes },
      latency,
      throughput,
      ...(profile ? { profile } : {}),
      load,
      redisMemory,
      notes,
    };
  } finally {
    if (redisClient) {
      for (const prefix of prefixes) await deleteKeys(redisClient, prefix).catch(() => undefined);
      redisClient.disconnect();
    }
  }
}

/** The environment of every cache server: the bench's production settings, the cache on, no warm-up. */
function cacheEnv(run: BenchRun, databaseUrl: string): Record<string, string> {
  return {
    ...appEnv(run, databaseUrl),
    DB_MIGRATE_ON_START: 'false',
    CACHE_ENABLED: 'true',
    // The bench fills the caches itself, the same way on every server.
    CACHE_WARMUP: 'false',
  };
}

function adminHeaders(run: BenchRun, fixture: Fixture): Record<string, string> {
  const jwt = new JwtSigner(run.jwtSecret, { issuer: ACCESS_TOKEN_ISSUER });
  return { authorization: `Bearer ${jwt.sign({ sub: String(fixture.adminId), role: 'admin' }, 24 * 3600)}` };
}

async function probeRedis(
  url: string | undefined,
): Promise<{ reachable: boolean; reason?: string; version: string }> {
  if (!url) return { reachable: false, reason: 'not asked for (--redis none)', version: 'none' };
  const client = new Redis(url, {
    lazyConnect: true,
    connectTimeout: 2000,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  client.on('error', () => undefined);
  try {
    await client.connect();
    const info = await client.info('server');
    return { reachable: true, version: /redis_version:(\S+)/.exec(info)?.[1] ?? 'unknown' };
  } catch (err) {
    return { reachable: false, reason: (err as Error).message, version: 'none' };
  } finally {
    client.disconnect();
  }
}

/** An L1+L2 server answers strict reads from the cache only once Redis is up and resynced. */
async function waitForRedis(stats: StatsSource, name: string): Promise<void> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const s = await readCacheStats(stats).catch(() => undefined);
    if (s?.redis === 'up') return;
    if (Date.now() > deadline)
      throw new Error(`${name}: Redis is not up after 15 s (${s?.redis ?? 'no stats'})`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const stats = (samples: readonly Sample[]): LatencyStats => {
  const v = samples.map((s) => s.ms);
  return { samples: v.length, p50: percentile(v, 0.5), p95: percentile(v, 0.95), p99: percentile(v, 0.99) };
};

/**
 * Row 1 for one operation. Every input goes once to each side (answers compared byte for byte; this
 * fills the caches), then per round, rotating the order: the same `count` requests over the same
 * inputs, one at a time, to the uncached server, each cached one and the hello world (the floor).
 */
async function measureLatency(
  op: Operation,
  ctx: CacheContext,
  l1: CacheServer,
  l2: CacheServer | undefined,
  settings: CacheSettings,
): Promise<CachedLatencyRow> {
  const sides = [
    { id: 'off', target: ctx.uncached.target, samples: [] as Sample[] },
    { id: 'l1', target: l1.target, samples: [] as Sample[] },
    ...(l2 ? [{ id: 'l2', target: l2.target, samples: [] as Sample[] }] : []),
    { id: 'floor', target: ctx.hello.target, samples: [] as Sample[] },
  ];
  const hello = (): BenchRequest => ({ method: 'GET', path: '/hello' });
  const requestOf = (id: string) => (id === 'floor' ? hello : op.request);
  let sameAnswer = true;
  const offTimes: number[] = [];
  for (let i = 0; i < op.period; i++) {
    const reference = await ctx.uncached.target.send(op.request(i));
    offTimes.push(reference.ms);
    for (const side of sides.slice(1, l2 ? 3 : 2)) {
      const cached = await side.target.send(op.request(i));
      if (cached.status !== reference.status || cached.body !== reference.body) sameAnswer = false;
    }
  }
  // A few more rounds of every input: JIT, plans, connections; and the cache is warm for sure.
  for (const side of sides) await runPhase(side.target, requestOf(side.id), 0, sequential(op.period * 2));
  const typical = percentile(offTimes, 0.5);
  const count = clamp(settings.timing.latencyMs / typical, Math.max(50, op.period), 2000);
  // Each round is cut into chunks of ~25 requests, the sides taking turns chunk by chunk (the order
  // rotating), so a burst of other work on the machine falls on every side alike.
  const chunks = Math.max(1, Math.round(count / 25));
  for (let r = 0; r < settings.rounds; r++) {
    for (let c = 0; c < chunks; c++) {
      const from = Math.floor((c * count) / chunks);
      const size = Math.floor(((c + 1) * count) / chunks) - from;
      const order = sides.map((_, k) => sides[(k + r + c) % sides.length]!);
      for (const side of order) {
        const res = await runPhase(side.target, requestOf(side.id), r * count + from, sequential(size));
        side.samples.push(...res.samples);
      }
    }
  }
  const byId = (id: string) => stats(sides.find((s) => s.id === id)?.samples ?? []);
  const off = byId('off');
  const cachedL1 = byId('l1');
  const cachedL2 = l2 ? byId('l2') : undefined;
  const floor = byId('floor');
  return {
    id: op.id,
    title: op.title,
    inputs: op.period,
    sameAnswer,
    off,
    l1: cachedL1,
    ...(cachedL2 ? { l2: cachedL2, speedupL2: off.p50 / cachedL2.p50 } : {}),
    speedupL1: off.p50 / cachedL1.p50,
    floor,
    bestPossible: off.p50 / floor.p50,
  };
}

interface PickedBody {
  readonly path: string;
  readonly title: string;
  readonly identity: Buffer;
  readonly brBytes: number;
}

/** The hotel detail whose answer is closest to 2 KB (the fixture's 40 hotels). */
async function pickBody(fixture: Fixture, server: CacheServer): Promise<PickedBody> {
  let best: { path: string; identity: Buffer } | undefined;
  for (const h of fixture.hotels) {
    const path = `/api/hotels/${h.id}`;
    const res = await fetch(`${server.url}${path}`, { headers: { 'accept-encoding': 'identity' } });
    const identity = Buffer.from(await res.arrayBuffer());
    if (res.status !== 200) continue;
    if (!best || Math.abs(identity.length - 2048) < Math.abs(best.identity.length - 2048))
      best = { path, identity };
  }
  if (!best) throw new Error('no hotel detail answered 200');
  const br = await brotliBytes(`${server.url}${best.path}`);
  return { ...best, title: 'hotel detail', brBytes: br };
}

/** Bytes of the Brotli answer as sent (fetch would decode it): node:http keeps the body as is. */
async function brotliBytes(url: string): Promise<number> {
  const http = await import('node:http');
  return new Promise((resolve, reject) => {
    http
      .get(url, { headers: { 'accept-encoding': 'br' } }, (res) => {
        let n = 0;
        if (res.headers['content-encoding'] !== 'br') reject(new Error(`${url}: no Brotli answer`));
        res.on('data', (c: Buffer) => {
          n += c.length;
        });
        res.on('end', () => resolve(n));
      })
      .on('error', reject);
  });
}

/**
 * Row 2: each variant answers the same number of requests per round (its own pace: sized from a warm
 * phase), rotating the order; share = its req/s over the hello world's of the same round.
 */
async function measureThroughput(
  ctx: CacheContext,
  body: PickedBody,
  servers: { l1: CacheServer; l2: CacheServer | undefined; bytes: ServerProcess },
  settings: CacheSettings,
): Promise<ThroughputRow> {
  const connections = settings.connections;
  type V = {
    id: string;
    label: string;
    encoding: 'identity' | 'br';
    url: string;
    pid: number;
    path: string;
    bytes: number;
    goal?: number;
    rps: number[];
    cpu: number[];
    completed: number;
    elapsedMs: number;
    amount: number;
  };
  const v = (
    id: string,
    label: string,
    encoding: 'identity' | 'br',
    server: { url: string; pid: number },
    path: string,
    bytes: number,
    goal?: number,
  ): V => ({
    id,
    label,
    encoding,
    url: server.url,
    pid: server.pid,
    path,
    bytes,
    ...(goal === undefined ? {} : { goal }),
    rps: [],
    cpu: [],
    completed: 0,
    elapsedMs: 0,
    amount: 0,
  });
  const { l1, l2, bytes } = servers;
  const variants: V[] = [
    v('hello', 'Fastify hello world (the ceiling)', 'identity', ctx.hello, '/hello', 17),
    v(
      'bytes',
      'Fastify sending the same Buffer, no hooks',
      'identity',
      bytes,
      '/bytes',
      body.identity.length,
    ),
    v('bytes-br', 'Fastify sending the same Buffer, no hooks', 'br', bytes, '/bytes', body.brBytes),
    v('platform', "Innkeep's hooks on a trivial route (GET /healthz)", 'identity', l1, '/healthz', 15),
    v(
      'off',
      'Innkeep, cache off (reads PostgreSQL)',
      'identity',
      ctx.uncached,
      body.path,
      body.identity.length,
    ),
    v('off-br', 'Innkeep, cache off (compressed per request)', 'br', ctx.uncached, body.path, body.brBytes),
    v(
      'l1',
      'Innkeep, cached (L1)',
      'identity',
      l1,
      body.path,
      body.identity.length,
      CACHE_GOALS.identityShare,
    ),
    v('l1-br', 'Innkeep, cached (L1)', 'br', l1, body.path, body.brBytes, CACHE_GOALS.brShare),
    ...(l2
      ? [
          v(
            'l2',
            'Innkeep, cached (L1+L2)',
            'identity',
            l2,
            body.path,
            body.identity.length,
            CACHE_GOALS.identityShare,
          ),
          v('l2-br', 'Innkeep, cached (L1+L2)', 'br', l2, body.path, body.brBytes, CACHE_GOALS.brShare),
        ]
      : []),
  ];
  const request = (x: V) => (): BenchRequest => ({
    method: 'GET',
    path: x.path,
    headers: { 'accept-encoding': x.encoding === 'br' ? 'br' : 'identity' },
  });
  // Warm every variant, and size its phase from its pace.
  const warmAmount = clamp(settings.timing.loadMs * 2, 500, 3000);
  for (const x of variants) {
    const warm = await runLoad({ url: x.url, name: x.id }, request(x), { connections, amount: warmAmount });
    x.amount = Math.max(
      connections * 50,
      Math.round((warm.completed / warm.elapsedMs) * settings.timing.loadMs),
    );
  }
  const hello = variants[0]!;
  // Each round's phase is cut into slices of about a second (autocannon takes at least one second of
  // wall time per run, whatever its amount), the variants taking turns slice by slice (the order
  // rotating): a share compares a variant with the hello world of the same slice, seconds apart.
  const SLICES = Math.max(1, Math.round(settings.timing.loadMs / 1000));
  for (let r = 0; r < settings.rounds * SLICES; r++) {
    const order = variants.map((_, k) => variants[(k + r) % variants.length]!);
    for (const x of order) {
      const before = await cpuMs(x.pid);
      const res = await runLoad({ url: x.url, name: x.id }, request(x), {
        connections,
        amount: Math.max(connections * 25, Math.round(x.amount / SLICES)),
      });
      x.cpu.push((((await cpuMs(x.pid)) - before) * 1000) / res.completed);
      x.rps.push((res.completed * 1000) / res.elapsedMs);
      x.completed += res.completed;
      x.elapsedMs += res.elapsedMs;
    }
  }
  const out: ThroughputVariant[] = variants.slice(1).map((x) => {
    const shares = x.rps.map((rps, i) => rps / (hello.rps[i] as number));
    return {
      id: x.id,
      label: x.label,
      encoding: x.encoding,
      bytes: x.bytes,
      rps: (x.completed * 1000) / x.elapsedMs,
      share: percentile(shares, 0.5),
      shareMin: Math.min(...shares),
      shareMax: Math.max(...shares),
      cpuUsPerRequest: percentile(x.cpu, 0.5),
      cpuShare: percentile(hello.cpu, 0.5) / percentile(x.cpu, 0.5),
      ...(x.goal === undefined ? {} : { goal: x.goal }),
    };
  });
  return {
    path: body.path,
    title: body.title,
    identityBytes: body.identity.length,
    brBytes: body.brBytes,
    connections,
    rounds: settings.rounds,
    slices: settings.rounds * Math.max(1, Math.round(settings.timing.loadMs / 1000)),
    hello: { rps: (hello.completed * 1000) / hello.elapsedMs, cpuUsPerRequest: percentile(hello.cpu, 0.5) },
    runCeiling: ctx.ceilings.get(connections) ?? Number.NaN,
    variants: out,
  };
}

/** Where the profiled server's time goes, by category (see CacheReport.profile). */
export const PROFILE_CATEGORIES: ReadonlyArray<readonly [string, RegExp]> = [
  ['socket writes (kernel; wall time)', /^\((writev|write|writeBuffer|writeUtf8String|writeLatin1String)\)$/],
  ['garbage collection', /garbage collector/],
  ['node:http (parse, headers, outgoing)', /^node:_http|^node:http/],
  ['node streams, net, events', /^node:(internal\/streams|net|events|internal\/stream_base|stream)/],
  [
    'promises, ticks, async context',
    /^node:internal\/(async_context_frame|async_hooks|process\/task_queues|async_local)|^\(runMicrotasks\)|^node:async_hooks/,
  ],
  ['fastify (routing, hooks, reply)', /node_modules\/(fastify|find-my-way|light-my-request|avvio)\//],
  ['request validation (ajv)', /node_modules\/ajv|src\/platform\/http\/validation\.ts/],
  ['response cache (key, headers, negotiation)', /src\/platform\/http\/response-cache\.ts/],
  ['cache namespace (src/platform/cache)', /src\/platform\/cache\//],
  ['bentocache (lookup, tag checks)', /node_modules\/(bentocache|@julr|hexoid)/],
  ['TTL strings parsed per lookup (@lukeed/ms)', /@lukeed\/ms|^\(RegExp: \^\(-\?/],
  ['lru-cache', /node_modules\/lru-cache/],
  [
    'metrics (prom-client, route windows)',
    /node_modules\/(prom-client|tdigest|bintrees)|src\/platform\/observability\/(metrics|route-windows)/,
  ],
  [
    'logging (pino)',
    /node_modules\/(pino|sonic-boom|fast-redact|quick-format)|src\/platform\/observability\/logger/,
  ],
  ["Innkeep's request hooks (ids, context, timing)", /src\/platform\/(http|observability)\//],
  [
    '@fastify/compress (onSend)',
    /node_modules\/(@fastify\/compress|mnemonist|negotiator|mime|accepts|minipass|peek-stream|pump)/,
  ],
  ['crypto (request ids, hashes)', /^node:(internal\/)?crypto/],
  ['V8 runtime ((program))', /^\(\(program\)\)$/],
];

/**
 * One identity throughput phase of the cached answer on a server started with `--inspect`, under the
 * V8 profiler (100 µs samples), after a warm phase outside it.
 */
async function profileCachedReads(
  server: CacheServer,
  inspectPort: number,
  path: string,
  settings: CacheSettings,
): Promise<CacheProfile> {
  const request = (): BenchRequest => ({ method: 'GET', path, headers: { 'accept-encoding': 'identity' } });
  await runLoad(server, request, { connections: settings.connections, amount: 5000 });
  const amount = Math.max(5000, Math.round(6 * settings.timing.loadMs));
  const { result, profile } = await profileDuring(inspectPort, () =>
    runLoad(server, request, { connections: settings.connections, amount }),
  );
  const summary = summarizeProfile(profile, PROFILE_CATEGORIES, 20);
  return { ...summary, requests: result.completed, rps: (result.completed * 1000) / result.elapsedMs };
}

/**
 * Row 5: the same reads (from the load test's mix: search, hotel, availability, reviews; no
 * per-user reads, no writes) sent to both servers, then their Redis keys measured.
 */
async function measureRedisMemory(
  client: Redis,
  compressed: CacheServer,
  plain: CacheServer,
  requests: number,
): Promise<RedisMemoryRow> {
  const setup = await prepareLoad(compressed.url, 1);
  const mix = new RequestMix(setup.catalogue, setup.tokens, 42, 'redis-memory');
  const reads: PlannedRequest[] = [];
  while (reads.length < requests) {
    const planned = mix.next();
    if (planned.method === 'GET' && !planned.headers.authorization) reads.push(planned);
  }
  for (const server of [compressed, plain]) {
    await runLoad(server, (j) => ({ method: 'GET', path: reads[j % reads.length]!.path }), {
      connections: 4,
      amount: reads.length,
    });
  }
  // Writes to Redis are not awaited by the answers: let the last ones land.
  await new Promise((r) => setTimeout(r, 500));
  const [c, p] = [
    await redisMemory(client, compressed.prefix!, 1024),
    await redisMemory(client, plain.prefix!, 16_777_216),
  ];
  return {
    requests: reads.length,
    distinctPaths: new Set(reads.map((r) => r.path)).size,
    compressed: c,
    plain: p,
    ratio: p.bytes / c.bytes,
  };
}

async function redisMemory(client: Redis, prefix: string, compressMinBytes: number): Promise<RedisMemory> {
  let keys = 0;
  let bytes = 0;
  let valueBytes = 0;
  const byNamespace: Record<string, { keys: number; bytes: number }> = {};
  let cursor = '0';
  do {
    const [next, batch] = await client.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 500);
    cursor = next;
    for (const key of batch) {
      const [usage, length] = await Promise.all([
        client.memory('USAGE', key) as Promise<number | null>,
        client.strlen(key).catch(() => 0),
      ]);
      keys += 1;
      bytes += usage ?? 0;
      valueBytes += length;
      const rest = key.slice(prefix.length + 1);
      const ns = rest.startsWith('___bc:t:') ? 'tags' : (rest.split(':')[0] ?? '?');
      const entry = byNamespace[ns] ?? { keys: 0, bytes: 0 };
      entry.keys += 1;
      entry.bytes += usage ?? 0;
      byNamespace[ns] = entry;
    }
  } while (cursor !== '0');
  return { prefix, compressMinBytes, keys, bytes, valueBytes, byNamespace };
}

async function deleteKeys(client: Redis, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, batch] = await client.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
    cursor = next;
    if (batch.length > 0) await client.unlink(...batch);
  } while (cursor !== '0');
}

function goalNotes(
  latency: readonly CachedLatencyRow[],
  throughput: ThroughputRow,
  load: readonly LoadRun[],
  redisMemory: RedisMemoryRow | null,
): string[] {
  const notes: string[] = [];
  for (const row of latency) {
    if (Math.min(row.speedupL1, row.speedupL2 ?? Number.POSITIVE_INFINITY) < CACHE_GOALS.speedup) {
      notes.push(
        `${row.title}: ${row.speedupL1.toFixed(1)}× is short of the ${CACHE_GOALS.speedup}× goal; the uncached read already takes ${row.off.p50.toFixed(2)} ms and a hello-world round trip ${row.floor.p50.toFixed(2)} ms, so no cache can do better than ${row.bestPossible.toFixed(1)}× here.`,
      );
    }
  }
  for (const v of throughput.variants) {
    if (v.goal !== undefined && v.share < v.goal) {
      notes.push(
        `${v.label}, ${v.encoding}: ${(v.share * 100).toFixed(0)}% of the hello world is short of ${(v.goal * 100).toFixed(0)}%.`,
      );
    }
  }
  for (const run of load) {
    const stale = run.result.staleReads?.stale ?? 0;
    if (stale > 0) notes.push(`${run.label}: ${stale} stale availability answers; see the JSON for samples.`);
    if (run.result.memory.l1 && !run.result.memory.l1.withinBounds)
      notes.push(`${run.label}: the memory tier went over its bound.`);
  }
  if (redisMemory && redisMemory.ratio < 1)
    notes.push('Redis: the compressed tier takes more memory than the plain one.');
  return notes;
}

/**
 * The cache rows as a step of a bench run: measured, then written to `<outDir>/<cache name>.md` and
 * `.json`. Returns the report (the main report's "Cached response" row summarises it).
 */
export async function runCacheRows(
  run: BenchRun,
  dataset: { readonly info: DatasetInfo; readonly afterUrl: string },
  ctx: CacheContext,
): Promise<CacheReport> {
  const cache = run.options.cache!;
  const startedAt = new Date();
  const startedS = run.elapsedS();
  const loadAverage = os.loadavg();
  const measured = await measureCache(run, ctx, {
    rounds: run.options.rounds,
    timing: run.options.timing,
    connections: run.options.concurrency,
    redisUrl: cache.redisUrl,
    load: { warmupS: cache.loadWarmupS, durationS: cache.loadS, connections: 16, users: 20 },
    smallL1Mb: 8,
    memoryRequests: clamp(run.options.timing.loadMs * 3, 300, 6000),
    profile: cache.profile,
  });
  const report = await buildCacheReport(run, dataset, measured, { startedAt, startedS, loadAverage });
  await writeCacheReport(run.options.outDir, report);
  run.log(`wrote ${join(run.options.outDir, cache.name)}.md and .json`);
  return report;
}
