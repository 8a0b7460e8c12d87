// What the phases of `npm run bench:jobs` share: the work database (a copy of the bench's small
// template), the run's secret, the bookings every phase draws from, the queue settings of a bench
// JobQueue, and the run's options.
import { Redis } from 'ioredis';
import pino from 'pino';
import { mailDomain } from '../../src/app/app-jobs.ts';
import type { AuthUser } from '../../src/app/auth/auth-service.ts';
import { ACCESS_TOKEN_ISSUER } from '../../src/app/auth/auth-service.ts';
import type { CreateBookingBody } from '../../src/app/bookings/booking-schema.ts';
import { notificationQueue, sendNotificationJob } from '../../src/app/notifications/notification-jobs.ts';
import { type MailPort, NotificationSender } from '../../src/app/notifications/notification-sender.ts';
import { renderNotification } from '../../src/app/notifications/templates/render-notification.ts';
import { type Config, loadConfig } from '../../src/platform/config/index.ts';
import type { Database } from '../../src/platform/db/index.ts';
import type { Logger } from '../../src/platform/observability/index.ts';
import { buildJobQueue, type JobDefinition, type JobQueue } from '../../src/platform/queue/index.ts';
import { JwtSigner } from '../../src/platform/security/index.ts';
import type { JobsRow } from './jobs-report.ts';
import type { BenchRequest } from './measure.ts';
import { addDays, type Fixture } from './ops.ts';

export type DriverKind = 'pgboss' | 'bullmq';

export interface JobsOptions {
  readonly rounds: number;
  readonly connections: number;
  /** Bookings per side per round of the e-mail row. */
  readonly bookings: number;
  readonly smtpDelayMs: number;
  readonly enqueueRounds: number;
  readonly jobs: number;
  readonly producers: number;
  /** A processing measurement stops after this long if its jobs are not all done. */
  readonly processS: number;
  readonly burst: number;
  readonly drivers: readonly DriverKind[];
}

export interface JobsContext {
  readonly options: JobsOptions;
  /** The work database: a copy of the template, dropped at the end. */
  readonly databaseUrl: string;
  readonly redisUrl: string;
  readonly jwtSecret: string;
  /** INNKEEP_DATA_DIR of the servers started. */
  readonly scratch: string;
  readonly bookings: BookingInputs;
  readonly logger: Logger;
  /** Namespaces (pg-boss schemas, BullMQ prefixes) made unique per run; the BullMQ ones are deleted. */
  namespace(label: string): string;
  log(line: string): void;
}

export type JobsPhase = (ctx: JobsContext) => Promise<JobsRow[]>;

/** One booking the bench makes: who, what, and its Idempotency-Key. */
export interface BookingInput {
  readonly user: AuthUser;
  readonly body: CreateBookingBody;
  readonly key: string;
}

/**
 * Fresh bookings for the whole run, one sequence whatever phase or side asks (no two share a key or
 * a stay), spread as `npm run bench` spreads them: each bookable room type (3+ rooms left on every
 * night of the window) takes one 2-night stay per pass over the list, 3 nights further on each pass,
 * so a night comes round again only every 12 passes: with 500 room types, 6,000 bookings before any
 * night is booked twice, and none sells out.
 */
export class BookingInputs {
  readonly #fixture: Fixture;
  readonly #runId: string;
  readonly #jwt: JwtSigner;
  readonly #tokens = new Map<number, string>();
  #next = 0;

  constructor(fixture: Fixture, jwtSecret: string, runId: string) {
    this.#fixture = fixture;
    this.#runId = runId;
    this.#jwt = new JwtSigner(jwtSecret, { issuer: ACCESS_TOKEN_ISSUER });
  }

  /** Bookings taken so far. */
  get taken(): number {
    return this.#next;
  }

  take(): BookingInput {
    const i = this.#next++;
    const { bookable, users, today } = this.#fixture;
    const pass = Math.floor(i / bookable.length);
    const checkIn = addDays(today, 5 + ((pass * 3) % 36));
    return {
      user: { id: users[i % users.length] as number, role: 'user' },
      body: {
        roomTypeId: bookable[i % bookable.length] as number,
        checkIn,
        checkOut: addDays(checkIn, 2),
        guests: 1,
      },
      key: `bench-jobs-${this.#runId}-${i}`,
    };
  }

  /** The next booking as POST /api/bookings with the user's bearer token. */
  request(): BenchRequest {
    const b = this.take();
    let token = this.#tokens.get(b.user.id);
    if (!token) {
      token = this.#jwt.sign({ sub: String(b.user.id), role: 'user' }, 24 * 3600);
      this.#tokens.set(b.user.id, token);
    }
    return {
      method: 'POST',
      path: '/api/bookings',
      body: b.body,
      headers: { authorization: `Bearer ${token}`, 'idempotency-key': b.key },
    };
  }
}

/**
 * The configuration of a bench JobQueue: production's queue settings (QUEUE_* defaults: email 3 at
 * once and 10/s, processing 5 at once, pg-boss polling every second) on the work database.
 */
export function queueConfig(
  ctx: JobsContext,
  options: { driver: DriverKind; namespace: string; work: boolean; env?: Record<string, string> },
): Config {
  return loadConfig({
    env: {
      NODE_ENV: 'production',
      LOG_LEVEL: 'warn',
      DATABASE_URL: ctx.databaseUrl,
      DB_SEED_ON_EMPTY: 'none',
      REDIS_URL: ctx.redisUrl,
      QUEUE_DRIVER: options.driver,
      QUEUE_NAMESPACE: options.namespace,
      ROLE: options.work ? 'worker' : 'api',
      ...options.env,
    },
    envFile: false,
  });
}

/** A started JobQueue with `definitions` registered: a producer, or (work) a worker as well. */
export async function startQueue(
  config: Config,
  db: Database,
  log: Logger,
  definitions: readonly JobDefinition[],
): Promise<JobQueue> {
  const jobs = buildJobQueue(config, db, log);
  jobs.register(...definitions);
  await jobs.start({ work: config.role !== 'api' });
  return jobs;
}

export const benchLogger = (): Logger => pino({ level: 'warn' });

/**
 * The app's send-notification job with a NotificationSender over `mail`, and the NotificationQueue
 * the booking service enqueues it through (src/app/app-jobs.ts wires the same two).
 */
export function notificationJobs(jobs: JobQueue, db: Database, mail: MailPort, config: Config) {
  const sender = new NotificationSender({
    db,
    mail,
    render: renderNotification,
    publicUrl: config.mail.publicUrl,
    messageIdDomain: mailDomain(config.mail.from),
  });
  const job = sendNotificationJob(sender);
  return { job, queue: notificationQueue(jobs, job) };
}

/** A mail port for processes that only enqueue: nothing may reach it. */
export const NO_MAIL: MailPort = {
  send: async () => {
    throw new Error('this queue only produces: no e-mail is sent from it');
  },
};

/** Deletes the BullMQ keys under `prefix` (a bench namespace). */
export async function dropBullmqKeys(redisUrl: string, prefix: string): Promise<void> {
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
  redis.on('error', () => {});
  try {
    let cursor = '0';
    do {
      const [nextCursor, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      cursor = nextCursor;
      if (keys.length > 0) await redis.del(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}
