import { redactSecrets } from './redact.ts';
import { currentRequestContext } from './request-context.ts';
import { activeTraceIds, tracingActive } from './trace-ids.ts';

/** The logging surface the platform needs; pino and Fastify's logger satisfy it. */
export interface Logger {
  fatal(obj: object | string, msg?: string): void;
  error(obj: object | string, msg?: string): void;
  warn(obj: object | string, msg?: string): void;
  info(obj: object | string, msg?: string): void;
  debug(obj: object | string, msg?: string): void;
  trace(obj: object | string, msg?: string): void;
  child(bindings: Record<string, unknown>): Logger;
}

/** pino's level number for `warn`: lines at warn and above carry the request's facts. */
const WARN = 40;

/**
 * pino options every Innkeep logger uses: the level; credentials, tokens and card data never
 * written (replaced by "[redacted]"); on every warning or error written while a request runs, that
 * request's facts (user id and role, client address, method, route template, user agent), so an
 * error line alone says who hit what (info lines stay lean: the access line has its own fields);
 * and, when tracing is on, the active span's `traceId` and `spanId` on every line written inside a
 * span. Create loggers after `startTracing`: a logger made before it carries no trace ids.
 *
 * @example
 * const logger = pino(loggerOptions('info'));
 */
export function loggerOptions(level: string) {
  const tracing = tracingActive();
  return {
    level,
    formatters: { log: (object: Record<string, unknown>) => redactSecrets(object) },
    mixin: tracing ? withTraceIds : requestFacts,
  };
}

// Fresh objects every time: pino's default merge strategy assigns the line's fields onto them.
function requestFacts(_merge: object, level: number): object {
  if (level < WARN) return {};
  return currentRequestContext()?.describe?.() ?? {};
}

function withTraceIds(merge: object, level: number): object {
  const ids = activeTraceIds();
  const facts = requestFacts(merge, level);
  return ids ? { ...facts, ...ids } : facts;
}
