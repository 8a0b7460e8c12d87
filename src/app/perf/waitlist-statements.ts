import { nightsOf } from '../common/stay.ts';
import { offerFreedRooms } from '../waitlist/waitlist-offers.ts';
import { WaitlistRepository } from '../waitlist/waitlist-repository.ts';
import { SMALL_TABLE } from './booking-statements.ts';
import type { CatalogueEntry } from './catalogue-entry.ts';
import type { StatementSamples } from './statement-samples.ts';

const PAGE = { page: 1, limit: 20 } as const;
const SMALL_WAITLIST = 'the demo waitlist has 30 entries (500 at medium scale): one page, read whole';
const HOLD = { holdMinutes: 30 } as const;
/** Made up: the expiry job's clock. */
const NOW = new Date('2030-01-01T00:00:00Z');

const freed = (s: StatementSamples) => ({
  roomTypeId: s.roomTypeId,
  checkIn: s.checkIn,
  checkOut: s.checkOut,
});

/** The answers of the statements before the hold: the sampled entry is a candidate, every night has a room. */
function candidatesAndNights(name: string | undefined, s: StatementSamples): readonly object[] {
  if (name === 'waitlist_offer_candidates') {
    return [
      {
        id: s.waitlistId,
        userId: s.waitlistUserId,
        roomTypeId: s.roomTypeId,
        checkIn: s.checkIn,
        checkOut: s.checkOut,
      },
    ];
  }
  if (name === 'waitlist_offer_nights') {
    return nightsOf(s.checkIn, s.checkOut).map((date) => ({ roomTypeId: s.roomTypeId, date, rooms: 1 }));
  }
  return [];
}

/** Joining, listing and leaving the waitlist; offers, their holds and their expiry. */
export const WAITLIST_STATEMENTS: readonly CatalogueEntry[] = [
  {
    name: 'waitlist_insert',
    kind: 'write',
    send: (db, s) =>
      new WaitlistRepository(db).insertIfAllowed({
        userId: s.userId,
        roomTypeId: s.roomTypeId,
        checkIn: s.checkIn,
        checkOut: s.checkOut,
        guests: 2,
      }),
    indexes: ['room_types_pkey', 'room_inventory_pk', 'waitlist_user_active_uq'],
  },
  {
    name: 'waitlist_list_for_user',
    kind: 'read',
    send: (db, s) => new WaitlistRepository(db).listForUser(s.waitlistUserId, undefined, PAGE),
    indexes: ['waitlist_user_idx'],
    checkFrom: { waitlist: SMALL_TABLE },
    note: SMALL_WAITLIST,
  },
  {
    name: 'waitlist_cancel',
    kind: 'write',
    send: (db, s) => new WaitlistRepository(db).cancel(s.waitlistId, s.waitlistUserId),
    indexes: ['waitlist_pkey'],
    checkFrom: { waitlist: SMALL_TABLE },
    note: SMALL_WAITLIST,
  },
  {
    name: 'waitlist_cancel_offer',
    kind: 'write',
    send: (db, s) => new WaitlistRepository(db).cancelOffer(s.waitlistId, s.waitlistUserId),
    indexes: ['waitlist_pkey', 'room_inventory_pk'],
    checkFrom: { waitlist: SMALL_TABLE },
    note: SMALL_WAITLIST,
  },
  {
    name: 'waitlist_expire_offers',
    kind: 'write',
    send: (db) => new WaitlistRepository(db).expireOffers(NOW, 50),
    indexes: ['waitlist_status_offer_expires_idx', 'room_inventory_pk'],
    checkFrom: { waitlist: SMALL_TABLE },
    note: SMALL_WAITLIST,
  },
  {
    name: 'waitlist_offer_candidates',
    kind: 'write',
    send: (db, s) => offerFreedRooms(db, freed(s), HOLD),
    indexes: ['waitlist_room_type_status_created_idx'],
    checkFrom: { waitlist: SMALL_TABLE },
    note: SMALL_WAITLIST,
  },
  {
    name: 'waitlist_offer_nights',
    kind: 'write',
    send: (db, s) => offerFreedRooms(db, freed(s), HOLD),
    reply: (statement, s) => candidatesAndNights(statement.name, s),
    indexes: ['room_inventory_pk'],
  },
  {
    name: 'waitlist_offer_mark',
    kind: 'write',
    send: (db, s) => offerFreedRooms(db, freed(s), HOLD),
    reply: (statement, s) => candidatesAndNights(statement.name, s),
    indexes: ['waitlist_pkey', 'room_inventory_pk'],
    checkFrom: { waitlist: SMALL_TABLE },
    note: SMALL_WAITLIST,
  },
];
