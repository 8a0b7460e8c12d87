import { ExportRepository } from '../exports/export-repository.ts';
import { PriceDropRepository } from '../pricing/price-drop-repository.ts';
import type { CatalogueEntry } from './catalogue-entry.ts';
import { USER_BOOKINGS } from './index-alternatives.ts';

// Made up, not sampled: the lookups are by primary key, where any value gets the same plan.
const EXPORT_ID = '00000000-0000-4000-8000-000000000000';
/** data_exports and price_drop_alerts are empty in the demo data; they fill as people use the features. */
const EMPTY_IN_DEMO = 1_000;
/** The demo data's small tables (40 trips, 30 waitlist entries) are read whole. */
const SMALL_TABLE = 1_000;
const EMPTY = { data_exports: EMPTY_IN_DEMO } as const;
const EMPTY_NOTE = 'data_exports is empty in the demo data';

/** Data exports (the request, the status, the build job's sections) and the price-drop scan. */
export const EXPORT_STATEMENTS: readonly CatalogueEntry[] = [
  {
    name: 'exports_create',
    kind: 'write',
    send: (db, s) => new ExportRepository(db).createOrFindActive(s.userId),
    indexes: ['data_exports_user_active_uq'],
    checkFrom: EMPTY,
    note: EMPTY_NOTE,
  },
  {
    name: 'exports_find_for_user',
    kind: 'read',
    send: (db, s) => new ExportRepository(db).findForUser(EXPORT_ID, s.userId),
    indexes: ['data_exports_pkey'],
    checkFrom: EMPTY,
    note: EMPTY_NOTE,
  },
  {
    name: 'exports_find',
    kind: 'read',
    send: (db) => new ExportRepository(db).find(EXPORT_ID),
    indexes: ['data_exports_pkey'],
    checkFrom: EMPTY,
    note: EMPTY_NOTE,
  },
  {
    name: 'exports_mark_running',
    kind: 'write',
    send: (db) => new ExportRepository(db).markRunning(EXPORT_ID),
    indexes: ['data_exports_pkey', 'data_exports_user_active_uq'],
    checkFrom: EMPTY,
    note: EMPTY_NOTE,
  },
  {
    name: 'exports_progress',
    kind: 'write',
    send: (db) => new ExportRepository(db).setProgress(EXPORT_ID, 50),
    indexes: ['data_exports_pkey'],
    checkFrom: EMPTY,
    note: EMPTY_NOTE,
  },
  {
    name: 'exports_complete',
    kind: 'write',
    send: (db) => new ExportRepository(db).markCompleted(EXPORT_ID, `exports/${EXPORT_ID}.json`, 1, 7),
    indexes: ['data_exports_pkey'],
    checkFrom: EMPTY,
    note: EMPTY_NOTE,
  },
  {
    name: 'exports_fail',
    kind: 'write',
    send: (db) => new ExportRepository(db).markFailed(EXPORT_ID, 'performance analysis'),
    indexes: ['data_exports_pkey'],
    checkFrom: EMPTY,
    note: EMPTY_NOTE,
  },
  {
    name: 'exports_requeue',
    kind: 'write',
    send: (db) => new ExportRepository(db).requeue(EXPORT_ID),
    indexes: ['data_exports_pkey'],
    checkFrom: EMPTY,
    note: EMPTY_NOTE,
  },
  {
    name: 'exports_user_profile',
    kind: 'read',
    send: (db, s) => new ExportRepository(db).profile(s.userId),
    indexes: ['users_pkey'],
  },
  {
    name: 'exports_user_bookings',
    kind: 'read',
    send: (db, s) => new ExportRepository(db).section('bookings', s.userId),
    indexes: [USER_BOOKINGS],
  },
  {
    name: 'exports_user_payments',
    kind: 'read',
    send: (db, s) => new ExportRepository(db).section('payments', s.userId),
    indexes: ['payments_user_status_idx'],
  },
  {
    name: 'exports_user_trips',
    kind: 'read',
    send: (db, s) => new ExportRepository(db).section('trips', s.tripUserId),
    indexes: ['trips_user_status_idx'],
    checkFrom: { trips: SMALL_TABLE },
    note: 'the demo data has 40 trips: read whole',
  },
  {
    name: 'exports_user_waitlist',
    kind: 'read',
    send: (db, s) => new ExportRepository(db).section('waitlist', s.waitlistUserId),
    indexes: ['waitlist_user_idx'],
    checkFrom: { waitlist: SMALL_TABLE },
    note: 'the demo waitlist has 30 entries (500 at medium scale): one page, read whole',
  },
  {
    name: 'exports_user_reviews',
    kind: 'read',
    send: (db, s) => new ExportRepository(db).section('reviews', s.userId),
    indexes: ['reviews_user_entity_uq'],
  },
  {
    name: 'exports_user_notifications',
    kind: 'read',
    send: (db, s) => new ExportRepository(db).section('notifications', s.userId),
    indexes: ['notifications_user_type_status_idx'],
  },
  {
    name: 'price_drop_alerts_lock',
    kind: 'write',
    send: (db) => new PriceDropRepository(db).lockScan(),
    indexes: [],
    note: 'takes an advisory lock; reads no table',
  },
  {
    name: 'price_drop_alerts_queue',
    kind: 'write',
    send: (db) => new PriceDropRepository(db).queueAlerts(5, new Date('2030-01-01T00:00:00Z')),
    indexes: ['bookings_status_dates_idx', 'room_inventory_pk'],
  },
];
