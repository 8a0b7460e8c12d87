import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { maxInWindow, maxPerAlignedSecond } from '../bench/lib/jobs-report.ts';
import { buildInlineMailApp } from '../bench/naive/inline-mail.ts';
import type { App } from '../src/app/build-app.ts';
import { type Database, openDatabase } from '../src/platform/db/index.ts';
import { startTestApp, testConfig } from './support/app.ts';
import { registerUser, type TestUser } from './support/auth.ts';
import { createTestDatabase, type TestDatabase } from './support/database.ts';
import { createHotel, isoDate } from './support/fixtures.ts';
import { recordingLogger } from './support/silent-logger.ts';
import { type SmtpFake, startSmtpFake } from './support/smtp-fake.ts';
import { ensureTestServer } from './support/test-server.ts';

// `npm run bench:jobs` compares Innkeep's enqueued e-mail with bench/naive/inline-mail.ts, which sends
// it inside the request: that row only means something if the inline side really does.

describe('bench:jobs rate figures', () => {
  it('when messages arrive, then the busiest 1 s window and calendar second are counted', () => {
    // 10 at the end of one second and 10 at the start of the next: 10 per calendar second, 20 in 1 s.
    const times = [
      ...Array.from({ length: 10 }, (_, i) => 10_900 + i * 5),
      ...Array.from({ length: 10 }, (_, i) => 11_000 + i * 5),
    ];
    assert.equal(maxPerAlignedSecond(times), 10);
    assert.equal(maxInWindow(times), 20);
    assert.equal(maxInWindow([0, 1000, 2000]), 1, 'a window is [t, t + 1 s)');
    assert.equal(maxInWindow([]), 0);
  });
});

describe('bench inline-mail app', () => {
  let stopServer: () => Promise<void>;
  let db: TestDatabase;
  let smtp: SmtpFake;
  let real: App;
  let inlineDb: Database;
  let inline: Awaited<ReturnType<typeof buildInlineMailApp>>;
  let guest: TestUser;
  let dataDir: string;

  before(async () => {
    stopServer = await ensureTestServer();
    db = await createTestDatabase();
    smtp = await startSmtpFake();
    dataDir = await mkdtemp(join(tmpdir(), 'innkeep-inline-mail-'));
    // The real app only registers the guest (the inline app has no auth routes).
    real = await startTestApp(db.url);
    guest = await registerUser(real, 'Ines Inline');
    const config = testConfig({ DATABASE_URL: db.url, SMTP_URL: smtp.url, INNKEEP_DATA_DIR: dataDir });
    inlineDb = await openDatabase(config.db, recordingLogger());
    inline = await buildInlineMailApp(config, inlineDb);
  });
  after(async () => {
    await inline?.close();
    await inlineDb?.close();
    await real?.close();
    await smtp?.close();
    await db?.drop();
    await rm(dataDir, { recursive: true, force: true });
    await stopServer?.();
  });

  it('when a booking is answered, then its confirmation has already reached the SMTP server and is marked sent', async () => {
    const hotel = await createHotel(db.pool);
    smtp.delayMs = 300;
    const key = randomUUID();
    const request = {
      method: 'POST' as const,
      url: '/api/bookings',
      headers: { ...guest.headers, 'idempotency-key': key },
      payload: { roomTypeId: hotel.roomTypes[0]!.id, checkIn: isoDate(10), checkOut: isoDate(12), guests: 1 },
    };
    const res = await inline.inject(request);
    assert.equal(res.statusCode, 201, res.body);
    const { rows } = await db.pool.query<{ id: number; status: string; type: string }>(
      'SELECT id::int, status, type FROM notifications WHERE user_id = $1',
      [guest.id],
    );
    assert.equal(rows.length, 1);
    assert.equal(rows[0]!.type, 'booking_confirmed');
    assert.equal(rows[0]!.status, 'sent');
    assert.deepEqual(
      smtp.received.map((m) => m.messageId),
      [`notification-${rows[0]!.id}@innkeep.localhost`],
      'received before the answer',
    );
    assert.deepEqual(smtp.received[0]!.to, [guest.email]);

    // A replay answers from the key and sends nothing more.
    const again = await inline.inject(request);
    assert.equal(again.statusCode, 201);
    assert.equal(again.headers['idempotent-replayed'], 'true');
    assert.equal(smtp.received.length, 1);
  });
});
