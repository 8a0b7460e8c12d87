import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import pg from 'pg';
import { type EmbeddedPostgresHandle, startEmbeddedPostgres } from '../../src/platform/db/embedded.ts';
import { isProcessRunning, NODE, postmasterPid, spawnNode } from '../support/process.ts';
import { recordingLogger } from '../support/silent-logger.ts';

const EMBEDDED_MODULE = pathToFileURL(join(import.meta.dirname, '../../src/platform/db/embedded.ts')).href;

type Entry = ReturnType<typeof recordingLogger>['entries'][number];

function messageOf(entry: Entry): string | undefined {
  return entry.msg ?? (typeof entry.obj === 'string' ? entry.obj : undefined);
}

function messages(entries: readonly Entry[]): string[] {
  return entries.filter((e) => e.level !== 'debug').map((e) => messageOf(e) ?? '');
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

async function queryOnce<T extends pg.QueryResultRow>(url: string, sql: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(sql)).rows;
  } finally {
    await client.end();
  }
}

/**
 * Starts the embedded server on `dataDir` in a child Node process that keeps it running (and stops
 * it on SIGTERM when `stopOnTerm`); resolves once the child printed the server's URL.
 */
async function startInChild(scriptsDir: string, dataDir: string, stopOnTerm: boolean) {
  const script = join(scriptsDir, stopOnTerm ? 'start-and-hold.mjs' : 'start-and-wait.mjs');
  await writeFile(
    script,
    [
      `import { startEmbeddedPostgres } from ${JSON.stringify(EMBEDDED_MODULE)};`,
      'const quiet = { fatal() {}, error() {}, warn() {}, info() {}, debug() {}, trace() {}, child: () => quiet };',
      'const server = await startEmbeddedPostgres(process.argv[2], quiet);',
      'process.stdout.write(JSON.stringify({ url: server.url }) + "\\n");',
      ...(stopOnTerm ? ['process.on("SIGTERM", () => server.stop().then(() => process.exit(0)));'] : []),
      'setInterval(() => {}, 1000);',
      '',
    ].join('\n'),
  );
  const child = spawn(NODE, [script, dataDir], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (c: Buffer) => {
    stderr += c.toString();
  });
  const started = new Promise<{ url: string }>((resolve, reject) => {
    let stdout = '';
    child.stdout?.on('data', (c: Buffer) => {
      stdout += c.toString();
      const line = stdout.split('\n')[0];
      if (stdout.includes('\n') && line) resolve(JSON.parse(line) as { url: string });
    });
    child.once('exit', (code) => reject(new Error(`child exited early (${code}): ${stderr}`)));
  });
  return { child, started };
}

describe('startEmbeddedPostgres', () => {
  let dir: string;
  let scripts: string;
  const running: EmbeddedPostgresHandle[] = [];
  let orphanPid: number | undefined;
  let child: ChildProcess | undefined;
  const firstLogger = recordingLogger();

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'innkeep-embedded-'));
    scripts = await mkdtemp(join(tmpdir(), 'innkeep-embedded-scripts-'));
  });

  after(async () => {
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    for (const handle of running) await handle.stop().catch(() => undefined);
    if (orphanPid && isProcessRunning(orphanPid)) process.kill(orphanPid, 'SIGINT');
    await rm(dir, { recursive: true, force: true });
    await rm(scripts, { recursive: true, force: true });
  });

  it('when started on an empty directory, then it initialises a cluster and serves the innkeep database', async () => {
    const server = await startEmbeddedPostgres(dir, firstLogger);
    running.push(server);
    assert.ok(messages(firstLogger.entries).includes('initialising embedded PostgreSQL (first start)'));
    assert.ok(messages(firstLogger.entries).includes('embedded PostgreSQL started'));
    assert.equal(server.dataDir, join(dir, 'pg'));
    assert.match(server.url, new RegExp(`^postgres://innkeep:[^@]+@127\\.0\\.0\\.1:${server.port}/innkeep$`));
    await queryOnce(server.url, 'CREATE TABLE keepsake (id int PRIMARY KEY, note text NOT NULL)');
    await queryOnce(server.url, "INSERT INTO keepsake VALUES (1, 'survives restarts')");
    const [row] = await queryOnce<{ db: string; enc: string }>(
      server.url,
      "SELECT current_database() AS db, pg_encoding_to_char(encoding) AS enc FROM pg_database WHERE datname = 'innkeep'",
    );
    assert.deepEqual(row, { db: 'innkeep', enc: 'UTF8' });
  });

  it('when the cluster is created, then the credentials file is readable by its owner only', async () => {
    const file = join(dir, 'embedded-postgres.json');
    assert.equal((await stat(file)).mode & 0o777, 0o600);
    const creds = JSON.parse(await readFile(file, 'utf8')) as {
      user: string;
      password: string;
      database: string;
    };
    assert.equal(creds.user, 'innkeep');
    assert.equal(creds.database, 'innkeep');
    assert.ok(creds.password.length >= 24);
    assert.equal(decodeURIComponent(new URL(running[0]!.url).password), creds.password);
  });

  it('when stopped, then the postmaster process is gone and its pid file removed', async () => {
    const pid = await postmasterPid(dir);
    assert.ok(pid > 0 && isProcessRunning(pid));
    await running.pop()!.stop();
    assert.equal(isProcessRunning(pid), false, `postmaster ${pid} still running after stop() resolved`);
    assert.equal(await exists(join(dir, 'pg', 'postmaster.pid')), false);
    assert.ok(messages(firstLogger.entries).includes('embedded PostgreSQL stopped'));
  });

  it('when started again on the same directory, then it reuses the data without initdb', async () => {
    const credsBefore = await readFile(join(dir, 'embedded-postgres.json'), 'utf8');
    const logger = recordingLogger();
    const server = await startEmbeddedPostgres(dir, logger);
    running.push(server);
    const said = messages(logger.entries);
    assert.ok(!said.includes('initialising embedded PostgreSQL (first start)'), said.join(' | '));
    assert.ok(said.includes('embedded PostgreSQL started'));
    assert.ok(!said.some((m) => m.startsWith('adopting')));
    assert.deepEqual(await queryOnce(server.url, 'SELECT id, note FROM keepsake'), [
      { id: 1, note: 'survives restarts' },
    ]);
    assert.equal(
      await readFile(join(dir, 'embedded-postgres.json'), 'utf8'),
      credsBefore,
      'same credentials',
    );
    const pid = await postmasterPid(dir);
    await running.pop()!.stop();
    assert.equal(isProcessRunning(pid), false);
    assert.ok(messages(logger.entries).includes('embedded PostgreSQL stopped'));
  });

  it('when a server was left running by a killed process, then the next start adopts it and stop() stops it', async () => {
    const run = await startInChild(scripts, dir, false);
    child = run.child;
    const started = await run.started;
    orphanPid = await postmasterPid(dir);
    const exited = once(child, 'exit');
    child.kill('SIGKILL');
    await exited;
    assert.ok(isProcessRunning(orphanPid), 'the server outlived the killed process');

    const logger = recordingLogger();
    const adopted = await startEmbeddedPostgres(dir, logger);
    running.push(adopted);
    const adoption = logger.entries.find((e) => messageOf(e)?.startsWith('adopting'));
    assert.ok(adoption, JSON.stringify(logger.entries));
    assert.equal(messageOf(adoption), 'adopting an embedded PostgreSQL left running by an earlier process');
    assert.equal((adoption.obj as { pid: number }).pid, orphanPid);
    assert.ok(
      !messages(logger.entries).includes('embedded PostgreSQL started'),
      'no second server was started',
    );
    assert.equal(adopted.url, started.url);
    assert.deepEqual(await queryOnce(adopted.url, 'SELECT note FROM keepsake'), [
      { note: 'survives restarts' },
    ]);

    await running.pop()!.stop();
    assert.equal(isProcessRunning(orphanPid), false, `adopted postmaster ${orphanPid} still running`);
    assert.equal(await exists(join(dir, 'pg', 'postmaster.pid')), false);
  });

  it('when the process that started the server is still running, then another start uses it and stop() leaves it running', async () => {
    const shared = await mkdtemp(join(tmpdir(), 'innkeep-embedded-shared-'));
    const { child: owner, started: ready } = await startInChild(scripts, shared, true);
    try {
      const started = await ready;
      const pid = await postmasterPid(shared);
      const logger = recordingLogger();
      const second = await startEmbeddedPostgres(shared, logger);
      assert.equal(second.url, started.url);
      assert.ok(
        messages(logger.entries).includes('using the embedded PostgreSQL another running process started'),
        JSON.stringify(logger.entries),
      );
      await second.stop();
      assert.ok(isProcessRunning(pid), 'the owner’s server was stopped by the second process');
      assert.deepEqual(await queryOnce(started.url, 'SELECT 1 AS one'), [{ one: 1 }]);
    } finally {
      const exited = once(owner, 'exit');
      owner.kill('SIGTERM');
      await exited;
      await rm(shared, { recursive: true, force: true });
    }
  });

  it('when a process that imported embedded.ts ends on its own, then it exits with code 0 and a clean stderr', async () => {
    const script = join(scripts, 'import-only.mjs');
    await writeFile(script, `import ${JSON.stringify(EMBEDDED_MODULE)};\nsetTimeout(() => {}, 10);\n`);
    const proc = spawnNode(script);
    const result = { code: await proc.exited, stdout: proc.out(), stderr: proc.err() };
    assert.equal(result.stderr, '');
    assert.equal(result.code, 0);
  });
});
