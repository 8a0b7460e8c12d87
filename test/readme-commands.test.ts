import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { App } from '../src/app/build-app.ts';
import { seedDatabase } from '../src/app/seed/seed.ts';
import { startTestApp } from './support/app.ts';
import { createTestDatabase, type TestDatabase } from './support/database.ts';
import { spawnCapture } from './support/process.ts';
import { ensureTestServer } from './support/test-server.ts';

const ROOT = join(import.meta.dirname, '..');
const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
const scripts = (
  JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }
).scripts;

/** Every command the README shows: code spans and lines of sh blocks starting with npm, npx or node. */
function readmeCommands(): string[] {
  const spans = [...readme.matchAll(/`([^`\n]+)`/g)].map((m) => m[1]!);
  const blocks = [...readme.matchAll(/```sh\n([\s\S]*?)```/g)].flatMap((m) => m[1]!.split('\n'));
  return [...spans, ...blocks]
    .map((c) => c.replace(/\s+#.*$/, '').trim())
    .filter((c) => /^(npm|npx|node) /.test(c))
    .flatMap((c) => c.split('&&').map((part) => part.trim()));
}

/** Runs a command as a user would, from the project folder. */
async function run(command: string, args: string[]) {
  const proc = spawnCapture(command, args, { cwd: ROOT, env: process.env });
  const code = await proc.exited;
  return { code, out: proc.out(), err: proc.err() };
}

describe('the commands the README shows', () => {
  it('when listed, then none bypasses the pinned Node with a bare `node` and every npm script exists', () => {
    const commands = readmeCommands();
    assert.ok(commands.length > 10, commands.join('\n'));
    const bare = commands.filter((c) => c.startsWith('node '));
    assert.deepEqual(
      bare,
      [],
      'run these through an npm script or npx innkeep (the system Node may be older)',
    );
    const missing = commands
      .map((c) => /^npm (?:run )?([\w:-]+)/.exec(c)?.[1])
      .filter((name): name is string => !!name && !['ci', 'install', 'test', 'start', 'run'].includes(name))
      .filter((name) => !(name in scripts));
    assert.deepEqual(missing, [], 'README names npm scripts package.json does not have');
  });

  it('when `npx innkeep …` is run from the project folder as the README says, then it runs, and knows every command shown', async () => {
    const help = await run('npx', ['innkeep', 'help']);
    assert.equal(help.code, 0, help.err);
    const shown = readmeCommands()
      .filter((c) => c.startsWith('npx innkeep '))
      .map((c) =>
        c
          .split(/\s+/)
          .slice(2, 4)
          .filter((w) => /^[a-z][\w-]*$/.test(w))
          .join(' '),
      );
    assert.ok(shown.length >= 4, shown.join(', '));
    for (const cmd of shown)
      assert.match(help.out, new RegExp(`^  ${cmd}\\b`, 'm'), `innkeep help lists ${cmd}`);
    const config = await run('npx', ['innkeep', 'config', '--markdown']);
    assert.equal(config.code, 0, config.err);
    assert.match(config.out, /^\| Variable \| Default \| Meaning \|/m);
  });

  describe('against a running, seeded server', () => {
    let db: TestDatabase;
    let app: App;
    let url: string;
    let stopServer: () => Promise<void>;

    before(async () => {
      stopServer = await ensureTestServer();
      db = await createTestDatabase();
      await seedDatabase(db.pool, { scale: 'small', seed: 42 });
      app = await startTestApp(db.url);
      url = await app.listen({ host: '127.0.0.1', port: 0 });
    });

    after(async () => {
      await app?.close();
      await db?.drop();
      await stopServer?.();
    });

    it('when `npm run probe -- <url> 1` is run, then it prints a row per endpoint with its status', async () => {
      const probe = await run('npm', ['run', 'probe', '--', url, '1']);
      assert.equal(probe.code, 0, probe.err);
      const rows = probe.out.split('\n').filter((l) => l.startsWith('| ') && !l.startsWith('| Endpoint'));
      assert.ok(rows.length >= 12, probe.out);
      for (const row of rows) assert.match(row, /^\| [A-Z]+ \S.* \| 20[01] \|/, row);
    });
  });
});
