import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import { createMailer, MailError, type MailMessage } from '../../src/platform/mail/index.ts';
import { recordingLogger } from '../support/silent-logger.ts';
import { type SmtpFake, startSmtpFake } from '../support/smtp-fake.ts';

const FROM = 'Innkeep <no-reply@innkeep.localhost>';

function message(n: number, extra: Partial<MailMessage> = {}): MailMessage {
  return {
    to: 'ada@example.com',
    subject: `Your booking #${n} is confirmed`,
    html: `<p>Booking <b>#${n}</b></p>`,
    text: `Booking #${n}`,
    messageId: `notification-${n}@innkeep.localhost`,
    ...extra,
  };
}

async function sendFailure(promise: Promise<unknown>): Promise<MailError> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof MailError, `expected a MailError, got ${String(err)}`);
    return err;
  }
  assert.fail('the send succeeded');
}

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('mailer over SMTP', () => {
  let smtp: SmtpFake;
  let dataDir: string;
  before(async () => {
    smtp = await startSmtpFake();
    dataDir = await mkdtemp(join(tmpdir(), 'innkeep-mail-'));
  });
  after(async () => {
    await smtp.close();
    await rm(dataDir, { recursive: true, force: true });
  });
  afterEach(() => smtp.reset());

  const mailer = (timeouts?: { socketMs: number }) =>
    createMailer(
      { smtpUrl: smtp.url, from: FROM, poolMax: 2, dataDir, ...(timeouts && { timeouts }) },
      recordingLogger(),
    );

  it('when a message is sent, then the server receives it with its headers and the given Message-ID', async () => {
    const m = mailer();
    try {
      const result = await m.send(message(1, { headers: { 'X-Innkeep-Notification': '1' } }));
      assert.equal(result.accepted, true);
      assert.match(result.providerMessageId, /queued as FAKE1/);
      assert.equal(result.file, undefined);
      const [got] = smtp.received;
      assert.ok(got);
      assert.equal(got.messageId, 'notification-1@innkeep.localhost');
      assert.equal(got.from, 'no-reply@innkeep.localhost');
      assert.deepEqual(got.to, ['ada@example.com']);
      assert.match(got.raw, /^Subject: Your booking #1 is confirmed\r$/m);
      assert.match(got.raw, /^From: Innkeep <no-reply@innkeep.localhost>\r$/m);
      assert.match(got.raw, /^X-Innkeep-Notification: 1\r$/m);
      assert.match(got.raw, /multipart\/alternative/);
      assert.match(m.describe(), /^smtp 127\.0\.0\.1:\d+$/);
    } finally {
      await m.close();
    }
  });

  it('when the same message is sent twice (a retry), then both copies carry the same Message-ID', async () => {
    const m = mailer();
    try {
      await m.send(message(7));
      await m.send(message(7));
      assert.deepEqual(
        smtp.received.map((r) => r.messageId),
        ['notification-7@innkeep.localhost', 'notification-7@innkeep.localhost'],
      );
    } finally {
      await m.close();
    }
  });

  it('when many messages are sent, then they share the pooled connections', async () => {
    const m = mailer();
    const before = smtp.connections;
    try {
      await Promise.all(Array.from({ length: 10 }, (_, i) => m.send(message(100 + i))));
      for (let i = 0; i < 5; i++) await m.send(message(200 + i));
      assert.equal(smtp.received.length, 15);
      assert.ok(smtp.connections - before <= 2, `opened ${smtp.connections - before} connections`);
    } finally {
      await m.close();
    }
  });

  it('when the server is slow to accept, then the send waits for it and succeeds', async () => {
    const m = mailer();
    smtp.delayMs = 300;
    try {
      const started = Date.now();
      const result = await m.send(message(2));
      assert.ok(Date.now() - started >= 290);
      assert.equal(result.accepted, true);
      assert.equal(smtp.received.length, 1);
    } finally {
      await m.close();
    }
  });

  it('when the server stays silent past the socket timeout, then the send fails as transient', async () => {
    const m = mailer({ socketMs: 200 });
    smtp.delayMs = 2_000;
    try {
      const err = await sendFailure(m.send(message(3)));
      assert.equal(err.permanent, false);
      assert.equal(err.reason, 'ETIMEDOUT');
    } finally {
      await m.close();
    }
  });

  it('when the caller gives up on a slow send, then it fails as transient at once', async () => {
    const m = mailer();
    smtp.delayMs = 2_000;
    try {
      const started = Date.now();
      const err = await sendFailure(m.send(message(13), { signal: AbortSignal.timeout(150) }));
      assert.equal(err.permanent, false);
      assert.equal(err.reason, 'EABORT');
      assert.ok(Date.now() - started < 1_500);
    } finally {
      await m.close();
    }
  });

  it('when the mailer is closed during a send, then that send completes and later ones fail', async () => {
    const m = mailer();
    smtp.delayMs = 200;
    const sending = m.send(message(14));
    await new Promise((resolve) => setTimeout(resolve, 50));
    await m.close();
    assert.equal((await sending).accepted, true);
    const err = await sendFailure(m.send(message(15)));
    assert.equal(err.permanent, false);
  });

  it('when the server refuses the message with 550, then the send fails as permanent', async () => {
    const m = mailer();
    smtp.refuse(550, 'Message rejected as spam', { times: 1 });
    try {
      const err = await sendFailure(m.send(message(4)));
      assert.equal(err.permanent, true);
      assert.equal(err.code, 'E_MAIL_REJECTED');
      assert.equal(err.responseCode, 550);
      // The refusal was for that message only: the next one goes through.
      assert.equal((await m.send(message(5))).accepted, true);
    } finally {
      await m.close();
    }
  });

  it('when the server refuses the recipient with 550, then the send fails as permanent', async () => {
    const m = mailer();
    smtp.refuse(550, 'No such user', { at: 'rcpt' });
    try {
      const err = await sendFailure(m.send(message(6)));
      assert.equal(err.permanent, true);
      assert.equal(err.responseCode, 550);
      assert.equal(smtp.received.length, 0);
    } finally {
      await m.close();
    }
  });

  it('when the server answers 451, then the send fails as transient', async () => {
    const m = mailer();
    smtp.refuse(451, 'Try again later');
    try {
      const err = await sendFailure(m.send(message(8)));
      assert.equal(err.permanent, false);
      assert.equal(err.code, 'E_MAIL_UNAVAILABLE');
      assert.equal(err.responseCode, 451);
    } finally {
      await m.close();
    }
  });

  it('when the server drops the connection mid-message, then the send fails as transient', async () => {
    const m = mailer();
    smtp.dropConnections = true;
    try {
      const err = await sendFailure(m.send(message(9)));
      assert.equal(err.permanent, false);
      assert.equal(err.responseCode, undefined);
    } finally {
      await m.close();
    }
  });

  it('when nothing listens on the port, then the send fails as transient and names no password', async () => {
    const port = await closedPort();
    const m = createMailer(
      { smtpUrl: `smtp://mailer:s3cr3t-pa55@127.0.0.1:${port}`, from: FROM, poolMax: 1, dataDir },
      recordingLogger(),
    );
    try {
      const err = await sendFailure(m.send(message(10)));
      assert.equal(err.permanent, false);
      assert.doesNotMatch(`${err.message} ${String((err.cause as Error).message)} ${err.stack}`, /s3cr3t/);
      assert.doesNotMatch(m.describe(), /s3cr3t|mailer/);
    } finally {
      await m.close();
    }
  });

  it('when the server echoes the password in a refusal, then the error shows it redacted', async () => {
    const { port } = smtp;
    const m = createMailer(
      { smtpUrl: `smtp://mailer:s3cr3t%2Fpa55@127.0.0.1:${port}`, from: FROM, poolMax: 1, dataDir },
      recordingLogger(),
    );
    smtp.refuse(451, 'password s3cr3t/pa55 is about to expire');
    try {
      const err = await sendFailure(m.send(message(12)));
      const cause = err.cause as Error & { response?: string };
      assert.doesNotMatch(`${err.message} ${cause.message} ${cause.response} ${err.stack}`, /s3cr3t/);
      assert.match(err.message, /password \[redacted\] is about/);
    } finally {
      await m.close();
    }
  });

  it('when the Message-ID is malformed, then the send fails as permanent before connecting', async () => {
    const m = mailer();
    try {
      const err = await sendFailure(m.send(message(11, { messageId: '<bad id>' })));
      assert.equal(err.permanent, true);
      assert.equal(err.code, 'E_MAIL_INVALID');
    } finally {
      await m.close();
    }
  });
});

describe('mailer without SMTP_URL', () => {
  let dataDir: string;
  before(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'innkeep-mail-files-'));
  });
  after(() => rm(dataDir, { recursive: true, force: true }));

  it('when a message is sent, then it is written as a private .eml file whose path is logged', async () => {
    const log = recordingLogger();
    const m = createMailer({ from: FROM, poolMax: 3, dataDir }, log);
    const result = await m.send(message(42));
    assert.ok(result.file);
    assert.equal(result.accepted, true);
    assert.equal(result.providerMessageId, '<notification-42@innkeep.localhost>');
    assert.equal(m.describe(), `files: ${join(dataDir, 'mail')}`);
    assert.match(result.file, /\/mail\/\d{8}T\d{6}Z-notification-42_innkeep\.localhost-[0-9a-f]{8}\.eml$/);
    assert.equal((await stat(result.file)).mode & 0o777, 0o600);
    assert.equal((await stat(join(dataDir, 'mail'))).mode & 0o777, 0o700);
    const eml = await readFile(result.file, 'utf8');
    assert.match(eml, /^Subject: Your booking #42 is confirmed\r$/m);
    assert.match(eml, /^Message-ID: <notification-42@innkeep\.localhost>\r$/m);
    assert.match(eml, /^To: ada@example\.com\r$/m);
    assert.deepEqual(log.entries.at(-1), {
      level: 'info',
      obj: { file: result.file },
      msg: 'e-mail written to a file (SMTP_URL is unset)',
    });
    await m.close();
  });

  it('when the same Message-ID is sent again, then its file is overwritten, not copied', async () => {
    const m = createMailer({ from: FROM, poolMax: 3, dataDir }, recordingLogger());
    const first = await m.send(message(43));
    const again = await m.send(message(43, { subject: 'Second attempt' }));
    assert.equal(again.file, first.file);
    const files = (await readdir(join(dataDir, 'mail'))).filter((f) => f.includes('notification-43'));
    assert.equal(files.length, 1);
    assert.match(await readFile(again.file!, 'utf8'), /^Subject: Second attempt\r$/m);
    await m.close();
  });
});
