// The rate-limiting and overload rows of `npm run bench:resilience`, as ResiliencePhases around
// bench/lib/rate-limit-phase.ts and bench/lib/overload-phase.ts (each also runs alone).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runOverloadPhase } from './overload-phase.ts';
import { measureRateLimitOverhead, rateLimitBenchEnv } from './rate-limit-phase.ts';
import type { ResiliencePhase } from './resilience-report.ts';

/** HTTP throughput with rate limiting on vs off (memory buckets), alternated rounds. */
export const rateLimitPhase: ResiliencePhase = async (log) => {
  const scratch = await mkdtemp(join(tmpdir(), 'innkeep-rlbench-'));
  try {
    const r = await measureRateLimitOverhead({
      env: rateLimitBenchEnv(scratch),
      rounds: 6,
      amount: 10_000,
      connections: 32,
    });
    log(`rate limiting on/off ${r.ratio.toFixed(3)}`);
    return [
      {
        id: 'rate-limit-throughput',
        title: 'HTTP throughput with rate limiting on vs off (memory buckets, a cheap read)',
        figures: [
          { label: 'on req/s', value: Math.round(r.onRps), unit: 'count' },
          { label: 'off req/s', value: Math.round(r.offRps), unit: 'count' },
          { label: 'on / off', value: r.ratio, unit: 'ratio' },
        ],
        goal: { text: 'on / off ≥ 0.95', met: r.ratio >= 0.95 },
        notes: `${r.rounds} rounds per side, alternated; median req/s per side. Redis buckets: npm run bench:rate-limit -- --redis redis://127.0.0.1:6379.`,
      },
    ];
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
};

/** 4x the sustained load, open loop, against the platform with shedding on. */
export const overloadPhase: ResiliencePhase = async (log) => {
  const { result: r } = await runOverloadPhase({ seconds: 5 });
  const p99Ratio = r.admittedP99Ms / r.unloadedP99Ms;
  const throughput = r.admittedRps / r.unloadedRps;
  log(
    `overload: admitted p99 ${p99Ratio.toFixed(2)}x, shed p99 ${r.shedP99Ms.toFixed(2)} ms, throughput ${throughput.toFixed(2)}`,
  );
  const met = p99Ratio <= 3 && r.shedP99Ms <= 5 && throughput >= 0.9;
  return [
    {
      id: 'overload',
      title: `Overload: 4x the sustained load (${Math.round(r.offeredRps)} req/s offered), HTTP_MAX_IN_FLIGHT=${r.cap}`,
      figures: [
        { label: 'unloaded p99', value: r.unloadedP99Ms, unit: 'ms' },
        { label: 'admitted p99', value: r.admittedP99Ms, unit: 'ms' },
        { label: 'admitted p99 / unloaded', value: p99Ratio, unit: 'ratio' },
        { label: 'shed 503 p99', value: r.shedP99Ms, unit: 'ms' },
        { label: 'admitted / unloaded throughput', value: throughput, unit: 'ratio' },
        { label: 'shed share %', value: Math.round(100 * r.shedShare), unit: 'count' },
      ],
      goal: { text: 'admitted p99 ≤ 3× unloaded, shed p99 ≤ 5 ms, throughput ≥ 0.9', met },
      notes: `A route with ${r.workMs} ms of CPU and a 5 ms wait (bench/overload-server.ts); open-loop client in the benchmark process (bench/lib/overload-phase.ts). Alone: npm run bench:overload -- --cap N.`,
    },
  ];
};
