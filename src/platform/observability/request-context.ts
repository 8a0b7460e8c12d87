import { AsyncLocalStorage } from 'node:async_hooks';

/** Per-request facts that deep layers (the query hook) add to without a parameter chain. */
export interface RequestContext {
  readonly requestId: string;
  queryCount: number;
  queryTimeMs: number;
  /**
   * Statements run so far by shape (name, or the compacted SQL text), kept only while the N+1
   * detector is on: a shape repeated past its threshold in one request is logged.
   */
  statementShapes?: Map<string, number>;
  /** Who is calling, once authentication has said (set by the app's auth layer). */
  principal?: { readonly userId: string | number; readonly role?: string };
  /** The request's facts for warning and error logs (see loggerOptions); computed only when logged. */
  describe?: () => Record<string, unknown>;
  /**
   * Aborted when the request's time budget ends (its reason is the error the client got): database
   * statements started after it fail at once, running ones are cancelled, and outbound calls should
   * pass it on (see {@link requestSignal}).
   */
  signal?: AbortSignal;
}

export const requestContext = new AsyncLocalStorage<RequestContext>();

/** Runs `fn` with a fresh context; used by HTTP hooks, CLI commands and tests that count queries. */
export function withRequestContext<T>(requestId: string, fn: () => T): T {
  return requestContext.run({ requestId, queryCount: 0, queryTimeMs: 0 }, fn);
}

export function currentRequestContext(): RequestContext | undefined {
  return requestContext.getStore();
}

/**
 * The current request's budget signal, for outbound calls made deep in a use case; undefined outside
 * a request or when the request has no budget.
 *
 * @example
 * const res = await fetch(url, { signal: requestSignal() });
 */
export function requestSignal(): AbortSignal | undefined {
  return requestContext.getStore()?.signal;
}
