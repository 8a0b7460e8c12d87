/**
 * Chaos adapters for tests and benchmarks (as bentocache's chaos cache): a switch that makes calls
 * fail with given errors, hang, slow down or pass, changed at runtime. It lives in the platform
 * rather than in test/ so the benchmark and later provider contract tests can use it; nothing in the
 * composition root wires it, so it never sits in front of a real dependency.
 */
export type ChaosMode =
  | { readonly kind: 'ok' }
  | { readonly kind: 'throw'; readonly error: () => unknown; readonly times: number }
  | { readonly kind: 'hang' };

export class Chaos {
  #mode: ChaosMode = { kind: 'ok' };
  #latencyMs = 0;
  /** Calls that went through the switch (failed, hung or passed). */
  calls = 0;

  /** Every call passes (and the latency is cleared). */
  alwaysOk(): this {
    this.#mode = { kind: 'ok' };
    this.#latencyMs = 0;
    return this;
  }

  /** Every call (or the next `times`) fails with a fresh copy of `error`. */
  alwaysThrow(error: () => unknown = () => econnreset(), times = Number.POSITIVE_INFINITY): this {
    this.#mode = { kind: 'throw', error, times };
    return this;
  }

  /** Every call hangs until its AbortSignal fires (forever without one). */
  alwaysHang(): this {
    this.#mode = { kind: 'hang' };
    return this;
  }

  /** Every call waits this long first. */
  latency(ms: number): this {
    this.#latencyMs = ms;
    return this;
  }

  /** Runs `fn` under the current mode. */
  async run<T>(fn: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    this.calls += 1;
    if (this.#latencyMs > 0) await wait(this.#latencyMs, signal);
    const mode = this.#mode;
    if (mode.kind === 'hang') {
      await wait(Number.POSITIVE_INFINITY, signal);
    } else if (mode.kind === 'throw' && mode.times > 0) {
      if (mode.times !== Number.POSITIVE_INFINITY) {
        this.#mode = mode.times === 1 ? { kind: 'ok' } : { ...mode, times: mode.times - 1 };
      }
      throw mode.error();
    }
    return fn();
  }

  /** Wraps an async function whose last argument may be an AbortSignal. */
  wrap<A extends unknown[], T>(fn: (...args: A) => Promise<T>): (...args: A) => Promise<T> {
    return (...args: A) => {
      const last = args.at(-1);
      return this.run(() => fn(...args), last instanceof AbortSignal ? last : undefined);
    };
  }

  /**
   * A pg Pool (or a client, or any Queryable) whose `query` and `connect` (when it has one) go
   * through the switch; everything else is the pool's own.
   */
  pool<P extends { query: (...args: never[]) => unknown }>(pool: P): P {
    const run = this.run.bind(this);
    return new Proxy(pool, {
      get(target, prop, receiver) {
        const value = Reflect.get(target, prop, receiver);
        if ((prop !== 'query' && prop !== 'connect') || typeof value !== 'function') return value;
        return (...args: unknown[]) => run(async () => value.apply(target, args));
      },
    });
  }
}

/** A connection reset, as Node reports it. */
export function econnreset(): Error {
  return Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' });
}

/** PostgreSQL's admin_shutdown (57P01): the server is going away (failover, restart). */
export function adminShutdown(): Error {
  return Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' });
}

function wait(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = Number.isFinite(ms) ? setTimeout(resolve, ms) : undefined;
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        reject(signal.reason);
      },
      { once: true },
    );
  });
}
