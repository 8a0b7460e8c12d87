import type { Queryable } from '../../platform/db/index.ts';
import { nightsOf } from '../common/stay.ts';

/** At most this many waiting entries are considered per freed stay (oldest first). */
export const MAX_OFFER_CANDIDATES = 100;

interface Candidate {
  readonly id: number;
  readonly userId: number;
  readonly checkIn: string;
  readonly checkOut: string;
  /** available_rooms per night of the entry's stay (`YYYY-MM-DD` -> rooms); missing night = no row. */
  readonly nights: Record<string, number> | null;
}

/**
 * Offers rooms freed by a cancellation to the oldest matching waitlist entries. Call it inside the
 * cancelling transaction, after room_inventory has been restored for the freed nights
 * [checkIn, checkOut).
 *
 * Marks entries status = 'offered', offered_at = now(), queues a 'waitlist_offer' notification for
 * each, and returns their ids, oldest first. A 'waiting'
 * entry of the same room type qualifies when its stay overlaps the freed one, its check-in is not before
 * the hotel-local today, and every night of its stay has an inventory row with available_rooms > 0.
 * Entries are taken greedily in (created_at, id) order and each one uses one room on each of its nights,
 * so no night gets more offers than it has rooms available now (existing offers are not subtracted:
 * an offer is an invitation to book, and booking still checks inventory).
 *
 * At most 2 statements: the candidates (at most MAX_OFFER_CANDIDATES) with their nights' availability,
 * locked FOR UPDATE so a concurrent cancellation waits and then skips entries offered here; and the
 * UPDATE, only when something is offered.
 *
 * @example
 * await db.transaction(async (client) => {
 *   // ... cancel the booking, give its nights back to room_inventory ...
 *   const offered = await offerFreedRooms(client, { roomTypeId, checkIn, checkOut });
 * });
 */
export async function offerFreedRooms(
  client: Queryable,
  freed: { roomTypeId: number; checkIn: string; checkOut: string },
  /** When given, the users of the entries offered are added to it (their cached views change). */
  offeredUsers?: Set<number>,
): Promise<number[]> {
  const { rows } = await client.query<Candidate>({
    name: 'waitlist_offer_candidates',
    text: `
SELECT w.id, w.user_id AS "userId", w.start_date AS "checkIn", w.end_date AS "checkOut",
       (SELECT json_object_agg(to_char(i.date, 'YYYY-MM-DD'), i.available_rooms)
        FROM room_inventory i
        WHERE i.room_type_id = w.room_type_id AND i.date >= w.start_date AND i.date < w.end_date
          AND i.available_rooms > 0) AS nights
FROM waitlist w
WHERE w.room_type_id = $1 AND w.status = 'waiting'
  AND w.start_date < $3::date AND w.end_date > $2::date
  AND w.start_date >= (SELECT (now() AT TIME ZONE h.timezone)::date
                       FROM room_types rt JOIN hotels h ON h.id = rt.hotel_id
                       WHERE rt.id = $1)
ORDER BY w.created_at, w.id
LIMIT ${MAX_OFFER_CANDIDATES}
FOR UPDATE OF w`,
    values: [freed.roomTypeId, freed.checkIn, freed.checkOut],
  });

  const left = new Map<string, number>();
  const offered: number[] = [];
  for (const c of rows) {
    const nights = nightsOf(c.checkIn, c.checkOut);
    const rooms = (night: string) => left.get(night) ?? c.nights?.[night] ?? 0;
    if (!nights.every((night) => rooms(night) > 0)) continue;
    for (const night of nights) left.set(night, rooms(night) - 1);
    offered.push(c.id);
    offeredUsers?.add(c.userId);
  }
  if (offered.length === 0) return [];

  await client.query({
    name: 'waitlist_offer_mark',
    // The notification row is the outbox: the sender job (a later issue) delivers the offer.
    text: `
WITH o AS (
  UPDATE waitlist SET status = 'offered', offered_at = now() WHERE id = ANY($1::int[])
  RETURNING id, user_id, room_type_id, start_date, end_date
)
INSERT INTO notifications (user_id, type, payload)
SELECT user_id, 'waitlist_offer',
       jsonb_build_object('waitlistId', id, 'roomTypeId', room_type_id, 'checkIn', start_date, 'checkOut', end_date)
FROM o`,
    values: [offered],
  });
  return offered;
}
