import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { App } from '../src/app/build-app.ts';
import { uuidFrom } from '../src/app/notifications/notification-jobs.ts';
import { startTestApp } from './support/app.ts';
import { registerUser, type TestUser } from './support/auth.ts';
import { createTestDatabase, type TestDatabase } from './support/database.ts';
import { createHotel, isoDate, setAvailableRooms } from './support/fixtures.ts';
import {
  bullmqSkipReason,
  DRIVERS,
  type DriverKind,
  eventually,
  FAST_QUEUE_ENV,
  REDIS,
  uniqueNamespace,
} from './support/queue.ts';
import { type SmtpFake, startSmtpFake } from './support/smtp-fake.ts';
import { ensureTestServer } from './support/test-server.ts';

// Booking e-mails end to end: the app (ROLE=all: API and worker in one process) books, the booking
// transaction enqueues the e-mail, the worker renders and sends it to a local SMTP server.

const bullmqSkip = await bullmqSkipReason();

for (const driver of DRIVERS) {
  describe(`booking e-mails: ${driver}`, { skip: driver === 'bullmq' ? bullmqSkip : undefined }, () => {
    emailSuite(driver);
  });
}

function emailSuite(driver: DriverKind) {
  let stopServer: () => Promise<void>;
  let db: TestDatabase;
  let smtp: SmtpFake;
  let app: App;
  let guest: TestUser;
  let dataDir: string;

  before(async () => {
    stopServer = await ensureTestServer();
    db = await createTestDatabase();
    smtp = await startSmtpFake();
    dataDir = await mkdtemp(join(tmpdir(), 'innkeep-mail-'));
    app = await startTestApp(db.url, {
      ROLE: 'all',
      QUEUE_DRIVER: driver,
      QUEUE_NAMESPACE: uniqueNamespace(),
      REDIS_URL: REDIS,
      SMTP_URL: smtp.url,
      INNKEEP_DATA_DIR: dataDir,
      ...FAST_QUEUE_ENV,
    });
    guest = await registerUser(app, 'Grace Guest');
  });
  after(async () => {
    await app?.close();
    await smtp?.close();
    await db?.drop();
    await rm(dataDir, { recursive: true, force: true });
    await stopServer?.();
  });

  const book = (roomTypeId: number, nightsFrom = 10) =>
    app.inject({
      method: 'POST',
      url: '/api/bookings',
      headers: { ...guest.headers, 'idempotency-key': randomUUID() },
      payload: { roomTypeId, checkIn: isoDate(nightsFrom), checkOut: isoDate(nightsFrom + 2), guests: 1 },
    });
  const notificationsOf = async (userId: number) =>
    (
      await db.pool.query<{ id: number; type: string; status: string; providerMessageId: string | null }>(
        `SELECT id::int, type, status, provider_message_id AS "providerMessageId"
         FROM notifications WHERE user_id = $1 ORDER BY id`,
        [userId],
      )
    ).rows;
  const mailFor = (id: number) =>
    smtp.received.filter((m) => m.messageId === `notification-${id}@innkeep.localhost`);

  it('when a booking commits, then its confirmation is queued with it and sent, with a Message-ID from the notification', async () => {
    const hotel = await createHotel(db.pool, { name: 'Harbour <script>alert(1)</script> View' });
    const res = await book(hotel.roomTypes[0]!.id);
    assert.equal(res.statusCode, 201, res.body);
    const [confirmation] = await notificationsOf(guest.id);
    assert.ok(confirmation);
    assert.equal(confirmation.type, 'booking_confirmed');
    const sent = await eventually('the e-mail', () => mailFor(confirmation.id)[0]);
    assert.deepEqual(sent.to, [guest.email]);
    // The hotel name is the guest's to see, never markup to run (the text part and subject carry it as
    // plain text, which is what they are).
    const html = (sent.raw.split('Content-Type: text/html')[1] ?? '')
      .replace(/=\r?\n/g, '')
      .replace(/=3D/g, '=');
    assert.ok(html.length > 0, 'an HTML part');
    assert.doesNotMatch(html, /<script>alert/);
    assert.match(html, /&lt;script&gt;alert\(1\)&lt;\/script&gt;/);
    const row = await eventually('the row marked sent', async () =>
      (await notificationsOf(guest.id)).find((n) => n.id === confirmation.id && n.status === 'sent'),
    );
    assert.ok(row.providerMessageId);
  });

  it('when a booking is refused (sold out), then no notification and no job exist', async () => {
    const hotel = await createHotel(db.pool);
    await setAvailableRooms(db.pool, hotel.roomTypes[0]!.id, isoDate(0), isoDate(60), 0);
    const before = (await notificationsOf(guest.id)).length;
    const stats = async () => (await app.innkeep.jobs.stats()).find((s) => s.name === 'email');
    const jobsBefore = await stats();
    const res = await book(hotel.roomTypes[0]!.id, 20);
    assert.equal(res.statusCode, 409, res.body);
    await sleep(1_500);
    assert.equal((await notificationsOf(guest.id)).length, before);
    const jobsAfter = await stats();
    assert.equal(
      (jobsAfter?.waiting ?? 0) + (jobsAfter?.completed ?? 0) + (jobsAfter?.active ?? 0),
      (jobsBefore?.waiting ?? 0) + (jobsBefore?.completed ?? 0) + (jobsBefore?.active ?? 0),
    );
  });

  it('when a notification job exists, then it carries the id derived from its notification', async () => {
    const [first] = await notificationsOf(guest.id);
    assert.ok(first);
    const job = await app.innkeep.jobs.find('email', uuidFrom(`notification:${first.id}`));
    assert.equal(job?.name, 'send-notification');
  });

  it('when a payload lacks what its template needs, then the job is dead-lettered and the row failed, without retries', async () => {
    const { rows } = await db.pool.query<{ id: number }>(
      `INSERT INTO notifications (user_id, type, payload) VALUES ($1, 'booking_confirmed', '{"bookingId": 1}') RETURNING id::int`,
      [guest.id],
    );
    const id = rows[0]!.id;
    // Queued with the job the app registered, as the services do.
    const sendJob = app.innkeep.jobs.definition('send-notification');
    assert.ok(sendJob);
    await app.innkeep.jobs.enqueue(sendJob, { notificationId: id });
    const dead = await eventually('the dead letter', async () =>
      (await app.innkeep.jobs.deadLetters('email')).find(
        (d) => (d.payload as { notificationId: number }).notificationId === id,
      ),
    );
    assert.equal(dead.reason, 'unrecoverable');
    assert.match(dead.error, /hotelName|checkIn/);
    const row = (await notificationsOf(guest.id)).find((n) => n.id === id);
    assert.equal(row?.status, 'failed');
    assert.equal(mailFor(id).length, 0);
  });

  it('when the SMTP server refuses permanently, then the e-mail fails at once and is not retried', async () => {
    smtp.refuse(550, 'mailbox unavailable', { times: 1 });
    const hotel = await createHotel(db.pool);
    const res = await book(hotel.roomTypes[0]!.id, 30);
    assert.equal(res.statusCode, 201, res.body);
    const latest = (await notificationsOf(guest.id)).at(-1);
    assert.ok(latest);
    const row = await eventually('the failed row', async () =>
      (await notificationsOf(guest.id)).find((n) => n.id === latest.id && n.status === 'failed'),
    );
    assert.equal(row.status, 'failed');
    await sleep(1_000);
    assert.equal(mailFor(latest.id).length, 0);
  });

  it('when the SMTP server answers 451 once, then the e-mail is retried and sent', async () => {
    smtp.refuse(451, 'try again later', { times: 1 });
    const hotel = await createHotel(db.pool);
    const res = await book(hotel.roomTypes[0]!.id, 40);
    assert.equal(res.statusCode, 201, res.body);
    const latest = (await notificationsOf(guest.id)).at(-1);
    assert.ok(latest);
    await eventually('the retried e-mail', () => mailFor(latest.id)[0]);
  });

  it('without SMTP_URL, then messages are .eml files (0600) under the data folder', async () => {
    // A second app on the same database with no SMTP server: the newcomer's default.
    const fileApp = await startTestApp(db.url, {
      ROLE: 'all',
      QUEUE_DRIVER: driver,
      QUEUE_NAMESPACE: uniqueNamespace(),
      REDIS_URL: REDIS,
      INNKEEP_DATA_DIR: dataDir,
      ...FAST_QUEUE_ENV,
    });
    try {
      const user = await registerUser(fileApp, 'File Reader');
      const hotel = await createHotel(db.pool, { name: 'Eml Inn' });
      const res = await fileApp.inject({
        method: 'POST',
        url: '/api/bookings',
        headers: { ...user.headers, 'idempotency-key': randomUUID() },
        payload: { roomTypeId: hotel.roomTypes[0]!.id, checkIn: isoDate(5), checkOut: isoDate(6), guests: 1 },
      });
      assert.equal(res.statusCode, 201, res.body);
      const folder = join(dataDir, 'mail');
      const file = await eventually('the .eml file', async () => {
        const names = await readdir(folder).catch(() => [] as string[]);
        // Only finished files: a message being written has a temporary name until it is renamed.
        for (const name of names.filter((n) => n.endsWith('.eml'))) {
          const text = await readFile(join(folder, name), 'utf8').catch(() => '');
          if (text.includes('Eml Inn')) return join(folder, name);
        }
        return undefined;
      });
      assert.equal((await stat(file)).mode & 0o777, 0o600);
      assert.equal((await stat(folder)).mode & 0o777, 0o700);
    } finally {
      await fileApp.close();
    }
  });
}
