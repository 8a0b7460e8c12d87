// Small building blocks of the measuring phases, shared by the ceiling, the operations and the
// scaling curve.
import type { Endpoint } from './bench-servers.ts';
import { type BenchRequest, type LoadResult, type PhaseOptions, runLoad } from './measure.ts';
import type { Timing } from './options.ts';
import type { LoadTotals } from './report.ts';

/** Exactly `count` requests, one at a time. */
export function sequential(count: number): PhaseOptions {
  return { concurrency: 1, durationMs: 0, minRequests: count, maxRequests: count };
}

/** One request at a time for the latency phase's length (at least `minLatency`, at most 2,000). */
export function latency(timing: Timing): PhaseOptions {
  return { concurrency: 1, durationMs: timing.latencyMs, minRequests: timing.minLatency, maxRequests: 2000 };
}

export function emptyLoad(): LoadTotals {
  return { completed: 0, elapsedMs: 0, p50s: [], statuses: {} };
}

export function addLoad(totals: LoadTotals, res: LoadResult): void {
  totals.completed += res.completed;
  totals.elapsedMs += res.elapsedMs;
  totals.p50s.push(res.p50);
  for (const [code, n] of Object.entries(res.statuses))
    totals.statuses[code] = (totals.statuses[code] ?? 0) + n;
}

export function clamp(v: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, Math.floor(v)));
}

/**
 * The ceiling: hello world through the same client path (autocannon with setupRequest), at every
 * connection count the operations use. Returns req/s by connection count.
 */
export async function measureCeilings(
  hello: Endpoint,
  settings: { readonly connections: readonly number[]; readonly rounds: number; readonly timing: Timing },
  log: (message: string) => void,
): Promise<Map<number, number>> {
  const helloReq = (): BenchRequest => ({ method: 'GET', path: '/hello' });
  const ceilings = new Map<number, number>();
  for (const connections of new Set(settings.connections)) {
    const warm = await runLoad(hello, helloReq, { connections, amount: 5000 });
    const amount = Math.max(1000, Math.round((warm.completed / warm.elapsedMs) * settings.timing.loadMs));
    const total: LoadTotals = emptyLoad();
    for (let r = 0; r < settings.rounds; r++)
      addLoad(total, await runLoad(hello, helloReq, { connections, amount }));
    ceilings.set(connections, (total.completed * 1000) / total.elapsedMs);
    log(`ceiling: hello world ${ceilings.get(connections)!.toFixed(0)} req/s at ${connections} connections`);
  }
  return ceilings;
}
