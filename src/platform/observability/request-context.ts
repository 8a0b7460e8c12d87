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
}

export const requestContext = new AsyncLocalStorage<RequestContext>();

/** Runs `fn` with a fresh context; used by HTTP hooks, CLI commands and tests that count queries. */
export function withRequestContext<T>(requestId: string, fn: () => T): T {
  return requestContext.run({ requestId, queryCount: 0, queryTimeMs: 0 }, fn);
}

export function currentRequestContext(): RequestContext | undefined {
  return requestContext.getStore();
}
