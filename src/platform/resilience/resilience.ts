import type { DependencyOverrides } from '../config/resilience-overrides.ts';
import type { Logger, Metrics } from '../observability/index.ts';
import { type BreakerSnapshot, CircuitBreaker, STATE_VALUE } from './breaker.ts';
import { DependencyPolicy, type PolicyHooks } from './policy.ts';
import type { SharedBreakers } from './shared-breakers.ts';

/** The defaults every dependency starts from (settings BREAKER_*, RETRY_*, OUTBOUND_TIMEOUT_MS). */
export interface ResilienceConfig {
  readonly failureThreshold: number;
  readonly halfOpenAfterMs: number;
  readonly successThreshold: number;
  readonly retries: number;
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  readonly timeoutMs: number;
  readonly overrides?: Readonly<Record<string, DependencyOverrides>> | undefined;
}

export interface ResilienceOptions {
  readonly log: Logger;
  readonly metrics?: Metrics | undefined;
  /** Breaker state shared across instances; without it each instance keeps its own. */
  readonly shared?: SharedBreakers | undefined;
  readonly now?: () => number;
  readonly hooks?: PolicyHooks;
  /** Called by close() (the shared state's Redis connections). */
  readonly onClose?: () => Promise<void>;
}

/**
 * The registry of every dependency's policy: built on first use from the defaults and the
 * dependency's overrides, listed for operators (`GET /api/admin/breakers`), exported as
 * innkeep_breaker_state{breaker} (0 closed, 1 half-open, 2 open) and
 * innkeep_breaker_transitions_total{breaker,to}, and every state change logged with its context.
 *
 * @example
 * const resilience = new Resilience(config.resilience, { log });
 * const body = await resilience.policy('places').execute((signal) => fetch(url, { signal }).then((r) => r.json()));
 * resilience.breakers(); // [{ name: 'places', state: 'closed', ... }]
 */
export class Resilience {
  readonly #config: ResilienceConfig;
  readonly #o: ResilienceOptions;
  readonly #policies = new Map<string, DependencyPolicy>();
  readonly #transitions;

  constructor(config: ResilienceConfig, options: ResilienceOptions) {
    this.#config = config;
    this.#o = options;
    const metrics = options.metrics;
    this.#transitions = metrics?.counter(
      'innkeep_breaker_transitions_total',
      'Circuit breaker state changes, by breaker and the state entered',
      ['breaker', 'to'],
    );
    metrics?.sampledGauge(
      'innkeep_breaker_state',
      'Circuit breaker state by breaker: 0 closed, 1 half-open, 2 open',
      ['breaker'],
      () => this.breakers().map((b) => ({ labels: { breaker: b.name }, value: STATE_VALUE[b.state] })),
    );
  }

  /** Whether breaker state is shared through Redis. */
  get shared(): boolean {
    return this.#o.shared !== undefined;
  }

  /** The policy of dependency `name` (a logical name such as `payments`, never an address). */
  policy(name: string): DependencyPolicy {
    const existing = this.#policies.get(name);
    if (existing) return existing;
    const c = this.#config;
    const o = c.overrides?.[name] ?? {};
    const breaker = new CircuitBreaker(name, {
      failureThreshold: o.failures ?? c.failureThreshold,
      halfOpenAfterMs: o.halfOpenAfterMs ?? c.halfOpenAfterMs,
      successThreshold: o.successes ?? c.successThreshold,
      ...(o.sampleRatio !== undefined
        ? {
            sampling: {
              ratio: o.sampleRatio,
              windowMs: o.sampleWindowMs ?? 10_000,
              minCalls: o.sampleMinCalls ?? 10,
            },
          }
        : {}),
      ...(this.#o.now ? { now: this.#o.now } : {}),
    });
    breaker.onTransition((from, to, reason) => {
      this.#transitions?.inc({ breaker: name, to });
      const log = to === 'open' ? this.#o.log.warn.bind(this.#o.log) : this.#o.log.info.bind(this.#o.log);
      log(
        { breaker: name, from, to, reason, shared: this.shared },
        `circuit breaker ${name}: ${from} -> ${to}`,
      );
    });
    this.#o.shared?.attach(breaker);
    const policy = new DependencyPolicy(
      name,
      breaker,
      {
        timeoutMs: o.timeoutMs ?? c.timeoutMs,
        retries: o.retries ?? c.retries,
        baseDelayMs: o.baseDelayMs ?? c.baseDelayMs,
        maxDelayMs: o.maxDelayMs ?? c.maxDelayMs,
        maxConcurrent: o.maxConcurrent ?? 0,
        maxQueue: o.maxQueue ?? 0,
      },
      { ...(this.#o.now ? { now: this.#o.now } : {}), ...this.#o.hooks },
    );
    this.#policies.set(name, policy);
    return policy;
  }

  /** Every breaker, by name. */
  breakers(): BreakerSnapshot[] {
    return [...this.#policies.values()]
      .map((p) => p.breaker.snapshot())
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  /** For /health/detailed: counts by state and whether Redis shares them. */
  summary() {
    const list = this.breakers();
    return {
      breakers: list.length,
      open: list.filter((b) => b.state === 'open').map((b) => b.name),
      halfOpen: list.filter((b) => b.state === 'half-open').map((b) => b.name),
      shared: this.shared,
      redis: this.#o.shared ? (this.#o.shared.up ? 'up' : 'down') : 'none',
    };
  }

  async close(): Promise<void> {
    await (this.#o.onClose ? this.#o.onClose() : this.#o.shared?.close());
  }
}
