// Innkeep's own booking use case, built outside the app for the job-queue bench: the BookingService
// and IdempotentRequests that POST /api/bookings runs (the same statements in the same transaction),
// with the NotificationQueue the caller chooses. src/app/build-app.ts wires the real one; this is the
// same wiring with the cache off, no metrics and no HTTP.
import type { AuthUser } from '../../src/app/auth/auth-service.ts';
import { bookingOutcomes } from '../../src/app/bookings/booking-outcomes.ts';
import { bookingRepository } from '../../src/app/bookings/booking-repository.ts';
import type { CreateBookingBody } from '../../src/app/bookings/booking-schema.ts';
import { BookingService } from '../../src/app/bookings/booking-service.ts';
import { CACHE_POLICIES, type DomainCache } from '../../src/app/common/cache.ts';
import { isDomainError } from '../../src/app/errors.ts';
import { type IdempotentOutcome, IdempotentRequests } from '../../src/app/idempotency/idempotent-requests.ts';
import type { NotificationQueue } from '../../src/app/notifications/notification-queue.ts';
import { PayAtPropertyProvider } from '../../src/app/payments/payment-provider.ts';
import { Cache } from '../../src/platform/cache/index.ts';
import type { Config } from '../../src/platform/config/index.ts';
import type { Database } from '../../src/platform/db/index.ts';
import type { AppError } from '../../src/platform/errors/index.ts';
import type { Logger } from '../../src/platform/observability/index.ts';

export interface BookingStack {
  /**
   * What the route does with a booking request: the key's claim, the booking's one transaction (the
   * notification's job enqueued inside it when `notifications` is given), the stored answer.
   */
  book(
    user: AuthUser,
    body: CreateBookingBody,
    key: string,
    render?: (err: AppError) => unknown,
  ): Promise<IdempotentOutcome>;
  close(): Promise<void>;
}

/**
 * @example
 * const stack = bookingStack(config, db, log, notificationQueue(jobs, sendJob));
 * const outcome = await stack.book({ id: 7, role: 'user' }, body, 'key-1');
 */
export function bookingStack(
  config: Config,
  db: Database,
  log: Logger,
  notifications: NotificationQueue | undefined,
): BookingStack {
  // Off, as in the servers the bench compares (CACHE_ENABLED=false): invalidations cost nothing.
  const cache = new Cache({ ...config.cache, enabled: false, redisUrl: undefined }, log);
  const domainCache: DomainCache = {
    ns: Object.fromEntries(
      Object.entries(CACHE_POLICIES).map(([name, policy]) => [name, cache.namespace(policy)]),
    ) as DomainCache['ns'],
    invalidate: (tags) => cache.invalidate(tags),
  };
  const bookings = new BookingService({
    db,
    bookings: bookingRepository,
    payments: new PayAtPropertyProvider(),
    outcomes: bookingOutcomes(undefined),
    cache: domainCache,
    offerHoldMinutes: config.waitlist.offerHoldMinutes,
    notifications,
  });
  const idempotent = new IdempotentRequests(db);
  return {
    book(user, body, key, render = (err) => ({ code: err.code, message: err.message })) {
      const scope = bookings.bookingScope(user, body, key);
      return idempotent.run(scope, (claim) => bookings.create(user, body, claim), {
        subject: 'booking',
        storesFailure: (err) => isDomainError(err, 'SOLD_OUT'),
        render,
      });
    },
    close: () => cache.close(),
  };
}
