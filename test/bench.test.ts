import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import {
  type CacheReport,
  cachedResponseCell,
  cacheFailures,
  cacheMarkdown,
} from '../bench/lib/cache-report.ts';
import { secondaryIndexCount, stripToKeys } from '../bench/lib/datasets.ts';
import { OPERATION_IDS } from '../bench/lib/ops.ts';
import type { BenchReport } from '../bench/lib/report.ts';
import { createTestDatabase, type TestDatabase } from './support/database.ts';
import { spawnNode } from './support/process.ts';
import { ensureTestServer } from './support/test-server.ts';

let stopServer: () => Promise<void>;
before(async () => {
  stopServer = await ensureTestServer();
});
after(() => stopServer());

describe('the "before" schema', () => {
  let db: TestDatabase;
  before(async () => {
    db = await createTestDatabase();
  });
  after(() => db.drop());

  it('when a migrated database is stripped, then only primary and foreign keys remain', async () => {
    const count = async (sql: string) => (await db.pool.query<{ n: number }>(sql)).rows[0]!.n;
    const fks = `SELECT count(*)::int AS n FROM pg_constraint WHERE contype = 'f' AND connamespace = 'public'::regnamespace`;
    const tables = `SELECT count(*)::int AS n FROM pg_tables WHERE schemaname = 'public'`;
    const foreignKeys = await count(fks);
    assert.ok((await secondaryIndexCount(db.url)) > 20, 'the migrations create the secondary indexes');

    const stripped = await stripToKeys(db.url);

    assert.equal(await secondaryIndexCount(db.url), 0);
    assert.equal(stripped.primaryKeys, await count(tables), 'every table keeps its primary key');
    assert.equal(stripped.foreignKeys, foreignKeys);
    assert.equal(await count(fks), foreignKeys);
    assert.ok(stripped.dropped.includes('users_email_lower_uq'), 'unique indexes go too');
    assert.ok(stripped.dropped.includes('bookings_user_created_idx'));
  });
});

describe('npm run bench', () => {
  // Its own database names: another run may share the server.
  const prefix = `ib_t${process.pid}`;
  let out: string;
  before(async () => {
    out = await mkdtemp(join(tmpdir(), 'innkeep-bench-test-'));
  });
  after(async () => {
    await rm(out, { recursive: true, force: true });
    // The template is kept for the next run on a developer's server; a test leaves nothing behind.
    const client = new pg.Client({ connectionString: process.env.TEST_ADMIN_DATABASE_URL });
    await client.connect();
    await client.query(`DROP DATABASE IF EXISTS ${prefix}_tpl_small_s42 WITH (FORCE)`);
    await client.end();
  });

  it('when run briefly on the small dataset, then every operation is measured on both sides with the same answers', async () => {
    const run = spawnNode(
      'bench/run.ts',
      [
        '--quick',
        '--rounds',
        '1',
        '--phase-ms',
        '100',
        '--scaling',
        'none',
        '--cache',
        'none',
        '--out',
        out,
        '--name',
        'smoke',
      ],
      {
        env: {
          ...process.env,
          BENCH_DATABASE_URL: process.env.TEST_ADMIN_DATABASE_URL,
          BENCH_DB_PREFIX: prefix,
        },
      },
    );
    const code = await run.exited;
    assert.equal(code, 0, `bench failed:\n${run.err().slice(-3000)}`);

    const report = JSON.parse(await readFile(join(out, 'smoke.json'), 'utf8')) as BenchReport;
    assert.deepEqual(
      report.operations.map((o) => o.id),
      OPERATION_IDS,
    );
    assert.equal(report.operations.at(-1)?.id, 'create-booking', 'writes run last, after every read');
    assert.ok(report.ceiling.rps > 0);
    assert.equal((report.dataset.afterSecondaryIndexes as number) > 20, true);
    for (const op of report.operations) {
      assert.equal(
        op.sameAnswer,
        true,
        `${op.id}: naive and Innkeep answers differ: ${JSON.stringify(op.answers)}`,
      );
      assert.ok(
        op.inputs >= (['bookings-report', 'create-booking'].includes(op.id) ? 1 : 10),
        `${op.id} inputs`,
      );
      assert.ok(op.naive.requests > 0 && op.innkeep.requests > 0, op.id);
      assert.ok(op.innkeep.rps > 0 && op.naive.rps > 0, op.id);
      const ok = Object.entries(op.innkeep.statuses).every(([s]) => s.startsWith('2'));
      assert.ok(ok, `${op.id}: Innkeep answered ${JSON.stringify(op.innkeep.statuses)}`);
      assert.deepEqual(Object.keys(op.naive.statuses), Object.keys(op.innkeep.statuses), op.id);
    }
    const search = report.operations.find((o) => o.id === 'search')!;
    assert.equal(search.innkeep.queries, 1);
    assert.ok(search.naive.queries > 20, 'the naive search is N+1');
    const databases = new pg.Client({ connectionString: process.env.TEST_ADMIN_DATABASE_URL });
    await databases.connect();
    const { rows } = await databases.query('SELECT datname FROM pg_database WHERE datname LIKE $1', [
      `${prefix}%`,
    ]);
    await databases.end();
    assert.deepEqual(
      rows.map((r) => r.datname),
      [`${prefix}_tpl_small_s42`],
      'the before/after copies are dropped; only the template stays',
    );
    const markdown = await readFile(join(out, 'smoke.md'), 'utf8');
    assert.match(markdown, /\| Hotel search \(city, 20 per page\) \|/);
    assert.match(markdown, /Ceiling: Fastify hello world/);
    assert.match(markdown, /\| Cached response \|.*not measured\*\* \(`--cache none`\)/);
  });

  it('when the cache rows run briefly, then every row is measured and the cached answers equal the uncached ones', async () => {
    const run = spawnNode(
      'bench/cache.ts',
      [
        '--quick',
        '--rounds',
        '1',
        '--phase-ms',
        '100',
        '--load-s',
        '1',
        '--load-warmup-s',
        '1',
        '--out',
        out,
        '--name',
        'smoke',
      ],
      {
        env: {
          ...process.env,
          BENCH_DATABASE_URL: process.env.TEST_ADMIN_DATABASE_URL,
          BENCH_DB_PREFIX: prefix,
        },
      },
    );
    const code = await run.exited;
    assert.equal(code, 0, `bench:cache failed:\n${run.err().slice(-3000)}`);

    const report = JSON.parse(await readFile(join(out, 'smoke-cache.json'), 'utf8')) as CacheReport;
    // With Redis (REDIS_URL's default, 127.0.0.1:6379) every row has an L1+L2 side; without, none.
    const l2 = report.redis.reachable;
    assert.deepEqual(
      report.latency.map((r) => [r.id, r.sameAnswer, r.l2 !== undefined]),
      [
        ['search', true, l2],
        ['detail', true, l2],
      ],
    );
    for (const row of report.latency) {
      assert.ok(row.off.samples >= 50 && row.l1.samples === row.off.samples, row.id);
      assert.ok(row.speedupL1 > 0 && row.floor.p50 > 0, row.id);
    }
    const t = report.throughput!;
    assert.match(t.path, /^\/api\/hotels\/\d+$/);
    assert.ok(t.identityBytes > 1024 && t.brBytes < t.identityBytes);
    assert.deepEqual(
      t.variants.map((v) => v.id),
      ['bytes', 'bytes-br', 'platform', 'off', 'off-br', 'l1', 'l1-br', ...(l2 ? ['l2', 'l2-br'] : [])],
    );
    for (const v of t.variants) assert.ok(v.rps > 0 && v.share > 0 && v.cpuUsPerRequest > 0, v.id);
    assert.deepEqual(
      report.load.map((r) => r.id),
      ['load-off', 'load-l1', ...(l2 ? ['load-l2'] : []), 'load-l1-small'],
    );
    for (const r of report.load) {
      assert.equal(r.result.ok, true, `${r.id}: ${JSON.stringify(r.result.errors)}`);
      assert.equal(r.result.staleReads?.stale, 0, r.id);
      assert.ok(r.result.memory.rss, r.id);
      if (r.id !== 'load-off') assert.ok(r.result.cache && r.result.memory.l1?.withinBounds, r.id);
    }
    const small = report.load.find((r) => r.id === 'load-l1-small')!;
    assert.equal(small.result.memory.l1?.maxBytes, 8 * 2 ** 20);
    if (l2) {
      const m = report.redisMemory!;
      assert.ok(m.compressed.keys > 0 && m.plain.keys > 0 && m.ratio > 0);
    } else assert.equal(report.redisMemory, null);
    const markdown = await readFile(join(out, 'smoke-cache.md'), 'utf8');
    assert.match(markdown, /## 1\. Cached vs uncached, one request at a time/);
    assert.match(markdown, /\| Hotel detail \|/);
    assert.match(markdown, /## 2\. Cached reads at 8 connections/);
    assert.match(markdown, /## 3–4\. Load test/);
    if (l2) {
      assert.match(markdown, /## 5\. Redis memory/);
      // The run's keys are deleted at the end.
      const { Redis } = await import('ioredis');
      const redis = new Redis(report.redis.url!);
      try {
        assert.ok(report.redis.prefixes.length >= 4);
        for (const prefix of report.redis.prefixes) {
          const [, keys] = await redis.scan('0', 'MATCH', `${prefix}:*`, 'COUNT', 100_000);
          assert.deepEqual(keys, [], prefix);
        }
      } finally {
        redis.disconnect();
      }
    }
  });
});

describe('the cache report (bench/lib/cache-report.ts)', () => {
  it('when a row misses its goal, then the markdown says short beside it, and what fails the run is listed', () => {
    const stats = { samples: 100, p50: 1, p95: 2, p99: 3 };
    const report = {
      name: 'unit-cache',
      startedAt: '2030-01-01T00:00:00.000Z',
      durationS: 1,
      command: 'npm run bench:cache',
      machine: { cpus: 2, cpuModel: 'cpu', memoryGiB: 4, os: 'Linux' },
      loadAverage: { start: [1, 1, 1], end: [1, 1, 1] },
      versions: { node: '24', fastify: '5', bentocache: '1', ioredis: '5', redis: 'none', postgres: '18' },
      git: { commit: '0123456789abcdef', dirty: false },
      dataset: { scale: 'small', seed: 42, counts: { hotels: 10, bookings: 20 } },
      settings: {},
      redis: { url: null, reachable: false, reason: 'not asked for', prefixes: [] },
      latency: [
        {
          id: 'detail',
          title: 'Hotel detail',
          inputs: 40,
          sameAnswer: false,
          off: { ...stats, p50: 1 },
          l1: { ...stats, p50: 0.25 },
          speedupL1: 4,
          floor: { ...stats, p50: 0.1 },
          bestPossible: 10,
        },
      ],
      throughput: null,
      load: [],
      redisMemory: null,
      notes: [],
    } satisfies CacheReport;

    const markdown = cacheMarkdown(report);

    assert.match(
      markdown,
      /\| Hotel detail \| 1\.00 \/ 2\.00 \/ 3\.00 \| 0\.25 \/ 2\.00 \/ 3\.00 \| — \| \*\*4\.00×\*\* \/ — \| 0\.10 \(10\.0×\) \| \*\*no\*\* \| \*\*short\*\* \|/,
    );
    assert.match(markdown, /Redis not reachable \(not asked for\)/);
    assert.deepEqual(cacheFailures(report), ['Hotel detail: cached and uncached answers differ']);
    assert.match(cachedResponseCell(report), /^detail 1\.00 → 0\.25 ms \(4\.00×\): \*\*short\*\*/);
  });
});
