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
  help: { type: 'boolean', short: 'h', default: false },
} as const;

/** The CLI's arguments parsed; throws ERR_PARSE_ARGS_* on an unknown option or a missing value. */
export const parseCommandLine = (argv: string[]) =>
  parseArgs({ args: argv, allowPositionals: true, options: OPTIONS });
