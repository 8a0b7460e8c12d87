import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
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
      ['--quick', '--rounds', '1', '--phase-ms', '100', '--scaling', 'none', '--out', out, '--name', 'smoke'],
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
  });
});
