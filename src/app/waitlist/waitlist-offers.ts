import type { Queryable } from '../../platform/db/index.ts';
import { nightsOf } from '../common/stay.ts';

/** At most this many waiting entries are considered per freed stay (oldest first). */
export const MAX_OFFER_CANDIDATES = 100;

/** Nights [checkIn, checkOut) of a room type whose rooms have just gone back to room_inventory. */
export interface FreedStay {
  readonly roomTypeId: number;
  readonly checkIn: string;
  readonly checkOut: string;
}

export interface OfferOptions {
  /** How long each offer holds its room (WAITLIST_OFFER_HOLD_MINUTES). */
  readonly holdMinutes: number;
  /** The clock the offers start at (offered_at, and the expiry counts from it); default: the transaction's now(). */
  readonly now?: Date | undefined;
}

/** What `offerFreedRooms` did. */
export interface Offers {
  /** The entries offered, oldest first. */
  readonly waitlistIds: readonly number[];
  /** Their users (their cached views change). */
  readonly userIds: readonly number[];
  /** The 'waitlist_offer' notification rows written, one per offer. */
  readonly notificationIds: readonly number[];
}

interface Candidate {
  readonly id: number;
  readonly userId: number;
  readonly roomTypeId: number;
  readonly checkIn: string;
  readonly checkOut: string;
}

interface Night {
  readonly roomTypeId: number;
  readonly date: string;
  readonly rooms: number;
}

const NOTHING: Offers = { waitlistIds: [], userIds: [], notificationIds: [] };

/**
 * Offers rooms freed by a cancellation or a lapsed offer to the oldest matching waitlist entries, and
 * holds them: each offer takes one room out of room_inventory.available_rooms on every night of its
 * stay, so no one else can book it, until the offer is booked (POST /api/waitlist/:id/book), cancelled
 * or expires (`expireWaitlistOffers`). Call it inside the freeing transaction, after room_inventory has
 * been given the freed nights back.
 *
 * A 'waiting' entry of a freed room type qualifies when its stay overlaps a freed stay, its check-in is
 * not before the hotel-local today, and every night of its stay has a room free now. Entries are taken
 * greedily in (created_at, id) order, each using one room on each of its nights, so no night is offered
 * more rooms than it has. Offered entries get status 'offered', offered_at, offer_expires_at (now +
 * holdMinutes) and a 'waitlist_offer' notification.
 *
 * Locks, in the order every writer of these rows takes them (so none waits in a cycle): the candidates
 * FOR UPDATE (a concurrent offer waits, then skips the entries offered here), then their nights FOR
 * UPDATE SKIP LOCKED. The caller already holds the freed nights; a night some other transaction holds
 * (a booking under way) is not waited for but counts as full, and an entry needing it is not offered
 * this time. The counts are therefore exact: every night used is locked and re-read.
 *
 * At most 3 statements: the candidates (at most MAX_OFFER_CANDIDATES per freed stay); their nights,
 * only when there are candidates; and the hold (offers, inventory, notifications in one statement),
 * only when something is offered.
 *
 * @example
 * await db.transaction(async (tx) => {
 *   // ... cancel the booking, give its nights back to room_inventory ...
 *   const offers = await offerFreedRooms(tx, { roomTypeId, checkIn, checkOut }, { holdMinutes: 30 });
 *   await notifications?.queue(tx, offers.notificationIds);
 * });
 */
export async function offerFreedRooms(
  client: Queryable,
  freed: FreedStay | readonly FreedStay[],
  options: OfferOptions,
): Promise<Offers> {
  const stays = Array.isArray(freed) ? (freed as readonly FreedStay[]) : [freed as FreedStay];
  if (stays.length === 0) return NOTHING;
  const { rows: candidates } = await client.query<Candidate>({
    name: 'waitlist_offer_candidates',
    text: `
SELECT w.id, w.user_id AS "userId", w.room_type_id AS "roomTypeId", w.start_date AS "checkIn",
       w.end_date AS "checkOut"
FROM waitlist w
JOIN room_types rt ON rt.id = w.room_type_id
JOIN hotels h ON h.id = rt.hotel_id
WHERE w.room_type_id = ANY($1::int[]) AND w.status = 'waiting'
  AND EXISTS (SELECT 1 FROM unnest($1::int[], $2::date[], $3::date[]) AS f(room_type_id, check_in, check_out)
              WHERE f.room_type_id = w.room_type_id AND w.start_date < f.check_out AND w.end_date > f.check_in)
  AND w.start_date >= (now() AT TIME ZONE h.timezone)::date
ORDER BY w.created_at, w.id
LIMIT $4
FOR UPDATE OF w`,
    values: [
      stays.map((s) => s.roomTypeId),
      stays.map((s) => s.checkIn),
      stays.map((s) => s.checkOut),
      MAX_OFFER_CANDIDATES * stays.length,
    ],
  });
  if (candidates.length === 0) return NOTHING;

  const spans = new Map<number, { from: string; to: string }>();
  for (const c of candidates) {
    const span = spans.get(c.roomTypeId);
    spans.set(c.roomTypeId, {
      from: span && span.from < c.checkIn ? span.from : c.checkIn,
      to: span && span.to > c.checkOut ? span.to : c.checkOut,
    });
  }
  const { rows: nights } = await client.query<Night>({
    name: 'waitlist_offer_nights',
    text: `
SELECT i.room_type_id AS "roomTypeId", to_char(i.date, 'YYYY-MM-DD') AS date, i.available_rooms AS rooms
FROM room_inventory i
JOIN unnest($1::int[], $2::date[], $3::date[]) AS s(room_type_id, from_date, to_date)
  ON i.room_type_id = s.room_type_id AND i.date >= s.from_date AND i.date < s.to_date
WHERE i.available_rooms > 0
ORDER BY i.room_type_id, i.date
FOR UPDATE OF i SKIP LOCKED`,
    values: [[...spans.keys()], [...spans.values()].map((s) => s.from), [...spans.values()].map((s) => s.to)],
  });

  const free = new Map(nights.map((n) => [`${n.roomTypeId}:${n.date}`, n.rooms]));
  const offered: Candidate[] = [];
  for (const c of candidates) {
    const keys = nightsOf(c.checkIn, c.checkOut).map((night) => `${c.roomTypeId}:${night}`);
    if (!keys.every((key) => (free.get(key) ?? 0) > 0)) continue;
    for (const key of keys) free.set(key, (free.get(key) ?? 0) - 1);
    offered.push(c);
  }
  if (offered.length === 0) return NOTHING;

  const { rows } = await client.query<{ id: number }>({
    name: 'waitlist_offer_mark',
    // The notification row is the outbox: the sender job delivers the offer.
    text: `
WITH o AS (
  UPDATE waitlist
  SET status = 'offered', offered_at = coalesce($2::timestamptz, now()),
      offer_expires_at = coalesce($2::timestamptz, now()) + make_interval(mins => $3::int)
  WHERE id = ANY($1::int[])
  RETURNING id, user_id, room_type_id, start_date, end_date, offer_expires_at
), held AS (
  SELECT o.room_type_id, o.start_date + g AS night, count(*)::int AS n
  FROM o CROSS JOIN LATERAL generate_series(0, o.end_date - o.start_date - 1) AS g
  GROUP BY 1, 2
), inv AS (
  -- The nights were locked and counted by waitlist_offer_nights: every one has the rooms taken here.
  UPDATE room_inventory ri SET available_rooms = ri.available_rooms - held.n
  FROM held
  WHERE ri.room_type_id = held.room_type_id AND ri.date = held.night
)
INSERT INTO notifications (user_id, type, payload)
SELECT o.user_id, 'waitlist_offer',
       jsonb_build_object('waitlistId', o.id, 'roomTypeId', o.room_type_id, 'checkIn', o.start_date,
                          'checkOut', o.end_date,
                          'expiresAt', to_char(o.offer_expires_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
                          'hotelName', h.name, 'roomName', rt.name)
FROM o
JOIN room_types rt ON rt.id = o.room_type_id
JOIN hotels h ON h.id = rt.hotel_id
ORDER BY o.id
RETURNING id`,
    values: [offered.map((c) => c.id), options.now ?? null, options.holdMinutes],
  });
  return {
    waitlistIds: offered.map((c) => c.id),
    userIds: [...new Set(offered.map((c) => c.userId))],
    notificationIds: rows.map((r) => r.id),
  };
}
