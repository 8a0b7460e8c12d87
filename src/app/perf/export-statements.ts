import { PriceDropRepository } from '../pricing/price-drop-repository.ts';
import type { CatalogueEntry } from './catalogue-entry.ts';

/** The price-drop scan. */
export const EXPORT_STATEMENTS: readonly CatalogueEntry[] = [
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
