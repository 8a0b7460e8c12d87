import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { loadConfig } from '../../src/platform/config/index.ts';
import { type Database, openDatabase, withTransaction } from '../../src/platform/db/index.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { recordingLogger } from '../support/silent-logger.ts';
import { ensureTestServer } from '../support/test-server.ts';

/** Raises a real serialization failure (SQLSTATE 40001) from PostgreSQL, as a conflicting write would. */
const SERIALIZATION_FAILURE =
  "DO $$ BEGIN RAISE EXCEPTION 'could not serialize access' USING ERRCODE = 'serialization_failure'; END $$";

describe('transaction commit hooks (tx.onCommit)', () => {
  let db: TestDatabase;
  let database: Database;
  const logger = recordingLogger();
  let stopServer: () => Promise<void>;

  before(async () => {
    stopServer = await ensureTestServer();
    db = await createTestDatabase({ migrate: false });
    await db.pool.query('CREATE TABLE marks (id serial PRIMARY KEY, attempt int NOT NULL)');
    database = await openDatabase(loadConfig({ env: { DATABASE_URL: db.url }, envFile: false }).db, logger);
  });

  after(async () => {
    await database?.close();
    await db?.drop();
    await stopServer?.();
  });

  const marks = async () =>
    (await db.pool.query<{ attempt: number }>('SELECT attempt FROM marks ORDER BY id')).rows;

  it('when the transaction commits, then each hook runs once, in order, after the commit is visible to others', async () => {
    await db.pool.query('TRUNCATE marks');
    const seen: string[] = [];
    const result = await database.transaction(async (tx) => {
      await tx.query('INSERT INTO marks (attempt) VALUES (1)');
      tx.onCommit(async () => {
        // Another connection already sees the row: the hook runs after COMMIT, not before it.
        seen.push(`first saw ${(await marks()).length} row(s)`);
      });
      tx.onCommit(() => {
        seen.push('second');
      });
      assert.deepEqual(seen, [], 'no hook runs inside the transaction');
      return 'done';
    });
    assert.equal(result, 'done');
    assert.deepEqual(seen, ['first saw 1 row(s)', 'second']);
  });

  it('when the transaction rolls back, then no hook runs', async () => {
    await db.pool.query('TRUNCATE marks');
    let ran = 0;
    await assert.rejects(
      database.transaction(async (tx) => {
        await tx.query('INSERT INTO marks (attempt) VALUES (1)');
        tx.onCommit(() => {
          ran++;
        });
        throw new Error('business rule says no');
      }),
      /business rule says no/,
    );
    assert.equal(ran, 0);
    assert.deepEqual(await marks(), []);
  });

  it('when an attempt hits a serialization failure and is retried, then only the committed attempt’s hooks run', async () => {
    await db.pool.query('TRUNCATE marks');
    const ran: number[] = [];
    let attempt = 0;
    await withTransaction(db.pool, async (tx) => {
      attempt++;
      const mine = attempt;
      await tx.query('INSERT INTO marks (attempt) VALUES ($1)', [mine]);
      tx.onCommit(() => {
        ran.push(mine);
      });
      if (mine < 3) await tx.query(SERIALIZATION_FAILURE);
    });
    assert.equal(attempt, 3);
    assert.deepEqual(ran, [3], 'the hooks of attempts 1 and 2 were dropped with their rollback');
    assert.deepEqual(await marks(), [{ attempt: 3 }]);
  });

  it('when the retries run out, then no hook of any attempt runs', async () => {
    let ran = 0;
    await assert.rejects(
      withTransaction(
        db.pool,
        async (tx) => {
          tx.onCommit(() => {
            ran++;
          });
          await tx.query(SERIALIZATION_FAILURE);
        },
        { retries: 1 },
      ),
      (err: { code?: string }) => err.code === '40001',
    );
    assert.equal(ran, 0);
  });

  it('when a hook throws, then the others still run, the result is returned and the failure is logged', async () => {
    const seen: string[] = [];
    logger.entries.length = 0;
    const result = await database.transaction(async (tx) => {
      tx.onCommit(() => {
        throw new Error('cache unreachable');
      });
      tx.onCommit(() => {
        seen.push('after the failing one');
      });
      return 42;
    });
    assert.equal(result, 42);
    assert.deepEqual(seen, ['after the failing one']);
    const logged = logger.entries.find((e) => e.msg === 'a commit hook failed (the transaction committed)');
    assert.ok(logged, JSON.stringify(logger.entries));
    assert.equal(logged.level, 'error');
  });

  it('when a session runs a transaction, then its hooks follow the same rules', async () => {
    const seen: string[] = [];
    await database.session(async (session) => {
      await assert.rejects(
        session.transaction(async (tx) => {
          tx.onCommit(() => {
            seen.push('rolled back');
          });
          throw new Error('no');
        }),
      );
      await session.transaction(async (tx) => {
        tx.onCommit(() => {
          seen.push('committed');
        });
      });
    });
    assert.deepEqual(seen, ['committed']);
  });
});
