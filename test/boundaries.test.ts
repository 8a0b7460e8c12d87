import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { spawnNode } from './support/process.ts';

const SCRIPT = join(import.meta.dirname, '../scripts/check-boundaries.ts');

/** Writes `files` (path → source) under a fresh project folder and runs the check on it. */
async function check(root: string, files: Record<string, string>) {
  await rm(root, { recursive: true, force: true });
  for (const [path, source] of Object.entries(files)) {
    await mkdir(dirname(join(root, path)), { recursive: true });
    await writeFile(join(root, path), source);
  }
  const proc = spawnNode(SCRIPT, [root]);
  return { code: await proc.exited, out: proc.out(), err: proc.err() };
}

const CLEAN = {
  'src/platform/db/port.ts': 'export interface Queryable { query(text: string): Promise<unknown> }\n',
  'src/app/hotels/hotel-service.ts':
    "import type { Queryable } from '../../platform/db/port.ts';\n" +
    'export const search = (db: Queryable) => db.query("SELECT 1");\n',
};

describe('npm run boundaries (scripts/check-boundaries.ts)', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'innkeep-boundaries-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('when the code keeps the layering, then it passes', async () => {
    const result = await check(join(dir, 'clean'), CLEAN);
    assert.equal(result.code, 0, result.err);
    // And on this repository itself.
    const self = spawnNode(SCRIPT);
    assert.equal(await self.exited, 0, self.err());
  });

  it('when platform code imports the app, then it fails naming the import', async () => {
    const result = await check(join(dir, 'platform-imports-app'), {
      ...CLEAN,
      'src/platform/http/bad.ts':
        "import { search } from '../../app/hotels/hotel-service.ts';\nexport { search };\n",
    });
    assert.equal(result.code, 1);
    assert.match(
      result.err,
      /src\/platform\/http\/bad\.ts imports \.\.\/\.\.\/app\/hotels\/hotel-service\.ts/,
    );
  });

  it('when app code imports the pg driver or reaches .pool, then it fails naming each', async () => {
    const result = await check(join(dir, 'app-reaches-driver'), {
      ...CLEAN,
      'src/app/bookings/booking-service.ts':
        "import pg from 'pg';\nimport type { PoolClient } from 'pg-pool';\n" +
        'export const ids = (db: { pool: pg.Pool }) => db.pool.query("SELECT id FROM bookings");\n' +
        '// a comment about db.pool is fine\n',
    });
    assert.equal(result.code, 1);
    assert.match(result.err, /booking-service\.ts imports 'pg' /);
    assert.match(result.err, /booking-service\.ts imports 'pg-pool' /);
    assert.match(result.err, /booking-service\.ts:3 reaches \.pool/);
    assert.doesNotMatch(result.err, /booking-service\.ts:4/);
  });
});
