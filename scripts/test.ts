// The README's test command (`npm test`). Runs every test file twice: against an embedded
// PostgreSQL started here, and against an external PostgreSQL (the machine's, by default), so both
// database paths are proven. Under CI=true nothing may be skipped: an unreachable external server or
// a skipped test fails the run. The totals come from node:test's own events
// (scripts/lib/count-reporter.ts), not from the text the spec reporter prints.
//
//   npm test                         both targets
//   npm test -- --target embedded    one target
//   npm test -- test/foo.test.ts     some files
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { redactUrl, startEmbeddedPostgres } from '../src/platform/db/index.ts';
import { recordingLogger } from '../test/support/silent-logger.ts';
import type { TestCounts } from './lib/count-reporter.ts';

const ci = ['1', 'true'].includes((process.env.CI ?? '').toLowerCase());
const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { target: { type: 'string', default: 'both' } },
});
const files = positionals.length > 0 ? positionals : ['test/**/*.test.ts'];
const externalUrl = process.env.TEST_EXTERNAL_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

interface Totals {
  passed: number;
  failed: number;
  skipped: number;
}
const totals: Totals = { passed: 0, failed: 0, skipped: 0 };
const skips: string[] = [];
const problems: string[] = [];
const REPORTER = join(import.meta.dirname, 'lib/count-reporter.ts');

if (values.target === 'both' || values.target === 'embedded') {
  const dir = await mkdtemp(join(tmpdir(), 'innkeep-test-pg-'));
  const server = await startEmbeddedPostgres(dir, recordingLogger());
  try {
    await runPass('embedded', server.url);
  } finally {
    await server.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

if (values.target === 'both' || values.target === 'external') {
  const reason = await unreachable(externalUrl);
  if (reason) {
    const msg = `external PostgreSQL at ${redactUrl(externalUrl)} is not reachable (${reason})`;
    if (ci) problems.push(`${msg}; CI requires it`);
    else console.warn(`\nSKIPPING the external-PostgreSQL pass: ${msg}. Set TEST_EXTERNAL_DATABASE_URL.\n`);
  } else {
    await runPass('external', externalUrl);
  }
}

if (ci && totals.skipped > 0) problems.push(`${totals.skipped} test(s) skipped; CI allows none`);
if (skips.length > 0) console.log(`\nskipped:\n  ${skips.join('\n  ')}`);
if (totals.passed === 0) problems.push('no test passed');
for (const p of problems) console.error(`test run failed: ${p}`);
console.log(`\ntests: ${totals.passed} passed, ${totals.failed} failed, ${totals.skipped} skipped`);
process.exitCode = totals.failed > 0 || problems.length > 0 ? 1 : 0;

async function runPass(target: 'embedded' | 'external', adminUrl: string): Promise<void> {
  console.log(`\n=== tests against ${target} PostgreSQL (${redactUrl(adminUrl)}) ===\n`);
  // spec for the reader; the counting reporter writes the totals, from node:test's events, here.
  const dir = await mkdtemp(join(tmpdir(), 'innkeep-test-counts-'));
  const countsFile = join(dir, 'counts.json');
  try {
    const child = spawn(
      process.execPath,
      [
        '--test',
        '--test-reporter=spec',
        '--test-reporter-destination=stdout',
        `--test-reporter=${REPORTER}`,
        `--test-reporter-destination=${countsFile}`,
        '--test-concurrency=2',
        '--test-timeout=180000',
        ...files,
      ],
      {
        stdio: ['ignore', 'inherit', 'inherit'],
        env: { ...process.env, TEST_ADMIN_DATABASE_URL: adminUrl, TEST_TARGET: target, LOG_LEVEL: 'silent' },
      },
    );
    const code = await new Promise<number>((resolve) => child.on('close', (c) => resolve(c ?? 1)));
    const counts = await readCounts(countsFile);
    const pass = { passed: counts.passed, failed: counts.failed, skipped: counts.skipped };
    // A failure that no test reports (a failing after() hook, a crashed runner) still fails the pass.
    if (code !== 0 && pass.failed === 0) pass.failed = 1;
    totals.passed += pass.passed;
    totals.failed += pass.failed;
    totals.skipped += pass.skipped;
    skips.push(...counts.skips.map((s) => `${target}: ${s}`));
    console.log(`${target}: ${pass.passed} passed, ${pass.failed} failed, ${pass.skipped} skipped`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The counting reporter's totals; none when it wrote nothing (the runner died before the end). */
async function readCounts(file: string): Promise<TestCounts> {
  const text = await readFile(file, 'utf8').catch(() => '');
  if (text.trim() === '') return { passed: 0, failed: 0, cancelled: 0, skipped: 0, skips: [] };
  return JSON.parse(text) as TestCounts;
}

async function unreachable(url: string): Promise<string | undefined> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return undefined;
  } catch (err) {
    return (err as Error).message;
  } finally {
    await client.end().catch(() => undefined);
  }
}
