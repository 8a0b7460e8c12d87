import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { configMarkdownTable } from '../src/platform/config/index.ts';
import { createTestDatabase, testTarget } from './support/database.ts';
import { isProcessRunning, postmasterPid, readyUrl, spawnCapture, spawnNode } from './support/process.ts';
import { ensureTestServer } from './support/test-server.ts';

const MAIN = join(import.meta.dirname, '../src/main.ts');
const cleanups: (() => Promise<unknown>)[] = [];
before(async () => {
  cleanups.push(await ensureTestServer());
});
after(async () => {
  for (const fn of cleanups.reverse()) await fn();
});

/** The variables the CLI would otherwise inherit from this process (CI, a developer's .env). */
function cleanEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  // METRICS_PORT=0: test files run in parallel, and the internal listener's default port is fixed.
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    LOG_LEVEL: 'warn',
    METRICS_PORT: '0',
  };
  return { ...env, ...extra };
}

function run(args: string[], env: Record<string, string>) {
  return spawnNode(MAIN, args, { env: cleanEnv(env), cwd: tmpdir() });
}

describe('innkeep CLI', () => {
  it('when configuration is invalid, then start exits 2 naming every bad variable', async () => {
    const proc = run(['start'], { PORT: 'eighty', DB_POOL_MAX: '0', LOG_LEVEL: 'loud' });
    assert.equal(await proc.exited, 2);
    for (const name of ['PORT="eighty"', 'DB_POOL_MAX="0"', 'LOG_LEVEL="loud"']) {
      assert.match(proc.err(), new RegExp(name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
    }
  });

  it('when METRICS_PORT is taken, then start exits 2 naming it, and leaves no PostgreSQL behind', async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise<void>((resolve) => taken.close(() => resolve())));
    const dataDir = await mkdtemp(join(tmpdir(), 'innkeep-cli-'));
    cleanups.push(() => rm(dataDir, { recursive: true, force: true }));
    const env: Record<string, string> = {
      INNKEEP_DATA_DIR: dataDir,
      PORT: '0',
      METRICS_PORT: String((taken.address() as AddressInfo).port),
      DB_SEED_ON_EMPTY: 'none',
    };
    if (testTarget() === 'external') {
      const db = await createTestDatabase({ migrate: false });
      cleanups.push(() => db.drop());
      env.DATABASE_URL = db.url;
    }
    const proc = run(['start'], env);
    assert.equal(await proc.exited, 2, proc.err());
    assert.match(proc.err(), /METRICS_PORT="\d+": the port is in use/);
    if (testTarget() === 'embedded') {
      const pid = await postmasterPid(dataDir);
      assert.ok(pid === 0 || !isProcessRunning(pid), 'embedded PostgreSQL stopped');
    }
  });

  it('when the command is unknown, then it exits 2 with the usage text', async () => {
    const proc = run(['frobnicate'], {});
    assert.equal(await proc.exited, 2);
    assert.match(proc.err(), /Unknown command: frobnicate[\s\S]*Usage: innkeep/);
  });

  it('when started on an empty database, then it seeds demo data, serves search and stops cleanly on SIGTERM', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'innkeep-cli-'));
    cleanups.push(() => rm(dataDir, { recursive: true, force: true }));
    const env: Record<string, string> = {
      INNKEEP_DATA_DIR: dataDir,
      PORT: '0',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'info',
    };
    if (testTarget() === 'external') {
      const db = await createTestDatabase({ migrate: false });
      cleanups.push(() => db.drop());
      env.DATABASE_URL = db.url;
    }
    const proc = run(['start'], env);
    const url = await readyUrl(proc);
    const res = await fetch(`${url}/api/hotels/search?limit=5`);
    assert.equal(res.status, 200);
    const body = (await res.json()) as { data: { cheapestRooms: unknown[] }[]; hasMore: boolean };
    assert.equal(body.data.length, 5);
    assert.equal(body.hasMore, true);
    assert.ok(body.data.every((h) => h.cheapestRooms.length > 0));
    assert.equal((await fetch(`${url}/ready`)).status, 200);
    // The operators' listener is up beside it, on its own port (logged), serving the scrape.
    const internal = /"internal":"(http:\/\/[^"]+)"/.exec(proc.out())?.[1];
    assert.ok(internal, proc.out());
    const scrape = await fetch(`${internal}/metrics`);
    assert.equal(scrape.status, 200);
    assert.match(
      await scrape.text(),
      /innkeep_http_request_duration_seconds_count\{route="\/api\/hotels\/search"/,
    );

    proc.child.kill('SIGTERM');
    let completeAt = 0;
    const watch = setInterval(() => {
      if (!completeAt && proc.out().includes('"msg":"shutdown complete"')) completeAt = performance.now();
    }, 5);
    assert.equal(await proc.exited, 0, proc.err());
    clearInterval(watch);
    // Exits promptly once shut down: nothing keeps the event loop alive (its parent sees the exit).
    assert.ok(
      completeAt > 0 && performance.now() - completeAt < 1000,
      'exit within 1 s of shutdown complete',
    );
    if (testTarget() === 'embedded') {
      const pid = await postmasterPid(dataDir);
      assert.ok(pid === 0 || !isProcessRunning(pid), 'embedded PostgreSQL stopped with the app');
    }
  });
});

describe('npm start', () => {
  /** `npm start` in a fresh data folder (its own process group when `detached`), once it is ready. */
  const startNpm = async (env: Record<string, string> = {}, detached = false) => {
    const dataDir = await mkdtemp(join(tmpdir(), 'innkeep-npm-'));
    cleanups.push(() => rm(dataDir, { recursive: true, force: true }));
    const npm = spawnCapture('npm', ['start', '--silent'], {
      cwd: join(import.meta.dirname, '..'),
      env: cleanEnv({
        INNKEEP_DATA_DIR: dataDir,
        PORT: '0',
        HOST: '127.0.0.1',
        DB_SEED_ON_EMPTY: 'none',
        LOG_LEVEL: 'info',
        ...env,
      }),
      detached,
    });
    const deadline = Date.now() + 60_000;
    while (!npm.out().includes('Innkeep is ready at')) {
      assert.ok(
        Date.now() < deadline && npm.child.exitCode === null,
        `npm start did not come up: ${npm.err()}`,
      );
      await new Promise((r) => setTimeout(r, 50));
    }
    const appPid = Number(/"pid":(\d+)/.exec(npm.out())?.[1]);
    return { npm, appPid, postmaster: await postmasterPid(dataDir) };
  };

  /** Waits until every process holding npm's stdout has exited ('close'); fails if Innkeep lives on. */
  const stopped = async (npm: ReturnType<typeof spawnCapture>, appPid: number) => {
    await Promise.race([npm.exited, new Promise((r) => setTimeout(r, 15_000))]);
    // Its pipes close a moment before the kernel marks the exiting process as gone.
    for (let i = 0; i < 40 && isProcessRunning(appPid); i++) await new Promise((r) => setTimeout(r, 50));
    if (isProcessRunning(appPid)) {
      process.kill(appPid, 'SIGKILL');
      assert.fail(`Innkeep (pid ${appPid}) was left running: ${npm.out().slice(-500)}`);
    }
  };

  it('when a supervisor sends SIGTERM to npm (which does not pass it on), then Innkeep still shuts down gracefully', async () => {
    const { npm, appPid, postmaster } = await startNpm();
    npm.child.kill('SIGTERM');
    await stopped(npm, appPid);
    assert.match(npm.out(), /npm, which started Innkeep, exited: shutting down/);
    assert.match(npm.out(), /"msg":"shutdown complete"/);
    assert.ok(!isProcessRunning(postmaster), 'embedded PostgreSQL stopped with it');
  });

  it('when SIGTERM goes to the whole process group (systemd, Ctrl-C), then npm exiting does not cut the drain short', async () => {
    const { npm, appPid } = await startNpm({ SHUTDOWN_DRAIN_DELAY_MS: '1500' }, true);
    process.kill(-npm.child.pid!, 'SIGTERM');
    await stopped(npm, appPid);
    assert.match(npm.out(), /"msg":"shutdown complete"/);
    assert.doesNotMatch(npm.out(), /second signal/);
  });
});

describe('README', () => {
  it('when the settings change, then the README configuration table is regenerated (npx innkeep config --markdown)', async () => {
    const readme = await readFile(join(import.meta.dirname, '../README.md'), 'utf8');
    assert.ok(readme.includes(configMarkdownTable()), 'README configuration table is out of date');
  });
});
