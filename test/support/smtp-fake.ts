import type { AddressInfo } from 'node:net';
import { SMTPServer, type SMTPServerSession } from 'smtp-server';

/** One message the fake accepted. */
export interface ReceivedMail {
  readonly from: string;
  readonly to: string[];
  /** The message as sent (headers and body, CRLF line ends, dot-unstuffed). */
  readonly raw: string;
  /** The Message-ID header's value without angle brackets, when there is one. */
  readonly messageId: string | undefined;
  readonly receivedAt: Date;
}

export interface RefuseOptions {
  /** How many of the next messages are refused; unset: every one until `reset()`. */
  readonly times?: number;
  /** Where: at RCPT TO (a refused recipient) or after DATA (a refused message; the default). */
  readonly at?: 'rcpt' | 'data';
}

export interface SmtpFake {
  /** `smtp://127.0.0.1:<port>`, for SMTP_URL. */
  readonly url: string;
  readonly port: number;
  /** Every message accepted so far, in arrival order. */
  readonly received: ReceivedMail[];
  /** Connections opened so far (a pooled client opens few). */
  readonly connections: number;
  /** Wait this long after a message's DATA before answering it. */
  delayMs: number;
  /** Destroy the socket when a message's DATA arrives, before any answer (the server died mid-send). */
  dropConnections: boolean;
  /** Answer the next messages (or every one) with `code message`: 550 is permanent, 451 transient. */
  refuse(code: number, message: string, options?: RefuseOptions): void;
  /** Back to accepting everything at once; forgets what was received. */
  reset(): void;
  close(): Promise<void>;
}

interface Refusal {
  code: number;
  message: string;
  left: number;
  at: 'rcpt' | 'data';
}

/**
 * A real SMTP server on 127.0.0.1 (a free port), the outside service the mailer talks to in
 * tests: it stores what it receives and can be told to be slow, to refuse, or to hang up.
 * Any login is accepted and none is needed; no TLS.
 *
 * @example
 * const smtp = await startSmtpFake();
 * const mailer = createMailer({ smtpUrl: smtp.url, from: 'a@b.test', poolMax: 2, dataDir }, log);
 * smtp.refuse(550, 'mailbox unavailable', { times: 1 });
 */
export async function startSmtpFake(): Promise<SmtpFake> {
  let refusal: Refusal | undefined;
  let connections = 0;
  const received: ReceivedMail[] = [];

  const takeRefusal = (at: 'rcpt' | 'data'): Error | undefined => {
    if (!refusal || refusal.at !== at) return undefined;
    const err = Object.assign(new Error(refusal.message), { responseCode: refusal.code });
    if (--refusal.left <= 0) refusal = undefined;
    return err;
  };

  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    // The fake's own timeouts must not end a test's deliberate waits.
    socketTimeout: 60_000,
    onAuth(_auth, _session, callback) {
      callback(null, { user: 'test' });
    },
    onConnect(_session, callback) {
      connections++;
      callback();
    },
    onRcptTo(_address, _session, callback) {
      callback(takeRefusal('rcpt'));
    },
    onData(stream, session, callback) {
      if (fake.dropConnections) {
        stream.resume();
        destroySocketOf(session);
        return;
      }
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        setTimeout(() => {
          const refused = takeRefusal('data');
          if (refused) return callback(refused);
          const raw = Buffer.concat(chunks).toString('utf8');
          received.push({
            from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
            to: session.envelope.rcptTo.map((r) => r.address),
            raw,
            messageId: /^Message-ID:\s*<([^>]*)>/im.exec(raw)?.[1],
            receivedAt: new Date(),
          });
          callback(null, `Ok: queued as FAKE${received.length}`);
        }, fake.delayMs);
      });
    },
  });

  function destroySocketOf(session: SMTPServerSession): void {
    for (const connection of server.connections) {
      if (connection.session === session) connection._socket.destroy();
    }
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.server.address() as AddressInfo;

  const fake: SmtpFake = {
    url: `smtp://127.0.0.1:${port}`,
    port,
    received,
    get connections() {
      return connections;
    },
    delayMs: 0,
    dropConnections: false,
    refuse(code, message, options = {}) {
      refusal = { code, message, left: options.times ?? Number.POSITIVE_INFINITY, at: options.at ?? 'data' };
    },
    reset() {
      refusal = undefined;
      fake.delayMs = 0;
      fake.dropConnections = false;
      received.length = 0;
    },
    close() {
      for (const connection of server.connections) connection._socket.destroy();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return fake;
}
