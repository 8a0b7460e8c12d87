import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { appError } from '../errors/index.ts';
import { errorBody } from './error-handler.ts';
import { type HealthCheck, overallHealth, runHealthChecks } from './health-checks.ts';
import { HealthSchema, LivenessSchema, ReadinessSchema } from './health-schema.ts';
import type { Lifecycle } from './lifecycle.ts';

/** A reason the process itself is broken and should be restarted; no I/O (liveness must stay cheap). */
export interface LivenessCheck {
  readonly name: string;
  /** Undefined while live; otherwise why not (logged and returned: no addresses or secrets in it). */
  failure(): string | undefined;
}

export interface HealthOptions {
  readonly lifecycle: Lifecycle;
  readonly checks: readonly HealthCheck[];
  /** Extra gates for /ready beyond the critical checks (e.g. "migrations applied"). */
  readonly readinessGates?: readonly { name: string; isOpen(): Promise<boolean> }[];
  readonly liveness?: readonly LivenessCheck[];
  readonly timeoutMs?: number;
}

/**
 * Registers the probes:
 * - `GET /healthz` liveness: no I/O; 200 unless a liveness check says the process is broken (the
 *   embedded database could not be brought back), never because a dependency is down.
 * - `GET /ready` readiness: 200 only when started, not draining, gates open and critical checks up.
 * - `GET /health` full report: healthy | degraded | unhealthy, per dependency status and latency.
 * Each has a route schema (health-schema.ts) so OpenAPI documents it, tagged `health`.
 * A 503 from any of them carries the standard error fields beside the probe's own report. Failure
 * texts name the kind of failure only; the error itself (addresses, hosts) goes to the log.
 */
export async function healthRoutes(app: FastifyInstance, options: HealthOptions): Promise<void> {
  const timeoutMs = options.timeoutMs ?? 1000;
  // Probes are polled: no access-log line for each, but their warnings stay, unless logging is quieter.
  const quieter = ['error', 'fatal', 'silent'] as const;
  const logLevel: (typeof quieter)[number] | 'warn' =
    quieter.find((level) => level === app.log.level) ?? 'warn';
  // The schemas document the probes; the bodies stay exactly what JSON.stringify makes of them.
  const asJson = () => (data: unknown) => JSON.stringify(data);
  const probe = { logLevel, serializerCompiler: asJson };

  const runChecks = (request: FastifyRequest, which: readonly HealthCheck[]) =>
    runHealthChecks(which, timeoutMs, request.log);

  const unavailable = (
    request: FastifyRequest,
    reply: FastifyReply,
    message: string,
    report: Record<string, unknown>,
  ) =>
    reply
      .code(503)
      .type('application/json; charset=utf-8')
      .send({ ...errorBody(request, appError('UNAVAILABLE', message)), ...report });

  app.get('/healthz', { ...probe, schema: LivenessSchema }, async (request, reply) => {
    const failing = (options.liveness ?? []).flatMap((c) => {
      const reason = c.failure();
      return reason ? [{ name: c.name, reason }] : [];
    });
    if (failing.length === 0) return { status: 'ok' };
    request.log.error({ failing }, 'liveness check failed');
    return unavailable(request, reply, `Not live: ${failing.map((f) => f.reason).join('; ')}`, {
      status: 'failing',
      failing,
    });
  });

  app.get('/ready', { ...probe, schema: ReadinessSchema }, async (request, reply) => {
    const state = options.lifecycle.state;
    if (state !== 'ready') return unavailable(request, reply, `Not ready: ${state}`, { status: state });
    const checks = await runChecks(
      request,
      options.checks.filter((c) => c.critical),
    );
    const gates = options.readinessGates ?? [];
    const closed = [];
    for (const gate of gates) if (!(await gate.isOpen().catch(() => false))) closed.push(gate.name);
    const down = Object.entries(checks)
      .filter(([, r]) => r.status === 'down')
      .map(([n]) => n);
    if (down.length > 0 || closed.length > 0) {
      const why = [...down.map((n) => `${n} is down`), ...closed.map((n) => `waiting for ${n}`)];
      return unavailable(request, reply, `Not ready: ${why.join(', ')}`, {
        status: 'not_ready',
        down,
        waitingFor: closed,
      });
    }
    return { status: 'ready' };
  });

  app.get('/health', { ...probe, schema: HealthSchema }, async (request, reply) => {
    const checks = await runChecks(request, options.checks);
    const { status, criticalDown } = overallHealth(checks, options.lifecycle.state);
    const report = {
      status,
      lifecycle: options.lifecycle.state,
      uptimeSeconds: Math.round(process.uptime()),
      timestamp: new Date().toISOString(),
      checks,
    };
    if (status !== 'unhealthy') return report;
    return unavailable(request, reply, `Unhealthy: ${criticalDown.join(', ')} down`, report);
  });
}
