// The scaling curve: Innkeep alone, on each dataset size, for the operations an index should keep
// flat (SCALING_OPS).
import type { SeedScale } from '../../src/platform/config/index.ts';
import { type Endpoint, startScalingServer } from './bench-servers.ts';
import { ensureTemplate, templateName } from './datasets.ts';
import { percentile, runPhase, type Sample } from './measure.ts';
import { loadFixture, type Operation, operations, SCALING_OPS } from './ops.ts';
import { latency } from './phases.ts';
import type { ScalingPoint } from './report.ts';
import type { BenchRun } from './run-context.ts';

interface Sized {
  readonly scale: SeedScale;
  readonly endpoint: Endpoint;
  readonly ops: Operation[];
  readonly rows: Record<string, number>;
}

/**
 * Innkeep's search and user bookings at each dataset size, one server per size, rounds alternating
 * between the sizes. Servers read the templates directly (these operations only read).
 */
export async function measureScaling(run: BenchRun, scales: readonly SeedScale[]): Promise<ScalingPoint[]> {
  const sized: Sized[] = [];
  for (const s of scales) sized.push(await startSize(run, s));
  const points: ScalingPoint[] = [];
  for (const id of SCALING_OPS) {
    points.push(...(await measureAcrossSizes(run, sized, id)));
    run.log(
      `scaling ${id}: ${points
        .filter((p) => p.op === id)
        .map((p) => `${p.scale} ${p.p50.toFixed(2)} ms`)
        .join(', ')}`,
    );
  }
  return points;
}

/** The template of one size (seeded or reused), a server on it and its operations. */
async function startSize(run: BenchRun, scale: SeedScale): Promise<Sized> {
  const { options } = run;
  const info = await ensureTemplate(run.cluster, {
    scale,
    seed: options.seed,
    today: run.today,
    // The before/after table's dataset was (re)seeded already in this run.
    fresh: options.fresh && scale !== options.scale,
    logger: run.logger,
  });
  run.log(
    `scaling: dataset ${scale} ${info.reused ? 'reused' : `seeded in ${(info.seedMs / 1000).toFixed(0)} s`}`,
  );
  const url = run.cluster.urlFor(templateName(scale, options.seed));
  const endpoint = await startScalingServer(run, scale, url);
  const fixture = await loadFixture(url);
  return {
    scale,
    endpoint,
    ops: operations(fixture, run.jwtSecret, run.runId).filter((o) =>
      (SCALING_OPS as readonly string[]).includes(o.id),
    ),
    rows: { hotels: info.counts.hotels ?? 0, bookings: info.counts.bookings ?? 0 },
  };
}

async function measureAcrossSizes(
  run: BenchRun,
  sized: readonly Sized[],
  id: string,
): Promise<ScalingPoint[]> {
  const samples = new Map<SeedScale, Sample[]>(sized.map((x) => [x.scale, []]));
  const next = new Map<SeedScale, number>(sized.map((x) => [x.scale, 0]));
  const opOf = (x: Sized) => x.ops.find((o) => o.id === id)!;
  for (const x of sized) {
    const warm = await runPhase(x.endpoint.target, opOf(x).request, 0, {
      concurrency: 1,
      durationMs: 0,
      minRequests: 5,
      maxRequests: 5,
    });
    next.set(x.scale, warm.sent);
  }
  for (let r = 0; r < run.options.rounds; r++) {
    const order = r % 2 === 0 ? sized : [...sized].reverse();
    for (const x of order) {
      const res = await runPhase(
        x.endpoint.target,
        opOf(x).request,
        next.get(x.scale)!,
        latency(run.options.timing),
      );
      next.set(x.scale, next.get(x.scale)! + res.sent);
      samples.get(x.scale)!.push(...res.samples);
    }
  }
  return sized.map((x) => {
    const ms = samples.get(x.scale)!.map((s) => s.ms);
    return {
      scale: x.scale,
      op: id,
      rows: x.rows,
      p50: percentile(ms, 0.5),
      p95: percentile(ms, 0.95),
      p99: percentile(ms, 0.99),
      queries: percentile(
        samples.get(x.scale)!.map((s) => s.queries),
        0.5,
      ),
    };
  });
}
