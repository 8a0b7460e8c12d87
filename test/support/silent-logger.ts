import type { Logger } from '../../src/platform/observability/logger.ts';

/** A logger that records entries instead of printing them, for assertions on logs. */
export function recordingLogger(): Logger & { entries: { level: string; obj: unknown; msg?: string }[] } {
  const entries: { level: string; obj: unknown; msg?: string }[] = [];
  const make = (): Logger & { entries: typeof entries } => {
    const at = (level: string) => (obj: object | string, msg?: string) => {
      entries.push({ level, obj, msg });
    };
    return {
      entries,
      fatal: at('fatal'),
      error: at('error'),
      warn: at('warn'),
      info: at('info'),
      debug: at('debug'),
      trace: at('trace'),
      child: () => make(),
    };
  };
  return make();
}
