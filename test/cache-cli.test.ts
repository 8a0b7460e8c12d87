import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { queryCount, TEST_JWT_SECRET } from './support/app.ts';
import { createTestDatabase, type TestDatabase } from './support/database.ts';
import { createHotel, type TestHotel } from './support/fixtures.ts';
import { readyUrl, spawnNode } from './support/process.ts';
import { freePort } from './support/redis-server.ts';
import { ensureTestServer } from './support/test-server.ts';

// `innkeep cache stats|clear` against a real `innkeep start`, both as child processes: the commands
// reach the running app on its internal listener (METRICS_HOST:METRICS_PORT).

const MAIN = join(import.meta.dirname, '../src/main.ts');

/** Only what the CLI needs: nothing inherited from this process (CI, a developer's .env). */
function cleanEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH, HOME: process.env.HOME, LOG_LEVEL: 'warn', ...extra };
}

describe('innkeep cache stats|clear', () => {
  let stopServer: () => Promise<void>;
  let db: TestDatabase;
  let dataDir: string;
  let hotel: TestHotel;
  let app: ReturnType<typeof spawnNode> | undefined;
  let url: string;
  let env: Record<string, string>;

  const cli = async (args: string[], extra: Record<string, string> = {}) => {
    const proc = spawnNode(MAIN, args, { env: cleanEnv({ ...env, ...extra }), cwd: tmpdir() });
    const code = await proc.exited;
    return { code, out: proc.out(), err: proc.err() };
  };

  before(
    async () => {
      stopServer = await ensureTestServer();
      db = await createTestDatabase();
      hotel = await createHotel(db.pool, { city: 'Clitown' });
      dataDir = await mkdtemp(join(tmpdir(), 'innkeep-cache-cli-'));
      env = {
        DATABASE_URL: db.url,
        INNKEEP_DATA_DIR: dataDir,
        JWT_SECRET: TEST_JWT_SECRET,
        DB_SEED_ON_EMPTY: 'none',
        HOST: '127.0.0.1',
        PORT: '0',
        METRICS_HOST: '127.0.0.1',
        METRICS_PORT: String(await freePort()),
        CACHE_PREFIX: `t-cli-${process.pid}-${randomBytes(3).toString('hex')}`,
        CACHE_WARMUP: 'false',
      };
      const proc = spawnNode(MAIN, ['start'], { env: cleanEnv(env), cwd: tmpdir() });
      app = proc;
      url = await readyUrl(proc);
    },
    { timeout: 120_000 },
  );

  after(async () => {
    if (app && app.child.exitCode === null) {
      app.child.kill('SIGTERM');
      const code = await app.exited;
      assert.equal(code, 0, `innkeep start stopped cleanly: ${app.err()}`);
    }
    await db?.drop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
    await stopServer?.();
  });

  /** One detail read; the statements it ran (0 when served from the cache). */
  const readDetail = async () => {
    const res = await fetch(`${url}/api/hotels/${hotel.id}`);
    assert.equal(res.status, 200);
    await res.arrayBuffer();
    return queryCount(Object.fromEntries(res.headers));
  };

  it('when the app serves pages, then cache stats prints its namespaces with their counters', async () => {
    assert.ok((await readDetail()) >= 1, 'a miss');
    assert.equal(await readDetail(), 0, 'a hit');
    const { code, out, err } = await cli(['cache', 'stats']);
    assert.equal(code, 0, err);
    assert.match(out, /^cache: on, tiers l1, redis none; memory \d+ \/ [\d,.]+\w* entries/m);
    assert.match(out, /namespace\s+mode\s+hit rate\s+L1 hits\s+L2 hits\s+misses/);
    for (const name of ['search', 'hotel', 'reviews', 'prices', 'availability', 'my-bookings', 'dashboard']) {
      assert.match(out, new RegExp(`^${name}\\s+(graceful|strict)\\s`, 'm'), `${name} row in:\n${out}`);
    }
    // hotel: 1 L1 hit, 0 L2 hits, 1 miss: a 50% hit rate.
    assert.match(out, /^hotel\s+graceful\s+50\.0%\s+1\s+0\s+1\s/m, out);
    assert.match(out, /^total\s/m);
  });

  it('when cache stats --json is asked, then the JSON of the stats route', async () => {
    const { code, out, err } = await cli(['cache', 'stats', '--json']);
    assert.equal(code, 0, err);
    const stats = JSON.parse(out) as {
      enabled: boolean;
      tiers: string;
      namespaces: { namespace: string; hitsL1: number; misses: number }[];
      policies: { namespace: string }[];
    };
    assert.equal(stats.enabled, true);
    assert.equal(stats.tiers, 'l1');
    const hotelNs = stats.namespaces.find((n) => n.namespace === 'hotel');
    assert.deepEqual({ hitsL1: hotelNs?.hitsL1, misses: hotelNs?.misses }, { hitsL1: 1, misses: 1 });
    assert.ok(stats.policies.some((p) => p.namespace === 'availability'));
  });

  it('when cache clear --tag is run, then it exits 0 and the running app reloads that page', async () => {
    assert.equal(await readDetail(), 0, 'cached before');
    const { code, out, err } = await cli(['cache', 'clear', '--tag', `hotel:${hotel.id}`]);
    assert.equal(code, 0, err);
    assert.equal(out.trim(), `Invalidated every entry tagged hotel:${hotel.id}`);
    assert.ok((await readDetail()) >= 1, 'reloaded after the clear');
    assert.equal(await readDetail(), 0, 'cached again');
  });

  it('when cache clear --namespace or no option is run, then that namespace or everything is emptied', async () => {
    const ns = await cli(['cache', 'clear', '--namespace', 'hotel']);
    assert.equal(ns.code, 0, ns.err);
    assert.equal(ns.out.trim(), 'Emptied namespace hotel');
    assert.ok((await readDetail()) >= 1, 'reloaded after the namespace clear');
    const all = await cli(['cache', 'clear']);
    assert.equal(all.code, 0, all.err);
    assert.equal(all.out.trim(), 'Emptied the whole cache');
    assert.ok((await readDetail()) >= 1, 'reloaded after clearing everything');
  });

  // Each command loads the CLI (seconds on a busy machine): the independent ones run side by side.
  it('when cache clear names an unknown namespace, an invalid one or both options, then it fails with the reason', async () => {
    const [unknown, both, invalid] = await Promise.all([
      cli(['cache', 'clear', '--namespace', 'nope']),
      cli(['cache', 'clear', '--tag', 'hotel:1', '--namespace', 'hotel']),
      cli(['cache', 'clear', '--namespace', 'Hotel']),
    ]);
    assert.equal(unknown.code, 1);
    assert.equal(unknown.out, '');
    assert.equal(unknown.err.trim(), '404: No cache namespace nope');
    assert.equal(both.code, 2);
    assert.match(both.err, /Give --tag or --namespace, not both/);
    assert.equal(invalid.code, 1);
    assert.match(invalid.err.trim(), /^400: /);
  });

  it('when no app listens on METRICS_PORT, then exit 1 with one line naming the address', async () => {
    const port = String(await freePort());
    const [stats, clear, zero] = await Promise.all([
      cli(['cache', 'stats'], { METRICS_PORT: port }),
      cli(['cache', 'clear', '--tag', 'hotel:1'], { METRICS_PORT: port }),
      cli(['cache', 'stats'], { METRICS_PORT: '0' }),
    ]);
    for (const { code, out, err } of [stats, clear]) {
      assert.equal(code, 1, `${out}${err}`);
      assert.equal(out, '');
      const lines = err.trim().split('\n');
      assert.equal(lines.length, 1, err);
      assert.match(lines[0]!, new RegExp(`No Innkeep answers on http://127\\.0\\.0\\.1:${port} `));
    }
    assert.equal(zero.code, 1);
    assert.match(zero.err, /METRICS_PORT=0/);
  });
});
