import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyReply } from 'fastify';
import type { Database, DbSession, Transaction } from '../../platform/db/index.ts';
import type { AppError } from '../../platform/errors/index.ts';
import { type DomainError, domainError } from '../errors.ts';
import { type ClaimResult, IdempotencyStore } from './idempotency-store.ts';

type Claim = Extract<ClaimResult, { kind: 'claimed' }>;

/** Which request a key stands for: the user's key, and what "the same request" means for it. */
export interface IdempotencyScope {
  readonly userId: number;
  readonly key: string;
  /** `requestFingerprint(...)` of the request's method, route and parameters. */
  readonly fingerprint: string;
}

/**
 * A claimed key, lent to the use case: its one transaction runs on the claim's connection, and the
 * result is stored under the key inside that transaction, as its last statement.
 */
export interface HeldClaim {
  /** Stable per claim: a reference for outside systems (a payment) to de-duplicate by. */
  readonly id: number;
  /**
   * Runs the use case's transaction and stores `status` with the result's JSON under the key. Throws
   * E_IDEMPOTENCY_IN_PROGRESS (and rolls back) if a retry took the key over meanwhile.
   */
  transaction<R>(fn: (tx: Transaction) => Promise<R>, status: number): Promise<R>;
}

/** What the route sends: the exact JSON text, fresh or replayed, so every replay is the same bytes. */
export interface IdempotentOutcome {
  readonly status: number;
  readonly json: string;
  readonly replayed: boolean;
}

export interface IdempotentRunOptions {
  /** What the key books or creates, for messages ("booking"). */
  readonly subject: string;
  /** Failures stored under the key like a result (a retry replays them): e.g. sold out. */
  readonly storesFailure: (err: unknown) => err is AppError;
  /** The body the client sees for a stored failure (the standard error body of this request). */
  readonly render: (err: AppError) => unknown;
}

/** How long a re-run after a lost connection waits for that connection's lock: 20 × 50 ms. */
const CLAIM_WAITS = 20;
const CLAIM_WAIT_MS = 50;

/**
 * Stripe-style idempotent requests: claim the key, run the use case once, store its answer (or a
 * storable failure) under the key, replay it for every repeat within 24 h. The claim, the use case's
 * transaction and the release run on one connection that holds the key's advisory lock (see
 * IdempotencyStore), so the whole request is re-run on a fresh connection when its connection is
 * lost: a committed first attempt is replayed, an uncommitted one is taken over. Any other failure
 * gives the key back.
 */
export class IdempotentRequests {
  readonly #db: Database;
  constructor(db: Database) {
    this.#db = db;
  }

  async run<R>(
    scope: IdempotencyScope,
    work: (claim: HeldClaim) => Promise<R>,
    options: IdempotentRunOptions,
  ): Promise<IdempotentOutcome> {
    return this.#db.idempotent((attempt) =>
      this.#db.session(async (session) => {
        const store = new IdempotencyStore(session);
        try {
          let claim = await store.claim(scope.userId, scope.key, scope.fingerprint);
          // On a re-run, the lost connection's backend may still be exiting, and holds the key's
          // lock until it has: give it a moment instead of answering "in progress" to our own retry.
          for (let wait = 0; attempt > 0 && claim.kind === 'in_progress' && wait < CLAIM_WAITS; wait++) {
            await sleep(CLAIM_WAIT_MS);
            claim = await store.claim(scope.userId, scope.key, scope.fingerprint);
          }
          if (claim.kind !== 'claimed') return settle(claim, options.subject);
          return await runClaimed(store, session, claim, work, options);
        } finally {
          // Never hand a connection that may still hold a key's lock back to the pool.
          if (store.holdsLock) session.discard(new Error('idempotency lock may still be held'));
        }
      }),
    );
  }
}

/** Runs the use case on a claimed key: stores its answer, or a storable failure, or gives the key back. */
async function runClaimed<R>(
  store: IdempotencyStore,
  session: DbSession,
  claim: Claim,
  work: (claim: HeldClaim) => Promise<R>,
  options: IdempotentRunOptions,
): Promise<IdempotentOutcome> {
  let stored: IdempotentOutcome | undefined;
  const held: HeldClaim = {
    id: claim.id,
    transaction: (fn, status) =>
      session.transaction(async (tx) => {
        const result = await fn(tx);
        const json = JSON.stringify(result);
        // A retry took the key over while this request was stuck: it runs instead (rolled back here).
        if (!(await store.complete(claim, status, json))) throw inProgress();
        stored = { status, json, replayed: false };
        return result;
      }),
  };
  try {
    await work(held);
    if (!stored) throw new Error('the use case did not run its transaction through the claim');
    return stored;
  } catch (err) {
    if (options.storesFailure(err)) {
      const json = JSON.stringify(options.render(err));
      await store.complete(claim, err.statusCode, json);
      return { status: err.statusCode, json, replayed: false };
    }
    await store.release(claim).catch(() => undefined);
    throw err;
  }
}

function settle(claim: Exclude<ClaimResult, { kind: 'claimed' }>, subject: string): IdempotentOutcome {
  switch (claim.kind) {
    case 'mismatch':
      throw domainError('IDEMPOTENCY_MISMATCH', undefined, {
        hint: `Use a new Idempotency-Key for a different ${subject}`,
      });
    case 'in_progress':
      throw inProgress();
    case 'replay':
      return { status: claim.status, json: claim.body, replayed: true };
  }
}

function inProgress(): DomainError {
  return domainError('IDEMPOTENCY_IN_PROGRESS', undefined, {
    headers: { 'retry-after': '1' },
    hint: 'Retry with the same key shortly to get the result',
  });
}

/** Sends an outcome: its stored bytes as they are, marked when replayed. */
export function sendIdempotentReply(reply: FastifyReply, outcome: IdempotentOutcome) {
  if (outcome.replayed) reply.header('idempotent-replayed', 'true');
  // Already serialized: a string payload is sent as-is.
  return reply.code(outcome.status).type('application/json; charset=utf-8').send(outcome.json);
}
