import { createHash } from 'node:crypto';
import type { Queryable } from '../../platform/db/index.ts';

export const IDEMPOTENCY_TTL_HOURS = 24;
/**
 * A claim still `in_progress` after this long may be taken over even while its holder's connection
 * lives (a frozen process); a claim whose connection is gone is taken over at once.
 */
export const ABANDONED_CLAIM_SECONDS = 60;

/** A claim's creation time in microseconds: every claim or takeover of a row sets created_at = now(). */
const CLAIM_TOKEN = (alias: string) => `(extract(epoch FROM ${alias}.created_at) * 1000000)::bigint`;

export type ClaimResult =
  /**
   * `token` tells this claim from a later takeover of the same row (an abandoned claim keeps its id):
   * `complete` and `release` act only while the caller still holds the claim.
   */
  | { readonly kind: 'claimed'; readonly id: number; readonly token: string }
  | { readonly kind: 'mismatch' }
  | { readonly kind: 'in_progress' }
  /** `body` is the exact JSON text first sent, so a replay is byte-for-byte identical. */
  | { readonly kind: 'replay'; readonly status: number; readonly body: string };

type Claim = Extract<ClaimResult, { kind: 'claimed' }>;

/** SHA-256 of the method, route and canonical parameters: what "the same request" means for a key. */
export function requestFingerprint(method: string, route: string, params: Record<string, unknown>): string {
  const canonical = JSON.stringify(
    Object.keys(params)
      .sort()
      .map((k) => [k, params[k]]),
  );
  return createHash('sha256').update(`${method} ${route}\n${canonical}`).digest('hex');
}

/** The advisory lock that marks a key's request as running: 64 bits of a hash of user and key. */
function lockKey(userId: number, key: string): string {
  return createHash('sha256').update(`idempotency\n${userId}\n${key}`).digest().readBigInt64BE().toString();
}

/**
 * Stripe-style idempotency keys, scoped to a user: the first request claims the key, its response is
 * stored (in the same transaction as its effects, by the caller) and replayed for 24 hours.
 *
 * While a request runs, its claim is held twice: by the committed `in_progress` row, so a concurrent
 * duplicate answers 409 at once instead of waiting, and by a session-level advisory lock on the
 * connection that runs the request's transaction. PostgreSQL drops that lock the moment the
 * connection ends, whatever ended it (a terminated backend, a server crash, a killed process). So an
 * `in_progress` row whose lock is free belongs to a request whose transaction provably did not
 * commit (a committed one would have marked the row completed in that same transaction), and a retry
 * takes it over at once. A row whose lock is still held is taken over only after
 * ABANDONED_CLAIM_SECONDS (a frozen holder); the claim token then keeps the old holder from
 * committing.
 *
 * Use one store per `Database.session`, and run the request's transaction on that session.
 */
export class IdempotencyStore {
  readonly #db: Queryable;
  readonly #held = new Map<number, string>();
  /** A claim statement failed: it may have taken a lock before failing, so assume it did. */
  #uncertain = false;
  constructor(db: Queryable) {
    this.#db = db;
  }

  /**
   * True while a claim of this store still holds its lock (complete or release gives it back), or
   * may hold one: a claim statement that failed after its try-lock leaves the lock on the connection.
   */
  get holdsLock(): boolean {
    return this.#held.size > 0 || this.#uncertain;
  }

  /**
   * One statement: claim the key (new, expired, or abandoned) and take its lock, or report what holds
   * it. The claim commits on its own, so a concurrent duplicate sees `in_progress` at once.
   */
  async claim(userId: number, key: string, fingerprint: string): Promise<ClaimResult> {
    const lock = lockKey(userId, key);
    for (let attempt = 0; attempt < 3; attempt++) {
      const { rows } = await this.#claimStatement(userId, key, fingerprint, lock).catch((err: unknown) => {
        this.#uncertain = true;
        throw err;
      });
      const row = rows[0];
      if (row?.claimedId != null) {
        // Without the lock (another key's hash collided, or a frozen holder was overtaken) the claim
        // still works; only the instant takeover after a crash is lost for it.
        if (row.locked) this.#held.set(row.claimedId, lock);
        return { kind: 'claimed', id: row.claimedId, token: String(row.claimToken) };
      }
      // Neither claimed nor visible: the holder committed between this statement's snapshot and its
      // insert. Asking again sees it.
      if (!row?.status) continue;
      if (row.requestHash !== fingerprint) return { kind: 'mismatch' };
      if (row.status === 'in_progress') return { kind: 'in_progress' };
      return { kind: 'replay', status: row.responseStatus ?? 200, body: row.responseBody ?? '' };
    }
    return { kind: 'in_progress' };
  }

  #claimStatement(userId: number, key: string, fingerprint: string, lock: string) {
    return this.#db.query<{
      claimedId: number | null;
      claimToken: string | null;
      locked: boolean;
      requestHash: string | null;
      status: string | null;
      responseStatus: number | null;
      responseBody: string | null;
    }>({
      name: 'idempotency_claim',
      text: `
WITH lock AS MATERIALIZED (SELECT pg_try_advisory_lock($6::bigint) AS got),
claim AS (
  INSERT INTO idempotency_keys (user_id, key, request_hash, status, expires_at)
  VALUES ($1, $2, $3, 'in_progress', now() + make_interval(hours => $4))
  ON CONFLICT (user_id, key) DO UPDATE
    SET request_hash = EXCLUDED.request_hash, status = 'in_progress', response_status = NULL,
        response_body = NULL, created_at = now(), expires_at = EXCLUDED.expires_at
    WHERE idempotency_keys.expires_at <= now()
       OR (idempotency_keys.status = 'in_progress'
           AND idempotency_keys.request_hash = EXCLUDED.request_hash
           AND ((SELECT got FROM lock)
                OR idempotency_keys.created_at < now() - make_interval(secs => $5)))
  RETURNING id, created_at
)
SELECT c.id AS "claimedId", ${CLAIM_TOKEN('c')}::text AS "claimToken", l.got AS locked,
       k.request_hash AS "requestHash", k.status, k.response_status AS "responseStatus",
       k.response_body #>> '{}' AS "responseBody",
       CASE WHEN c.id IS NULL AND l.got THEN pg_advisory_unlock($6::bigint) END AS unlocked
FROM lock l
LEFT JOIN claim c ON true
LEFT JOIN idempotency_keys k ON c.id IS NULL AND k.user_id = $1 AND k.key = $2`,
      values: [userId, key, fingerprint, IDEMPOTENCY_TTL_HOURS, ABANDONED_CLAIM_SECONDS, lock],
    });
  }

  /**
   * Stores the response as sent (a JSON string inside jsonb: jsonb would reorder an object's keys) and
   * gives the lock back. Call it inside the transaction that made the request's effects, as its last
   * statement: a retry that finds the lock free then waits on this row until the transaction ends.
   * False when the claim was taken over meanwhile (this request ran past ABANDONED_CLAIM_SECONDS):
   * the caller must roll back, or the key's request would take effect twice.
   */
  async complete(claim: Claim, status: number, json: string): Promise<boolean> {
    const lock = this.#held.get(claim.id);
    const { rows } = await this.#db.query<{ updated: number }>({
      name: 'idempotency_complete',
      text: `
WITH done AS (
  UPDATE idempotency_keys k SET status = 'completed', response_status = $3, response_body = to_jsonb($4::text)
  WHERE k.id = $1 AND k.status = 'in_progress' AND ${CLAIM_TOKEN('k')} = $2::bigint
  RETURNING 1
)
SELECT d.n AS updated, CASE WHEN $5::bigint IS NOT NULL THEN pg_advisory_unlock($5::bigint) END AS unlocked
FROM (SELECT count(*)::int AS n FROM done) d`,
      values: [claim.id, claim.token, status, json, lock ?? null],
    });
    // Only once the statement succeeded is the lock known to be given back; after a failure it may
    // still be held, and the session's connection must then be discarded (see holdsLock).
    this.#held.delete(claim.id);
    return rows[0]?.updated === 1;
  }

  /**
   * Gives the key back (the request failed before any effect), so a retry with it runs again. When
   * the connection is gone this fails, and need not succeed: the lock went with the connection.
   */
  async release(claim: Claim): Promise<void> {
    const lock = this.#held.get(claim.id);
    await this.#db.query({
      name: 'idempotency_release',
      text: `
WITH gone AS (
  DELETE FROM idempotency_keys k
  WHERE k.id = $1 AND k.status = 'in_progress' AND ${CLAIM_TOKEN('k')} = $2::bigint
  RETURNING 1
)
SELECT d.n AS deleted, CASE WHEN $3::bigint IS NOT NULL THEN pg_advisory_unlock($3::bigint) END AS unlocked
FROM (SELECT count(*)::int AS n FROM gone) d`,
      values: [claim.id, claim.token, lock ?? null],
    });
    this.#held.delete(claim.id);
  }
}
