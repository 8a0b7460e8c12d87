import { redactSecrets } from './redact.ts';
import { currentRequestContext } from './request-context.ts';

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
 * written (replaced by "[redacted]"); and on every warning or error written while a request runs,
 * that request's facts (user id and role, client address, method, route template, user agent), so
 * an error line alone says who hit what. Info lines stay lean: the access line has its own fields.
 */
export function loggerOptions(level: string) {
  return {
    level,
    formatters: { log: (object: Record<string, unknown>) => redactSecrets(object) },
    mixin(_merge: object, levelNumber: number): object {
      if (levelNumber < WARN) return {};
      return currentRequestContext()?.describe?.() ?? {};
    },
  };
}
