import assert from 'node:assert/strict';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type pg from 'pg';
import { STATEMENT_CATALOGUE } from '../src/app/perf/statement-catalogue.ts';
import { seedDatabase } from '../src/app/seed/seed.ts';
import type { IndexCheckReport, QueryAnalysis } from '../src/platform/ops/index.ts';
import { createTestDatabase, type TestDatabase } from './support/database.ts';
import { spawnNode } from './support/process.ts';
import { ensureTestServer } from './support/test-server.ts';

const MAIN = join(import.meta.dirname, '../src/main.ts');

let stopServer: () => Promise<void>;
/** Seeded, real schema, never changed. */
let intact: TestDatabase;
/** Seeded; tests change its indexes and undo their change afterwards. */
let throwaway: TestDatabase;

before(async () => {
  stopServer = await ensureTestServer();
  [intact, throwaway] = await Promise.all([createTestDatabase(), createTestDatabase()]);
  await seedDatabase(intact.pool, { scale: 'small', seed: 42 });
  await seedDatabase(throwaway.pool, { scale: 'small', seed: 42 });
});

after(async () => {
  await Promise.all([intact?.drop(), throwaway?.drop()]);
  await stopServer?.();
});

/** `innkeep perf <args>` as a user runs it: its own process, on the test database (no embedded server). */
async function perf(db: TestDatabase | undefined, ...args: string[]) {
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    LOG_LEVEL: 'warn',
    METRICS_PORT: '0',
  };
  if (db) env.DATABASE_URL = db.url;
  const proc = spawnNode(MAIN, ['perf', ...args], { env, cwd: tmpdir() });
  const code = await proc.exited;
  return { code, out: proc.out(), err: proc.err() };
}

async function perfJson<T>(db: TestDatabase, ...args: string[]): Promise<{ code: number | null; doc: T }> {
  const { code, out, err } = await perf(db, ...args, '--json');
  try {
    return { code, doc: JSON.parse(out) as T };
  } catch {
    throw new Error(`not JSON (exit ${code}): ${out.slice(0, 500)}\n${err}`);
  }
}

/** Runs `change`, then `fn`, then `undo` whatever happened. */
async function withChange(pool: pg.Pool, change: string, undo: string, fn: () => Promise<void>) {
  await pool.query(change);
  try {
    await fn();
  } finally {
    await pool.query(undo);
  }
}

/** Row count and an order-independent checksum of every table: what a kept write would change. */
async function fingerprint(pool: pg.Pool): Promise<Record<string, string>> {
  const { rows: tables } = await pool.query<{ name: string }>(
    "SELECT format('%I.%I', schemaname, tablename) AS name FROM pg_tables WHERE schemaname IN ('public', 'drizzle') ORDER BY 1",
  );
  const out: Record<string, string> = {};
  for (const { name } of tables) {
    const { rows } = await pool.query<{ n: number; sum: string }>(
      `SELECT count(*)::int AS n, md5(coalesce(string_agg(t::text, ',' ORDER BY t::text), '')) AS sum FROM ${name} t`,
    );
    out[name] = `${rows[0]!.n}:${rows[0]!.sum}`;
  }
  return out;
}

const catalogued = STATEMENT_CATALOGUE.map((e) => e.name);

describe('innkeep perf analyze-queries', () => {
  it('when run with --json on seeded data, then every catalogued statement is analyzed and the writes leave no trace', async () => {
    const before = await fingerprint(intact.pool);
    const { code, doc } = await perfJson<QueryAnalysis>(intact, 'analyze-queries');
    assert.equal(code, 0);
    assert.deepEqual(
      doc.statements.map((s) => s.name),
      catalogued,
    );
    for (const s of doc.statements) {
      assert.equal(s.status, 'analyzed', `${s.name}: ${s.reason}`);
      assert.equal(s.rolledBack, true, s.name);
      assert.equal(typeof s.executionMs, 'number', s.name);
      assert.equal(typeof s.sharedHit, 'number', s.name);
    }
    assert.ok(doc.statements.some((s) => s.kind === 'write'));
    // The seeded schema reads no large table from end to end.
    assert.deepEqual(
      doc.statements.flatMap((s) =>
        s.flags.filter((f) => f.kind === 'seq_scan').map((f) => `${s.name}: ${f.message}`),
      ),
      [],
    );
    assert.deepEqual(await fingerprint(intact.pool), before);
  });

  it('when run without --json, then it prints one line per statement with timings, buffers and the top node', async () => {
    const { code, out } = await perf(intact, 'analyze-queries');
    assert.equal(code, 0);
    assert.match(out, /statement\s+kind\s+plan ms\s+exec ms\s+hit\s+read\s+top node\s+flags/);
    assert.match(
      out,
      /\nbooking_return_rooms\s+write, rolled back\s+[\d.]+\s+[\d.]+\s+[\d,]+\s+[\d,]+\s+Update on room_inventory/,
    );
    assert.match(out, /\nhotel_detail\s+read\s+[\d.]+\s+[\d.]+/);
    assert.match(
      out,
      new RegExp(`${catalogued.length} statements: ${catalogued.length} analyzed, 0 skipped, 0 failed`),
    );
    assert.match(out, /rolled back/);
  });

  it("when a large table's indexes for a lookup are dropped, then that statement's sequential scan is flagged", async () => {
    const { rows } = await throwaway.pool.query<{ def: string }>(
      `SELECT pg_get_indexdef(indexrelid) AS def FROM pg_index
       WHERE indexrelid IN ('bookings_user_created_idx'::regclass, 'bookings_user_status_created_idx'::regclass)`,
    );
    await withChange(
      throwaway.pool,
      'DROP INDEX bookings_user_created_idx, bookings_user_status_created_idx',
      rows.map((r) => `${r.def};`).join('\n'),
      async () => {
        const { code, doc } = await perfJson<QueryAnalysis>(throwaway, 'analyze-queries');
        assert.equal(code, 0, 'flags are findings, not failures');
        const mine = doc.statements.find((s) => s.name === 'booking_list_mine');
        const scan = mine?.flags.find((f) => f.kind === 'seq_scan');
        assert.ok(scan?.kind === 'seq_scan', JSON.stringify(mine?.flags));
        assert.equal(scan.relation, 'bookings');
        assert.ok(scan.tableRows >= 10_000);

        const text = await perf(throwaway, 'analyze-queries');
        assert.match(text.out, /\nbooking_list_mine\s.*Seq Scan on bookings \([\d,]+ rows\)/);

        // Above the table's size, the same scan is not flagged.
        const high = await perfJson<QueryAnalysis>(
          throwaway,
          'analyze-queries',
          '--seq-scan-rows',
          '1000000',
        );
        assert.equal(high.doc.options.seqScanRows, 1_000_000);
        const again = high.doc.statements.find((s) => s.name === 'booking_list_mine');
        assert.deepEqual(
          again?.flags.filter((f) => f.kind === 'seq_scan'),
          [],
        );
      },
    );
  });

  it('when an option is unknown or a threshold is not a number, then it exits 2 with the usage text', async () => {
    const unknown = await perf(undefined, 'analyze-queries', '--frobnicate');
    assert.equal(unknown.code, 2);
    assert.match(
      unknown.err,
      /Unknown option '--frobnicate'[\s\S]*Usage: innkeep[\s\S]*perf analyze-queries/,
    );
    const bad = await perf(undefined, 'analyze-queries', '--seq-scan-rows', 'many');
    assert.equal(bad.code, 2);
    assert.match(bad.err, /--seq-scan-rows must be a whole number/);
    const factor = await perf(undefined, 'analyze-queries', '--estimate-factor', '0.5');
    assert.equal(factor.code, 2);
    assert.match(factor.err, /--estimate-factor must be a number above 1/);
    const check = await perf(undefined, 'check-indexes', '--verbose');
    assert.equal(check.code, 2);
    assert.match(check.err, /Unknown option '--verbose'/);
  });
});

describe('innkeep perf check-indexes', () => {
  it('when run on the seeded database with the real schema, then it exits 0', async () => {
    const text = await perf(intact, 'check-indexes');
    assert.equal(text.code, 0, text.out + text.err);
    assert.match(text.out, /\nOK: \d+ of \d+ statements checked/);
    assert.match(text.out, /Duplicate indexes: none/);

    const { code, doc } = await perfJson<IndexCheckReport & { ok: boolean }>(intact, 'check-indexes');
    assert.equal(code, 0);
    assert.equal(doc.ok, true);
    assert.deepEqual(doc.failures, []);
    assert.deepEqual(
      doc.statements.map((s) => s.name),
      catalogued,
    );
    assert.ok(doc.statements.every((s) => s.status === 'ok' || s.status === 'skipped'));
    // Checked at this scale: the hot paths; not checked: only statements on tables the demo data leaves tiny.
    for (const name of [
      'hotel_search:city:rating',
      'hotel_detail',
      'booking_list_mine',
      'availability_hotel',
    ]) {
      assert.equal(doc.statements.find((s) => s.name === name)?.status, 'ok', name);
    }
    assert.ok(doc.indexes.some((i) => i.index === 'room_inventory_pk' && i.sizeBytes > 0));
    assert.ok(doc.foreignKeys.every((fk) => fk.accepted !== undefined));
  });

  it('when an index a statement depends on is dropped, then it exits 1 naming the statement and the index', async () => {
    const { rows } = await throwaway.pool.query<{ def: string }>(
      "SELECT pg_get_indexdef('reviews_entity_created_idx'::regclass) AS def",
    );
    await withChange(throwaway.pool, 'DROP INDEX reviews_entity_created_idx', rows[0]!.def, async () => {
      const { code, out } = await perf(throwaway, 'check-indexes');
      assert.equal(code, 1);
      assert.match(out, /\nFAILED \(\d+\):/);
      assert.match(
        out,
        /\n {2}reviews_list_newest: expected index reviews_entity_created_idx does not exist/,
      );
    });
  });

  it("when a new index takes over a statement's plan, then it exits 1: the plan no longer uses the index it names", async () => {
    await withChange(
      throwaway.pool,
      'CREATE INDEX perf_t_user_created_id_idx ON bookings (user_id, created_at DESC NULLS LAST, id DESC)',
      'DROP INDEX perf_t_user_created_id_idx',
      async () => {
        const { code, doc } = await perfJson<IndexCheckReport>(throwaway, 'check-indexes');
        assert.equal(code, 1);
        const mine = doc.statements.find((s) => s.name === 'booking_list_mine');
        assert.equal(mine?.status, 'regressed');
        assert.deepEqual(mine?.notUsed, ['bookings_user_created_idx']);
        assert.ok(mine?.used.includes('perf_t_user_created_id_idx'));
        assert.ok(
          doc.failures.some((f) =>
            /^booking_list_mine: plan no longer uses bookings_user_created_idx/.test(f),
          ),
        );
      },
    );
  });

  it('when two indexes index the same key with the same predicate, then it exits 1 naming both', async () => {
    await withChange(
      throwaway.pool,
      `CREATE INDEX perf_t_dup_idx ON hotels (lower(city), min_price_cents) WHERE is_active;
       CREATE INDEX perf_t_other_predicate_idx ON hotels (lower(city), min_price_cents)`,
      'DROP INDEX perf_t_dup_idx, perf_t_other_predicate_idx',
      async () => {
        const { code, doc } = await perfJson<IndexCheckReport>(throwaway, 'check-indexes');
        assert.equal(code, 1);
        assert.deepEqual(
          doc.duplicates.map((d) => [d.table, d.indexes]),
          [['hotels', ['hotels_active_city_price_idx', 'perf_t_dup_idx']]],
        );
        assert.ok(
          doc.failures.includes('duplicate indexes on hotels: hotels_active_city_price_idx, perf_t_dup_idx'),
        );
      },
    );
  });

  it('when a foreign key has no supporting index and is not accepted, then it exits 1 naming it', async () => {
    await withChange(
      throwaway.pool,
      'CREATE TABLE perf_t_child (id int PRIMARY KEY, booking_id int CONSTRAINT perf_t_child_booking_fk REFERENCES bookings (id))',
      'DROP TABLE perf_t_child',
      async () => {
        const { code, out } = await perf(throwaway, 'check-indexes');
        assert.equal(code, 1);
        assert.match(
          out,
          /perf_t_child\(booking_id\) -> bookings, on delete no action \[perf_t_child_booking_fk\]: NOT ACCEPTED/,
        );
        assert.match(
          out,
          /\n {2}foreign key perf_t_child_booking_fk \(perf_t_child\.booking_id\) has no supporting index/,
        );
        // The accepted ones are reported, and do not fail.
        assert.match(out, /\[bookings_trip_id_trips_id_fk\]: accepted: /);
        assert.doesNotMatch(out, /foreign key bookings_trip_id_trips_id_fk/);

        await throwaway.pool.query('CREATE INDEX perf_t_child_booking_idx ON perf_t_child (booking_id)');
        const indexed = await perfJson<IndexCheckReport>(throwaway, 'check-indexes');
        assert.equal(indexed.code, 0, JSON.stringify(indexed.doc.failures));
      },
    );
  });
});
