import { parseArgs } from 'node:util';

const OPTIONS = {
  scale: { type: 'string', default: 'small' },
  seed: { type: 'string', default: '42' },
  reset: { type: 'boolean', default: false },
  markdown: { type: 'boolean', default: false },
  email: { type: 'string' },
  name: { type: 'string' },
  password: { type: 'string' },
  'password-stdin': { type: 'boolean', default: false },
  json: { type: 'boolean', default: false },
  tag: { type: 'string' },
  namespace: { type: 'string' },
  'seq-scan-rows': { type: 'string' },
  'estimate-factor': { type: 'string' },
  'older-than-s': { type: 'string' },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

/** The CLI's arguments parsed; throws ERR_PARSE_ARGS_* on an unknown option or a missing value. */
export const parseCommandLine = (argv: string[]) =>
  parseArgs({ args: argv, allowPositionals: true, options: OPTIONS });

/**
 * Whether `argv` runs the server (`start`, the default command). Only node:util is loaded, so the
 * entry point can ask before it loads anything tracing must see first.
 */
export function startsServer(argv: string[]): boolean {
  try {
    const { positionals, values } = parseCommandLine(argv);
    return ['start', 'worker'].includes(positionals[0] ?? 'start') && !values.help;
  } catch {
    return false; // a usage error, which the CLI reports
  }
}
