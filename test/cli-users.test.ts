import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import type { App } from '../src/app/build-app.ts';
import { type CreateAdminArgs, createAdminInput } from '../src/cli/users.ts';
import { startTestApp } from './support/app.ts';
import { registerUser } from './support/auth.ts';
import { createTestDatabase, type TestDatabase } from './support/database.ts';
import { NODE } from './support/process.ts';
import { ensureTestServer } from './support/test-server.ts';

const MAIN = join(import.meta.dirname, '../src/main.ts');

interface Run {
  code: number | null;
  out: string;
  err: string;
}

/** Runs the CLI with a clean environment; `input` (if any) is written to its stdin. */
function cli(args: string[], env: Record<string, string>, input?: string): Promise<Run> {
  const child = spawn(NODE, [MAIN, ...args], {
    env: { PATH: process.env.PATH, HOME: process.env.HOME, LOG_LEVEL: 'debug', ...env },
    cwd: tmpdir(),
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (c: Buffer) => {
    out += c.toString();
  });
  child.stderr.on('data', (c: Buffer) => {
    err += c.toString();
  });
  child.stdin.end(input ?? '');
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, out, err })));
}

describe('innkeep users create-admin', () => {
  let db: TestDatabase;
  let app: App;
  let env: Record<string, string>;
  let stopServer: () => Promise<void>;
  let counter = 0;
  const email = () => `admin-${process.pid}-${++counter}@example.test`;

  before(async () => {
    stopServer = await ensureTestServer();
    db = await createTestDatabase();
    env = { DATABASE_URL: db.url };
    app = await startTestApp(db.url);
  });

  after(async () => {
    await app?.close();
    await db?.drop();
    await stopServer?.();
  });

  const login = (mail: string, password: string) =>
    app.inject({ method: 'POST', url: '/api/auth/login', payload: { email: mail, password } });
  const roleOf = async (mail: string) =>
    (await db.pool.query<{ role: string }>('SELECT role FROM users WHERE lower(email) = lower($1)', [mail]))
      .rows[0]?.role;

  it('when the password comes on stdin, then it creates an admin who can log in with role admin', async () => {
    const mail = email();
    const password = 'stdin-password-123';
    const run = await cli(
      ['users', 'create-admin', '--email', mail, '--name', 'Root', '--password-stdin'],
      env,
      `${password}\n`,
    );
    assert.equal(run.code, 0, run.err);
    assert.match(run.out, new RegExp(`Created admin #\\d+ ${mail} \\(Root\\)`));
    assert.ok(!run.out.includes(password) && !run.err.includes(password), 'the password is never printed');
    assert.doesNotMatch(run.out, /Generated password/);
    assert.equal(await roleOf(mail), 'admin');

    const res = await login(mail, password);
    assert.equal(res.statusCode, 200, res.body);
    const session = res.json() as { user: { role: string; name: string }; accessToken: string };
    assert.equal(session.user.role, 'admin');
    assert.equal(session.user.name, 'Root');
    const me = await app.inject({
      method: 'GET',
      url: '/api/me',
      headers: { authorization: `Bearer ${session.accessToken}` },
    });
    assert.equal((me.json() as { role: string }).role, 'admin');
    // The newline that ends the piped line is not part of the password.
    assert.equal((await login(mail, `${password}\n`)).statusCode, 401);
  });

  it('when a new account gets no password, then a strong one is generated, printed once, and works', async () => {
    const mail = email();
    const run = await cli(['users', 'create-admin', '--email', mail], env);
    assert.equal(run.code, 0, run.err);
    const match = /Generated password \(shown once, store it now\): (\S+)/.exec(run.out);
    assert.ok(match, run.out);
    const password = match[1]!;
    assert.ok(password.length >= 20, password);
    assert.equal(run.out.split(password).length - 1, 1, 'printed exactly once');
    assert.ok(!run.err.includes(password), 'never in the logs');
    const res = await login(mail, password);
    assert.equal(res.statusCode, 200, res.body);
    assert.equal((res.json() as { user: { role: string; name: string } }).user.role, 'admin');
    assert.equal((res.json() as { user: { name: string } }).user.name, 'Administrator');
  });

  it('when the account exists and no password is given, then it is promoted and keeps its password', async () => {
    const user = await registerUser(app, 'Existing Person');
    const run = await cli(
      ['users', 'create-admin', '--email', user.email.toUpperCase(), '--name', 'Ignored'],
      env,
    );
    assert.equal(run.code, 0, run.err);
    assert.match(
      run.out,
      new RegExp(`Account #${user.id} ${user.email} promoted to admin; password unchanged`),
    );
    assert.doesNotMatch(run.out, /Generated password/);
    const res = await login(user.email, user.password);
    assert.equal(res.statusCode, 200, res.body);
    const body = res.json() as { user: { id: number; role: string; name: string } };
    assert.deepEqual(body.user.id, user.id);
    assert.equal(body.user.role, 'admin');
    assert.equal(body.user.name, 'Existing Person');
    // The old session's refresh token still works and now yields an admin token.
    const refreshed = await app.inject({
      method: 'POST',
      url: '/api/auth/refresh',
      payload: { refreshToken: user.refreshToken },
    });
    assert.equal((refreshed.json() as { user: { role: string } }).user.role, 'admin');
  });

  it('when the account exists and --password is given, then the password is replaced and its sessions end', async () => {
    const user = await registerUser(app);
    await db.pool.query(`UPDATE users SET role = 'admin' WHERE id = $1`, [user.id]);
    const password = 'replacement-password-9';
    const run = await cli(['users', 'create-admin', '--email', user.email, '--password', password], env);
    assert.equal(run.code, 0, run.err);
    assert.match(run.out, /was already an admin; password replaced, 1 session\(s\) signed out/);
    assert.match(run.err, /warning: --password is visible in the process list/);
    assert.ok(!run.out.includes(password) && !run.err.includes(password));
    assert.equal((await login(user.email, user.password)).statusCode, 401);
    assert.equal((await login(user.email, password)).statusCode, 200);
    const refreshed = await app.inject({
      method: 'POST',
      url: '/api/auth/refresh',
      payload: { refreshToken: user.refreshToken },
    });
    assert.equal(refreshed.statusCode, 401);
  });

  it('when the arguments are bad or the database is down, then it exits 2 (usage) or 1, never echoing the password', async () => {
    const users = async () =>
      (await db.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM users')).rows[0]!.n;
    const before = await users();
    const secret = 'Sh0rt!';
    const down = {
      DATABASE_URL: 'postgres://postgres@127.0.0.1:1/innkeep',
      DB_CONNECT_TIMEOUT_MS: '500',
      LOG_LEVEL: 'silent',
    };
    const [badEmail, shortStdin, unknownOption, unreachable] = await Promise.all([
      cli(['users', 'create-admin', '--email', 'not-an-email', '--password', 'long-enough-pw'], env),
      cli(['users', 'create-admin', '--email', email(), '--password-stdin'], env, `${secret}\n`),
      cli(['users', 'create-admin', '--email', email(), '--role', 'root'], env),
      cli(['users', 'create-admin', '--email', email(), '--password-stdin'], down, 'long-enough-pw\n'),
    ]);
    for (const [run, message] of [
      [badEmail, /--email: "not-an-email" is not a valid e-mail address/],
      [shortStdin, /the password must be 8 to 128 characters/],
      [unknownOption, /Unknown option '--role'/],
    ] as const) {
      assert.equal(run.code, 2, run.err);
      assert.match(run.err, message);
      // The usage text (also what `innkeep help` prints) documents the command.
      assert.match(run.err, /users create-admin --email E \[--name N\] \[--password P \| --password-stdin\]/);
      assert.ok(!run.err.includes(secret) && !run.out.includes(secret), 'password echoed');
      assert.ok(!run.err.includes('long-enough-pw'), 'password echoed');
    }
    assert.equal(unreachable.code, 1, unreachable.err);
    assert.ok(!unreachable.err.includes('long-enough-pw') && !unreachable.out.includes('long-enough-pw'));
    assert.equal(await users(), before);
  });

  it('when arguments are checked, then every bad combination is a usage error naming the problem', async () => {
    const secret = 'Sh0rt!';
    const cases: [string, CreateAdminArgs, string | undefined, RegExp][] = [
      ['no e-mail', {}, undefined, /needs --email/],
      ['blank e-mail', { email: '  ' }, undefined, /needs --email/],
      ['invalid e-mail', { email: 'someone@' }, undefined, /not a valid e-mail/],
      ['short password', { email: 'a@b.test', password: secret }, undefined, /8 to 128/],
      ['long password', { email: 'a@b.test', password: 'x'.repeat(129) }, undefined, /8 to 128/],
      ['short password on stdin', { email: 'a@b.test', passwordStdin: true }, `${secret}\n`, /8 to 128/],
      ['empty stdin', { email: 'a@b.test', passwordStdin: true }, '', /8 to 128/],
      [
        'both password options',
        { email: 'a@b.test', password: 'long-enough-pw', passwordStdin: true },
        'long-enough-pw',
        /either --password or --password-stdin/,
      ],
      ['blank name', { email: 'a@b.test', name: '   ' }, undefined, /--name/],
      ['name too long', { email: 'a@b.test', name: 'n'.repeat(101) }, undefined, /--name/],
    ];
    for (const [label, args, input, message] of cases) {
      const result = await createAdminInput(args, Readable.from(input === undefined ? [] : [input]));
      assert.equal(typeof result, 'string', `${label}: ${JSON.stringify(result)}`);
      assert.match(result as string, message, label);
      assert.ok(!(result as string).includes(secret), `${label}: password echoed`);
    }
    assert.deepEqual(
      await createAdminInput(
        { email: ' Boss@Example.test ', name: ' Boss ', passwordStdin: true },
        Readable.from(['pass word 123\r\n']),
      ),
      { email: 'Boss@Example.test', name: 'Boss', password: 'pass word 123' },
    );
    assert.deepEqual(await createAdminInput({ email: 'boss@example.test' }, Readable.from([])), {
      email: 'boss@example.test',
      name: undefined,
      password: undefined,
    });
  });
});
