import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmbeddedPostgres } from '../../src/platform/db/embedded.ts';
import { recordingLogger } from './silent-logger.ts';

/**
 * Makes sure TEST_ADMIN_DATABASE_URL names a server before `createTestDatabase()` is called, and returns
 * the function to call in the file's root `after()` hook.
 *
 * When the variable is unset (a test file run alone), this starts an embedded PostgreSQL in a temporary
 * directory and stops it (and removes the directory) when the returned function is called. It exists
 * because the fallback in `database.ts` stops its server on 'beforeExit', which never fires while the
 * server's child process keeps the event loop alive, so a file run alone would never exit.
 *
 * @example
 * let stopServer: () => Promise<void>;
 * before(async () => { stopServer = await ensureTestServer(); });
 * after(() => stopServer());
 */
export async function ensureTestServer(): Promise<() => Promise<void>> {
  if (process.env.TEST_ADMIN_DATABASE_URL) return async () => undefined;
  const dir = await mkdtemp(join(tmpdir(), 'innkeep-test-'));
  const server = await startEmbeddedPostgres(dir, recordingLogger()).catch(async (err: unknown) => {
    await rm(dir, { recursive: true, force: true });
    throw err;
  });
  process.env.TEST_ADMIN_DATABASE_URL = server.url;
  return async () => {
    delete process.env.TEST_ADMIN_DATABASE_URL;
    await server.stop();
    await rm(dir, { recursive: true, force: true });
  };
}
