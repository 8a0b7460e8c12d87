// The naive app as a process, for the bench: `node bench/naive/server.ts`. Reads the same settings
// as the real server (DATABASE_URL, PORT, HOST, JWT_SECRET, LOG_LEVEL, DB_POOL_MAX, ...), never
// migrates or seeds, prints `naive server listening on <url>` once it takes traffic, and shuts down
// cleanly on SIGTERM/SIGINT (in-flight requests finish, then the pool drains).
import pino from 'pino';
import { type Config, ConfigError, loadConfig } from '../../src/platform/config/index.ts';
import { openDatabase } from '../../src/platform/db/index.ts';
import { loggerOptions } from '../../src/platform/observability/index.ts';
import { buildNaiveApp } from './app.ts';

let config: Config;
try {
  config = loadConfig();
  // Without DATABASE_URL, openDatabase would start an embedded server on the data directory, and
  // this process neither migrates nor seeds: there would be nothing to measure.
  if (!config.db.url) throw new Error('DATABASE_URL is required: it names the seeded database to serve');
  if (!config.auth.jwtSecret) throw new Error('JWT_SECRET is required: the bench signs its tokens with it');
} catch (err) {
  console.error(`naive server: ${(err as Error).message}`);
  process.exit(err instanceof ConfigError ? 2 : 1);
}

const logger = pino(loggerOptions(config.log.level));
const db = await openDatabase(config.db, logger);
const app = await buildNaiveApp(config, db, { logger }).catch(async (err: unknown) => {
  await db.close();
  throw err;
});

let stopping = false;
const stop = (signal: NodeJS.Signals) => {
  // A second signal while draining: give up waiting.
  if (stopping) process.exit(1);
  stopping = true;
  logger.info({ signal }, 'naive server stopping');
  app
    .close()
    .then(() => db.close())
    .then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err }, 'naive server: shutdown failed');
        process.exit(1);
      },
    );
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);

const url = await app.listen({ host: config.http.host, port: config.http.port });
console.log(`naive server listening on ${url}`);
