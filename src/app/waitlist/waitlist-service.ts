import type { Database, RepositoryFactory } from '../../platform/db/index.ts';
import { appError } from '../../platform/errors/index.ts';
import { cacheTags, type DomainCache } from '../common/cache.ts';
import { toPage } from '../common/paging.ts';
import { assertNotPast, validateStay } from '../common/stay.ts';
import { domainError } from '../errors.ts';
import type { NotificationQueue } from '../notifications/notification-queue.ts';
import { offerFreedRooms } from './waitlist-offers.ts';
import type { WaitlistRepository } from './waitlist-repository.ts';
import type { JoinWaitlistBody, MyWaitlistQuery, WaitlistEntry, WaitlistPage } from './waitlist-schema.ts';

export interface WaitlistServiceDeps {
  readonly db: Database;
  readonly waitlist: RepositoryFactory<WaitlistRepository>;
  readonly cache: DomainCache;
  /** How long an offer made when an offered entry is cancelled holds its room (WAITLIST_OFFER_HOLD_MINUTES). */
  readonly offerHoldMinutes: number;
  /** Told, inside the transaction, about the notification rows it wrote (their delivery is queued). */
  readonly notifications?: NotificationQueue | undefined;
}

export class WaitlistService {
  readonly #db: Database;
  readonly #waitlist: RepositoryFactory<WaitlistRepository>;
  readonly #cache: DomainCache;
  readonly #offerHoldMinutes: number;
  readonly #notifications: NotificationQueue | undefined;
  constructor(deps: WaitlistServiceDeps) {
    this.#cache = deps.cache;
    this.#db = deps.db;
    this.#waitlist = deps.waitlist;
    this.#offerHoldMinutes = deps.offerHoldMinutes;
    this.#notifications = deps.notifications;
  }

  /**
   * Puts the user on the waitlist of a room type for a stay that cannot be booked now; one active entry
   * per user and stay. Checked in this order: the room type exists (404), the guests fit and the stay
   * has not started (422), some night is full (else 409 E_ROOMS_AVAILABLE), no active entry yet (409).
   */
  async join(userId: number, body: JoinWaitlistBody): Promise<WaitlistEntry> {
    validateStay(body.checkIn, body.checkOut);
    // One statement, atomic on its own (the partial unique index settles concurrent duplicates).
    const outcome = await this.#invalidatingOnLoss(userId, () =>
      this.#db.write((db) => this.#waitlist(db).insertIfAllowed({ userId, ...body })),
    );
    if (!outcome) throw appError('NOT_FOUND', `Room type ${body.roomTypeId} not found`);
    if (body.guests > outcome.capacity) {
      throw domainError('CAPACITY_EXCEEDED', `This room type takes at most ${outcome.capacity} guests`, {
        details: [{ field: 'guests', message: `must be at most ${outcome.capacity}` }],
      });
    }
    assertNotPast(body.checkIn, outcome.today);
    if (outcome.roomsAvailable) {
      throw domainError(
        'ROOMS_AVAILABLE',
        `Room type ${body.roomTypeId} has a room free every night from ${body.checkIn} to ${body.checkOut}`,
        { hint: 'Book it with POST /api/bookings; the waitlist is for stays with a full night' },
      );
    }
    if (!outcome.entry) {
      throw domainError('ALREADY_WAITLISTED', undefined, {
        hint: 'See GET /api/me/waitlist; cancel the entry with DELETE /api/waitlist/:id to join again',
      });
    }
    await this.#cache.invalidate([cacheTags.user(userId)]);
    return outcome.entry;
  }

  async listMine(userId: number, query: MyWaitlistQuery): Promise<WaitlistPage> {
    return this.#cache.ns['my-waitlist'].getOrSet(
      `${userId}:${query.status ?? '*'}:${query.page}:${query.limit}`,
      async () => {
        const rows = await this.#db.read((db) => this.#waitlist(db).listForUser(userId, query.status, query));
        return toPage(rows, query);
      },
      { tags: [cacheTags.user(userId)] },
    );
  }

  /**
   * Leaves the waitlist. Idempotent: an entry already cancelled stays cancelled. An entry that was
   * booked or has expired is no longer in the queue and cannot be cancelled (409). A waiting entry is
   * cancelled in one statement; an offered one in a transaction that gives its held rooms back and
   * offers them to the next in line.
   */
  async cancel(userId: number, id: number): Promise<void> {
    const outcome = await this.#invalidatingOnLoss(userId, () =>
      this.#db.write((db) => this.#waitlist(db).cancel(id, userId)),
    );
    if (!outcome) throw appError('NOT_FOUND', `Waitlist entry ${id} not found`);
    if (outcome.cancelled) await this.#cache.invalidate([cacheTags.user(userId)]);
    if (outcome.status === 'offered') {
      if (await this.#cancelOffer(userId, id)) return;
      // It stopped being offered meanwhile (booked, expired, cancelled): answer for what it is now.
      return this.cancel(userId, id);
    }
    if (outcome.cancelled || outcome.status === 'cancelled') return;
    throw appError('CONFLICT', `Waitlist entry ${id} is ${outcome.status} and can no longer be cancelled`);
  }

  /** Cancels an offered entry, releasing its hold; false when it was no longer offered. */
  async #cancelOffer(userId: number, id: number): Promise<boolean> {
    const tags = await this.#invalidatingOnLoss(userId, () =>
      this.#db.transaction(async (tx) => {
        const released = await this.#waitlist(tx).cancelOffer(id, userId);
        const [entry] = released.offers;
        if (!entry) return null;
        const offers = await offerFreedRooms(tx, entry, { holdMinutes: this.#offerHoldMinutes });
        if (this.#notifications && offers.notificationIds.length > 0) {
          await this.#notifications.queue(tx, offers.notificationIds);
        }
        return [
          cacheTags.availability(entry.hotelId),
          cacheTags.roomType(entry.roomTypeId),
          cacheTags.reports,
          ...[userId, ...offers.userIds].map(cacheTags.user),
        ];
      }),
    );
    if (!tags) return false;
    await this.#cache.invalidate(tags);
    return true;
  }

  /**
   * Runs a single-statement write; when it fails without an answer (the connection died: it may have
   * committed), the user's cached views are invalidated all the same before the error goes on.
   */
  async #invalidatingOnLoss<R>(userId: number, write: () => Promise<R>): Promise<R> {
    try {
      return await write();
    } catch (err) {
      await this.#cache.invalidate([cacheTags.user(userId)]);
      throw err;
    }
  }
}
