// `npm run bench:resilience`: the resilience rows (about a minute). Writes bench/results/resilience.md
// and .json (or --out DIR).
//
//   (a) breaker open: fail-fast p50/p99 against a dependency that hangs (a local HTTP server that never
//       answers), beside the closed breaker's timeout path (OUTBOUND_TIMEOUT_MS shortened to 200 ms here)
//   (b) policy stack overhead (timeout + retry + breaker) on a healthy in-process call, A/B alternated
//   (c) shared breaker propagation between two instances (two ioredis connection sets), p50 and max
//
// The rate-limiting and overload rows come from bench/lib/protection-phases.ts.

import { mkdir, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { loadConfig } from '../src/platform/config/index.ts';
import {
  connectSharedBreakers,
  DependencyHttpError,
  OutboundHttpClient,
  Resilience,
  type ResilienceConfig,
} from '../src/platform/resilience/index.ts';
import { overloadPhase, rateLimitPhase } from './lib/protection-phases.ts';
import {
  percentile,
  type ResiliencePhase,
  type ResilienceRow,
  resilienceMarkdown,
} from './lib/resilience-report.ts';

const quiet = { fatal() {}, error() {}, warn() {}, info() {}, debug() {}, trace() {}, child: () => quiet };
/** The default policies (BREAKER_*, RETRY_*, OUTBOUND_TIMEOUT_MS unset). */
const BASE: ResilienceConfig = loadConfig({ env: {}, envFile: false }).resilience;
const REDIS = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

const ms = (ns: bigint) => Number(ns) / 1e6;
const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);

/** (a) A server that accepts and never answers; fail-fast when open vs the timeout when closed. */
const failFast: ResiliencePhase = async (log) => {
  const sockets = new Set<Socket>();
  const server: Server = createServer(() => {});
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  try {
    const timeoutMs = 200;
    const closed = new Resilience(
      { ...BASE, timeoutMs, retries: 0, failureThreshold: 1_000_000 },
      { log: quiet },
    );
    const closedClient = new OutboundHttpClient(closed.policy('hanging'), base);
    const slow: number[] = [];
    for (let i = 0; i < 15; i++) {
      const t = process.hrtime.bigint();
      await closedClient.json({ path: '/' }).catch(() => undefined);
      slow.push(ms(process.hrtime.bigint() - t));
    }
    const open = new Resilience({ ...BASE, timeoutMs, retries: 0, failureThreshold: 1 }, { log: quiet });
    const openClient = new OutboundHttpClient(open.policy('hanging'), base);
    await openClient.json({ path: '/' }).catch(() => undefined);
    if (open.breakers()[0]?.state !== 'open') throw new Error('the breaker did not open');
    const fast: number[] = [];
    for (let i = 0; i < 20_000; i++) {
      const t = process.hrtime.bigint();
      await openClient.json({ path: '/' }).catch(() => undefined);
      if (i >= 1_000) fast.push(ms(process.hrtime.bigint() - t));
    }
    const s = sorted(slow);
    const f = sorted(fast);
    log(`fail-fast p50 ${percentile(f, 50).toFixed(4)} ms p99 ${percentile(f, 99).toFixed(4)} ms`);
    return [
      {
        id: 'breaker-open-fail-fast',
        title: 'Breaker open: fail-fast against a hanging dependency',
        figures: [
          { label: 'open p50', value: percentile(f, 50) * 1000, unit: 'µs' },
          { label: 'open p99', value: percentile(f, 99) * 1000, unit: 'µs' },
          { label: `closed (timeout ${timeoutMs} ms) p50`, value: percentile(s, 50), unit: 'ms' },
          { label: 'closed p99', value: percentile(s, 99), unit: 'ms' },
          { label: 'speed-up p50', value: percentile(s, 50) / percentile(f, 50), unit: 'ratio' },
        ],
        goal: { text: 'open p99 ≤ 1 ms', met: percentile(f, 99) <= 1 },
        notes: `${f.length} fail-fast calls (after 1,000 warm-up) and ${s.length} timed-out calls through OutboundHttpClient; with the default OUTBOUND_TIMEOUT_MS (30 s) the closed path costs 30 s per call, the open one the same µs.`,
      },
    ];
  } finally {
    for (const s of sockets) s.destroy();
    await new Promise((r) => server.close(r));
  }
};

/** (b) Policy stack (timeout + retry + breaker) on `async () => 42`, alternating blocks with the bare call. */
const overhead: ResiliencePhase = async (log) => {
  const resilience = new Resilience(BASE, { log: quiet });
  const policy = resilience.policy('healthy');
  const bare = async (_signal?: AbortSignal) => 42;
  const bareTimes: number[] = [];
  const policyTimes: number[] = [];
  const block = 2_000;
  for (let round = 0; round < 40; round++) {
    for (const side of round % 2 === 0 ? ['bare', 'policy'] : ['policy', 'bare']) {
      const into = side === 'bare' ? bareTimes : policyTimes;
      for (let i = 0; i < block; i++) {
        const t = process.hrtime.bigint();
        if (side === 'bare') await bare();
        else await policy.execute(bare);
        if (round >= 4) into.push(Number(process.hrtime.bigint() - t) / 1000);
      }
    }
  }
  const b = sorted(bareTimes);
  const p = sorted(policyTimes);
  const extra = percentile(p, 50) - percentile(b, 50);
  log(`overhead p50 ${extra.toFixed(2)} µs`);
  return [
    {
      id: 'policy-overhead',
      title: 'Policy stack overhead (timeout + retry + breaker), healthy in-process call',
      figures: [
        { label: 'bare p50', value: percentile(b, 50), unit: 'µs' },
        { label: 'with policies p50', value: percentile(p, 50), unit: 'µs' },
        { label: 'with policies p99', value: percentile(p, 99), unit: 'µs' },
        { label: 'overhead p50', value: extra, unit: 'µs' },
      ],
      goal: { text: 'overhead p50 ≤ 50 µs', met: extra <= 50 },
      notes: `${p.length} calls per side in blocks of ${block}, alternating (order swapped every round), 4 warm-up rounds dropped.`,
    },
  ];
};

/** (c) A opens a breaker; how long until B (its own connections) sees it open. */
const propagation: ResiliencePhase = async (log) => {
  const prefix = `bench-breakers-${process.pid}`;
  const links = await Promise.all([0, 1].map(() => connectSharedBreakers({ url: REDIS, prefix }, quiet)));
  const [la, lb] = links as [(typeof links)[0], (typeof links)[0]];
  const a = new Resilience({ ...BASE, failureThreshold: 1, retries: 0 }, { log: quiet, shared: la.shared });
  const b = new Resilience({ ...BASE, failureThreshold: 1, retries: 0 }, { log: quiet, shared: lb.shared });
  const times: number[] = [];
  try {
    if (!la.shared.up && !(await la.shared.claimProbe('ping', 1)))
      throw new Error(`Redis at ${REDIS} does not answer`);
    for (let trial = 0; trial < 50; trial++) {
      const name = `dep-${trial}`;
      const seen = new Promise<bigint>((resolve) => {
        b.policy(name).breaker.onTransition((_from, to) => {
          if (to === 'open') resolve(process.hrtime.bigint());
        });
      });
      await new Promise((r) => setTimeout(r, 20)); // B's first read of the key is done
      const t = process.hrtime.bigint();
      await a
        .policy(name)
        .execute(async () => {
          throw new DependencyHttpError(name, 503);
        })
        .catch(() => undefined);
      times.push(ms((await seen) - t));
    }
  } finally {
    await a.close();
    await b.close();
    await Promise.all(links.map((l) => l.close()));
    const redis = new Redis(REDIS);
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
  }
  const s = sorted(times);
  log(`propagation p50 ${percentile(s, 50).toFixed(3)} ms max ${s.at(-1)?.toFixed(3)} ms`);
  return [
    {
      id: 'shared-breaker-propagation',
      title: 'Shared breaker: open on A until B sees it open',
      figures: [
        { label: 'p50', value: percentile(s, 50), unit: 'ms' },
        { label: 'p99', value: percentile(s, 99), unit: 'ms' },
        { label: 'max', value: s.at(-1) ?? Number.NaN, unit: 'ms' },
        { label: 'trials', value: s.length, unit: 'count' },
      ],
      notes:
        'Two Resilience registries in one process, each with its own two ioredis connections (commands + subscriber), on one Redis; the open travels as script + PUBLISH, then B reads the key. The poll (2 s) bounds it when a message is lost.',
    },
  ];
};

const PHASES: ResiliencePhase[] = [failFast, overhead, propagation, rateLimitPhase, overloadPhase];

const args = process.argv.slice(2);
const outIndex = args.indexOf('--out');
const out = outIndex >= 0 ? (args[outIndex + 1] ?? 'bench/results') : 'bench/results';
const started = Date.now();
const log = (line: string) => console.error(`[bench:resilience] ${line}`);
const rows: ResilienceRow[] = [];
for (const phase of PHASES) rows.push(...(await phase(log)));
const cpu = cpus();
const report = {
  startedAt: new Date(started).toISOString(),
  command: `npm run bench:resilience${args.length ? ` -- ${args.join(' ')}` : ''}`,
  seconds: (Date.now() - started) / 1000,
  machine: `${cpu.length} × ${cpu[0]?.model.trim() ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.versions.node}; load average ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')} at the end`,
  rows,
};
await mkdir(out, { recursive: true });
await writeFile(join(out, 'resilience.json'), `${JSON.stringify(report, null, 2)}\n`);
const markdown = resilienceMarkdown(report);
await writeFile(join(out, 'resilience.md'), markdown);
console.log(markdown);
process.exit(rows.some((r) => r.goal && !r.goal.met) ? 1 : 0);
