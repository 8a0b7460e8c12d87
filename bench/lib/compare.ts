// One row of the before/after table: an operation measured on the naive side and on Innkeep's,
// alternating, on the same inputs. See measureOperation.
import { isDeepStrictEqual } from 'node:util';
import type { Endpoint } from './bench-servers.ts';
import { median, runLoad, runPhase, type Sample } from './measure.ts';
import type { Operation } from './ops.ts';
import type { BenchOptions } from './options.ts';
import { addLoad, clamp, emptyLoad, sequential } from './phases.ts';
import { claimRatio, type LoadTotals, type OpResult, sideStats } from './report.ts';

type Settings = Pick<BenchOptions, 'timing' | 'rounds' | 'concurrency' | 'reportConcurrency'>;

/** One side of a comparison while it is measured. */
interface Side {
  readonly endpoint: Endpoint;
  readonly latency: Sample[];
  readonly load: LoadTotals;
  /** Times of the answer check and the warm-up: what the phases are sized from. */
  readonly warm: number[];
  /** Next fresh request index (writes never repeat one). */
  next: number;
  /** Median warm time. */
  typical: number;
}

type Answers = NonNullable<OpResult['answers']>;

/**
 * Both sides answer the same inputs in the same proportions. Reads: request 0 .. period-1 (every
 * distinct input) go to both sides first, answers and statuses compared, which also warms them up;
 * then each round sends the same index range to both sides, the slower side once and the faster one
 * repeated so that it too fills the phase. Writes cannot repeat a request (its Idempotency-Key would
 * replay), so each side takes fresh indices. Round r runs naive then Innkeep (odd rounds the other
 * way round): one request at a time for latency, then `connections` at once for throughput, always a
 * fixed number of requests, so nothing from one phase is still running in the next.
 */
export async function measureOperation(
  op: Operation,
  before: Endpoint,
  after: Endpoint,
  ceilings: ReadonlyMap<number, number>,
  settings: Settings,
): Promise<OpResult> {
  const { timing } = settings;
  const side = (endpoint: Endpoint): Side => ({
    endpoint,
    latency: [],
    load: emptyLoad(),
    warm: [],
    next: 0,
    typical: 0,
  });
  const sides = [side(before), side(after)] as const;
  const [n, a] = sides;
  const checked = op.writes ? 1 : op.period;
  const answers = await compareAnswers(op, n, a, checked);
  for (const s of sides) {
    s.next = checked;
    // A few more, so even a single-input operation has warmed plans and connections.
    const warm = await runPhase(s.endpoint.target, op.request, s.next, sequential(timing.warmup));
    s.next += op.writes ? warm.sent : 0;
    s.warm.push(...warm.samples.map((x) => x.ms));
  }
  const connections = op.id.endsWith('report') ? settings.reportConcurrency : settings.concurrency;
  for (const s of sides) s.typical = median(s.warm);
  const slowest = Math.max(...sides.map((s) => s.typical));
  // Requests per round: what the slower side does in a phase, at least minLatency / one per connection.
  const perRound = clamp(timing.latencyMs / slowest, timing.minLatency, 2000);
  const perLoad = clamp((timing.loadMs / slowest) * connections, connections, 20000);
  for (let r = 0; r < settings.rounds; r++) {
    const order = r % 2 === 0 ? sides : [...sides].reverse();
    for (const s of order) await latencyPhase(op, s, r, perRound, settings);
    for (const s of order) await loadPhase(op, s, r, perLoad, connections, settings);
  }
  const naive = sideStats(n.latency, n.load);
  const innkeep = sideStats(a.latency, a.load);
  const speedup = naive.p50 / innkeep.p50;
  return {
    id: op.id,
    title: op.title,
    ...(op.claim ? { claim: op.claim, claimMet: speedup >= claimRatio(op.claim) } : {}),
    concurrency: connections,
    inputs: checked,
    naive,
    innkeep,
    speedup,
    throughputGain: innkeep.rps / naive.rps,
    ceilingShare: innkeep.rps / (ceilings.get(connections) ?? Number.NaN),
    sameAnswer: answers === undefined,
    ...(answers ? { answers } : {}),
  };
}

/** Sends requests 0 .. checked-1 to both sides; the first pair of answers that differ, if any. */
async function compareAnswers(
  op: Operation,
  n: Side,
  a: Side,
  checked: number,
): Promise<Answers | undefined> {
  let answers: Answers | undefined;
  for (let i = 0; i < checked; i++) {
    const rn = await n.endpoint.target.send(op.request(i));
    const ra = await a.endpoint.target.send(op.request(i));
    n.warm.push(rn.ms);
    a.warm.push(ra.ms);
    if (!answers && (rn.status !== ra.status || !sameBody(rn.body, ra.body, op.writes === true))) {
      answers = { naive: `${rn.status} ${rn.body}`, innkeep: `${ra.status} ${ra.body}`, request: i };
    }
  }
  return answers;
}

/** First index of round r's range of reads (the same range for both sides); writes start at 0. */
const base = (op: Operation, r: number, per: number) => (op.writes ? 0 : (r * per) % Math.max(op.period, 1));

/** One request at a time: `perRound` inputs, repeated by the faster side to fill the phase. */
async function latencyPhase(op: Operation, s: Side, r: number, perRound: number, settings: Settings) {
  const { timing } = settings;
  const repeat = op.writes ? 1 : clamp(timing.latencyMs / (perRound * s.typical), 1, 50);
  const count = perRound * repeat;
  const first = op.writes ? s.next : base(op, r, perRound);
  const map = (k: number) => (op.writes ? first + k : first + (k % perRound));
  const res = await runPhase(s.endpoint.target, (k) => op.request(map(k)), 0, sequential(count));
  if (op.writes) s.next += count;
  s.latency.push(...res.samples);
}

/** `connections` at once: `perLoad` inputs, repeated by the faster side to fill the phase. */
async function loadPhase(
  op: Operation,
  s: Side,
  r: number,
  perLoad: number,
  connections: number,
  settings: Settings,
) {
  // Under load the two cores serve about two requests at a time.
  const repeat = op.writes
    ? 1
    : clamp(settings.timing.loadMs / ((perLoad * s.typical) / Math.min(connections, 2)), 1, 100);
  const amount = perLoad * repeat;
  const first = op.writes ? s.next : base(op, r, perLoad);
  const map = (k: number) => (op.writes ? first + k : first + (k % perLoad));
  const res = await runLoad(s.endpoint, (k) => op.request(map(k)), { connections, amount });
  if (op.writes) s.next += amount;
  addLoad(s.load, res);
}

/** Parsed JSON equality; for writes, ids and timestamps (different rows on each side) are ignored. */
function sameBody(a: string, b: string, writes: boolean): boolean {
  try {
    const strip = (v: unknown): unknown => {
      if (Array.isArray(v)) return v.map(strip);
      if (v && typeof v === 'object') {
        return Object.fromEntries(
          Object.entries(v)
            .filter(([k]) => !writes || !(k === 'id' || k.endsWith('Id') || k.endsWith('At')))
            .map(([k, x]) => [k, strip(x)]),
        );
      }
      return v;
    };
    return isDeepStrictEqual(strip(JSON.parse(a)), strip(JSON.parse(b)));
  } catch {
    return false;
  }
}
