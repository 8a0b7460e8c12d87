import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, {
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  LogController,
} from 'fastify';
import type { Config } from '../config/index.ts';
import { appError, type ErrorTranslator } from '../errors/index.ts';
import type { Tracing } from '../observability/index.ts';
import { loggerOptions } from '../observability/logger.ts';
import { type Metrics, UNMATCHED_ROUTE } from '../observability/metrics.ts';
import { type RequestContext, requestContext } from '../observability/request-context.ts';
import type { RouteWindows } from '../observability/route-windows.ts';
import { activeTraceIds } from '../observability/trace-ids.ts';
import { ClientErrors } from './client-errors.ts';
import { errorBody, registerErrorHandling } from './error-handler.ts';
import { registerJsonBodyParser } from './json-body.ts';
import { installRequestTracing } from './request-tracing.ts';
import { RouteMethods } from './route-methods.ts';
import { budgetedHandler, startTimeBudget, type TimeBudgets } from './time-budget.ts';
import { requestValidatorCompiler } from './validation.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /** Query count and DB time of this request (also reachable through AsyncLocalStorage). */
    ctx: RequestContext;
  }
}

const REQUEST_ID = /^[\w.:-]{1,128}$/;

export interface HttpServerOptions {
  /** An existing pino logger; otherwise one is made from `config.log`. */
  readonly logger?: FastifyBaseLogger;
  /** How the adapters in use turn their failures into catalogued errors (e.g. translatePgError). */
  readonly errorTranslators?: readonly ErrorTranslator[];
  /** Where request durations, in-flight requests and statements per request are recorded. */
  readonly metrics?: Metrics | undefined;
  /** Where per-route latency over the last minutes is kept (the performance report). */
  readonly routeWindows?: RouteWindows | undefined;
  /**
   * Log a warning when one request runs the same statement shape more than this many times (an N+1
   * loop); 0 turns the detector off. Default: N_PLUS_ONE_WARN_AT, else 10 outside production and
   * off in production.
   */
  readonly nPlusOneWarnAt?: number;
  /**
   * Tracing started by `startTracing` (before fastify and pg were loaded). Adds @fastify/otel's
   * spans, echoes each request's trace id in `x-trace-id` and exports the last spans on close.
   */
  readonly tracing?: Tracing;
}

/** The response header that carries the request's W3C trace id (32 hex digits) when tracing is on. */
export const TRACE_ID_HEADER = 'x-trace-id';

/**
 * A Fastify instance with Innkeep's HTTP conventions: request ids (accepts and echoes
 * `x-request-id`), a per-request context that counts SQL statements, one-line access logs,
 * `Server-Timing: db` headers, the standard error format, strict query validation and a body limit;
 * with `tracing`, request spans and the trace id in `x-trace-id`, logs and error bodies.
 *
 * @example
 * const app = createHttpServer(loadConfig());
 * app.get('/ping', async () => ({ pong: true }));
 * await app.listen({ port: 0 });
 */
export function createHttpServer(config: Config, options: HttpServerOptions = {}) {
  const routerOptions = { ignoreTrailingSlash: true, maxParamLength: 256 };
  const routeMethods = new RouteMethods(routerOptions);
  const clientErrors: ClientErrors = new ClientErrors(() => app.log as FastifyBaseLogger);
  const { requestTimeoutMs } = config.http;
  const { metrics, routeWindows } = options;
  const app = Fastify({
    ...(options.logger ? { loggerInstance: options.logger } : { logger: loggerOptions(config.log.level) }),
    bodyLimit: config.http.bodyLimitBytes,
    requestTimeout: requestTimeoutMs,
    keepAliveTimeout: config.http.keepAliveTimeoutMs,
    clientErrorHandler: clientErrors.handle,
    trustProxy: config.http.trustProxy,
    requestIdHeader: false,
    genReqId: (req: IncomingMessage) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    },
    // One access-log line per request (onResponse below) instead of Fastify's two.
    logController: new LogController({ disableRequestLogging: true, requestIdLogLabel: 'requestId' }),
    // Requests the router rejects before any hook runs (bad percent-encoding, an over-long path
    // parameter) still get the standard error body and a request id.
    frameworkErrors: (error, request, reply) => {
      const message =
        error.code === 'FST_ERR_MAX_PARAM_LENGTH'
          ? 'A path parameter is too long'
          : 'The URL is not valid (bad percent-encoding?)';
      const err = appError('VALIDATION', message, { cause: error });
      const ids = activeTraceIds();
      if (ids) reply.header(TRACE_ID_HEADER, ids.traceId);
      // No hook runs for these requests, so they are counted and logged here (as unmatched: the
      // router found no route for them).
      const startedAt = performance.now();
      reply.raw.once('finish', () => {
        const ms = performance.now() - startedAt;
        metrics?.observeRequest(UNMATCHED_ROUTE, request.method, err.statusCode, ms / 1000, 0);
        routeWindows?.record(request.method, UNMATCHED_ROUTE, err.statusCode, ms);
        request.log.info(
          {
            method: request.method,
            url: request.url,
            statusCode: err.statusCode,
            durationMs: Math.round(ms * 100) / 100,
          },
          'request completed',
        );
      });
      (reply as FastifyReply)
        .code(err.statusCode)
        .header('x-request-id', request.id)
        .type('application/json; charset=utf-8')
        .send(errorBody(request, err));
    },
    // Requests arriving while closing get 503 from the onRequest hook below, in the standard body.
    return503OnClosing: false,
    forceCloseConnections: 'idle',
    routerOptions,
  }).withTypeProvider<TypeBoxTypeProvider>();
  const { tracing } = options;
  // Before every other plugin and route: @fastify/otel only instruments what is added after it.
  if (tracing) {
    installRequestTracing(app, tracing, { flushTimeoutMs: Math.floor(config.http.shutdownTimeoutMs / 2) });
  }

  // Two Node defaults let a slow request outlive HTTP_REQUEST_TIMEOUT_MS (measured): with
  // headersTimeout (60 s) above requestTimeout, a slow *body* is never cut by requestTimeout; and
  // timeouts are checked only every 30 s. So the headers share the request's limit, and the check
  // runs often enough that the limit holds to within a tenth of itself (at most 1 s). Node reads the
  // interval when the server starts listening.
  if (requestTimeoutMs > 0) {
    app.server.headersTimeout = requestTimeoutMs;
    (app.server as { connectionsCheckingInterval?: number }).connectionsCheckingInterval = Math.max(
      50,
      Math.min(1000, Math.floor(requestTimeoutMs / 10)),
    );
  }
  // Node reads up to 2000 headers per request by default; a request needs a few dozen.
  app.server.maxHeadersCount = config.http.maxHeadersCount;
  const budgets: TimeBudgets = {
    defaultMs: config.http.timeBudgetMs,
    expensiveMs: config.http.timeBudgetExpensiveMs,
  };
  app.setValidatorCompiler(requestValidatorCompiler());
  registerJsonBodyParser(app);
  app.decorateRequest('ctx', undefined as unknown as RequestContext);
  app.addHook('onRoute', (route) => {
    routeMethods.add(route.method, route.url);
    budgetedHandler(route, budgets);
  });
  const nPlusOneWarnAt =
    options.nPlusOneWarnAt ?? config.metrics.nPlusOneWarnAt ?? (config.env === 'production' ? 0 : 10);

  // Connections that are busy when close() starts become idle only after their response; tell the
  // client to hang up then, or close() would wait for the keep-alive timeout (72 s).
  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });

  // Must be the first hook: everything after it (handlers, DB calls) runs inside this context.
  app.addHook('onRequest', (request, reply, done) => {
    const ctx: RequestContext = { requestId: String(request.id), queryCount: 0, queryTimeMs: 0 };
    if (nPlusOneWarnAt > 0) ctx.statementShapes = new Map();
    ctx.describe = () => ({
      requestId: ctx.requestId,
      userId: ctx.principal?.userId,
      role: ctx.principal?.role,
      ip: request.ip,
      method: request.method,
      route: request.routeOptions.url ?? UNMATCHED_ROUTE,
      userAgent: request.headers['user-agent'],
    });
    request.ctx = ctx;
    startTimeBudget(request, reply, ctx, budgets);
    if (metrics) {
      // 'close' fires once per response whether it finished or the client went away mid-way.
      metrics.httpInFlight.inc();
      reply.raw.once('close', () => metrics.httpInFlight.dec());
    }
    reply.header('x-request-id', request.id);
    if (tracing) {
      const ids = activeTraceIds();
      if (ids) reply.header(TRACE_ID_HEADER, ids.traceId);
    }
    clientErrors.track(request.raw.socket, { id: String(request.id), url: request.url });
    if (closing) {
      reply
        .code(503)
        .header('connection', 'close')
        .type('application/json; charset=utf-8')
        .send(errorBody(request, appError('UNAVAILABLE', 'The server is shutting down; retry')));
      return;
    }
    requestContext.run(ctx, done);
  });

  app.addHook('onSend', async (request, reply, payload) => {
    if (closing) reply.header('connection', 'close');
    const ctx = request.ctx;
    if (ctx && ctx.queryCount > 0) {
      reply.header('server-timing', `db;dur=${ctx.queryTimeMs.toFixed(2)};desc="${ctx.queryCount} queries"`);
    }
    return payload;
  });

  app.addHook('onResponse', async (request, reply) => {
    clientErrors.answered(request.raw.socket);
    const route = request.routeOptions.url ?? UNMATCHED_ROUTE;
    const statements = request.ctx?.queryCount ?? 0;
    metrics?.observeRequest(route, request.method, reply.statusCode, reply.elapsedTime / 1000, statements);
    routeWindows?.record(request.method, route, reply.statusCode, reply.elapsedTime);
    const shapes = request.ctx?.statementShapes;
    if (shapes && statements > nPlusOneWarnAt) warnRepeatedStatements(request, route, shapes, nPlusOneWarnAt);
    request.log.info(
      {
        method: request.method,
        url: request.url,
        statusCode: reply.statusCode,
        durationMs: Math.round(reply.elapsedTime * 100) / 100,
        queries: request.ctx?.queryCount,
        dbMs: request.ctx ? Math.round(request.ctx.queryTimeMs * 100) / 100 : undefined,
      },
      'request completed',
    );
  });

  registerErrorHandling(app, {
    exposeStack: config.env === 'development',
    routeMethods,
    ...(options.errorTranslators ? { translators: options.errorTranslators } : {}),
  });
  return app;
}

/** The N+1 detector's report: each statement shape one request ran more than `limit` times. */
function warnRepeatedStatements(
  request: FastifyRequest,
  route: string,
  shapes: Map<string, number>,
  limit: number,
): void {
  for (const [statement, count] of shapes) {
    if (count <= limit) continue;
    request.log.warn(
      { route, method: request.method, statement, count, threshold: limit },
      `possible N+1: one request ran the same statement ${count} times`,
    );
  }
}

export type HttpServer = ReturnType<typeof createHttpServer>;
export type { FastifyInstance };
