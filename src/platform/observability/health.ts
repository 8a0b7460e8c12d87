import type { FastifyInstance } from 'fastify';
import type { Lifecycle } from '../http/lifecycle.ts';
import { HealthSchema, LivenessSchema, ReadinessSchema } from './health-schema.ts';

export type DependencyStatus = 'up' | 'down';

export interface HealthCheck {
  readonly name: string;
  /** A critical dependency down makes the service unhealthy (and unready); others only degrade it. */
  readonly critical: boolean;
  /** Resolves with extra details when the dependency answers; throws when it does not. */
  check(timeoutMs: number): Promise<Record<string, unknown> | undefined>;
}

export interface HealthOptions {
  readonly lifecycle: Lifecycle;
  readonly checks: readonly HealthCheck[];
  /** Extra gates for /ready beyond the critical checks (e.g. "migrations applied"). */
  readonly readinessGates?: readonly { name: string; isOpen(): Promise<boolean> }[];
  readonly timeoutMs?: number;
}

interface CheckResult {
  status: DependencyStatus;
  critical: boolean;
  latencyMs: number;
  error?: string;
  [key: string]: unknown;
}

/**
 * Registers the probes:
 * - `GET /healthz` liveness: the event loop answers; no I/O, never fails because a dependency did.
 * - `GET /ready` readiness: 200 only when started, not draining, gates open and critical checks up.
 * - `GET /health` full report: healthy | degraded | unhealthy, per dependency status and latency.
 * Each has a route schema (health-schema.ts) so OpenAPI documents it, tagged `health`.
 */
export async function healthRoutes(app: FastifyInstance, options: HealthOptions): Promise<void> {
  const timeoutMs = options.timeoutMs ?? 1000;

  const runChecks = async (which: readonly HealthCheck[]) => {
    const entries = await Promise.all(
      which.map(async (c): Promise<[string, CheckResult]> => {
        const startedAt = performance.now();
        try {
          const details = await withTimeout(c.check(timeoutMs), timeoutMs, c.name);
          return [
            c.name,
            {
              status: 'up',
              critical: c.critical,
              latencyMs: round(performance.now() - startedAt),
              ...details,
            },
          ];
        } catch (err) {
          return [
            c.name,
            {
              status: 'down',
              critical: c.critical,
              latencyMs: round(performance.now() - startedAt),
              error: (err as Error).message,
            },
          ];
        }
      }),
    );
    return Object.fromEntries(entries);
  };

  // The schemas document the probes; the bodies stay exactly what JSON.stringify makes of them.
  const asJson = () => (data: unknown) => JSON.stringify(data);
  const probe = { logLevel: 'warn', serializerCompiler: asJson } as const;

  app.get('/healthz', { ...probe, schema: LivenessSchema }, async () => ({ status: 'ok' }));

  app.get('/ready', { ...probe, schema: ReadinessSchema }, async (_request, reply) => {
    const state = options.lifecycle.state;
    if (state !== 'ready') return reply.code(503).send({ status: state });
    const checks = await runChecks(options.checks.filter((c) => c.critical));
    const gates = options.readinessGates ?? [];
    const closed = [];
    for (const gate of gates) if (!(await gate.isOpen().catch(() => false))) closed.push(gate.name);
    const down = Object.entries(checks)
      .filter(([, r]) => r.status === 'down')
      .map(([n]) => n);
    if (down.length > 0 || closed.length > 0) {
      return reply.code(503).send({ status: 'not_ready', down, waitingFor: closed });
    }
    return { status: 'ready' };
  });

  app.get('/health', { ...probe, schema: HealthSchema }, async (_request, reply) => {
    const checks = await runChecks(options.checks);
    const results = Object.values(checks);
    const status = results.some((r) => r.critical && r.status === 'down')
      ? 'unhealthy'
      : results.some((r) => r.status === 'down') || options.lifecycle.state !== 'ready'
        ? 'degraded'
        : 'healthy';
    return reply.code(status === 'unhealthy' ? 503 : 200).send({
      status,
      lifecycle: options.lifecycle.state,
      uptimeSeconds: Math.round(process.uptime()),
      timestamp: new Date().toISOString(),
      checks,
    });
  });
}

function round(ms: number): number {
  return Math.round(ms * 100) / 100;
}

async function withTimeout<T>(promise: Promise<T>, ms: number, name: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${name} check exceeded ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
