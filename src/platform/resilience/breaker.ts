/** A breaker's state; the metric encodes it as 0 closed, 1 half-open, 2 open. */
export type BreakerState = 'closed' | 'half-open' | 'open';
export const STATE_VALUE: Readonly<Record<BreakerState, number>> = { closed: 0, 'half-open': 1, open: 2 };

export interface BreakerOptions {
  /** Consecutive counted failures that open a closed breaker. */
  readonly failureThreshold: number;
  /** How long an open breaker rejects before one probe is let through. */
  readonly halfOpenAfterMs: number;
  /** Successful probes in a row that close a half-open breaker. */
  readonly successThreshold: number;
  /** Optional sampling rule: open when this share of the calls in the window failed (0..1)... */
  readonly sampling?: { readonly ratio: number; readonly windowMs: number; readonly minCalls: number };
  readonly now?: () => number;
}

/** What another instance (through Redis) says the breaker is. `gen` grows with every transition. */
export interface RemoteState {
  readonly state: BreakerState;
  readonly gen: number;
  readonly openedAt: number;
  /** Another instance holds the half-open probe lease. */
  readonly probeElsewhere?: boolean;
}

/** The cluster side of a breaker (see SharedBreakers); every method may answer undefined: Redis is away. */
export interface BreakerSync {
  /** Records a transition; answers what Redis holds afterwards (the transition may have been refused). */
  transition(
    name: string,
    from: BreakerState,
    to: BreakerState,
    reason: string,
  ): Promise<RemoteState | undefined>;
  /** Tries to take the cluster's single half-open probe lease. */
  claimProbe(
    name: string,
    halfOpenAfterMs: number,
  ): Promise<{ granted: boolean; remote: RemoteState } | undefined>;
}

export interface BreakerSnapshot {
  readonly name: string;
  readonly state: BreakerState;
  readonly failures: number;
  readonly successes: number;
  readonly consecutiveFailures: number;
  readonly lastFailure: { readonly at: string; readonly reason: string } | null;
  readonly openedAt: string | null;
  readonly nextProbeAt: string | null;
  readonly shared: boolean;
}

/** Thrown when the breaker rejects a call; the policy turns it into 503 E_DEPENDENCY_UNAVAILABLE. */
export class BreakerOpenError extends Error {
  readonly dependency: string;
  readonly retryAfterMs: number;
  constructor(dependency: string, retryAfterMs: number) {
    super(`the circuit breaker of ${dependency} is open`);
    this.name = 'BreakerOpenError';
    this.dependency = dependency;
    this.retryAfterMs = retryAfterMs;
  }
}

export type TransitionListener = (from: BreakerState, to: BreakerState, reason: string) => void;
/** How a call went through the breaker: `call` while closed, `probe` for a half-open trial. */
export type Permit = 'call' | 'probe';

/**
 * A circuit breaker as a small state machine (closed → open → half-open → closed/open), written here
 * instead of cockatiel's because its state must be settable from outside: another instance's
 * transition, read from Redis, is adopted as is (with its openedAt, so every instance names the same
 * next probe time), and the open → half-open step may have to win a cluster-wide lease first. The
 * clock is injectable, so tests step through 30 s without sleeping. While closed, `acquire` never
 * awaits anything (no Redis in the hot path).
 *
 * @example
 * const b = new CircuitBreaker('llm', { failureThreshold: 5, halfOpenAfterMs: 60_000, successThreshold: 3 });
 * const permit = await b.acquire(); // throws BreakerOpenError while open
 * b.record(permit, true); // or b.record(permit, false, 'http 503')
 */
export class CircuitBreaker {
  readonly name: string;
  readonly #o: BreakerOptions;
  readonly #now: () => number;
  readonly #listeners: TransitionListener[] = [];
  #sync: BreakerSync | undefined;
  #state: BreakerState = 'closed';
  #gen = 0;
  #openedAt = 0;
  #consecutive = 0;
  #halfOpenSuccesses = 0;
  #probing = false;
  #probeElsewhere = false;
  #lastClaimAt = 0;
  #failures = 0;
  #successes = 0;
  #lastFailure: { at: number; reason: string } | undefined;
  #window: { at: number; failed: boolean }[] = [];

  constructor(name: string, options: BreakerOptions, sync?: BreakerSync) {
    this.name = name;
    this.#o = options;
    this.#now = options.now ?? Date.now;
    this.#sync = sync;
  }

  get state(): BreakerState {
    return this.#state;
  }

  /** Milliseconds until the next probe may go (at least 1 while open, 0 otherwise). */
  get retryAfterMs(): number {
    if (this.#state === 'closed') return 0;
    return Math.max(1, this.#openedAt + this.#o.halfOpenAfterMs - this.#now());
  }

  onTransition(listener: TransitionListener): void {
    this.#listeners.push(listener);
  }

  /** Admits a call or throws BreakerOpenError. Awaits Redis only for the half-open lease. */
  async acquire(): Promise<Permit> {
    if (this.#state === 'closed') return 'call';
    const now = this.#now();
    if (this.#state === 'open' && now < this.#openedAt + this.#o.halfOpenAfterMs) throw this.#rejection();
    if (this.#probing) throw this.#rejection();
    // Another instance probes: ask for its lease again only now and then (it may have died mid-probe).
    if (this.#probeElsewhere && now - this.#lastClaimAt < 1000) throw this.#rejection();
    this.#probing = true;
    this.#lastClaimAt = now;
    const claim = await this.#sync?.claimProbe(this.name, this.#o.halfOpenAfterMs).catch(() => undefined);
    if (claim && !claim.granted) {
      this.#probing = false;
      this.adopt(claim.remote);
      if ((this.#state as BreakerState) === 'closed') return 'call';
      throw this.#rejection();
    }
    if (claim) {
      this.#gen = Math.max(this.#gen, claim.remote.gen);
      this.#probeElsewhere = false;
    }
    if (this.#state === 'open') this.#move('half-open', 'half-open after wait', false);
    return 'probe';
  }

  /** Gives a permit back without an outcome (the caller gave up first: nothing was learnt). */
  release(permit: Permit): void {
    if (permit === 'probe') this.#probing = false;
  }

  /** Records an admitted call's outcome; `failed` only for failures that count (see classify). */
  record(permit: Permit, ok: boolean, reason = 'failure'): void {
    const now = this.#now();
    if (ok) this.#successes += 1;
    else {
      this.#failures += 1;
      this.#lastFailure = { at: now, reason };
    }
    if (permit === 'probe') {
      this.#probing = false;
      if (this.#state !== 'half-open') return;
      if (!ok) {
        this.#openedAt = now;
        this.#move('open', `probe failed: ${reason}`);
      } else if (++this.#halfOpenSuccesses >= this.#o.successThreshold) {
        this.#move('closed', `${this.#halfOpenSuccesses} probes succeeded`);
      }
      return;
    }
    if (this.#state !== 'closed') return;
    this.#consecutive = ok ? 0 : this.#consecutive + 1;
    if (this.#consecutive >= this.#o.failureThreshold) {
      this.#openedAt = now;
      this.#move('open', `${this.#consecutive} consecutive failures, last: ${reason}`);
      return;
    }
    const sampling = this.#o.sampling;
    if (!sampling) return;
    this.#window.push({ at: now, failed: !ok });
    while (this.#window.length > 0 && (this.#window[0]?.at ?? now) < now - sampling.windowMs)
      this.#window.shift();
    const failed = this.#window.filter((c) => c.failed).length;
    if (this.#window.length >= sampling.minCalls && failed / this.#window.length >= sampling.ratio) {
      this.#openedAt = now;
      this.#move('open', `${failed}/${this.#window.length} calls failed in the window, last: ${reason}`);
    }
  }

  /**
   * Takes over what the cluster says when it is a newer generation than this instance has seen; an
   * equal generation with another state means this instance moved while Redis was away (SharedBreakers
   * pushes that instead).
   */
  adopt(remote: RemoteState, force = false): void {
    // `force`: Redis lost its data (restarted empty) and now counts from a lower generation.
    if (force) this.#gen = Math.min(this.#gen, remote.gen - 1);
    if (remote.gen < this.#gen) return;
    if (remote.state === 'half-open') this.#probeElsewhere = remote.probeElsewhere === true;
    if (remote.gen === this.#gen) return;
    this.#gen = remote.gen;
    if (remote.state === 'open') this.#openedAt = remote.openedAt;
    if (remote.state !== this.#state) this.#move(remote.state, 'another instance', false);
  }

  /** The local state, to push to Redis after an outage (re-sync). */
  get local(): { state: BreakerState; openedAt: number; gen: number } {
    return { state: this.#state, openedAt: this.#openedAt, gen: this.#gen };
  }

  attach(sync: BreakerSync | undefined): void {
    this.#sync = sync;
  }

  snapshot(): BreakerSnapshot {
    const open = this.#state !== 'closed';
    return {
      name: this.name,
      state: this.#state,
      failures: this.#failures,
      successes: this.#successes,
      consecutiveFailures: this.#consecutive,
      lastFailure: this.#lastFailure
        ? { at: new Date(this.#lastFailure.at).toISOString(), reason: this.#lastFailure.reason }
        : null,
      openedAt: open ? new Date(this.#openedAt).toISOString() : null,
      nextProbeAt:
        this.#state === 'open' ? new Date(this.#openedAt + this.#o.halfOpenAfterMs).toISOString() : null,
      shared: this.#sync !== undefined,
    };
  }

  #rejection(): BreakerOpenError {
    return new BreakerOpenError(this.name, this.#state === 'open' ? this.retryAfterMs : 1000);
  }

  #move(to: BreakerState, reason: string, publish = true): void {
    const from = this.#state;
    if (from === to) return;
    this.#state = to;
    this.#consecutive = 0;
    this.#halfOpenSuccesses = 0;
    this.#window = [];
    if (to !== 'half-open') this.#probeElsewhere = false;
    for (const listener of this.#listeners) listener(from, to, reason);
    if (!publish || !this.#sync) return;
    // Fire and forget: the call that caused it never waits on Redis.
    this.#sync
      .transition(this.name, from, to, reason)
      .then((remote) => {
        if (remote) this.adopt(remote);
      })
      .catch(() => {});
  }
}
