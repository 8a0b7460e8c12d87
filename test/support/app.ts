import assert from 'node:assert/strict';
import { buildApp } from '../../src/app/build-app.ts';
import { loadConfig } from '../../src/platform/config/index.ts';

export const TEST_JWT_SECRET = 'test-secret-test-secret-test-secret-0123456789';

/** Builds the real app on the given database with quiet logs and no demo data. */
export function testConfig(env: Record<string, string | undefined> = {}) {
  return loadConfig({
    env: {
      LOG_LEVEL: 'silent',
      NODE_ENV: 'test',
      DB_SEED_ON_EMPTY: 'none',
      // The domain suites write fixtures with SQL behind the app's back (no invalidation can see
      // that) and count the statements each request runs; the cache suites (test/cache-*.test.ts,
      // test/platform/cache.test.ts) turn it on, and so do the HTTP fuzz and semantics suites.
      CACHE_ENABLED: 'false',
      CACHE_WARMUP: 'false',
      // The suites fire many requests from one address; the rate-limit suite (test/rate-limit.test.ts)
      // turns it on.
      RATE_LIMIT_ENABLED: 'false',
      // The apps run inside the test process, whose own work (compiling a generated client, seeding)
      // blocks the loop they share; test/platform/load-protection.test.ts sets its thresholds.
      SHED_EVENT_LOOP_DELAY_MS: '0',
      JWT_SECRET: TEST_JWT_SECRET,
      // The app suites enqueue jobs but do not run them; the queue suites (test/platform/queue-*.test.ts,
      // test/jobs-*.test.ts) start workers themselves.
      ROLE: 'api',
      ...env,
    },
    envFile: false,
  });
}

export async function startTestApp(databaseUrl: string, env: Record<string, string> = {}) {
  return buildApp(testConfig({ DATABASE_URL: databaseUrl, ...env }));
}

/** The statement count the app reports in `Server-Timing: db;...;desc="N queries"`. */
export function queryCount(headers: Record<string, unknown>): number {
  const header = String(headers['server-timing'] ?? '');
  const match = /desc="(\d+) queries"/.exec(header);
  return match ? Number(match[1]) : 0;
}

export const ERROR_FIELDS = [
  'code',
  'error',
  'message',
  'path',
  'requestId',
  'statusCode',
  'success',
  'timestamp',
];

/**
 * Asserts a response is the standard error: the status, every ERROR_FIELDS key, `success: false`,
 * `statusCode` equal to the HTTP status, the code when given, and a detail naming `field` when given.
 * Returns the body.
 */
export function assertError(
  res: { statusCode: number; body: string; json(): unknown },
  status: number,
  code?: string,
  field?: string,
): Record<string, unknown> & { details?: { field?: string }[] } {
  assert.equal(res.statusCode, status, `expected ${status}, got ${res.statusCode}: ${res.body}`);
  const body = res.json() as Record<string, unknown> & { details?: { field?: string }[] };
  for (const key of ERROR_FIELDS) assert.ok(key in body, `missing ${key} in ${res.body}`);
  assert.equal(body.success, false);
  assert.equal(body.statusCode, status);
  if (code) assert.equal(body.code, code, res.body);
  if (field) {
    assert.ok(
      body.details?.some((d) => d.field === field),
      `expected a detail on ${field}: ${JSON.stringify(body.details)}`,
    );
  }
  return body;
}
