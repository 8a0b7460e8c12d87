import Type from 'typebox';
import type { Config } from '../platform/config/index.ts';
import type { Database } from '../platform/db/index.ts';
import type { Mailer } from '../platform/mail/index.ts';
import { defineJob, type JobQueue } from '../platform/queue/index.ts';
import type { DomainCache } from './common/cache.ts';
import { buildUserExport } from './exports/export-builder.ts';
import type { ExportJobs } from './exports/export-jobs.ts';
import { aggregateDailyBookingStats } from './maintenance/booking-daily-stats.ts';
import { completeFinishedBookings } from './maintenance/complete-finished-bookings.ts';
import { purgeExpired } from './maintenance/purge-expired.ts';
import { notificationQueue, sendNotificationJob, uuidFrom } from './notifications/notification-jobs.ts';
import type { NotificationQueue } from './notifications/notification-queue.ts';
import { NotificationSender } from './notifications/notification-sender.ts';
import { renderNotification } from './notifications/templates/render-notification.ts';
import { queuePriceDropAlerts } from './pricing/price-drops.ts';
import { expireWaitlistOffers } from './waitlist/waitlist-expiry.ts';

const NO_PAYLOAD = Type.Object({}, { additionalProperties: false });

/**
 * When the recurring jobs run (cron in QUEUE_TIME_ZONE; each runs once per tick across every
 * worker). Times are spread so that the nightly ones do not start together.
 */
export const RECURRING_SCHEDULE = {
  'complete-bookings': '*/15 * * * *',
  'purge-expired': '17 3 * * *',
  'aggregate-booking-stats': '7 0 * * *',
  'price-drop-alerts': '23 * * * *',
  'expire-waitlist-offers': '* * * * *',
  'warm-cache': '5-59/10 * * * *',
} as const;

export interface AppJobsDeps {
  readonly config: Config;
  readonly db: Database;
  readonly mailer: Mailer;
  readonly cache: DomainCache;
  /**
   * Refills the cache with the hottest pages (the start-up warm-up, see cache-warmup.ts); the
   * recurring `warm-cache` job exists only when it is given (CACHE_ENABLED and CACHE_WARMUP).
   */
  readonly warmCache?: (signal: AbortSignal) => Promise<void>;
}

/** What the services enqueue through. */
export interface AppJobs {
  readonly notifications: NotificationQueue;
  readonly exports: ExportJobs;
}

/**
 * Every job of the domain, registered on the queue: the e-mail sender, the data export and the
 * recurring maintenance (completing past stays, purging expired keys and tokens, the daily booking
 * statistics, price-drop alerts, the cache warm-up).
 *
 * @example
 * const { notifications, exports } = registerAppJobs(jobs, { config, db, mailer, cache });
 * await jobs.start({ work: config.role !== 'api' });
 */
export function registerAppJobs(jobs: JobQueue, deps: AppJobsDeps): AppJobs {
  const { config, db, mailer, cache } = deps;
  const sender = new NotificationSender({
    db,
    mail: mailer,
    render: renderNotification,
    publicUrl: config.mail.publicUrl,
    messageIdDomain: mailDomain(config.mail.from),
  });
  const send = sendNotificationJob(sender);
  const notifications = notificationQueue(jobs, send);

  const buildExport = defineJob({
    name: 'build-export',
    queue: 'processing',
    payload: Type.Object({
      exportId: Type.String({ pattern: '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' }),
    }),
    handler: async ({ exportId }, ctx) => {
      await buildUserExport(db, exportId, {
        dataDir: config.db.dataDir,
        onProgress: (pct) => ctx.progress(pct),
        signal: ctx.signal,
      });
    },
  });
  const exports: ExportJobs = {
    async enqueue(tx, exportId) {
      await jobs.enqueueIn(tx, buildExport, { exportId }, { jobId: uuidFrom(`export:${exportId}`) });
    },
  };

  const completeBookings = defineJob({
    name: 'complete-bookings',
    queue: 'scheduled',
    payload: NO_PAYLOAD,
    handler: () => completeFinishedBookings(db, { invalidate: (tags) => cache.invalidate(tags) }),
  });
  const purge = defineJob({
    name: 'purge-expired',
    queue: 'scheduled',
    payload: NO_PAYLOAD,
    handler: () => purgeExpired(db, { dataDir: config.db.dataDir }),
  });
  const aggregate = defineJob({
    name: 'aggregate-booking-stats',
    queue: 'scheduled',
    payload: NO_PAYLOAD,
    // Yesterday and the day before: a late cancellation of a closed day is picked up once more.
    handler: () => aggregateDailyBookingStats(db, { days: 2 }),
  });
  const priceDrops = defineJob({
    name: 'price-drop-alerts',
    queue: 'processing',
    payload: NO_PAYLOAD,
    handler: () => queuePriceDropAlerts(db, { notifications }),
  });

  const expireOffers = defineJob({
    name: 'expire-waitlist-offers',
    queue: 'scheduled',
    payload: NO_PAYLOAD,
    // Lapsed offers give their rooms back and the next in line gets an offer (and an e-mail).
    handler: () =>
      expireWaitlistOffers(db, new Date(), {
        holdMinutes: config.waitlist.offerHoldMinutes,
        notifications,
        cache,
      }),
  });

  jobs.register(send, buildExport);
  jobs.recurring(expireOffers, RECURRING_SCHEDULE['expire-waitlist-offers'], {});
  jobs.recurring(completeBookings, RECURRING_SCHEDULE['complete-bookings'], {});
  jobs.recurring(purge, RECURRING_SCHEDULE['purge-expired'], {});
  jobs.recurring(aggregate, RECURRING_SCHEDULE['aggregate-booking-stats'], {});
  jobs.recurring(priceDrops, RECURRING_SCHEDULE['price-drop-alerts'], {});
  const { warmCache } = deps;
  if (warmCache) {
    // Entries that expired or were dropped (a Redis restart, a flush) are stored again, in L2 for
    // every instance; what is still cached is only read. Never fails: a warm-up is worth no retry.
    const warm = defineJob({
      name: 'warm-cache',
      queue: 'scheduled',
      payload: NO_PAYLOAD,
      handler: (_payload, ctx) => warmCache(ctx.signal),
    });
    jobs.recurring(warm, RECURRING_SCHEDULE['warm-cache'], {});
  }
  return { notifications, exports };
}

/** The domain of an address such as `Innkeep <no-reply@innkeep.localhost>`. */
export function mailDomain(from: string): string {
  const match = /@([^>\s]+)>?\s*$/.exec(from);
  return match?.[1] ?? 'innkeep.localhost';
}
