// The stale-read check of `npm run loadtest`: every availability answer must reflect the bookings this
// run knows were made before it was asked for. Availability is a strict cache namespace: a booking's
// 201 is sent after its invalidation, so no read sent after that 201 may still show the rooms it took.
import type pg from 'pg';
import { daysBetween } from './load-mix.ts';

export interface StaleRead {
  readonly path: string;
  readonly roomTypeId: number;
  readonly date: string;
  /** What the answer said. */
  readonly availableRooms: number;
  /** The most rooms that can have been free then: the baseline minus the bookings surely holding one. */
  readonly bound: number;
}

export interface StaleReadReport {
  /** 200 availability answers read. */
  readonly reads: number;
  /** (room type, night) values compared with a bound. */
  readonly nights: number;
  /** Answers in which at least one night was covered by a booking of this run the answer had to show. */
  readonly informative: number;
  /** Answers showing more rooms free than possible on some night (each counted once). */
  readonly stale: number;
  /** Bookings (201) this run tracked, and how many of them a cancel was sent for. */
  readonly bookings: number;
  readonly cancelled: number;
  /** Up to 10 stale answers, first ones first. */
  readonly samples: readonly StaleRead[];
  /** When the baseline was read, and how many inventory nights it holds. */
  readonly baselineNights: number;
}

interface Tracked {
  readonly id: number;
  readonly firstNight: number;
  /** Exclusive. */
  readonly endNight: number;
  /** Event number of its 201. */
  readonly confirmedAt: number;
  /** Event number at which its cancel was planned (sent); undefined while none was. */
  cancelSentAt: number | undefined;
}

interface Night {
  readonly date: string;
  readonly availableRooms: number | null;
}

/**
 * Tracks this run's bookings and checks availability answers against them. Every event (a request
 * planned, an answer received) gets the next number of one clock, so "the 201 came before this read
 * was sent" is a comparison of numbers. For each (room type, night) the bound is
 *
 *   available ≤ baseline − (bookings of this run covering the night whose 201 arrived before the read
 *                           was sent, and whose cancel had not been sent when the answer arrived)
 *
 * where the baseline is `room_inventory.available_rooms` read before the load. Nothing else frees a
 * room meanwhile (the seeded bookings are never cancelled; only this run's are), and any other booking
 * (one still in flight, one whose answer was lost) only lowers what is free, so a correct server never
 * exceeds the bound: an answer above it showed rooms as they were before a booking it had to reflect.
 * A request is numbered when autocannon plans it, at or before the moment it is written to the
 * socket, which only loosens the bound (fewer bookings count as known, a cancel counts as sent
 * earlier).
 */
export class StaleReadCheck {
  readonly #firstNight: string;
  /** room type -> available rooms by night index from firstNight (-1: no row). */
  readonly #baseline: Map<number, Int32Array>;
  readonly #byRoomType = new Map<number, Tracked[]>();
  readonly #byId = new Map<number, Tracked>();
  readonly #samples: StaleRead[] = [];
  #clock = 0;
  #reads = 0;
  #nights = 0;
  #informative = 0;
  #stale = 0;
  #cancelled = 0;
  readonly #baselineNights: number;

  constructor(baseline: InventoryBaseline) {
    this.#firstNight = baseline.firstNight;
    this.#baseline = baseline.byRoomType;
    this.#baselineNights = baseline.nights;
  }

  /** Numbers a request as it is planned; pass the number to {@link read} with its answer. */
  planned(): number {
    return ++this.#clock;
  }

  /** A booking of the stay answered 201 with this id. */
  booked(id: number, stay: { roomTypeId: number; checkIn: string; checkOut: string }): void {
    const tracked: Tracked = {
      id,
      firstNight: daysBetween(this.#firstNight, stay.checkIn),
      endNight: daysBetween(this.#firstNight, stay.checkOut),
      confirmedAt: ++this.#clock,
      cancelSentAt: undefined,
    };
    this.#byId.set(id, tracked);
    let list = this.#byRoomType.get(stay.roomTypeId);
    if (!list) {
      list = [];
      this.#byRoomType.set(stay.roomTypeId, list);
    }
    list.push(tracked);
  }

  /** A cancel of booking `id` is being sent: from now on the booking may be gone. */
  cancelPlanned(id: number): void {
    const tracked = this.#byId.get(id);
    if (tracked && tracked.cancelSentAt === undefined) {
      tracked.cancelSentAt = ++this.#clock;
      this.#cancelled += 1;
    }
  }

  /** Checks a 200 answer of GET /api/hotels/:id/availability, planned at event `sentAt`. */
  read(sentAt: number, path: string, body: string): void {
    const answeredAt = ++this.#clock;
    let roomTypes: { roomTypeId: number; nights: Night[] }[];
    try {
      roomTypes = (JSON.parse(body) as { roomTypes: { roomTypeId: number; nights: Night[] }[] }).roomTypes;
    } catch {
      return;
    }
    if (!Array.isArray(roomTypes)) return;
    this.#reads += 1;
    let informative = false;
    let stale: StaleRead | undefined;
    for (const rt of roomTypes) {
      const baseline = this.#baseline.get(rt.roomTypeId);
      if (!baseline) continue;
      const bookings = this.#byRoomType.get(rt.roomTypeId) ?? [];
      for (const night of rt.nights) {
        if (night.availableRooms === null) continue;
        const index = daysBetween(this.#firstNight, night.date);
        const base = index >= 0 && index < baseline.length ? (baseline[index] as number) : -1;
        if (base < 0) continue;
        let held = 0;
        for (const b of bookings) {
          if (index < b.firstNight || index >= b.endNight) continue;
          if (b.confirmedAt < sentAt && (b.cancelSentAt === undefined || b.cancelSentAt > answeredAt))
            held += 1;
        }
        this.#nights += 1;
        if (held > 0) informative = true;
        const bound = base - held;
        if (night.availableRooms > bound && !stale) {
          stale = {
            path,
            roomTypeId: rt.roomTypeId,
            date: night.date,
            availableRooms: night.availableRooms,
            bound,
          };
        }
      }
    }
    if (informative) this.#informative += 1;
    if (stale) {
      this.#stale += 1;
      if (this.#samples.length < 10) this.#samples.push(stale);
    }
  }

  report(): StaleReadReport {
    return {
      reads: this.#reads,
      nights: this.#nights,
      informative: this.#informative,
      stale: this.#stale,
      bookings: this.#byId.size,
      cancelled: this.#cancelled,
      samples: [...this.#samples],
      baselineNights: this.#baselineNights,
    };
  }
}

/** available_rooms of some room types over a window of nights, read in one statement. */
export interface InventoryBaseline {
  readonly firstNight: string;
  readonly byRoomType: Map<number, Int32Array>;
  readonly nights: number;
}

/**
 * Reads `room_inventory.available_rooms` of the room types from `firstNight` to `lastNight` (both
 * inclusive). Call it while no booking of the run is in flight (before the load).
 */
export async function readInventoryBaseline(
  pool: pg.Pool,
  roomTypeIds: readonly number[],
  firstNight: string,
  lastNight: string,
): Promise<InventoryBaseline> {
  const span = daysBetween(firstNight, lastNight) + 1;
  const { rows } = await pool.query<{ id: number; day: number; available: number }>(
    `SELECT room_type_id AS id, (date - $2::date) AS day, available_rooms AS available
     FROM room_inventory WHERE room_type_id = ANY($1::bigint[]) AND date BETWEEN $2::date AND $3::date`,
    [roomTypeIds, firstNight, lastNight],
  );
  const byRoomType = new Map<number, Int32Array>();
  for (const row of rows) {
    const id = Number(row.id);
    let nights = byRoomType.get(id);
    if (!nights) {
      nights = new Int32Array(span).fill(-1);
      byRoomType.set(id, nights);
    }
    nights[Number(row.day)] = row.available;
  }
  return { firstNight, byRoomType, nights: rows.length };
}
