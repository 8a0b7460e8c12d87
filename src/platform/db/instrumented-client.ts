import pg from 'pg';
import type { Logger } from '../observability/logger.ts';
import { currentRequestContext, type RequestContext } from '../observability/request-context.ts';

/**
 * Told about every finished (non-streaming) statement: its bounded label (see `statementLabel`),
 * duration, whether it failed and whether it crossed the slow-query warning threshold.
 */
export type StatementObserver = (
  statement: string,
  durationMs: number,
  failed: boolean,
  slow: boolean,
) => void;

export interface QueryObserverOptions {
  readonly logger: Logger;
  readonly slowQueryWarnMs: number;
  readonly slowQueryDebugMs: number;
  readonly onStatement?: StatementObserver | undefined;
}

type Callback = (err: Error | null, res: unknown) => void;

/**
 * A `pg.Client` that counts every statement against the current request context and logs slow ones
 * with the statement's name (or its first line). Installed through `new pg.Pool({ Client })`, so it
 * sees pool.query, checked-out clients and transactions alike.
 */
export function instrumentedClientClass(options: QueryObserverOptions): typeof pg.Client {
  const { logger, slowQueryWarnMs, slowQueryDebugMs, onStatement } = options;

  // `ctx` is captured when the query starts: completion runs in the socket's async context.
  const observe = (query: unknown, startedAt: number, err: unknown, ctx: RequestContext | undefined) => {
    const durationMs = performance.now() - startedAt;
    if (ctx) ctx.queryTimeMs += durationMs;
    onStatement?.(
      statementLabel(query),
      durationMs,
      err !== null && err !== undefined,
      durationMs >= slowQueryWarnMs,
    );
    if (durationMs < slowQueryDebugMs && durationMs < slowQueryWarnMs) return;
    const entry = {
      statement: statementName(query),
      durationMs: Math.round(durationMs * 10) / 10,
      requestId: ctx?.requestId,
      failed: err ? true : undefined,
    };
    if (durationMs >= slowQueryWarnMs) logger.warn(entry, 'slow query');
    else logger.debug(entry, 'slow query');
  };

  class InstrumentedClient extends pg.Client {
    // biome-ignore lint/suspicious/noExplicitAny: pg's overloads cannot be re-declared generically
    override query(...args: any[]): any {
      const query = args[0];
      // Cursors and other submittables stream; they are counted but not timed.
      const ctx = currentRequestContext();
      if (ctx) {
        ctx.queryCount++;
        if (ctx.statementShapes) {
          const shape = statementName(query);
          ctx.statementShapes.set(shape, (ctx.statementShapes.get(shape) ?? 0) + 1);
        }
      }
      if (query && typeof query === 'object' && typeof query.submit === 'function') {
        return super.query(...(args as [never]));
      }
      const startedAt = performance.now();
      const cbIndex = args.findIndex((a) => typeof a === 'function');
      const signal = ctx?.signal;
      // The request's budget is over: nothing more of it runs, except the ROLLBACK that ends its
      // transaction.
      if (signal?.aborted && !ROLLBACK.test(statementText(query))) {
        const reason = signal.reason as Error;
        if (cbIndex < 0) return Promise.reject(reason);
        queueMicrotask(() => (args[cbIndex] as Callback)(reason, undefined));
        return undefined;
      }
      const unwatch = signal ? cancelOnAbort(this, signal, logger) : undefined;
      if (cbIndex >= 0) {
        const cb = args[cbIndex] as Callback;
        args[cbIndex] = (err: Error | null, res: unknown) => {
          unwatch?.();
          observe(query, startedAt, err, ctx);
          cb(err, res);
        };
        return super.query(...(args as [never]));
      }
      const result = super.query(...(args as [never])) as unknown as Promise<unknown>;
      return result.then(
        (res) => {
          unwatch?.();
          observe(query, startedAt, null, ctx);
          return res;
        },
        (err: unknown) => {
          unwatch?.();
          observe(query, startedAt, err, ctx);
          throw err;
        },
      );
    }
  }
  return InstrumentedClient as unknown as typeof pg.Client;
}

const ROLLBACK = /^\s*ROLLBACK\b/i;

function statementText(query: unknown): string {
  if (typeof query === 'string') return query;
  const text = (query as { text?: unknown } | null)?.text;
  return typeof text === 'string' ? text : '';
}

interface CancellableClient {
  readonly processID: number | null;
  readonly secretKey: number | null;
  readonly connectionParameters: { readonly host: string; readonly port: number };
}

/** The parts of pg's Connection a cancel request uses (its typings leave them out). */
interface CancelConnection {
  on(event: 'error', listener: (err: unknown) => void): void;
  once(event: 'connect', listener: () => void): void;
  connect(port: number | string, host?: string): void;
  cancel(processID: number, secretKey: number): void;
}

/**
 * Until the returned function is called, an abort of `signal` sends PostgreSQL a cancel request for
 * whatever `client` is running (what the server does for statement_timeout: the statement fails
 * with 57014 and the connection stays usable). The request goes over a new short connection, as
 * the protocol wants; pg's own `Client.cancel` does the same but reads a deprecated getter.
 */
function cancelOnAbort(client: pg.Client, signal: AbortSignal, logger: Logger): () => void {
  const onAbort = () => {
    const { processID, secretKey, connectionParameters } = client as unknown as CancellableClient;
    if (processID === null || secretKey === null) return;
    const con = new pg.Connection() as unknown as CancelConnection;
    con.on('error', (err: unknown) => logger.debug({ err }, 'sending a cancel request failed'));
    con.once('connect', () => con.cancel(processID, secretKey));
    const { host, port } = connectionParameters;
    if (host.startsWith('/')) con.connect(`${host}/.s.PGSQL.${port}`);
    else con.connect(port, host);
  };
  signal.addEventListener('abort', onAbort, { once: true });
  return () => signal.removeEventListener('abort', onAbort);
}

/** SQL text → statement name, for naming what pg_stat_statements reports; bounded. */
const namesByText = new Map<string, string>();
/** The last text seen under each name, so that a text is normalised once. */
const textByName = new Map<string, string>();
const MAX_NAMES = 2000;

/**
 * A statement's text in a form that survives pg_stat_statements' normalisation: it replaces
 * constants with $n (and, in PostgreSQL 18, squashes constant lists to `($n /*, ... *\/)`), trims
 * whitespace and the final semicolon. Here every parameter and constant becomes `?`, lists of them
 * one `?`, comments and runs of whitespace go.
 */
export function statementShapeKey(text: string): string {
  return text
    .replace(/\/\*[\s\S]*?\*\//g, ' ')
    .replace(/--[^\n]*/g, ' ')
    .replace(/'(?:[^']|'')*'/g, '?')
    .replace(/\$\d+/g, '?')
    .replace(/(?<![\w.])\d+(?:\.\d+)?(?![\w.])/g, '?')
    .replace(/\?(?:\s*,\s*\?)+/g, '?')
    .replace(/\s+/g, ' ')
    .replace(/\( /g, '(')
    .replace(/ \)/g, ')')
    .trim()
    .replace(/\s*;$/, '');
}
const keyOf = statementShapeKey;

/** The name this process gave the statement with this SQL text, if it ran one. */
export function statementNameOf(text: string): string | undefined {
  return namesByText.get(keyOf(text));
}

const CONTROL_STATEMENT = /^\s*(BEGIN|COMMIT|ROLLBACK|SAVEPOINT|RELEASE|SET|SHOW|SELECT 1)\b/i;

/**
 * A metric label for a statement, from a bounded set: its name when it has one (every app statement
 * does), the keyword of a transaction-control statement, or `unnamed` (never the SQL text, which
 * can be unbounded).
 */
export function statementLabel(query: unknown): string {
  if (query && typeof query === 'object' && typeof (query as { name?: unknown }).name === 'string') {
    const { name, text } = query as { name: string; text?: unknown };
    // Normalising a text costs tens of µs (a chain of regexes over 1-2 KB of SQL): once per name and
    // text. The texts are constants in the repositories, so the check is mostly a pointer comparison.
    if (typeof text === 'string' && textByName.get(name) !== text && textByName.size < MAX_NAMES) {
      textByName.set(name, text);
      const key = keyOf(text);
      if (!namesByText.has(key)) namesByText.set(key, name);
    }
    return name;
  }
  const text = typeof query === 'string' ? query : (query as { text?: unknown } | null)?.text;
  if (typeof text === 'string') {
    const control = CONTROL_STATEMENT.exec(text);
    if (control?.[1]) return control[1].toUpperCase();
  }
  return 'unnamed';
}

function statementName(query: unknown): string {
  if (typeof query === 'string') return firstLine(query);
  if (query && typeof query === 'object') {
    const q = query as { name?: string; text?: string };
    if (q.name) return q.name;
    if (q.text) return firstLine(q.text);
  }
  return 'unknown';
}

function firstLine(text: string): string {
  const compact = text.replace(/\s+/g, ' ').trim();
  return compact.length > 120 ? `${compact.slice(0, 117)}...` : compact;
}
