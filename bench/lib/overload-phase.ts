// The overload row: a server whose one route costs a fixed CPU time is offered 4x the load it
// sustains (open loop: requests are sent on a schedule whatever the answers, as real users do),
// with shedding on. Reported: admitted p99 against the unloaded p99, the shed 503s' latency, and the
// admitted throughput against the unloaded maximum.
//
//   npm run bench:overload -- [--cap N] [--seconds S] [--work-ms MS]
import http from 'node:http';
import { parseArgs } from 'node:util';
import { percentile } from './measure.ts';
import { startServer } from './servers.ts';

export interface OverloadResult {
  readonly cap: number;
  readonly workMs: number;
  readonly unloadedRps: number;
  readonly unloadedP99Ms: number;
  readonly offeredRps: number;
  readonly admittedRps: number;
  readonly admittedP99Ms: number;
  readonly shedP99Ms: number;
  readonly shedShare: number;
  readonly errors: number;
}

interface Shot {
  readonly status: number;
  readonly ms: number;
}

function shoot(agent: http.Agent, url: URL): Promise<Shot> {
  return new Promise((resolve) => {
    const startedAt = performance.now();
    const req = http.get({ agent, host: url.hostname, port: url.port, path: '/work' }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, ms: performance.now() - startedAt }));
    });
    req.on('error', () => resolve({ status: 0, ms: performance.now() - startedAt }));
  });
}

/** Closed loop at `concurrency`: the most the server sustains, and its latency there. */
async function closedLoop(agent: http.Agent, url: URL, concurrency: number, ms: number) {
  const shots: Shot[] = [];
  const until = performance.now() + ms;
  const startedAt = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < until) shots.push(await shoot(agent, url));
    }),
  );
  return { rps: (shots.length * 1000) / (performance.now() - startedAt), shots };
}

/** Open loop: one request every 1000/rps ms for `ms`, whatever the answers. */
async function openLoop(agent: http.Agent, url: URL, rps: number, ms: number) {
  const pending: Promise<Shot>[] = [];
  const startedAt = performance.now();
  const interval = 1000 / rps;
  let sent = 0;
  while (performance.now() - startedAt < ms) {
    const due = Math.floor((performance.now() - startedAt) / interval) + 1;
    for (; sent < due; sent++) pending.push(shoot(agent, url));
    await new Promise((resolve) => setImmediate(resolve));
  }
  const shots = await Promise.all(pending);
  return { shots, elapsedMs: performance.now() - startedAt };
}

export async function runOverloadPhase(
  options: { cap?: number; seconds?: number; workMs?: number } = {},
): Promise<{ result: OverloadResult; markdown: string }> {
  const cap = options.cap ?? 16;
  const seconds = options.seconds ?? 5;
  const workMs = options.workMs ?? 1;
  const server = await startServer({
    name: 'overload',
    script: 'bench/overload-server.ts',
    env: {
      LOG_LEVEL: 'silent',
      NODE_ENV: 'production',
      HTTP_MAX_IN_FLIGHT: String(cap),
      HTTP_TIME_BUDGET_MS: '10000',
      BENCH_WORK_MS: String(workMs),
    },
    readyPath: '/healthz',
  });
  const url = new URL(server.url);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 2000 });
  try {
    await closedLoop(agent, url, 2, 1000); // warm-up
    // Unloaded: `cap` requests at a time, what the server sustains, and its latency there.
    const max = await closedLoop(agent, url, cap, seconds * 1000);
    const unloadedP99Ms = percentile(
      max.shots.map((s) => s.ms),
      0.99,
    );
    const offeredRps = 4 * max.rps;
    const { shots, elapsedMs } = await openLoop(agent, url, offeredRps, seconds * 1000);
    const admitted = shots.filter((s) => s.status === 200);
    const shed = shots.filter((s) => s.status === 503);
    const result: OverloadResult = {
      cap,
      workMs,
      unloadedRps: max.rps,
      unloadedP99Ms,
      offeredRps,
      admittedRps: (admitted.length * 1000) / elapsedMs,
      admittedP99Ms: percentile(
        admitted.map((s) => s.ms),
        0.99,
      ),
      shedP99Ms: percentile(
        shed.map((s) => s.ms),
        0.99,
      ),
      shedShare: shed.length / shots.length,
      errors: shots.length - admitted.length - shed.length,
    };
    return { result, markdown: overloadMarkdown(result) };
  } finally {
    agent.destroy();
    await server.stop();
  }
}

export function overloadMarkdown(r: OverloadResult): string {
  const f = (n: number, d = 2) => n.toFixed(d);
  return [
    `Overload: a route costing ${r.workMs} ms of CPU and a 5 ms wait (a database call), HTTP_MAX_IN_FLIGHT=${r.cap}, offered ${f(r.offeredRps, 0)} req/s (4x the ${f(r.unloadedRps, 0)} req/s it sustains), open loop.`,
    '',
    '| Figure | Measured | Goal |',
    '|---|---|---|',
    `| admitted p99 / unloaded p99 | ${f(r.admittedP99Ms)} / ${f(r.unloadedP99Ms)} ms = ${f(r.admittedP99Ms / r.unloadedP99Ms)}x | <= 3x |`,
    `| shed 503 p99 | ${f(r.shedP99Ms)} ms | <= 5 ms |`,
    `| admitted throughput / unloaded max | ${f(r.admittedRps, 0)} / ${f(r.unloadedRps, 0)} req/s = ${f(r.admittedRps / r.unloadedRps)} | >= 0.9 |`,
    `| shed share, errors | ${f(100 * r.shedShare, 1)} %, ${r.errors} | |`,
  ].join('\n');
}

if (import.meta.main) {
  const { values } = parseArgs({
    options: { cap: { type: 'string' }, seconds: { type: 'string' }, 'work-ms': { type: 'string' } },
  });
  const { markdown } = await runOverloadPhase({
    ...(values.cap ? { cap: Number(values.cap) } : {}),
    ...(values.seconds ? { seconds: Number(values.seconds) } : {}),
    ...(values['work-ms'] ? { workMs: Number(values['work-ms']) } : {}),
  });
  console.log(markdown);
}
