// `npm run openapi`: writes docs/openapi.json, the document GET /docs/json serves, so `npm run check`
// can lint it without a database and client developers can read it without running the server.
// test/openapi-file.test.ts fails when the committed file differs from what the app serves.
//
// The document comes from the real buildApp (the same plugins, hooks and transforms as in production),
// which needs a database: a throwaway embedded PostgreSQL in a temporary directory, or DATABASE_URL.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { buildApp } from '../src/app/build-app.ts';
import { loadConfig } from '../src/platform/config/index.ts';
import { startEmbeddedPostgres } from '../src/platform/db/index.ts';
import { recordingLogger } from '../test/support/silent-logger.ts';

export const OPENAPI_FILE = join(import.meta.dirname, '../docs/openapi.json');

/** The exact text docs/openapi.json holds for a document: 2-space JSON and a final newline. */
export function openApiFileText(document: unknown): string {
  return `${JSON.stringify(document, null, 2)}\n`;
}

async function main() {
  const given = process.env.DATABASE_URL;
  const dir = given ? undefined : await mkdtemp(join(tmpdir(), 'innkeep-openapi-'));
  const server = dir ? await startEmbeddedPostgres(dir, recordingLogger()) : undefined;
  try {
    const config = loadConfig({
      env: {
        DATABASE_URL: given ?? server?.url,
        LOG_LEVEL: 'silent',
        NODE_ENV: 'test',
        DB_SEED_ON_EMPTY: 'none',
        // The document does not depend on the secret; a random one keeps nothing on disk.
        JWT_SECRET: randomBytes(32).toString('hex'),
      },
      envFile: false,
    });
    const app = await buildApp(config);
    try {
      await writeFile(OPENAPI_FILE, openApiFileText(app.swagger()));
      console.log(`wrote ${relative(process.cwd(), OPENAPI_FILE)}`);
    } finally {
      await app.close();
    }
  } finally {
    await server?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  }
}

if (import.meta.main) await main();
