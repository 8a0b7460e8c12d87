import Type from 'typebox';
import { ErrorBodySchema } from './error-body.ts';

/*
 * Route schemas of the probes, for the OpenAPI document. The probes keep serializing with JSON.stringify
 * (see `asJson` in health-routes.ts): a check reports whatever details it has (pool stats, ...), and a
 * response schema would make fast-json-stringify drop or coerce what it does not list.
 */

/** The standard error fields (error-body.ts) every probe's 503 carries beside its report. */
const ErrorFields = {
  ...ErrorBodySchema.properties,
  statusCode: Type.Literal(503),
  code: Type.Literal('E_UNAVAILABLE'),
};

const LifecycleStateSchema = Type.Union([
  Type.Literal('starting'),
  Type.Literal('ready'),
  Type.Literal('draining'),
  Type.Literal('stopped'),
]);

const CheckResult = Type.Object(
  {
    status: Type.Union([Type.Literal('up'), Type.Literal('down')]),
    critical: Type.Boolean({ description: 'Down makes the service unhealthy and unready' }),
    latencyMs: Type.Number(),
    error: Type.Optional(Type.String({ description: 'Why the check failed (status down)' })),
  },
  { additionalProperties: true, description: 'Plus the details the check reports when up' },
);

const HealthReport = Type.Object({
  status: Type.Union([Type.Literal('healthy'), Type.Literal('degraded'), Type.Literal('unhealthy')]),
  lifecycle: LifecycleStateSchema,
  uptimeSeconds: Type.Integer(),
  timestamp: Type.String({ format: 'date-time' }),
  checks: Type.Record(Type.String(), CheckResult, { description: 'By dependency name' }),
});

const NotReady = Type.Object({
  ...ErrorFields,
  status: Type.Union([
    Type.Literal('starting'),
    Type.Literal('draining'),
    Type.Literal('stopped'),
    Type.Literal('not_ready'),
  ]),
  down: Type.Optional(Type.Array(Type.String(), { description: 'Critical dependencies that are down' })),
  waitingFor: Type.Optional(Type.Array(Type.String(), { description: 'Readiness gates still closed' })),
});

const PROBE = { tags: ['health'], security: [] };

export const LivenessSchema = {
  ...PROBE,
  operationId: 'getLiveness',
  summary: 'Liveness: the process answers and need not be restarted (no I/O)',
  response: {
    200: Type.Object({ status: Type.Literal('ok') }, { description: 'The event loop answers' }),
    503: Type.Object(
      {
        ...ErrorFields,
        status: Type.Literal('failing'),
        failing: Type.Array(Type.Object({ name: Type.String(), reason: Type.String() })),
      },
      {
        description:
          'Restart this process: the embedded PostgreSQL died and did not come back within DB_EMBEDDED_MAX_DOWNTIME_MS',
      },
    ),
  },
};

export const ReadinessSchema = {
  ...PROBE,
  operationId: 'getReadiness',
  summary: 'Readiness: started, not draining, gates open and critical dependencies up',
  response: {
    200: Type.Object({ status: Type.Literal('ready') }, { description: 'Send traffic here' }),
    503: {
      ...NotReady,
      description: 'Do not send traffic here: starting, draining, or a dependency is down',
    },
  },
};

export const HealthSchema = {
  ...PROBE,
  operationId: 'getHealth',
  summary: 'Health report: every dependency with its status and latency',
  response: {
    200: {
      ...HealthReport,
      description: 'Healthy, or degraded (a non-critical dependency is down or not ready)',
    },
    503: Type.Object(
      { ...ErrorFields, ...HealthReport.properties },
      { description: 'Unhealthy: a critical dependency is down' },
    ),
  },
};
