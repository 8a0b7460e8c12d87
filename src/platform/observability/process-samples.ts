import { monitorEventLoopDelay } from 'node:perf_hooks';

type IntervalHistogram = ReturnType<typeof monitorEventLoopDelay>;

/** One reading of the process. */
export interface ProcessSample {
  readonly at: number;
  readonly rssBytes: number;
  readonly heapUsedBytes: number;
  /** Event-loop delay over the interval this sample closes, in ms. */
  readonly lagP99Ms: number;
  readonly lagMaxMs: number;
  /** Loop turns measured in that interval (about 100 a second when idle). */
  readonly lagTurns: number;
  /** How long that interval lasted. */
  readonly spanMs: number;
}

/**
 * An interval with fewer loop turns than this, and shorter than MIN_SPAN_MS, says too little: one
 * pause among a handful of turns would be "the p99". A long interval counts however few turns it
 * had: a loop blocked all the time turns least of all.
 */
const MIN_TURNS = 200;
const MIN_SPAN_MS = 5_000;

export interface MemoryReport {
  readonly rssBytes: number;
  readonly heapUsedBytes: number;
  readonly heapTotalBytes: number;
  readonly externalBytes: number;
  /** Least-squares slope over the kept samples (up to 15 minutes); undefined with < 3 samples. */
  readonly trend:
    | {
        readonly windowSeconds: number;
        readonly rssBytesPerMinute: number;
        readonly heapUsedBytesPerMinute: number;
      }
    | undefined;
}

export interface ProcessSamplesOptions {
  /** How often memory and event-loop delay are sampled (default 10 s); conditions are checked every second. */
  readonly sampleEveryMs?: number;
  /** Samples kept (default 90: 15 minutes at 10 s). */
  readonly keep?: number;
  readonly now?: () => number;
}

/**
 * The process over time, for the performance report: memory and event-loop delay sampled every
 * 10 s into a ring of 15 minutes (a memory trend, lag over a window), and named conditions checked
 * every second to say how long each has held without a break ("the pool has had waiters for 75 s").
 * Timers are unref'd; `stop()` ends them.
 *
 * @example
 * const samples = new ProcessSamples();
 * samples.watch('pool-waiting', () => db.stats().waiting > 0);
 * samples.start();
 * samples.heldForMs('pool-waiting'); // 0 unless it has held since the last check
 */
export class ProcessSamples {
  readonly #samples: ProcessSample[] = [];
  readonly #keep: number;
  readonly #sampleEveryMs: number;
  readonly #now: () => number;
  readonly #conditions = new Map<string, { test: () => boolean; since: number | undefined }>();
  #lag: IntervalHistogram | undefined;
  #lagSince = 0;
  #timers: NodeJS.Timeout[] = [];

  constructor(options: ProcessSamplesOptions = {}) {
    this.#sampleEveryMs = options.sampleEveryMs ?? 10_000;
    this.#keep = options.keep ?? 90;
    this.#now = options.now ?? Date.now;
  }

  /** Tracks how long `test()` has been true without a break; checked every second. */
  watch(name: string, test: () => boolean): void {
    this.#conditions.set(name, { test, since: undefined });
  }

  start(): void {
    if (this.#timers.length > 0) return;
    this.#lag = monitorEventLoopDelay({ resolution: 10 });
    this.#lag.enable();
    this.#lagSince = this.#now();
    this.#timers = [
      setInterval(() => this.sample(), this.#sampleEveryMs),
      setInterval(() => this.check(), 1000),
    ];
    for (const timer of this.#timers) timer.unref();
  }

  stop(): void {
    for (const timer of this.#timers) clearInterval(timer);
    this.#timers = [];
    this.#lag?.disable();
    this.#lag = undefined;
  }

  /** Takes a sample now (the timer calls it; tests may too). */
  sample(): void {
    const memory = process.memoryUsage();
    const lag = this.#lagNow();
    this.#lag?.reset();
    this.#lagSince = this.#now();
    this.#samples.push({ at: this.#now(), rssBytes: memory.rss, heapUsedBytes: memory.heapUsed, ...lag });
    if (this.#samples.length > this.#keep) this.#samples.shift();
  }

  /** Evaluates every watched condition now (the timer calls it every second). */
  check(): void {
    const now = this.#now();
    for (const condition of this.#conditions.values()) {
      let holds = false;
      try {
        holds = condition.test();
      } catch {
        holds = false;
      }
      if (!holds) condition.since = undefined;
      else condition.since ??= now;
    }
  }

  /** How long `name` has held without a break, as of the last check; 0 when it does not hold. */
  heldForMs(name: string): number {
    const since = this.#conditions.get(name)?.since;
    return since === undefined ? 0 : this.#now() - since;
  }

  memory(): MemoryReport {
    const memory = process.memoryUsage();
    return {
      rssBytes: memory.rss,
      heapUsedBytes: memory.heapUsed,
      heapTotalBytes: memory.heapTotal,
      externalBytes: memory.external,
      trend: this.#trend(),
    };
  }

  /**
   * Event-loop delay over the last `windowMs`: the worst of the 10-second intervals' p99s (and max),
   * including the one running now, among those measured well enough (200+ loop turns, or 5+ s
   * long: a short interval's "p99" is its single worst pause), and how many turns those covered.
   */
  eventLoop(windowMs: number): { p99Ms: number; maxMs: number; turns: number } {
    const from = this.#now() - windowMs;
    let p99Ms = 0;
    let maxMs = 0;
    let turns = 0;
    for (const s of [...this.#samples.filter((x) => x.at >= from), { at: this.#now(), ...this.#lagNow() }]) {
      if (s.lagTurns < MIN_TURNS && s.spanMs < MIN_SPAN_MS) continue;
      p99Ms = Math.max(p99Ms, s.lagP99Ms);
      maxMs = Math.max(maxMs, s.lagMaxMs);
      turns += s.lagTurns;
    }
    return { p99Ms, maxMs, turns };
  }

  #lagNow(): { lagP99Ms: number; lagMaxMs: number; lagTurns: number; spanMs: number } {
    const h = this.#lag;
    const spanMs = this.#now() - this.#lagSince;
    // The histogram holds nothing until the loop has turned once at its resolution.
    if (!h || h.count === 0) return { lagP99Ms: 0, lagMaxMs: 0, lagTurns: 0, spanMs };
    // Delays are in ns and include the 10 ms sampling resolution itself.
    const less = (ns: number) => Math.max(0, Math.round((ns / 1e6 - 10) * 100) / 100);
    return { lagP99Ms: less(h.percentile(99)), lagMaxMs: less(h.max), lagTurns: h.count, spanMs };
  }

  #trend(): MemoryReport['trend'] {
    const s = this.#samples;
    if (s.length < 3) return undefined;
    const t0 = s[0]!.at;
    const slope = (pick: (x: ProcessSample) => number) => {
      const n = s.length;
      let sx = 0;
      let sy = 0;
      let sxx = 0;
      let sxy = 0;
      for (const x of s) {
        const t = (x.at - t0) / 60_000;
        sx += t;
        sy += pick(x);
        sxx += t * t;
        sxy += t * pick(x);
      }
      const d = n * sxx - sx * sx;
      return d === 0 ? 0 : Math.round((n * sxy - sx * sy) / d);
    };
    return {
      windowSeconds: Math.round((s[s.length - 1]!.at - t0) / 1000),
      rssBytesPerMinute: slope((x) => x.rssBytes),
      heapUsedBytesPerMinute: slope((x) => x.heapUsedBytes),
    };
  }
}
