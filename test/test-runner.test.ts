import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { TestCounts } from '../scripts/lib/count-reporter.ts';
import { NODE, spawnCapture, spawnNode } from './support/process.ts';
import { ensureTestServer } from './support/test-server.ts';

const ROOT = join(import.meta.dirname, '..');

// Tests that `npm test` (scripts/test.ts) counts what node:test ran, on fixture files in a temporary
// directory, through its external pass pointed at this run's server.
const FIXTURES = {
  // A long failure message puts the spec reporter's summary more than 4,000 characters before the
  // end of its output; the suite around two tests must not count as a third.
  'counts.test.ts': `
import { describe, it } from 'node:test';
describe('a suite', () => {
  it('passes', () => {});
  it('passes too', () => {});
  it('is skipped', (t) => { t.skip('fixture'); });
});
it('fails', () => { throw new Error('a long failure\\n' + 'one line of a long diff\\n'.repeat(400)); });
`,
  'skip.test.ts': `
import { it } from 'node:test';
it('passes', () => {});
it.skip('is skipped', () => {});
`,
  // A failing before() cancels the test it guards; a failing todo test fails nothing.
  'hooks.test.ts': `
import { before, describe, it } from 'node:test';
describe('a suite whose hook fails', () => {
  before(() => { throw new Error('hook'); });
  it('is cancelled', () => {});
});
it.todo('is todo', () => { throw new Error('not yet'); });
it('passes', () => {});
`,
};

let dir: string;
let stopServer: () => Promise<void>;
before(async () => {
  stopServer = await ensureTestServer();
  dir = await mkdtemp(join(tmpdir(), 'innkeep-test-runner-'));
  for (const [name, text] of Object.entries(FIXTURES)) await writeFile(join(dir, name), text);
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
  await stopServer();
});

/** `npm test -- --target external <fixture>` against this run's server; CI only when asked. */
async function runTests(fixture: keyof typeof FIXTURES, ci?: 'true') {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    TEST_EXTERNAL_DATABASE_URL: process.env.TEST_ADMIN_DATABASE_URL,
  };
  delete env.CI;
  if (ci) env.CI = ci;
  // Set in the test files node:test runs: it would turn the nested runner into a child of this one.
  delete env.NODE_TEST_CONTEXT;
  const run = spawnNode('scripts/test.ts', ['--target', 'external', join(dir, fixture)], { env, cwd: ROOT });
  const code = await run.exited;
  return { code, out: run.out(), err: run.err() };
}

describe('npm test', () => {
  it('when a run has 2 passing, 1 failing and 1 skipped test, then it reports exactly those and exits non-zero', async () => {
    const run = await runTests('counts.test.ts');
    assert.equal(run.code, 1, run.err);
    assert.match(run.out, /^external: 2 passed, 1 failed, 1 skipped$/m, run.out.slice(-2000));
    assert.match(run.out, /^tests: 2 passed, 1 failed, 1 skipped$/m);
    assert.ok(!run.err.includes('no test passed'), run.err);
  });

  it('when CI=true and the only problem is a skipped test, then the run fails and says so', async () => {
    const run = await runTests('skip.test.ts', 'true');
    assert.equal(run.code, 1, run.err);
    assert.match(run.err, /test run failed: 1 test\(s\) skipped; CI allows none/);
    assert.match(run.out, /^tests: 1 passed, 0 failed, 1 skipped$/m);
    assert.match(run.out, /skip\.test\.ts: is skipped/, 'the skipped test is named');
  });

  it('when CI is unset and a test is skipped, then the run passes', async () => {
    const run = await runTests('skip.test.ts');
    assert.equal(run.code, 0, `${run.out.slice(-2000)}\n${run.err}`);
    assert.match(run.out, /^tests: 1 passed, 0 failed, 1 skipped$/m);
  });
});

describe('the counting reporter', () => {
  it('when a hook fails and a todo test fails, then the cancelled test counts as failed and the todo one as skipped', async () => {
    const counts = join(dir, 'hooks.json');
    const env: NodeJS.ProcessEnv = { ...process.env };
    delete env.NODE_TEST_CONTEXT;
    const run = spawnCapture(
      NODE,
      [
        '--test',
        '--test-reporter=./scripts/lib/count-reporter.ts',
        `--test-reporter-destination=${counts}`,
        join(dir, 'hooks.test.ts'),
      ],
      { env, cwd: ROOT },
    );
    assert.equal(await run.exited, 1, 'the failed hook fails the run');
    const result = JSON.parse(await readFile(counts, 'utf8')) as TestCounts;
    assert.deepEqual(
      { ...result, skips: result.skips.map((s) => s.replace(/^.*hooks\.test\.ts/, 'hooks.test.ts')) },
      { passed: 1, failed: 1, cancelled: 1, skipped: 1, skips: ['hooks.test.ts: is todo'] },
    );
  });
});
