import { MaintenanceRepository } from '../maintenance/maintenance-repository.ts';
import type { CatalogueEntry } from './catalogue-entry.ts';

/** The demo data has no sessions or idempotency keys; these tables fill as people use the API. */
const EMPTY_IN_DEMO = 1_000;
const BATCH = 1000;

/** The recurring maintenance jobs: completing past stays, purging expired rows, daily booking stats. */
export const MAINTENANCE_STATEMENTS: readonly CatalogueEntry[] = [
  {
    name: 'maintenance_complete_bookings',
    kind: 'write',
    send: (db) => new MaintenanceRepository(db).completeFinishedBatch(BATCH),
    // Confirmed stays that have started, by (status, start_date); their hotels by whichever join is cheaper.
    indexes: ['bookings_status_dates_idx'],
  },
  {
    name: 'maintenance_purge_idempotency_keys',
    kind: 'write',
    send: (db) => new MaintenanceRepository(db).purgeExpiredIdempotencyKeys(BATCH),
    indexes: ['idempotency_keys_expires_idx'],
    checkFrom: { idempotency_keys: EMPTY_IN_DEMO },
    note: 'idempotency_keys is empty in the demo data',
  },
  {
    name: 'maintenance_purge_refresh_tokens',
    kind: 'write',
    send: (db) => new MaintenanceRepository(db).purgeExpiredRefreshTokens(BATCH),
    indexes: ['refresh_tokens_expires_idx'],
    checkFrom: { refresh_tokens: EMPTY_IN_DEMO },
    note: 'refresh_tokens is empty in the demo data',
  },
  {
    name: 'maintenance_expired_export_files',
    kind: 'read',
    send: (db) => new MaintenanceRepository(db).expiredExportFiles(BATCH),
    indexes: ['data_exports_file_expiry_idx'],
    checkFrom: { data_exports: EMPTY_IN_DEMO },
    note: 'data_exports is empty in the demo data',
  },
  {
    name: 'maintenance_forget_export_files',
    kind: 'write',
    send: (db) => new MaintenanceRepository(db).forgetExportFiles(['00000000-0000-4000-a000-000000000000']),
    indexes: ['data_exports_pkey'],
    checkFrom: { data_exports: EMPTY_IN_DEMO },
    note: 'data_exports is empty in the demo data',
  },
  {
    name: 'maintenance_aggregate_booking_stats',
    kind: 'write',
    send: (db) => new MaintenanceRepository(db).aggregateDailyStats(2, 1),
    // The closed days' bookings by (status, start_date); the two upserts' conflict arbiters.
    indexes: ['bookings_status_dates_idx', 'booking_daily_stats_pk', 'booking_stats_days_pkey'],
  },
];
