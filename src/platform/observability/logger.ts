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

/**
 * pino options every Innkeep logger uses: the level, credentials never written to logs, and, when
 * tracing is on, the active span's `traceId` and `spanId` on every line written inside a span.
 * Create loggers after `startTracing`: a logger made before it carries no trace ids.
 *
 * @example
 * const logger = pino(loggerOptions('info'));
 */
export function loggerOptions(level: string) {
  return {
    level,
    redact: ['req.headers.authorization', 'req.headers.cookie', 'res.headers["set-cookie"]'],
    // Only when tracing is on: with it off, pino calls no mixin at all.
    ...(tracingActive() ? { mixin: traceIdsMixin } : {}),
  };
}

// A fresh object every time: pino's default merge strategy assigns the line's fields onto it.
function traceIdsMixin(): object {
  return activeTraceIds() ?? {};
}
