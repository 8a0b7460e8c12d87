import pino from 'pino';
import type { Config } from '../platform/config/index.ts';
import { loggerOptions } from '../platform/observability/index.ts';

export function cliLogger(config: Config) {
  return pino(loggerOptions(config.log.level));
}
