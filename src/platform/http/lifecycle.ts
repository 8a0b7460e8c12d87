import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyInstance } from 'fastify';

export type LifecycleState = 'starting' | 'ready' | 'draining' | 'stopped';

/** Where the process is in its life; readiness is derived from it. */
export class Lifecycle {
  #state: LifecycleState = 'starting';
  get state(): LifecycleState {
    return this.#state;
  }
  markReady(): void {
    if (this.#state === 'starting') this.#state = 'ready';
  }
  beginDrain(): void {
    if (this.#state === 'starting' || this.#state === 'ready') this.#state = 'draining';
  }
  markStopped(): void {
    this.#state = 'stopped';
  }
}

export interface ShutdownOptions {
  readonly drainDelayMs: number;
  readonly timeoutMs: number;
}

/**
 * Graceful shutdown: readiness goes 503 at once, after `drainDelayMs` the listener closes, in-flight
 * requests finish, then onClose hooks run (pool, embedded PostgreSQL). Bounded by `timeoutMs`.
 * Resolves to the exit code (0 clean, 1 timed out or failed).
 */
export async function shutdown(
  app: FastifyInstance,
  lifecycle: Lifecycle,
  options: ShutdownOptions,
): Promise<number> {
  lifecycle.beginDrain();
  const startedAt = performance.now();
  app.log.info({ drainDelayMs: options.drainDelayMs }, 'shutting down: readiness is now 503');
  const work = (async () => {
    if (options.drainDelayMs > 0) await sleep(options.drainDelayMs);
    await app.close();
    return 0;
  })();
  const timeout = sleep(options.timeoutMs, 1, { ref: false });
  try {
    const code = await Promise.race([work, timeout]);
    if (code === 1) app.log.error({ timeoutMs: options.timeoutMs }, 'graceful shutdown timed out');
    else app.log.info({ durationMs: Math.round(performance.now() - startedAt) }, 'shutdown complete');
    return code;
  } catch (err) {
    app.log.error({ err }, 'graceful shutdown failed');
    return 1;
  } finally {
    lifecycle.markStopped();
  }
}

/**
 * Wires SIGTERM/SIGINT to `shutdown`, then exits. A second signal while draining exits at once.
 * Returns a trigger for other reasons to stop (see `watchParentExit`): it starts the same graceful
 * shutdown, and does nothing once one is under way (only a real second signal cuts a drain short).
 */
export function installSignalHandlers(
  app: FastifyInstance,
  lifecycle: Lifecycle,
  options: ShutdownOptions,
  exit: (code: number) => void = (code) => process.exit(code),
): (reason: string) => void {
  let shuttingDown = false;
  const begin = (reason: string) => {
    shuttingDown = true;
    app.log.info({ reason }, 'signal received');
    void shutdown(app, lifecycle, options).then(exit);
  };
  const onSignal = (signal: NodeJS.Signals) => {
    if (!shuttingDown) return begin(signal);
    app.log.warn({ signal }, 'second signal: exiting now');
    exit(1);
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  return (reason) => {
    if (!shuttingDown) begin(reason);
  };
}

/**
 * Calls `onExit` once the process that started this one has exited (this process is re-parented).
 * For scripts run by npm: since npm 9.6, npm exits on SIGTERM without forwarding it to the script
 * (npm/cli#6684), so a supervisor that signals `npm start` would orphan the server instead of
 * stopping it. Polls `process.ppid` (no I/O) on an unref'd timer.
 */
export function watchParentExit(onExit: () => void, intervalMs = 250): () => void {
  const parent = process.ppid;
  const timer = setInterval(() => {
    if (process.ppid === parent) return;
    clearInterval(timer);
    onExit();
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
