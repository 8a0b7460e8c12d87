// The README's test command (`npm test`). Runs every test file twice: against an embedded
// PostgreSQL started here, and against an external PostgreSQL (the machine's, by default), so both
// database paths are proven. Under CI=true nothing may be skipped: an unreachable external server or
// a skipped test fails the run.
//
//   npm test                         both targets
//   npm test -- --target embedded    one target
//   npm test -- test/foo.test.ts     some files
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { redactUrl, startEmbeddedPostgres } from '../src/platform/db/index.ts';
import { recordingLogger } from '../test/support/silent-logger.ts';

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
const problems: string[] = [];

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
if (totals.passed === 0) problems.push('no test passed');
for (const p of problems) console.error(`test run failed: ${p}`);
console.log(`\ntests: ${totals.passed} passed, ${totals.failed} failed, ${totals.skipped} skipped`);
process.exitCode = totals.failed > 0 || problems.length > 0 ? 1 : 0;

async function runPass(target: 'embedded' | 'external', adminUrl: string): Promise<void> {
  console.log(`\n=== tests against ${target} PostgreSQL (${redactUrl(adminUrl)}) ===\n`);
  const child = spawn(
    process.execPath,
    ['--test', '--test-reporter=spec', '--test-concurrency=2', '--test-timeout=180000', ...files],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { ...process.env, TEST_ADMIN_DATABASE_URL: adminUrl, TEST_TARGET: target, LOG_LEVEL: 'silent' },
    },
  );
  let tail = '';
  child.stdout.on('data', (chunk: Buffer) => {
    process.stdout.write(chunk);
    tail = (tail + chunk.toString()).slice(-4000);
  });
  const code = await new Promise<number>((resolve) => child.on('close', (c) => resolve(c ?? 1)));
  const count = (label: string) => Number(new RegExp(`ℹ ${label} (\\d+)`).exec(tail)?.[1] ?? 0);
  const pass = {
    passed: count('pass'),
    failed: count('fail') + count('cancelled'),
    skipped: count('skipped') + count('todo'),
  };
  if (code !== 0 && pass.failed === 0) pass.failed = 1;
  totals.passed += pass.passed;
  totals.failed += pass.failed;
  totals.skipped += pass.skipped;
  console.log(`${target}: ${pass.passed} passed, ${pass.failed} failed, ${pass.skipped} skipped`);
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
