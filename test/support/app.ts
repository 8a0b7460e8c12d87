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
      JWT_SECRET: TEST_JWT_SECRET,
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
