import type { FastifyReply, FastifyRequest, RouteOptions } from 'fastify';
import { appError } from '../errors/index.ts';
import type { RequestContext } from '../observability/request-context.ts';
import { declaredRouteClass, type RouteClass, requestRouteClass } from './route-class.ts';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** This route's time budget in ms, instead of its class's (0: none). */
    timeBudgetMs?: number;
  }
}

export interface TimeBudgets {
  /** Every class but `probe` and `expensive`; 0 turns budgets off. */
  readonly defaultMs: number;
  readonly expensiveMs: number;
}

/** The budget of a request of class `cls`; probes have none. */
export function budgetOf(cls: RouteClass, budgets: TimeBudgets, declared?: number): number {
  if (cls === 'probe') return 0;
  if (declared !== undefined) return declared;
  return cls === 'expensive' ? budgets.expensiveMs : budgets.defaultMs;
}

/**
 * Starts the request's time budget: `ctx.signal` aborts when it ends, with the 504 `E_TIMEOUT` the
 * client gets as its reason. The database aborts the request's statements on it, and
 * {@link budgetedHandler} answers with its reason. The timer ends with the response.
 */
export function startTimeBudget(
  request: FastifyRequest,
  reply: FastifyReply,
  ctx: RequestContext,
  budgets: TimeBudgets,
): void {
  const ms = budgetOf(requestRouteClass(request), budgets, request.routeOptions.config?.timeBudgetMs);
  if (ms <= 0) return;
  const controller = new AbortController();
  ctx.signal = controller.signal;
  const timer = setTimeout(() => {
    controller.abort(
      appError('TIMEOUT', `The request did not finish within its time budget (${ms} ms)`, {
        details: [{ message: 'time budget exceeded', budgetMs: ms }],
      }),
    );
  }, ms);
  reply.raw.once('close', () => clearTimeout(timer));
}

type Handler = (this: unknown, request: FastifyRequest, reply: FastifyReply) => unknown;

/**
 * Wraps a route's handler so that the request is answered with its budget's error the moment the
 * budget ends, instead of when the handler gives up: the handler's own later outcome is dropped
 * (its statements fail at once by then). Probes and routes without a budget keep their handler.
 */
export function budgetedHandler(route: RouteOptions, budgets: TimeBudgets): void {
  const declared = (route.config as { timeBudgetMs?: number } | undefined)?.timeBudgetMs;
  if (budgetOf(declaredRouteClass(route), budgets, declared) <= 0) return;
  const handler = route.handler as Handler;
  route.handler = function budgeted(this: unknown, request: FastifyRequest, reply: FastifyReply) {
    const signal = request.ctx?.signal;
    if (!signal) return handler.call(this, request, reply);
    if (signal.aborted) return Promise.reject(signal.reason);
    const result = handler.call(this, request, reply);
    if (!(result instanceof Promise)) return result;
    return new Promise((resolve, reject) => {
      const onAbort = () => (reply.sent ? resolve(undefined) : reject(signal.reason));
      signal.addEventListener('abort', onAbort, { once: true });
      result.then(
        (value) => {
          signal.removeEventListener('abort', onAbort);
          resolve(value);
        },
        (err: unknown) => {
          signal.removeEventListener('abort', onAbort);
          reject(err);
        },
      );
    });
  } as RouteOptions['handler'];
}
