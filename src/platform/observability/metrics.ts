import {
  Counter,
  collectDefaultMetrics,
  Gauge,
  Histogram,
  type MetricObjectWithValues,
  type MetricValue,
  Registry,
} from 'prom-client';

/** Seconds; spans a cached hit (~1 ms) to a request near its timeout. */
const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
/** Seconds; statements are mostly sub-millisecond on indexed plans. */
const STATEMENT_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1, 5];
const STATEMENTS_PER_REQUEST_BUCKETS = [0, 1, 2, 3, 5, 8, 13, 21, 34, 55];

/** The label a request gets when no route matched it (404s): raw URLs never become labels. */
export const UNMATCHED_ROUTE = 'unmatched';

/**
 * Node's own figures (event-loop lag, GC, heap, RSS, CPU) describe the process, not an app
 * instance: one registry for them per process, collected once however many apps a process builds
 * (tests build many), and appended to every app's scrape.
 */
let processRegistry: Registry | undefined;
function nodeRegistry(): Registry {
  if (!processRegistry) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry, eventLoopMonitoringPrecision: 20 });
  }
  return processRegistry;
}

/** A counter the app defines (business outcomes); labels are bounded values chosen in code. */
export interface CounterHandle<L extends string> {
  inc(labels: Partial<Record<L, string>>, value?: number): void;
}

/** How the request and statement figures are read back for the JSON views (`/api/metrics`). */
export type MetricSnapshot = MetricObjectWithValues<MetricValue<string>>;

/**
 * The process's Prometheus registry and Innkeep's platform instruments: HTTP request durations by
 * route template, in-flight requests, SQL statement durations by statement name, statements per
 * request, slow statements. Other parts (pool, cache, breakers, queues, bookings) register their own
 * instruments here, so one scrape of `text()` has everything.
 *
 * Every label value is bounded by code: route templates (never raw URLs), statement names, status
 * classes (2xx…5xx), names from the app. A caller must never put an id or user input in a label.
 *
 * @example
 * const metrics = new Metrics();
 * metrics.httpDuration.observe({ route: '/api/hotels/:id', method: 'GET', status_class: '2xx' }, 0.004);
 * const text = await metrics.text(); // Prometheus exposition format
 */
export class Metrics {
  readonly registry = new Registry();
  readonly contentType = this.registry.contentType;

  readonly httpDuration = new Histogram({
    name: 'innkeep_http_request_duration_seconds',
    help: 'HTTP request duration by route template, method and status class',
    labelNames: ['route', 'method', 'status_class'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });

  readonly httpInFlight = new Gauge({
    name: 'innkeep_http_requests_in_flight',
    help: 'HTTP requests received and not yet answered or aborted',
    registers: [this.registry],
  });

  readonly statementDuration = new Histogram({
    name: 'innkeep_db_statement_duration_seconds',
    help: 'SQL statement duration by statement name',
    labelNames: ['statement'] as const,
    buckets: STATEMENT_BUCKETS,
    registers: [this.registry],
  });

  readonly statementErrors = new Counter({
    name: 'innkeep_db_statement_errors_total',
    help: 'SQL statements that failed, by statement name',
    labelNames: ['statement'] as const,
    registers: [this.registry],
  });

  readonly slowStatements = new Counter({
    name: 'innkeep_db_slow_statements_total',
    help: 'SQL statements slower than DB_SLOW_QUERY_WARN_MS, by statement name',
    labelNames: ['statement'] as const,
    registers: [this.registry],
  });

  readonly statementsPerRequest = new Histogram({
    name: 'innkeep_db_statements_per_request',
    help: 'SQL statements one HTTP request ran, by route template',
    labelNames: ['route'] as const,
    buckets: STATEMENTS_PER_REQUEST_BUCKETS,
    registers: [this.registry],
  });

  readonly #withNodeMetrics: boolean;

  /** `nodeMetrics: false` leaves Node's process figures out of this registry's scrape. */
  constructor(options: { readonly nodeMetrics?: boolean } = {}) {
    this.#withNodeMetrics = options.nodeMetrics ?? true;
    if (this.#withNodeMetrics) nodeRegistry();
  }

  /** Defines (or returns the already defined) counter `name`; for app-level outcomes. */
  counter<const L extends string>(name: string, help: string, labelNames: readonly L[]): CounterHandle<L> {
    const existing = this.registry.getSingleMetric(name);
    if (existing) return existing as unknown as CounterHandle<L>;
    const counter = new Counter({ name, help, labelNames, registers: [this.registry] });
    return { inc: (labels, value = 1) => counter.inc(labels, value) };
  }

  /** Defines (or returns the already defined) histogram `name`, in seconds. */
  histogram<const L extends string>(
    name: string,
    help: string,
    labelNames: readonly L[],
    buckets: readonly number[],
  ): { observe(labels: Record<L, string>, seconds: number): void } {
    const existing = this.registry.getSingleMetric(name) as Histogram<L> | undefined;
    const histogram =
      existing ??
      new Histogram({ name, help, labelNames, buckets: [...buckets], registers: [this.registry] });
    return { observe: (labels, seconds) => histogram.observe(labels as Partial<Record<L, string>>, seconds) };
  }

  /**
   * Defines a counter whose values are read at scrape time from `read()`: for counts kept elsewhere
   * (the cache's counters), so that they are counted in one place and only exported here. `read()`
   * must return totals since the process started (they only grow).
   */
  sampledCounter<const L extends string>(
    name: string,
    help: string,
    labelNames: readonly L[],
    read: () => ReadonlyArray<{ readonly labels: Record<L, string>; readonly value: number }>,
  ): void {
    if (this.registry.getSingleMetric(name)) return;
    new Counter({
      name,
      help,
      labelNames,
      registers: [this.registry],
      collect() {
        this.reset();
        for (const { labels, value } of read()) this.inc(labels as Partial<Record<L, string>>, value);
      },
    });
  }

  /** Defines a labelled gauge whose values are read at scrape time from `read()` (breaker states). */
  sampledGauge<const L extends string>(
    name: string,
    help: string,
    labelNames: readonly L[],
    read: () => ReadonlyArray<{ readonly labels: Record<L, string>; readonly value: number }>,
  ): void {
    if (this.registry.getSingleMetric(name)) return;
    new Gauge({
      name,
      help,
      labelNames,
      registers: [this.registry],
      collect() {
        this.reset();
        for (const { labels, value } of read()) this.set(labels as Partial<Record<L, string>>, value);
      },
    });
  }

  /**
   * Defines gauges whose values are read at scrape time from `read()` (pool sizes, queue depths):
   * one gauge per key of what `read()` returns, named `${prefix}_${key}`.
   */
  sampledGauges<K extends string>(
    prefix: string,
    help: Record<K, string>,
    read: () => Record<K, number> | undefined,
  ): void {
    for (const key of Object.keys(help) as K[]) {
      new Gauge({
        name: `${prefix}_${key}`,
        help: help[key],
        registers: [this.registry],
        collect() {
          const values = read();
          if (values) this.set(values[key]);
        },
      });
    }
  }

  /** Records one answered request (called from the HTTP server's response hook). */
  observeRequest(route: string, method: string, statusCode: number, seconds: number, statements: number) {
    this.httpDuration.observe({ route, method, status_class: statusClass(statusCode) }, seconds);
    this.statementsPerRequest.observe({ route }, statements);
  }

  /** Records one finished statement (called from the database's statement hook). */
  observeStatement(statement: string, seconds: number, failed: boolean, slow: boolean) {
    this.statementDuration.observe({ statement }, seconds);
    if (failed) this.statementErrors.inc({ statement });
    if (slow) this.slowStatements.inc({ statement });
  }

  /** Every series in the Prometheus text format: this registry's, then Node's. */
  async text(): Promise<string> {
    const own = await this.registry.metrics();
    if (!this.#withNodeMetrics) return own;
    return `${own}\n${await nodeRegistry().metrics()}`;
  }

  /** The same figures as objects (for the JSON view). */
  async snapshot(): Promise<MetricSnapshot[]> {
    const own = (await this.registry.getMetricsAsJSON()) as MetricSnapshot[];
    if (!this.#withNodeMetrics) return own;
    return [...own, ...((await nodeRegistry().getMetricsAsJSON()) as MetricSnapshot[])];
  }
}

export function statusClass(statusCode: number): string {
  return `${Math.min(5, Math.max(1, Math.floor(statusCode / 100)))}xx`;
}
