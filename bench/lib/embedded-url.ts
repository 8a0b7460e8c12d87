import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isProcessRunning } from '../../src/platform/db/index.ts';

/**
 * The connection string of the embedded PostgreSQL a running `npm start` keeps in `dataDir`
 * (INNKEEP_DATA_DIR), or why there is none. Never starts a server: a benchmark must not change
 * what it measures, so it only reads postmaster.pid (pid, port) and the credentials file the app
 * wrote, the same two files startEmbeddedPostgres reads to adopt a running server.
 */
export async function runningEmbeddedUrl(
  dataDir: string,
): Promise<{ url: string; reason?: undefined } | { url?: undefined; reason: string }> {
  let lines: string[];
  try {
    lines = (await readFile(join(dataDir, 'pg', 'postmaster.pid'), 'utf8')).split('\n');
  } catch {
    return { reason: `no embedded PostgreSQL is running in ${dataDir}` };
  }
  const pid = Number(lines[0]);
  const port = Number(lines[3]);
  if (!pid || !port || !isProcessRunning(pid)) {
    return { reason: `the embedded PostgreSQL in ${dataDir} is not running (stale postmaster.pid)` };
  }
  try {
    const creds = JSON.parse(await readFile(join(dataDir, 'embedded-postgres.json'), 'utf8')) as {
      user: string;
      password: string;
      database: string;
    };
    const user = encodeURIComponent(creds.user);
    const password = encodeURIComponent(creds.password);
    return { url: `postgres://${user}:${password}@127.0.0.1:${port}/${creds.database}` };
  } catch (err) {
    return {
      reason: `cannot read the embedded PostgreSQL credentials in ${dataDir}: ${(err as Error).message}`,
    };
  }
}
