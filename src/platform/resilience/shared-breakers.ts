import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Logger } from '../observability/index.ts';
import type { BreakerState, BreakerSync, CircuitBreaker, RemoteState } from './breaker.ts';

/**
 * One transition, atomically: refused (answering what is there) unless the key is in `from`
 * (a missing key is closed). Bumps the generation, stamps openedAt on an open, drops the probe lease
 * on closed/open, publishes the breaker's name. The key lives a day past its last change.
 */
const TRANSITION = `
local cur = redis.call('HGET', KEYS[1], 'state') or 'closed'
local gen = tonumber(redis.call('HGET', KEYS[1], 'gen') or '0')
local opened = tonumber(redis.call('HGET', KEYS[1], 'openedAt') or '0')
if cur ~= ARGV[1] or cur == ARGV[2] then return {cur, gen, opened, redis.call('GET', KEYS[2]) or ''} end
gen = gen + 1
if ARGV[2] == 'open' then opened = tonumber(ARGV[3]) end
redis.call('HSET', KEYS[1], 'state', ARGV[2], 'gen', gen, 'openedAt', opened, 'reason', ARGV[4])
redis.call('PEXPIRE', KEYS[1], 86400000)
redis.call('DEL', KEYS[2])
redis.call('PUBLISH', KEYS[3], ARGV[5])
return {ARGV[2], gen, opened, ''}
`;

/**
 * The half-open probe lease: granted to exactly one instance (SET NX PX; its owner renews it per
 * probe) once the open period is over; the first grant moves the key to half-open and publishes.
 * Answers {state, gen, openedAt, owner, granted}.
 */
const CLAIM = `
local cur = redis.call('HGET', KEYS[1], 'state') or 'closed'
local gen = tonumber(redis.call('HGET', KEYS[1], 'gen') or '0')
local opened = tonumber(redis.call('HGET', KEYS[1], 'openedAt') or '0')
local owner = redis.call('GET', KEYS[2]) or ''
if cur == 'closed' then return {cur, gen, opened, owner, 0} end
if cur == 'open' and tonumber(ARGV[2]) < opened + tonumber(ARGV[3]) then return {cur, gen, opened, owner, 0} end
if owner ~= '' and owner ~= ARGV[1] then return {cur, gen, opened, owner, 0} end
redis.call('SET', KEYS[2], ARGV[1], 'PX', tonumber(ARGV[4]))
if cur == 'open' then
  gen = gen + 1
  redis.call('HSET', KEYS[1], 'state', 'half-open', 'gen', gen)
  redis.call('PUBLISH', KEYS[3], ARGV[5])
end
return {'half-open', gen, opened, ARGV[1], 1}
`;

export interface SharedBreakersOptions {
  /** Commands (scripts, reads). Give it `enableOfflineQueue: false` and an 'error' listener. */
  readonly commands: Redis;
  /** A second connection, used only to subscribe. */
  readonly subscriber: Redis;
  /** Key and channel prefix: `${prefix}:breaker:${name}`. */
  readonly prefix: string;
  /** A Redis operation slower than this counts as Redis being away (the breaker decides locally). */
  readonly opTimeoutMs: number;
  /** Backstop for lost messages: every breaker's key is read this often. */
  readonly pollMs: number;
  /** How long a probe lease lasts without renewal (longer than one probe's timeout). */
  readonly probeLeaseMs: number;
  readonly now?: () => number;
}

/**
 * Breaker state shared through Redis: a hash per breaker (state, generation, openedAt) changed only
 * by the two scripts above, a pub/sub channel announcing each change (the others read the key and
 * adopt a newer generation), a poll as the backstop, and a lease so that one instance in the cluster
 * sends the half-open probe. When Redis fails or is slow, every call answers undefined and each
 * breaker goes on with its own local state; on reconnect the local open states are pushed and the
 * rest is read back (re-sync).
 *
 * @example
 * const shared = new SharedBreakers({ commands, subscriber, prefix: 'innkeep', opTimeoutMs: 100, pollMs: 2000, probeLeaseMs: 15_000 }, log);
 * shared.attach(breaker); await shared.start();
 */
export class SharedBreakers implements BreakerSync {
  readonly instanceId = randomUUID();
  readonly #o: SharedBreakersOptions;
  readonly #log: Logger;
  readonly #now: () => number;
  readonly #breakers = new Map<string, CircuitBreaker>();
  readonly #channel: string;
  #poll: NodeJS.Timeout | undefined;
  #up = false;

  constructor(options: SharedBreakersOptions, log: Logger) {
    this.#o = options;
    this.#log = log;
    this.#now = options.now ?? Date.now;
    this.#channel = `${options.prefix}:breaker-events`;
    options.commands.defineCommand('innkeepBreakerMove', { numberOfKeys: 3, lua: TRANSITION });
    options.commands.defineCommand('innkeepBreakerClaim', { numberOfKeys: 3, lua: CLAIM });
  }

  /** Whether the last Redis operation succeeded. */
  get up(): boolean {
    return this.#up;
  }

  attach(breaker: CircuitBreaker): void {
    this.#breakers.set(breaker.name, breaker);
    breaker.attach(this);
    void this.#sync(breaker);
  }

  async start(): Promise<void> {
    const { subscriber, commands } = this.#o;
    subscriber.on('message', (channel: string, name: string) => {
      const breaker = channel === this.#channel ? this.#breakers.get(name) : undefined;
      if (breaker) void this.#sync(breaker);
    });
    subscriber.on('ready', () => void subscriber.subscribe(this.#channel).catch(() => {}));
    commands.on('ready', () => void this.resync());
    await subscriber.subscribe(this.#channel).catch(() => {});
    this.#poll = setInterval(() => void this.resync(), this.#o.pollMs);
    this.#poll.unref();
  }

  /** Pushes local open states Redis does not know (after an outage) and adopts the rest. */
  async resync(): Promise<void> {
    await Promise.all([...this.#breakers.values()].map((b) => this.#sync(b)));
  }

  async transition(name: string, from: BreakerState, to: BreakerState, reason: string) {
    const reply = await this.#op((c) =>
      (c as unknown as Scripted).innkeepBreakerMove(
        ...this.#keys(name),
        from,
        to,
        String(this.#now()),
        reason.slice(0, 200),
        name,
      ),
    );
    return reply ? this.#remote(reply) : undefined;
  }

  async claimProbe(name: string, halfOpenAfterMs: number) {
    const reply = await this.#op((c) =>
      (c as unknown as Scripted).innkeepBreakerClaim(
        ...this.#keys(name),
        this.instanceId,
        String(this.#now()),
        String(halfOpenAfterMs),
        String(this.#o.probeLeaseMs),
        name,
      ),
    );
    return reply ? { granted: reply[4] === 1, remote: this.#remote(reply) } : undefined;
  }

  async close(): Promise<void> {
    clearInterval(this.#poll);
  }

  /** Adopts a newer generation; pushes a state this instance reached while Redis was away. */
  async #sync(breaker: CircuitBreaker): Promise<void> {
    const remote = await this.#read(breaker.name);
    if (!remote) return;
    const local = breaker.local;
    if (remote.gen > local.gen || local.state === 'half-open') {
      breaker.adopt(remote);
      return;
    }
    if (remote.state === local.state) {
      // A lower generation than seen: Redis restarted empty; count from its numbers again.
      if (remote.gen < local.gen) breaker.adopt(remote, true);
      return;
    }
    const pushed = await this.transition(
      breaker.name,
      remote.state,
      local.state,
      'decided while redis was away',
    );
    if (pushed) breaker.adopt(pushed);
  }

  async #read(name: string): Promise<RemoteState | undefined> {
    const [key, lease] = this.#keys(name);
    const reply = await this.#op(async (c) => {
      const [[, hash], [, owner]] = (await c.multi().hgetall(key).get(lease).exec()) as [
        [unknown, Record<string, string>],
        [unknown, string | null],
      ];
      return [hash.state ?? 'closed', Number(hash.gen ?? 0), Number(hash.openedAt ?? 0), owner ?? ''];
    });
    return reply ? this.#remote(reply) : undefined;
  }

  #keys(name: string): [string, string, string] {
    const key = `${this.#o.prefix}:breaker:${name}`;
    return [key, `${key}:probe`, this.#channel];
  }

  #remote(reply: readonly unknown[]): RemoteState {
    const owner = String(reply[3] ?? '');
    return {
      state: String(reply[0]) as BreakerState,
      gen: Number(reply[1]),
      openedAt: Number(reply[2]),
      probeElsewhere: owner !== '' && owner !== this.instanceId,
    };
  }

  /** One Redis operation with a hard deadline; undefined on any failure (never throws). */
  async #op<T>(run: (c: Redis) => Promise<T>): Promise<T | undefined> {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<undefined>((resolve) => {
      timer = setTimeout(() => resolve(undefined), this.#o.opTimeoutMs);
    });
    try {
      const result = await Promise.race([run(this.#o.commands), deadline]);
      this.#setUp(result !== undefined);
      return result;
    } catch (err) {
      this.#setUp(false, err);
      return undefined;
    } finally {
      clearTimeout(timer);
    }
  }

  #setUp(up: boolean, err?: unknown): void {
    if (up === this.#up) return;
    this.#up = up;
    if (up)
      this.#log.info({ breakers: this.#breakers.size }, 'shared breaker state: redis is back, re-synced');
    else
      this.#log.warn(
        { err: err instanceof Error ? err.message : 'timeout' },
        'shared breaker state: redis unavailable, breakers use their local state',
      );
  }
}

type Scripted = {
  innkeepBreakerMove(...args: string[]): Promise<unknown[]>;
  innkeepBreakerClaim(...args: string[]): Promise<unknown[]>;
};
