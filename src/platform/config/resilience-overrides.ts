/** Per-dependency figures an override may set; unset ones come from the defaults. */
export interface DependencyOverrides {
  readonly failures?: number;
  readonly successes?: number;
  readonly halfOpenAfterMs?: number;
  readonly timeoutMs?: number;
  readonly retries?: number;
  readonly baseDelayMs?: number;
  readonly maxDelayMs?: number;
  readonly maxConcurrent?: number;
  readonly maxQueue?: number;
  /** Sampling breaker: open when this share (0..1) of the calls in the window failed. */
  readonly sampleRatio?: number;
  readonly sampleWindowMs?: number;
  readonly sampleMinCalls?: number;
}

const POSITIVE = ['failures', 'successes', 'sampleMinCalls'];
const COUNTS = [
  'halfOpenAfterMs',
  'timeoutMs',
  'retries',
  'baseDelayMs',
  'maxDelayMs',
  'maxConcurrent',
  'maxQueue',
  'sampleWindowMs',
];
const PAIR = `(?:(?:${POSITIVE.join('|')})=[1-9]\\d{0,6}|(?:${COUNTS.join('|')})=\\d{1,7}|sampleRatio=(?:0(?:\\.\\d{1,4})?|1))`;
const ENTRY = `[a-z][a-z0-9-]{0,39}:${PAIR}(?:,${PAIR})*`;
/**
 * `RESILIENCE_OVERRIDES`'s grammar: `name:key=value,key=value;name:key=value`. The config's schema
 * checks it whole (so a typo fails at boot with the variable's name), {@link parseOverrides} reads it.
 */
export const OVERRIDES_PATTERN = `^${ENTRY}(?:;${ENTRY})*$`;

/**
 * Reads an override string already checked against {@link OVERRIDES_PATTERN}.
 *
 * @example
 * parseOverrides('llm:failures=5,halfOpenAfterMs=60000,successes=3;payments:timeoutMs=10000');
 * // { llm: { failures: 5, halfOpenAfterMs: 60000, successes: 3 }, payments: { timeoutMs: 10000 } }
 */
export function parseOverrides(text: string): Readonly<Record<string, DependencyOverrides>> {
  const out: Record<string, Record<string, number>> = {};
  if (text === '') return out;
  for (const entry of text.split(';')) {
    const [name = '', pairs = ''] = entry.split(':');
    out[name] ??= {};
    const target = out[name];
    for (const pair of pairs.split(',')) {
      const [key = '', value = ''] = pair.split('=');
      target[key] = Number(value);
    }
  }
  return out;
}
