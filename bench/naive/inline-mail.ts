// The "e-mail inside the request" variant of POST /api/bookings for `npm run bench:jobs`: Innkeep's own
// booking (BookingService and IdempotentRequests: the same statements in the same transaction), then,
// after COMMIT and before the 201 goes out, the confirmation e-mail rendered and sent through the SMTP
// pool by the same NotificationSender the send-notification job runs. What a codebase without a job
// queue does; only the bench uses it, src/ never imports it.
import { AsyncLocalStorage } from 'node:async_hooks';
import type { FastifyBaseLogger } from 'fastify';
import { mailDomain } from '../../src/app/app-jobs.ts';
import { sendBookingReply } from '../../src/app/bookings/booking-routes.ts';
import { Booking, CreateBookingBody } from '../../src/app/bookings/booking-schema.ts';
import { ErrorResponse } from '../../src/app/common/schemas.ts';
import { IdempotencyHeaders, idempotencyKey } from '../../src/app/idempotency/idempotency-key.ts';
import type { NotificationQueue } from '../../src/app/notifications/notification-queue.ts';
import { NotificationSender } from '../../src/app/notifications/notification-sender.ts';
import { renderNotification } from '../../src/app/notifications/templates/render-notification.ts';
import type { Config } from '../../src/platform/config/index.ts';
import { type Database, translatePgError } from '../../src/platform/db/index.ts';
import { createHttpServer, errorBody } from '../../src/platform/http/index.ts';
import { createMailer } from '../../src/platform/mail/index.ts';
import { bookingStack } from '../lib/booking-stack.ts';
import { naiveAuth } from './auth.ts';

export interface InlineMailAppOptions {
  readonly logger?: FastifyBaseLogger;
}

/**
 * Builds the inline-mail app on an open database: GET /healthz and POST /api/bookings, with the
 * platform's HTTP server (request ids, error bodies, validation, `Server-Timing`). Needs JWT_SECRET
 * (the bench signs its tokens with it) and SMTP_URL. Closing it closes the SMTP pool, not the database.
 */
export async function buildInlineMailApp(config: Config, db: Database, options: InlineMailAppOptions = {}) {
  const secret = config.auth.jwtSecret;
  if (!secret) throw new Error('the inline-mail app needs JWT_SECRET: the bench signs its tokens with it');
  if (!config.mail.smtpUrl) throw new Error('the inline-mail app needs SMTP_URL: it sends in the request');
  const app = createHttpServer(config, {
    ...(options.logger ? { logger: options.logger } : {}),
    errorTranslators: [translatePgError],
  });
  const auth = naiveAuth(secret);
  const mailer = createMailer(
    {
      smtpUrl: config.mail.smtpUrl,
      from: config.mail.from,
      poolMax: config.mail.poolMax,
      dataDir: config.db.dataDir,
    },
    app.log,
  );
  const sender = new NotificationSender({
    db,
    mail: mailer,
    render: renderNotification,
    publicUrl: config.mail.publicUrl,
    messageIdDomain: mailDomain(config.mail.from),
  });
  // The booking's transaction hands its notification ids here instead of enqueueing a job; the route
  // sends them once the transaction has committed.
  const written = new AsyncLocalStorage<number[]>();
  const inline: NotificationQueue = {
    async queue(_tx, ids) {
      written.getStore()?.push(...ids);
    },
  };
  const stack = bookingStack(config, db, app.log, inline);
  app.addHook('onClose', async () => {
    await mailer.close();
    await stack.close();
  });

  app.get('/healthz', async () => ({ status: 'ok' }));
  app.post(
    '/api/bookings',
    {
      onRequest: auth.authenticate,
      schema: {
        headers: IdempotencyHeaders,
        body: CreateBookingBody,
        response: { 201: Booking, 409: ErrorResponse },
      },
    },
    async (request, reply) => {
      const ids: number[] = [];
      const outcome = await written.run(ids, () =>
        stack.book(
          auth.user(request),
          request.body,
          idempotencyKey(request.headers['idempotency-key']),
          (err) => errorBody(request, err),
        ),
      );
      // Committed: now the e-mail, one SMTP exchange per notification, before answering. A failed send
      // fails the request (a 5xx), as it would in such a codebase; a rolled-back attempt's id is skipped.
      if (!outcome.replayed) {
        for (const id of ids) await sender.deliver(id, { attempt: 1, maxAttempts: 1 });
      }
      return sendBookingReply(reply, outcome);
    },
  );
  await app.ready();
  return app;
}
