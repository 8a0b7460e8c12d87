import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import type { App } from '../src/app/build-app.ts';
import { startTestApp } from './support/app.ts';
import { registerAdmin, type TestUser } from './support/auth.ts';
import { createTestDatabase } from './support/database.ts';
import { bullmqSkipReason, REDIS, uniqueNamespace } from './support/queue.ts';
import { ensureTestServer } from './support/test-server.ts';

// A real browser (Debian's chromium, driven by playwright-core) opens the Swagger UI at /docs and
// the queue dashboard at /admin/queues through its login form, on both queue drivers (Innkeep's
// page with pg-boss, bull-board with BullMQ), and checks they render under the pages' CSP.
// `.ci/run` installs chromium; under CI=true a missing browser fails instead of skipping.

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const chromiumSkip = existsSync(CHROMIUM)
  ? undefined
  : `no browser at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)`;
if (chromiumSkip && process.env.CI === 'true') throw new Error(`CI=true: ${chromiumSkip}`);
const bullmqSkip = chromiumSkip ?? (await bullmqSkipReason());

/** The closed network refuses Chromium's own connections: turn them off (LIBRARIES.md). */
const LAUNCH_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-dev-shm-usage',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

let profile: string;
let browser: BrowserContext;

before(async () => {
  if (chromiumSkip) return;
  profile = await mkdtemp(join(tmpdir(), 'innkeep-chromium-'));
  // A fresh profile each run (playwright passes it as --user-data-dir).
  browser = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: LAUNCH_ARGS,
    timeout: 60_000,
  });
});
after(async () => {
  await browser?.close();
  if (profile) await rm(profile, { recursive: true, force: true });
});

/** Console errors and CSP violations the page reports, beside the requests it could not make. */
function watch(page: Page) {
  const problems: string[] = [];
  page.on('console', (msg) => {
    if (msg.type() === 'error') problems.push(`console: ${msg.text()}`);
  });
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
  page.on('response', (res) => {
    if (res.status() >= 400) problems.push(`${res.status()} ${res.url()}`);
  });
  return problems;
}

async function serve(env: Record<string, string>) {
  const stopServer = await ensureTestServer();
  const db = await createTestDatabase();
  const app = await startTestApp(db.url, env);
  const admin = await registerAdmin(app);
  const address = await app.listen({ host: '127.0.0.1', port: 0 });
  return {
    app,
    admin,
    base: address,
    close: async () => {
      await app.close();
      await db.drop();
      await stopServer();
    },
  };
}

async function logIn(page: Page, base: string, admin: TestUser) {
  // Cookies ignore ports: a session from another suite's server on 127.0.0.1 would be sent here too.
  await browser.clearCookies();
  await page.goto(`${base}/admin/queues`);
  assert.equal(new URL(page.url()).pathname, '/admin/login', 'no session: the login form');
  await page.fill('#email', admin.email);
  await page.fill('#password', admin.password);
  await Promise.all([page.waitForURL(`${base}/admin/queues`), page.click('button[type=submit]')]);
}

describe('in a browser: pg-boss', { skip: chromiumSkip }, () => {
  let server: { app: App; admin: TestUser; base: string; close: () => Promise<void> };
  before(async () => {
    server = await serve({ QUEUE_DRIVER: 'pgboss', QUEUE_NAMESPACE: uniqueNamespace() });
  });
  after(async () => server?.close());

  it('renders the Swagger UI at /docs with the API’s operations', async () => {
    const page = await browser.newPage();
    const problems = watch(page);
    await page.goto(`${server.base}/docs`);
    await page.waitForSelector('.swagger-ui .info .title', { timeout: 30_000 });
    assert.match((await page.textContent('.swagger-ui .info .title')) ?? '', /Innkeep/);
    await page.waitForSelector('.opblock-summary-path[data-path="/api/bookings"]', { timeout: 30_000 });
    assert.ok((await page.locator('.opblock').count()) > 20, 'the operations are listed');
    assert.deepEqual(problems, []);
    await page.close();
  });

  it('logs in and shows Innkeep’s queue page, whose buttons work', async () => {
    const page = await browser.newPage();
    const problems = watch(page);
    await logIn(page, server.base, server.admin);
    const queues = await page
      .locator('#queues tbody tr')
      .evaluateAll((rows) => rows.map((r) => r.getAttribute('data-queue')));
    assert.deepEqual(queues, ['email', 'processing', 'scheduled']);
    await Promise.all([
      page.waitForURL(/done=retried/, { timeout: 10_000 }).catch(async (err) => {
        throw new Error(`${err.message}\n${page.url()}: ${await page.content()}`);
      }),
      page.click('tr[data-queue="processing"] button:has-text("Retry failed")'),
    ]);
    assert.match((await page.textContent('.notice')) ?? '', /processing: 0 failed jobs put back to waiting/);
    await Promise.all([page.waitForURL(`${server.base}/admin/login`), page.click('text=Log out')]);
    await page.goto(`${server.base}/admin/queues`);
    assert.equal(new URL(page.url()).pathname, '/admin/login', 'logged out: the cookie is gone');
    assert.deepEqual(problems, []);
    await page.close();
  });
});

describe('in a browser: BullMQ', { skip: bullmqSkip }, () => {
  let server: { app: App; admin: TestUser; base: string; close: () => Promise<void> };
  before(async () => {
    server = await serve({ QUEUE_DRIVER: 'bullmq', REDIS_URL: REDIS, QUEUE_NAMESPACE: uniqueNamespace() });
  });
  after(async () => server?.close());

  it('logs in and renders bull-board with the three queues', async () => {
    const page = await browser.newPage();
    const problems = watch(page);
    const apiCalls: number[] = [];
    page.on('response', (res) => {
      if (new URL(res.url()).pathname.startsWith('/admin/queues/api/')) apiCalls.push(res.status());
    });
    await logIn(page, server.base, server.admin);
    for (const queue of ['email', 'processing', 'scheduled']) {
      await page.waitForSelector(`a[href*="queue/${queue}"]`, { timeout: 30_000 });
    }
    assert.ok(apiCalls.length > 0 && apiCalls.every((s) => s === 200), `bull-board API: ${apiCalls}`);
    // The one thing the page asks for that the CSP refuses: bull-board's web font from Google.
    const others = problems.filter((p) => !p.includes('fonts.googleapis.com'));
    assert.deepEqual(others, []);
    await page.close();

    // Without the cookie its API is closed too.
    const res = await fetch(`${server.base}/admin/queues/api/queues`);
    assert.equal(res.status, 401);
  });
});
