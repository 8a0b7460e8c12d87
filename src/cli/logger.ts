import pino from 'pino';
import type { Config } from '../platform/config/index.ts';

export function cliLogger(config: Config) {
  return pino({ level: config.log.level, redact: ['req.headers.authorization', 'req.headers.cookie'] });
}
