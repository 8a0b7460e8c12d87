import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { readCookie, safeNext } from '../src/app/auth/admin-pages.ts';
import type { App } from '../src/app/build-app.ts';
import { assertError, queryCount, startTestApp } from './support/app.ts';
import { registerAdmin, registerUser, type TestUser } from './support/auth.ts';
import { createTestDatabase, type TestDatabase } from './support/database.ts';
import { uniqueNamespace } from './support/queue.ts';
import { ensureTestServer } from './support/test-server.ts';

// The admin pages on the API port: the login form and its cookie, and the pg-boss driver's queue
// dashboard at /admin/queues (bull-board's is opened by a browser in test/browser.test.ts).

const FORM = { 'content-type': 'application/x-www-form-urlencoded' };
const HTML = { accept: 'text/html,application/xhtml+xml' };
const form = (fields: Record<string, string>) => new URLSearchParams(fields).toString();

describe('admin pages', () => {
  let stopServer: () => Promise<void>;
  let db: TestDatabase;
  let app: App;
  let admin: TestUser;
  let guest: TestUser;
  let cookie: string;
  const namespace = uniqueNamespace();

  before(async () => {
    stopServer = await ensureTestServer();
    db = await createTestDatabase();
    app = await startTestApp(db.url, { QUEUE_NAMESPACE: namespace });
    admin = await registerAdmin(app);
    guest = await registerUser(app, 'Grace Guest');
  });
  after(async () => {
    await app?.close();
    await db?.drop();
    await stopServer?.();
  });

  const login = (email: string, password: string, next = '/admin/queues') =>
    app.inject({
      method: 'POST',
      url: '/admin/login',
      headers: FORM,
      payload: form({ email, password, next }),
    });

  it('sends a browser without a session to the login form, and answers 401 to anything else', async () => {
    const page = await app.inject({ url: '/admin/queues', headers: HTML });
    assert.equal(page.statusCode, 303);
    assert.equal(page.headers.location, '/admin/login?next=%2Fadmin%2Fqueues');
    const api = await app.inject({ url: '/admin/queues' });
    assertError(api, 401, 'E_UNAUTHORIZED');
    const user = await app.inject({ url: '/admin/queues', headers: { ...HTML, ...guest.headers } });
    assert.equal(user.statusCode, 303, 'a user’s token is not an admin session');
    const forged = await app.inject({
      url: '/admin/queues',
      headers: { ...HTML, cookie: 'innkeep_admin=a.b.c' },
    });
    assert.equal(forged.statusCode, 303);

    const form = await app.inject({ url: '/admin/login?next=%2Fadmin%2Fqueues', headers: HTML });
    assert.equal(form.statusCode, 200);
    assert.match(form.headers['content-type'] as string, /^text\/html/);
    assert.match(form.body, /<form method="post" action="\/admin\/login">/);
    assert.match(form.headers['content-security-policy'] as string, /form-action 'self'/);
  });

  it('refuses wrong passwords and non-administrators with the same answer', async () => {
    const wrong = await login(admin.email, 'not the password');
    assert.equal(wrong.statusCode, 401);
    assert.match(wrong.body, /Wrong e-mail or password, or not an administrator/);
    assert.equal(wrong.headers['set-cookie'], undefined);
    const user = await login(guest.email, guest.password);
    assert.equal(user.statusCode, 401);
    assert.match(user.body, /Wrong e-mail or password, or not an administrator/);
    assert.equal(user.headers['set-cookie'], undefined);
    const empty = await app.inject({ method: 'POST', url: '/admin/login', headers: FORM, payload: '' });
    assert.equal(empty.statusCode, 400);
    // What the user typed is escaped back into the form.
    const hostile = await login('<script>alert(1)</script>@x.test', 'x');
    assert.ok(!hostile.body.includes('<script>alert(1)'));
    assert.match(hostile.body, /&lt;script&gt;/);
  });

  it('logs an administrator in with an HttpOnly, SameSite=Strict cookie and revokes the refresh token', async () => {
    const live = async () =>
      Number(
        (
          await app.innkeep.db.pool.query(
            'SELECT count(*) AS n FROM refresh_tokens WHERE user_id = $1 AND revoked_at IS NULL',
            [admin.id],
          )
        ).rows[0].n,
      );
    const before = await live();
    const res = await login(admin.email, admin.password, '/admin/queues?done=x');
    assert.equal(res.statusCode, 303);
    assert.equal(res.headers.location, '/admin/queues?done=x');
    assert.equal(queryCount(res.headers), 3, 'the API login’s statements and the revocation');
    const setCookie = String(res.headers['set-cookie']);
    assert.match(
      setCookie,
      /^innkeep_admin=[\w-]+\.[\w-]+\.[\w-]+; Path=\/admin; Max-Age=900; HttpOnly; SameSite=Strict$/,
    );
    assert.equal(await live(), before, 'the login’s refresh token is revoked at once');
    cookie = `innkeep_admin=${readCookie(setCookie.split(';')[0], 'innkeep_admin')}`;

    const outside = await login(admin.email, admin.password, '//evil.example/admin/');
    assert.equal(outside.headers.location, '/admin/queues');
    assert.equal(safeNext('https://evil.example'), '/admin/queues');
    assert.equal(safeNext('/admin/\\evil'), '/admin/queues');
    assert.equal(
      safeNext('/admin/queues?done=cleaned&queue=email'),
      '/admin/queues?done=cleaned&queue=email',
    );

    const out = await app.inject({ method: 'POST', url: '/admin/logout', headers: { cookie } });
    assert.equal(out.statusCode, 303);
    assert.match(String(out.headers['set-cookie']), /^innkeep_admin=; Path=\/admin; Max-Age=0;/);
  });

  it('shows every queue and the dead letters, escaped, with forms that redrive and delete', async () => {
    const { rows } = await app.innkeep.db.pool.query(
      `INSERT INTO "${namespace}".innkeep_dead_letters (job_id, queue, name, payload, attempts, reason, error)
       VALUES ('a', 'email', 'send-notification', '{"notificationId": 1}', 3, 'exhausted', '<script>alert(1)</script> SMTP 451'),
              ('b', 'email', 'send-notification', '{"notificationId": 2}', 1, 'unrecoverable', 'template data missing')
       RETURNING id`,
    );
    const [first, second] = rows.map((r) => Number(r.id));
    const page = await app.inject({ url: '/admin/queues', headers: { ...HTML, cookie } });
    assert.equal(page.statusCode, 200);
    assert.equal(page.headers['cache-control'], 'no-store');
    // The dead-letter counts and the email queue's letters (pg-boss counts its jobs on its own pool).
    assert.equal(queryCount(page.headers), 2);
    for (const queue of ['email', 'processing', 'scheduled']) {
      assert.match(page.body, new RegExp(`<tr data-queue="${queue}">`));
    }
    assert.match(page.body, new RegExp(`<tr data-dead-letter="${first}">`));
    assert.match(page.body, /&lt;script&gt;alert\(1\)&lt;\/script&gt; SMTP 451/);
    assert.ok(!page.body.includes('<script>'), 'no script on the page, and none injected');
    const bearer = await app.inject({ url: '/admin/queues', headers: admin.headers });
    assert.equal(bearer.statusCode, 200, 'a script may use the admin’s bearer token');

    // A cookie-authenticated change must come from this origin.
    const action = `/admin/queues/email/dead/${first}/redrive`;
    const crossSite = await app.inject({
      method: 'POST',
      url: action,
      headers: { ...FORM, cookie, origin: 'https://evil.example' },
      payload: '',
    });
    assertError(crossSite, 403, 'E_FORBIDDEN');
    const fetchSite = await app.inject({
      method: 'POST',
      url: action,
      headers: { ...FORM, cookie, 'sec-fetch-site': 'cross-site' },
      payload: '',
    });
    assertError(fetchSite, 403, 'E_FORBIDDEN');

    const redrive = await app.inject({
      method: 'POST',
      url: action,
      headers: { ...FORM, cookie, origin: 'http://localhost:80', host: 'localhost:80' },
      payload: '',
    });
    assert.equal(redrive.statusCode, 303, redrive.body);
    assert.equal(redrive.headers.location, '/admin/queues?done=redriven&queue=email&count=1');
    const del = await app.inject({
      method: 'POST',
      url: `/admin/queues/email/dead/${second}/delete`,
      headers: { ...FORM, cookie },
      payload: '',
    });
    assert.equal(del.statusCode, 303);
    const left = await app.inject({ url: '/api/admin/queues/email/dead', headers: admin.headers });
    assert.deepEqual(
      (left.json() as { deadLetters: unknown[] }).deadLetters,
      [],
      'one redriven, one deleted',
    );
    const after = await app.inject({
      url: '/admin/queues?done=redriven&queue=email&count=1',
      headers: { cookie },
    });
    assert.match(after.body, /role="status">email: dead letter enqueued again as a new job\./);

    const again = await app.inject({
      method: 'POST',
      url: action,
      headers: { ...FORM, cookie },
      payload: '',
    });
    assertError(again, 404, 'E_NOT_FOUND');
    const unknown = await app.inject({
      method: 'POST',
      url: '/admin/queues/nope/retry',
      headers: { ...FORM, cookie },
      payload: '',
    });
    assertError(unknown, 404, 'E_NOT_FOUND');
    const retry = await app.inject({
      method: 'POST',
      url: '/admin/queues/email/retry',
      headers: { ...FORM, cookie },
      payload: '',
    });
    assert.equal(retry.statusCode, 303);
    assert.match(String(retry.headers.location), /^\/admin\/queues\?done=retried&queue=email&count=\d+$/);
    const badQuery = await app.inject({ url: '/admin/queues?done=<b>hi</b>', headers: { cookie } });
    assertError(badQuery, 400, 'E_VALIDATION');
  });

  it('answers hostile input with a 4xx in the standard format', async () => {
    const cases: {
      url: string;
      method?: 'GET' | 'POST';
      headers?: Record<string, string>;
      payload?: string | Buffer;
      status: number;
    }[] = [
      { url: '/admin/queues/Bad%20Name/retry', method: 'POST', status: 400 },
      { url: '/admin/queues/email/dead/abc/delete', method: 'POST', status: 400 },
      { url: '/admin/queues/email/dead/0/redrive', method: 'POST', status: 400 },
      { url: '/admin/queues/email/dead/99999999/delete', method: 'POST', status: 404 },
      { url: '/admin/queues?count=-1&done=retried&queue=email', status: 400 },
      {
        url: '/admin/queues/email/retry',
        method: 'POST',
        headers: { 'content-type': 'text/xml' },
        payload: '<x/>',
        status: 415,
      },
      {
        url: '/admin/queues/email/clean',
        method: 'POST',
        payload: Buffer.from([0x65, 0x3d, 0xff, 0xfe]),
        status: 400,
      },
    ];
    for (const c of cases) {
      const res = await app.inject({
        method: c.method ?? 'GET',
        url: c.url,
        headers: { ...FORM, cookie, ...c.headers },
        payload: c.payload ?? '',
      });
      assert.equal(res.statusCode, c.status, `${c.method ?? 'GET'} ${c.url}: ${res.body}`);
      assertError(res, c.status);
    }
    const big = await app.inject({
      method: 'POST',
      url: '/admin/login',
      headers: FORM,
      payload: form({ email: 'a@b.test', password: 'x'.repeat(20_000) }),
    });
    assertError(big, 413, 'E_PAYLOAD_TOO_LARGE');
    const notUtf8 = await app.inject({
      method: 'POST',
      url: '/admin/login',
      headers: FORM,
      payload: 'email=%FF%FE&password=x',
    });
    assertError(notUtf8, 400, 'E_BAD_REQUEST');
    const long = await login('a@b.test', 'y'.repeat(129));
    assert.equal(long.statusCode, 400);
  });

  it('serves the same dashboard on the internal listener without a login', async () => {
    const res = await app.innkeep.internal.inject({ url: '/admin/queues' });
    assert.equal(res.statusCode, 200);
    assert.match(res.body, /<tr data-queue="email">/);
    assert.ok(!res.body.includes('action="/admin/logout"'));
  });
});
