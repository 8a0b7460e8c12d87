import { setTimeout as sleep } from 'node:timers/promises';
import { type BulkheadPolicy, bulkhead, TaskCancelledError, TimeoutStrategy, timeout } from 'cockatiel';
import { appError } from '../errors/index.ts';
import { requestSignal } from '../observability/request-context.ts';
import { BreakerOpenError, type CircuitBreaker } from './breaker.ts';
import { classify, DependencyTimeoutError } from './classify.ts';

/** One dependency's policy figures (defaults from the settings, per-dependency overrides). */
export interface PolicyOptions {
  readonly timeoutMs: number;
  /** Retries after the first attempt (0: none). */
  readonly retries: number;
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  /** Calls running at once (0: no bulkhead) and callers allowed to wait for a slot. */
  readonly maxConcurrent: number;
  readonly maxQueue: number;
}

export interface CallOptions<T> {
  /** The caller's own signal (the request's time budget): aborting it stops the call and the retries. */
  readonly signal?: AbortSignal;
  /** Epoch ms after which no further attempt starts (a Retry-After beyond it gives up at once). */
  readonly deadline?: number;
  /** Answer instead of failing when the breaker is open or the call failed in a way that counts. */
  readonly fallback?: () => T | Promise<T>;
}

export interface PolicyHooks {
  readonly sleep?: (ms: number, signal?: AbortSignal) => Promise<unknown>;
  readonly random?: () => number;
  readonly now?: () => number;
  readonly onRetry?: (attempt: number, delayMs: number, reason: string) => void;
}

/**
 * The policy stack of one dependency, outermost first: fallback → bulkhead (cockatiel) → retry
 * (full-jitter exponential backoff, honouring Retry-After) → circuit breaker → timeout (cockatiel,
 * aggressive: the caller is released at the deadline and the call's AbortSignal is aborted, so a
 * cooperative call stops its work too). The retry is ours rather than cockatiel's because its delay
 * depends on the failure (Retry-After) and on the caller's deadline.
 *
 * A rejected or finally failed call becomes `503 E_DEPENDENCY_UNAVAILABLE` naming the dependency (with
 * `Retry-After` when the breaker is open); the provider's error stays as `cause` (logged, never
 * rendered). A failure that does not count (a 404) is rethrown as it is, for the adapter to map.
 *
 * @example
 * const quote = await resilience.policy('payments').execute((signal) => fetch(url, { signal }));
 */
export class DependencyPolicy {
  readonly name: string;
  readonly breaker: CircuitBreaker;
  readonly options: PolicyOptions;
  readonly #timeout;
  readonly #bulkhead: BulkheadPolicy | undefined;
  readonly #hooks: PolicyHooks;

  constructor(name: string, breaker: CircuitBreaker, options: PolicyOptions, hooks: PolicyHooks = {}) {
    this.name = name;
    this.breaker = breaker;
    this.options = options;
    this.#hooks = hooks;
    this.#timeout = timeout(options.timeoutMs, TimeoutStrategy.Aggressive).dangerouslyUnref();
    this.#bulkhead =
      options.maxConcurrent > 0 ? bulkhead(options.maxConcurrent, options.maxQueue) : undefined;
  }

  async execute<T>(fn: (signal: AbortSignal) => Promise<T>, given: CallOptions<T> = {}): Promise<T> {
    // Inside a request, the call stops with the request's time budget unless told otherwise.
    const budget = given.signal ?? requestSignal();
    const call = budget === given.signal ? given : { ...given, signal: budget };
    try {
      return this.#bulkhead
        ? await this.#bulkhead.execute(() => this.#withRetry(fn, call), call.signal)
        : await this.#withRetry(fn, call);
    } catch (err) {
      // Stopped by the caller: its reason (the budget's 504) rather than cockatiel's cancellation.
      if (call.signal?.aborted) throw call.signal.reason instanceof Error ? call.signal.reason : err;
      const failure =
        err instanceof BreakerOpenError || classify(err).counts || classify(err).reason === 'bulkhead full';
      if (!failure) throw err;
      if (call.fallback) return call.fallback();
      throw this.#unavailable(err);
    }
  }

  async #withRetry<T>(fn: (signal: AbortSignal) => Promise<T>, call: CallOptions<T>): Promise<T> {
    const { retries, baseDelayMs, maxDelayMs } = this.options;
    const now = this.#hooks.now ?? Date.now;
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.#attempt(fn, call.signal);
      } catch (err) {
        if (err instanceof BreakerOpenError || call.signal?.aborted) throw err;
        const c = classify(err);
        if (!c.retryable || attempt >= retries) throw err;
        const jitter =
          (this.#hooks.random ?? Math.random)() * Math.min(maxDelayMs, baseDelayMs * 2 ** attempt);
        const wait = Math.max(jitter, c.retryAfterMs ?? 0);
        // A provider asking for more than we would ever wait, or than the caller has left: give up now.
        if (wait > maxDelayMs || (call.deadline !== undefined && now() + wait > call.deadline)) throw err;
        this.#hooks.onRetry?.(attempt + 1, wait, c.reason);
        await (this.#hooks.sleep ?? sleep)(wait, call.signal);
      }
    }
  }

  async #attempt<T>(fn: (signal: AbortSignal) => Promise<T>, signal: AbortSignal | undefined): Promise<T> {
    const permit = await this.breaker.acquire();
    try {
      const result = await this.#timeout.execute((_ctx, inner) => fn(inner), signal);
      this.breaker.record(permit, true);
      return result;
    } catch (raw) {
      const err =
        raw instanceof TaskCancelledError && !signal?.aborted
          ? new DependencyTimeoutError(this.name, this.options.timeoutMs)
          : raw;
      const c = classify(err);
      // A non-counting answer (a 404) still shows the dependency is up.
      if (signal?.aborted) this.breaker.release(permit);
      else this.breaker.record(permit, !c.counts, c.reason);
      throw err;
    }
  }

  #unavailable(err: unknown) {
    const open = err instanceof BreakerOpenError;
    const retryAfter = open ? Math.max(1, Math.ceil(err.retryAfterMs / 1000)) : undefined;
    return appError('DEPENDENCY_UNAVAILABLE', `${this.name} is unavailable`, {
      details: [
        {
          message: open ? 'the circuit breaker is open' : classify(err).reason,
          dependency: this.name,
          ...(retryAfter !== undefined ? { retryAfterSeconds: retryAfter } : {}),
        },
      ],
      ...(retryAfter !== undefined ? { headers: { 'retry-after': String(retryAfter) } } : {}),
      cause: err,
    });
  }
}
