import { NotificationRepository } from '../notifications/notification-repository.ts';
import type { CatalogueEntry } from './catalogue-entry.ts';

/** Made up, not sampled: a primary-key lookup gets the same plan for any id. */
const NOTIFICATION_ID = 1;

/** Delivery tracking of e-mails (the send-notification job). */
export const NOTIFICATION_STATEMENTS: readonly CatalogueEntry[] = [
  {
    name: 'notification_claim',
    kind: 'write',
    send: (db) => new NotificationRepository(db).claim(NOTIFICATION_ID),
    indexes: ['notifications_pkey', 'users_pkey'],
  },
  {
    name: 'notification_mark_sent',
    kind: 'write',
    send: (db) => new NotificationRepository(db).markSent(NOTIFICATION_ID, 'perf-analysis'),
    indexes: ['notifications_pkey'],
  },
  {
    name: 'notification_mark_failed',
    kind: 'write',
    send: (db) => new NotificationRepository(db).markAttemptFailed(NOTIFICATION_ID, 'perf-analysis', false),
    indexes: ['notifications_pkey'],
  },
];
