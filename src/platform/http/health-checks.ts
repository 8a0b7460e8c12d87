import type { Logger } from '../observability/logger.ts';
import type { LifecycleState } from './lifecycle.ts';

export type DependencyStatus = 'up' | 'down';

export interface HealthCheck {
  readonly name: string;
  /** A critical dependency down makes the service unhealthy (and unready); others only degrade it. */
  readonly critical: boolean;
  /** Resolves with extra details when the dependency answers; throws when it does not. */
  check(timeoutMs: number): Promise<Record<string, unknown> | undefined>;
}

export interface CheckResult {
  status: DependencyStatus;
  critical: boolean;
  latencyMs: number;
  error?: string;
  [key: string]: unknown;
}

export type HealthStatus = 'healthy' | 'degraded' | 'unhealthy';

/**
 * Runs every check at once, each bounded by `timeoutMs`: its latency, its details when it answers,
 * and when it does not, a failure text naming only the kind of failure (the error goes to `log`).
 *
 * @example
 * const results = await runHealthChecks([{ name: 'database', critical: true, check: async () => ({}) }], 1000, log);
 */
export async function runHealthChecks(
  checks: readonly HealthCheck[],
  timeoutMs: number,
  log: Pick<Logger, 'warn'>,
): Promise<Record<string, CheckResult>> {
  const entries = await Promise.all(
    checks.map(async (c): Promise<[string, CheckResult]> => {
      const startedAt = performance.now();
      const latency = () => round(performance.now() - startedAt);
      try {
        const details = await withTimeout(c.check(timeoutMs), timeoutMs, c.name);
        return [c.name, { status: 'up', critical: c.critical, latencyMs: latency(), ...details }];
      } catch (err) {
        log.warn({ err, check: c.name }, 'health check failed');
        return [
          c.name,
          { status: 'down', critical: c.critical, latencyMs: latency(), error: publicFailure(err) },
        ];
      }
    }),
  );
  return Object.fromEntries(entries);
}

/** unhealthy when a critical check is down; degraded when another is, or the app is not ready. */
export function overallHealth(
  results: Record<string, CheckResult>,
  lifecycle: LifecycleState,
): { status: HealthStatus; criticalDown: string[] } {
  const entries = Object.entries(results);
  const criticalDown = entries.filter(([, r]) => r.critical && r.status === 'down').map(([n]) => n);
  const status: HealthStatus =
    criticalDown.length > 0
      ? 'unhealthy'
      : entries.some(([, r]) => r.status === 'down') || lifecycle !== 'ready'
        ? 'degraded'
        : 'healthy';
  return { status, criticalDown };
}

/** What a client may see of a failed check: a timeout, or an error code, never its message. */
function publicFailure(err: unknown): string {
  if (err instanceof HealthTimeoutError) return err.message;
  const code = (err as { code?: unknown })?.code;
  return typeof code === 'string' && /^[A-Z0-9_]{2,40}$/.test(code) ? `failed (${code})` : 'failed';
}

export class HealthTimeoutError extends Error {}

function round(ms: number): number {
  return Math.round(ms * 100) / 100;
}

/** `promise`, or a rejection naming `name` once `ms` have passed (the work itself is not stopped). */
export async function withTimeout<T>(promise: Promise<T>, ms: number, name: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new HealthTimeoutError(`${name} check exceeded ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
