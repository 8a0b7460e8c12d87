/** Width of one time slot; windows are whole numbers of slots. */
const SLOT_MS = 10_000;
/** The longest window kept (15 minutes). */
const SLOTS = 90;
/** Latency buckets grow by 25%: a percentile is known to within a quarter of itself. */
const GROWTH = 1.25;
const MIN_MS = 0.1;
const BUCKETS = Math.ceil(Math.log(600_000 / MIN_MS) / Math.log(GROWTH)) + 1;
const LOG_GROWTH = Math.log(GROWTH);

/** One route's traffic in one slot. */
interface Slot {
  epoch: number;
  count: number;
  serverErrors: number;
  clientErrors: number;
  readonly buckets: Uint32Array;
}

/** What one route (method + template) did over a window. */
export interface RouteWindowStats {
  readonly method: string;
  readonly route: string;
  readonly requests: number;
  readonly ratePerSecond: number;
  readonly p50Ms: number;
  readonly p95Ms: number;
  readonly p99Ms: number;
  /** Share of answers that were 5xx. */
  readonly errorRate: number;
  readonly clientErrorRate: number;
}

/** Every route's traffic over one window, and the totals across them. */
export interface WindowSummary {
  readonly windowSeconds: number;
  readonly requests: number;
  readonly ratePerSecond: number;
  readonly errorRate: number;
  readonly routes: readonly RouteWindowStats[];
}

/**
 * Request latency and outcomes per route over sliding windows (1, 5 and 15 minutes): ten-second
 * slots in a ring, each with a log-scale latency histogram, so percentiles over any window come from
 * adding slots up. Memory is bounded by routes × 90 slots × 71 buckets, whatever the traffic, and
 * recording is a few arithmetic operations. Percentiles are the upper bound of their bucket: within
 * 25% (Prometheus' histograms cover the long run; these answer "what is slow right now").
 *
 * @example
 * const windows = new RouteWindows();
 * windows.record('GET', '/api/hotels/:id', 200, 3.2);
 * windows.summary(60_000).routes[0]?.p95Ms; // ≈ 3.7
 */
export class RouteWindows {
  readonly #routes = new Map<string, { method: string; route: string; slots: (Slot | undefined)[] }>();
  readonly #now: () => number;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  record(method: string, route: string, statusCode: number, durationMs: number): void {
    const key = `${method} ${route}`;
    let entry = this.#routes.get(key);
    if (!entry) {
      entry = { method, route, slots: new Array(SLOTS) };
      this.#routes.set(key, entry);
    }
    const epoch = Math.floor(this.#now() / SLOT_MS);
    const index = epoch % SLOTS;
    let slot = entry.slots[index];
    if (!slot) {
      slot = { epoch, count: 0, serverErrors: 0, clientErrors: 0, buckets: new Uint32Array(BUCKETS) };
      entry.slots[index] = slot;
    } else if (slot.epoch !== epoch) {
      slot.epoch = epoch;
      slot.count = 0;
      slot.serverErrors = 0;
      slot.clientErrors = 0;
      slot.buckets.fill(0);
    }
    slot.count++;
    if (statusCode >= 500) slot.serverErrors++;
    else if (statusCode >= 400) slot.clientErrors++;
    slot.buckets[bucketOf(durationMs)]!++;
  }

  /** Every route seen in the last `windowMs` (at most 15 minutes), busiest first. */
  summary(windowMs: number): WindowSummary {
    const slots = Math.max(1, Math.min(SLOTS, Math.round(windowMs / SLOT_MS)));
    const current = Math.floor(this.#now() / SLOT_MS);
    // The current slot is partly filled: the window's length is what it really covers.
    const seconds = ((slots - 1) * SLOT_MS + (this.#now() % SLOT_MS)) / 1000;
    const routes: RouteWindowStats[] = [];
    let requests = 0;
    let serverErrors = 0;
    for (const { method, route, slots: ring } of this.#routes.values()) {
      const merged = new Uint32Array(BUCKETS);
      let count = 0;
      let errors = 0;
      let clientErrors = 0;
      for (let epoch = current - slots + 1; epoch <= current; epoch++) {
        const slot = ring[epoch % SLOTS];
        if (!slot || slot.epoch !== epoch) continue;
        count += slot.count;
        errors += slot.serverErrors;
        clientErrors += slot.clientErrors;
        for (let b = 0; b < BUCKETS; b++) merged[b]! += slot.buckets[b]!;
      }
      if (count === 0) continue;
      requests += count;
      serverErrors += errors;
      routes.push({
        method,
        route,
        requests: count,
        ratePerSecond: round(count / seconds),
        p50Ms: percentile(merged, count, 0.5),
        p95Ms: percentile(merged, count, 0.95),
        p99Ms: percentile(merged, count, 0.99),
        errorRate: round(errors / count, 4),
        clientErrorRate: round(clientErrors / count, 4),
      });
    }
    routes.sort((a, b) => b.requests - a.requests);
    return {
      windowSeconds: Math.round(seconds),
      requests,
      ratePerSecond: round(requests / seconds),
      errorRate: requests === 0 ? 0 : round(serverErrors / requests, 4),
      routes,
    };
  }
}

function bucketOf(ms: number): number {
  if (ms <= MIN_MS) return 0;
  return Math.min(BUCKETS - 1, Math.ceil(Math.log(ms / MIN_MS) / LOG_GROWTH));
}

function upperBound(bucket: number): number {
  return MIN_MS * GROWTH ** bucket;
}

function percentile(buckets: Uint32Array, count: number, q: number): number {
  const rank = Math.ceil(q * count);
  let seen = 0;
  for (let b = 0; b < BUCKETS; b++) {
    seen += buckets[b]!;
    if (seen >= rank) return round(upperBound(b), 2);
  }
  return round(upperBound(BUCKETS - 1), 2);
}

function round(value: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}
