import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../observability/logger.ts';

/** How a server process ended. */
export interface ServerExit {
  readonly code: number | null;
  readonly signal: string | null;
}

/** One running server process, however it was started (our child, or adopted from a killed run). */
export interface ServerInstance {
  readonly pid: number;
  /** Resolves when the process has exited, for whatever reason. */
  readonly exited: Promise<ServerExit>;
  /** Stops it gracefully; resolves once it has exited. */
  stop(): Promise<void>;
}

export type EmbeddedServerState = 'running' | 'restarting' | 'stopped';

export interface EmbeddedServerStatus {
  readonly state: EmbeddedServerState;
  readonly pid: number | undefined;
  /** How many times it was restarted after an unexpected exit. */
  readonly restarts: number;
  /** Milliseconds since it went down, while it is not running. */
  readonly downForMs: number | undefined;
  readonly lastExit: (ServerExit & { readonly at: string }) | undefined;
}

export interface SupervisorOptions {
  readonly minBackoffMs?: number;
  readonly maxBackoffMs?: number;
  /** One start attempt that neither comes up nor fails within this long is abandoned. */
  readonly startTimeoutMs?: number;
}

/**
 * Keeps an embedded PostgreSQL running: when its postmaster exits without being asked to (killed,
 * crashed, out of memory), the exit is logged and the server is started again on the same port and
 * data folder, with exponential backoff. PostgreSQL replays its own WAL on that start, so committed
 * data survives; the pool's next connections reach the new server without the app restarting.
 * The first start attempts usually fail while the dead postmaster's backends are still exiting
 * ("pre-existing shared memory block is still in use"); the backoff waits them out.
 *
 * `status().downForMs` lets liveness fail when it cannot come back within a bound, so a process
 * supervisor restarts the whole app.
 */
/** How long `stop()` waits for a restart under way before stopping anyway. */
const STOP_WAIT_MS = 5_000;

export class EmbeddedSupervisor {
  readonly #launch: () => Promise<ServerInstance>;
  readonly #log: Logger;
  readonly #minBackoffMs: number;
  readonly #maxBackoffMs: number;
  readonly #startTimeoutMs: number;
  #current: ServerInstance | undefined;
  #state: EmbeddedServerState = 'running';
  #restarts = 0;
  #downSince: number | undefined;
  #lastExit: EmbeddedServerStatus['lastExit'];
  #stopping = false;
  #restarting: Promise<void> | undefined;
  #wake: AbortController | undefined;
  readonly #onProcessExit = () => {
    // This process is exiting without a graceful stop: do not leave the server behind.
    const pid = this.#state === 'running' ? this.#current?.pid : undefined;
    if (pid) {
      try {
        process.kill(pid, 'SIGINT');
      } catch {
        // already gone
      }
    }
  };

  constructor(
    first: ServerInstance,
    launch: () => Promise<ServerInstance>,
    log: Logger,
    options: SupervisorOptions = {},
  ) {
    this.#launch = launch;
    this.#log = log;
    this.#minBackoffMs = options.minBackoffMs ?? 100;
    this.#maxBackoffMs = options.maxBackoffMs ?? 5_000;
    this.#startTimeoutMs = options.startTimeoutMs ?? 60_000;
    process.on('exit', this.#onProcessExit);
    this.#watch(first);
  }

  status(): EmbeddedServerStatus {
    return {
      state: this.#state,
      pid: this.#state === 'running' ? this.#current?.pid : undefined,
      restarts: this.#restarts,
      downForMs: this.#downSince === undefined ? undefined : Date.now() - this.#downSince,
      lastExit: this.#lastExit,
    };
  }

  /** Stops supervising, then stops the server (waiting for a restart in progress first). */
  async stop(): Promise<void> {
    this.#stopping = true;
    this.#wake?.abort();
    // A start under way is waited for only briefly (shutdown has its own bound); if it comes up
    // later, the restart loop sees `stopping` and stops it.
    await Promise.race([this.#restarting, sleep(STOP_WAIT_MS, undefined, { ref: false })]);
    process.removeListener('exit', this.#onProcessExit);
    const current = this.#current;
    this.#current = undefined;
    this.#state = 'stopped';
    await current?.stop();
  }

  #watch(instance: ServerInstance): void {
    this.#current = instance;
    void instance.exited.then((exit) => {
      if (this.#stopping || this.#current !== instance) return;
      // Its pid is dead (and may be reused): nothing to signal when this process exits meanwhile.
      this.#current = undefined;
      this.#state = 'restarting';
      this.#downSince = Date.now();
      this.#lastExit = { ...exit, at: new Date().toISOString() };
      this.#log.error(
        { pid: instance.pid, code: exit.code, signal: exit.signal },
        'embedded PostgreSQL exited unexpectedly; restarting it',
      );
      this.#restarting = this.#restartLoop().finally(() => {
        this.#restarting = undefined;
      });
    });
  }

  async #restartLoop(): Promise<void> {
    for (let attempt = 1; !this.#stopping; attempt++) {
      const delay = Math.min(this.#maxBackoffMs, this.#minBackoffMs * 2 ** (attempt - 1));
      this.#wake = new AbortController();
      await sleep(delay, undefined, { signal: this.#wake.signal }).catch(() => undefined);
      if (this.#stopping) return;
      try {
        const launching = this.#launch();
        const instance = await withTimeout(launching, this.#startTimeoutMs).catch((err: unknown) => {
          // A start that answers after all must not leave a server nobody supervises.
          launching.then(
            (late) => late.stop(),
            () => undefined,
          );
          throw err;
        });
        if (this.#stopping) {
          await instance.stop();
          return;
        }
        const downMs = Date.now() - (this.#downSince ?? Date.now());
        this.#restarts++;
        this.#state = 'running';
        this.#downSince = undefined;
        this.#log.warn({ pid: instance.pid, attempt, downMs }, 'embedded PostgreSQL restarted');
        this.#watch(instance);
        return;
      } catch (err) {
        this.#log.warn(
          { err, attempt, nextInMs: Math.min(this.#maxBackoffMs, this.#minBackoffMs * 2 ** attempt) },
          'embedded PostgreSQL did not restart yet; retrying',
        );
      }
    }
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return Promise.race([
    promise,
    sleep(ms, undefined, { ref: false }).then(() => {
      throw new Error(`no answer within ${ms} ms`);
    }),
  ]);
}
