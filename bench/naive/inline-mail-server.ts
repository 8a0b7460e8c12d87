// The inline-mail app as a process, for `npm run bench:jobs`: `node bench/naive/inline-mail-server.ts`.
// Reads the same settings as the real server (DATABASE_URL, PORT, HOST, JWT_SECRET, SMTP_URL,
// SMTP_POOL_MAX, MAIL_FROM, LOG_LEVEL, DB_POOL_MAX, ...), never migrates or seeds, and shuts down
// cleanly on SIGTERM/SIGINT (in-flight requests finish, then the SMTP pool and the database close).
import pino from 'pino';
import { type Config, ConfigError, loadConfig } from '../../src/platform/config/index.ts';
import { openDatabase } from '../../src/platform/db/index.ts';
import { loggerOptions } from '../../src/platform/observability/index.ts';
import { buildInlineMailApp } from './inline-mail.ts';

let config: Config;
try {
  config = loadConfig();
  // Without DATABASE_URL, openDatabase would start an embedded server on the data directory, and
  // this process neither migrates nor seeds: there would be nothing to book.
  if (!config.db.url) throw new Error('DATABASE_URL is required: it names the seeded database to serve');
} catch (err) {
  console.error(`inline-mail server: ${(err as Error).message}`);
  process.exit(err instanceof ConfigError ? 2 : 1);
}

const logger = pino(loggerOptions(config.log.level));
const db = await openDatabase(config.db, logger);
const app = await buildInlineMailApp(config, db, { logger }).catch(async (err: unknown) => {
  await db.close();
  throw err;
});

let stopping = false;
const stop = (signal: NodeJS.Signals) => {
  if (stopping) process.exit(1);
  stopping = true;
  logger.info({ signal }, 'inline-mail server stopping');
  app
    .close()
    .then(() => db.close())
    .then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err }, 'inline-mail server: shutdown failed');
        process.exit(1);
      },
    );
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);

const url = await app.listen({ host: config.http.host, port: config.http.port });
console.log(`inline-mail server listening on ${url}`);
