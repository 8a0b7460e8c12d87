import underPressure from '@fastify/under-pressure';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { appError } from '../errors/index.ts';
import type { CounterHandle, Metrics } from '../observability/metrics.ts';
import { errorBody } from './error-handler.ts';
import { requestRouteClass } from './route-class.ts';

export interface LoadSheddingOptions {
  /** Requests handled at once, probes not counted; 0: no cap. */
  readonly maxInFlight: number;
  /** Requests to `expensive` routes handled at once; 0: no cap of their own. */
  readonly maxInFlightExpensive: number;
  /** Mean event-loop delay (ms) over the last sample; 0: off. */
  readonly maxEventLoopDelayMs: number;
  /** Event-loop utilisation in percent; 0: off. */
  readonly maxEventLoopUtilization: number;
  readonly maxHeapUsedMb: number;
  readonly maxRssMb: number;
  readonly sampleIntervalMs: number;
}

/** The `reason` label of innkeep_shed_requests_total: a bounded set. */
export const SHED_REASONS = [
  'in_flight_global',
  'in_flight_expensive',
  'event_loop_delay',
  'event_loop_utilization',
  'heap',
  'rss',
] as const;
type ShedReason = (typeof SHED_REASONS)[number];

const PRESSURE_REASONS: Record<string, ShedReason> = {
  eventLoopDelay: 'event_loop_delay',
  eventLoopUtilization: 'event_loop_utilization',
  heapUsedBytes: 'heap',
  rssBytes: 'rss',
};
const MB = 1024 * 1024;

/**
 * Load shedding: requests over an in-flight cap (global, and per `expensive` class) or arriving
 * while the process is under pressure (event-loop delay or utilisation, heap, RSS: measured by
 * @fastify/under-pressure) get `503 E_OVERLOADED` with `Retry-After` at once, before any work.
 * Probes (`/healthz`, `/ready`, ...) are never counted or refused. Register after createHttpServer.
 *
 * @example
 * await registerLoadShedding(app, { maxInFlight: 512, maxInFlightExpensive: 25, maxEventLoopDelayMs: 1000,
 *   maxEventLoopUtilization: 0, maxHeapUsedMb: 0, maxRssMb: 0, sampleIntervalMs: 500 });
 */
export async function registerLoadShedding(
  app: FastifyInstance,
  options: LoadSheddingOptions,
  metrics?: Metrics,
): Promise<{ inFlight: () => { all: number; expensive: number } }> {
  const shed: CounterHandle<'reason'> | undefined = metrics?.counter(
    'innkeep_shed_requests_total',
    'Requests refused with 503 E_OVERLOADED before any work, by reason',
    ['reason'],
  );
  /** Sets the 503 on `reply` and returns its body (under-pressure sends what its handler returns). */
  const overloaded = (request: FastifyRequest, reply: FastifyReply, reason: ShedReason) => {
    shed?.inc({ reason });
    const err = appError('OVERLOADED', undefined, {
      headers: { 'retry-after': '1' },
      details: [{ message: 'the request was shed before any work', reason }],
    });
    reply
      .code(503)
      .headers(err.headers ?? {})
      .type('application/json; charset=utf-8');
    return errorBody(request, err);
  };
  const refuse = (request: FastifyRequest, reply: FastifyReply, reason: ShedReason) =>
    reply.send(overloaded(request, reply, reason));

  const pressure =
    options.maxEventLoopDelayMs > 0 ||
    options.maxEventLoopUtilization > 0 ||
    options.maxHeapUsedMb > 0 ||
    options.maxRssMb > 0;
  if (pressure) {
    // Building the app blocks the loop for a while (schema compilation); the first samples after it
    // report that block (an interval with no sample at all reads as an infinite delay), which is not
    // load. Pressure counts from two samples after the app is ready.
    let countsFrom = Number.POSITIVE_INFINITY;
    app.addHook('onReady', async () => {
      countsFrom = performance.now() + 2 * options.sampleIntervalMs;
    });
    await app.register(underPressure, {
      sampleInterval: options.sampleIntervalMs,
      maxEventLoopDelay: options.maxEventLoopDelayMs,
      maxEventLoopUtilization: options.maxEventLoopUtilization / 100,
      maxHeapUsedBytes: options.maxHeapUsedMb * MB,
      maxRssBytes: options.maxRssMb * MB,
      exposeStatusRoute: false,
      // Returning nothing lets the request through; returning a body makes under-pressure send it.
      pressureHandler: ((request: FastifyRequest, reply: FastifyReply, type: string) => {
        if (requestRouteClass(request) === 'probe' || performance.now() < countsFrom) return undefined;
        return overloaded(request, reply, PRESSURE_REASONS[type] ?? 'event_loop_delay');
      }) as unknown as (request: FastifyRequest, reply: FastifyReply, type: string) => void,
    });
  }

  let all = 0;
  let expensive = 0;
  const { maxInFlight, maxInFlightExpensive } = options;
  if (maxInFlight > 0 || maxInFlightExpensive > 0) {
    app.addHook('onRequest', (request, reply, done) => {
      if (reply.sent) return done();
      const cls = requestRouteClass(request);
      if (cls === 'probe') return done();
      const isExpensive = cls === 'expensive';
      if (maxInFlight > 0 && all >= maxInFlight) return refuse(request, reply, 'in_flight_global');
      if (isExpensive && maxInFlightExpensive > 0 && expensive >= maxInFlightExpensive) {
        return refuse(request, reply, 'in_flight_expensive');
      }
      all++;
      if (isExpensive) expensive++;
      // 'close' fires once per response, whether it finished or the client went away.
      reply.raw.once('close', () => {
        all--;
        if (isExpensive) expensive--;
      });
      done();
    });
  }
  return { inFlight: () => ({ all, expensive }) };
}
