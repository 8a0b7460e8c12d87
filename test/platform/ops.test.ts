import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { loadConfig } from '../../src/platform/config/index.ts';
import { type Database, openDatabase } from '../../src/platform/db/index.ts';
import {
  analyzeStatements,
  captureStatements,
  DEFAULT_PLAN_FLAG_OPTIONS,
  estimateFlags,
  indexesUsed,
  type PlanNode,
  seqScanFlags,
  textTable,
} from '../../src/platform/ops/index.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { recordingLogger } from '../support/silent-logger.ts';
import { ensureTestServer } from '../support/test-server.ts';

/** A plan node with the keys the checks read. */
function node(type: string, extra: Partial<PlanNode> = {}): PlanNode {
  return { 'Node Type': type, 'Plan Rows': 1, ...extra };
}

describe('plan flags', () => {
  it('when a table at or above the threshold is read sequentially, then the scan is flagged, a smaller one is not', () => {
    const plan = node('Hash Join', {
      Plans: [
        node('Seq Scan', { 'Relation Name': 'bookings' }),
        node('Parallel Seq Scan', { 'Relation Name': 'payments' }),
        node('Seq Scan', { 'Relation Name': 'hotels' }),
      ],
    });
    const rows = new Map([
      ['bookings', 10_000],
      ['payments', 50_000],
      ['hotels', 9_999],
    ]);
    assert.deepEqual(
      seqScanFlags(plan, rows, 10_000).map((f) => f.message),
      ['Seq Scan on bookings (10,000 rows)', 'Parallel Seq Scan on payments (50,000 rows)'],
    );
  });

  it('when actual rows are off from the estimate by more than the factor, then the node is flagged', () => {
    const plan = node('Nested Loop', {
      'Actual Rows': 300,
      'Actual Loops': 1,
      'Plan Rows': 20,
      Plans: [
        // Underestimated 30x: flagged.
        node('Index Scan', {
          'Relation Name': 'reviews',
          'Index Name': 'r_idx',
          'Plan Rows': 10,
          'Actual Rows': 300,
          'Actual Loops': 1,
        }),
        // Off 50x, but 2 rows at most: noise.
        node('Index Scan', { 'Relation Name': 'users', 'Plan Rows': 2, 'Actual Rows': 0, 'Actual Loops': 1 }),
        // Never ran.
        node('Seq Scan', {
          'Relation Name': 'trips',
          'Plan Rows': 5000,
          'Actual Rows': 0,
          'Actual Loops': 0,
        }),
        // No rows without RETURNING.
        node('ModifyTable', { Operation: 'Insert', 'Plan Rows': 5000, 'Actual Rows': 0, 'Actual Loops': 1 }),
      ],
    });
    const flags = estimateFlags(plan, DEFAULT_PLAN_FLAG_OPTIONS);
    assert.deepEqual(
      flags.map((f) => f.message),
      [
        'Nested Loop: 20 rows estimated, 300 actual (15×)',
        'Index Scan on reviews using r_idx: 10 rows estimated, 300 actual (30×)',
      ],
    );
  });

  it('when a Limit stops reading its input, then fewer rows than estimated below it are not flagged; when the input ran dry, they are', () => {
    const scan = (actual: number) =>
      node('Index Scan', {
        'Relation Name': 'hotels',
        'Plan Rows': 5000,
        'Actual Rows': actual,
        'Actual Loops': 1,
      });
    const filled = node('Limit', {
      'Plan Rows': 21,
      'Actual Rows': 21,
      'Actual Loops': 1,
      Plans: [scan(21)],
    });
    assert.deepEqual(estimateFlags(filled, DEFAULT_PLAN_FLAG_OPTIONS), []);
    const dry = node('Limit', { 'Plan Rows': 1001, 'Actual Rows': 62, 'Actual Loops': 1, Plans: [scan(62)] });
    assert.deepEqual(
      estimateFlags(dry, DEFAULT_PLAN_FLAG_OPTIONS).map((f) => (f.kind === 'row_estimate' ? f.node : f.kind)),
      ['Index Scan on hotels'],
    );
    const exists = node('Result', {
      'Actual Rows': 1,
      'Actual Loops': 1,
      Plans: [{ ...scan(1), 'Parent Relationship': 'InitPlan' }],
    });
    assert.deepEqual(estimateFlags(exists, DEFAULT_PLAN_FLAG_OPTIONS), []);
  });

  it('when a plan reads indexes and arbitrates a conflict, then every index is listed once', () => {
    const plan = node('ModifyTable', {
      'Conflict Arbiter Indexes': ['waitlist_user_active_uq'],
      Plans: [
        node('Bitmap Heap Scan', { Plans: [node('Bitmap Index Scan', { 'Index Name': 'a_idx' })] }),
        node('Index Only Scan', { 'Index Name': 'b_idx' }),
        node('Index Scan', { 'Index Name': 'a_idx' }),
      ],
    });
    assert.deepEqual(indexesUsed(plan), ['waitlist_user_active_uq', 'a_idx', 'b_idx']);
  });
});

describe('captureStatements and textTable', () => {
  it('when work sends statements, then they are recorded without a database, and an error after one is dropped', async () => {
    const sent = await captureStatements(
      async (db) => {
        const { rows } = await db.query<{ id: number }>({ name: 'first', text: 'SELECT 1', values: [1] });
        await db.query('SELECT $1::int', [rows[0]!.id]);
        throw new Error('no rows');
      },
      { reply: (s) => (s.name === 'first' ? [{ id: 7 }] : []) },
    );
    assert.deepEqual(sent, [
      { name: 'first', text: 'SELECT 1', values: [1] },
      { name: undefined, text: 'SELECT $1::int', values: [7] },
    ]);
    await assert.rejects(
      captureStatements(async () => {
        throw new Error('before any statement');
      }),
      /before any statement/,
    );
  });

  it('when rows are rendered, then columns are padded, right-aligned where asked, and multi-line cells continue below', () => {
    const text = textTable(
      [{ header: 'name' }, { header: 'n', align: 'right' }, { header: 'flags' }],
      [
        ['a', '1', 'x\ny'],
        ['long name', '1,000', ''],
      ],
    );
    assert.equal(
      text,
      [
        'name           n  flags',
        '---------  -----  -----',
        'a              1  x',
        '                  y',
        'long name  1,000',
      ].join('\n'),
    );
  });
});

describe('analyzeStatements', () => {
  let stopServer: () => Promise<void>;
  let test: TestDatabase;
  let db: Database;

  before(async () => {
    stopServer = await ensureTestServer();
    test = await createTestDatabase({ migrate: false });
    await test.pool.query('CREATE TABLE perf_t (id int PRIMARY KEY, note text)');
    db = await openDatabase(
      loadConfig({ env: { DATABASE_URL: test.url }, envFile: false }).db,
      recordingLogger(),
    );
  });

  after(async () => {
    await db?.close();
    await test?.drop();
    await stopServer?.();
  });

  const advisoryLocks = async () => {
    const { rows } = await test.pool.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
    );
    return rows[0]!.n;
  };

  const LOCK_AND_INSERT = {
    text: `WITH l AS MATERIALIZED (SELECT pg_try_advisory_lock($1::bigint) AS got)
           INSERT INTO perf_t (id, note) SELECT $2, 'kept?' FROM l WHERE l.got`,
    values: [42, 1],
  };

  it('when a write takes a session advisory lock, then a plain rollback keeps the lock (why analyze releases it)', async () => {
    const client = await test.pool.connect();
    try {
      await client.query('BEGIN');
      await client.query({ text: `EXPLAIN ANALYZE ${LOCK_AND_INSERT.text}`, values: LOCK_AND_INSERT.values });
      await client.query('ROLLBACK');
      assert.equal(await advisoryLocks(), 1);
      await client.query('SELECT pg_advisory_unlock_all()');
    } finally {
      client.release();
    }
  });

  it('when a write and a failing statement are analyzed, then the write is rolled back with its lock released and the failure reported', async () => {
    const analysis = await analyzeStatements(
      db,
      [
        { name: 'lock_and_insert', kind: 'write', statement: LOCK_AND_INSERT },
        { name: 'broken', kind: 'read', statement: { text: 'SELECT * FROM no_such_table', values: [] } },
        {
          name: 'read_write',
          kind: 'read',
          statement: { text: "INSERT INTO perf_t VALUES (2, 'x')", values: [] },
        },
        { name: 'skipped', kind: 'read', statement: { text: 'SELECT 1', values: [] }, skip: 'not today' },
      ],
      DEFAULT_PLAN_FLAG_OPTIONS,
    );
    const [write, broken, readWrite, skipped] = analysis.statements;
    assert.equal(write?.status, 'analyzed');
    assert.equal(write?.rolledBack, true);
    assert.equal(write?.topNode, 'Insert on perf_t');
    assert.equal(broken?.status, 'failed');
    assert.match(broken?.reason ?? '', /no_such_table/);
    // A "read" runs READ ONLY: one that writes fails instead of writing.
    assert.equal(readWrite?.status, 'failed');
    assert.match(readWrite?.reason ?? '', /read-only transaction/);
    assert.deepEqual([skipped?.status, skipped?.reason], ['skipped', 'not today']);
    const { rows } = await test.pool.query('SELECT * FROM perf_t');
    assert.deepEqual(rows, []);
    assert.equal(await advisoryLocks(), 0);
  });
});
