import { createHash } from 'node:crypto';
import type pg from 'pg';

type Queryable = Pick<pg.Pool, 'query'> | Pick<pg.PoolClient, 'query'>;

export const IDEMPOTENCY_TTL_HOURS = 24;
/** A claim still `in_progress` after this long belongs to a crashed process and may be taken over. */
export const ABANDONED_CLAIM_SECONDS = 60;
/** Printable ASCII without spaces, 1-255 characters. */
export const IDEMPOTENCY_KEY = /^[\x21-\x7E]{1,255}$/;

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

/** SHA-256 of the method, route and canonical parameters: what "the same request" means for a key. */
export function requestFingerprint(method: string, route: string, params: Record<string, unknown>): string {
  const canonical = JSON.stringify(
    Object.keys(params)
      .sort()
      .map((k) => [k, params[k]]),
  );
  return createHash('sha256').update(`${method} ${route}\n${canonical}`).digest('hex');
}

/**
 * Stripe-style idempotency keys, scoped to a user: the first request claims the key, its response is
 * stored (in the same transaction as its effects, by the caller) and replayed for 24 hours.
 */
export class IdempotencyStore {
  readonly #db: Queryable;
  constructor(db: Queryable) {
    this.#db = db;
  }

  /**
   * One statement: claim the key (new, expired, or abandoned), or report what holds it. The claim
   * commits on its own, so a concurrent duplicate sees `in_progress` at once instead of blocking.
   */
  async claim(userId: number, key: string, fingerprint: string): Promise<ClaimResult> {
    for (let attempt = 0; attempt < 3; attempt++) {
      const { rows } = await this.#db.query<{
        claimedId: number | null;
        claimToken: string | null;
        requestHash: string | null;
        status: string | null;
        responseStatus: number | null;
        responseBody: string | null;
      }>({
        name: 'idempotency_claim',
        text: `
WITH claim AS (
  INSERT INTO idempotency_keys (user_id, key, request_hash, status, expires_at)
  VALUES ($1, $2, $3, 'in_progress', now() + make_interval(hours => $4))
  ON CONFLICT (user_id, key) DO UPDATE
    SET request_hash = EXCLUDED.request_hash, status = 'in_progress', response_status = NULL,
        response_body = NULL, created_at = now(), expires_at = EXCLUDED.expires_at
    WHERE idempotency_keys.expires_at <= now()
       OR (idempotency_keys.status = 'in_progress'
           AND idempotency_keys.request_hash = EXCLUDED.request_hash
           AND idempotency_keys.created_at < now() - make_interval(secs => $5))
  RETURNING id, created_at
)
SELECT c.id AS "claimedId", ${CLAIM_TOKEN('c')}::text AS "claimToken", k.request_hash AS "requestHash", k.status,
       k.response_status AS "responseStatus", k.response_body #>> '{}' AS "responseBody"
FROM (SELECT 1) one
LEFT JOIN claim c ON true
LEFT JOIN idempotency_keys k ON c.id IS NULL AND k.user_id = $1 AND k.key = $2`,
        values: [userId, key, fingerprint, IDEMPOTENCY_TTL_HOURS, ABANDONED_CLAIM_SECONDS],
      });
      const row = rows[0];
      if (row?.claimedId != null)
        return { kind: 'claimed', id: row.claimedId, token: String(row.claimToken) };
      // Neither claimed nor visible: the holder committed between this statement's snapshot and its
      // insert. Asking again sees it.
      if (!row?.status) continue;
      if (row.requestHash !== fingerprint) return { kind: 'mismatch' };
      if (row.status === 'in_progress') return { kind: 'in_progress' };
      return { kind: 'replay', status: row.responseStatus ?? 200, body: row.responseBody ?? '' };
    }
    return { kind: 'in_progress' };
  }

  /**
   * Stores the response as sent (a JSON string inside jsonb: jsonb would reorder an object's keys).
   * Call it inside the transaction that made the request's effects. False when the claim was taken
   * over meanwhile (this request ran past ABANDONED_CLAIM_SECONDS): the caller must roll back, or the
   * key's request would take effect twice.
   */
  async complete(claim: { id: number; token: string }, status: number, json: string): Promise<boolean> {
    const { rowCount } = await this.#db.query({
      name: 'idempotency_complete',
      text: `UPDATE idempotency_keys k SET status = 'completed', response_status = $3, response_body = to_jsonb($4::text)
WHERE k.id = $1 AND k.status = 'in_progress' AND ${CLAIM_TOKEN('k')} = $2::bigint`,
      values: [claim.id, claim.token, status, json],
    });
    return rowCount === 1;
  }

  /** Gives the key back (the request failed before any effect), so a retry with it runs again. */
  async release(claim: { id: number; token: string }): Promise<void> {
    await this.#db.query({
      name: 'idempotency_release',
      text: `DELETE FROM idempotency_keys k WHERE k.id = $1 AND k.status = 'in_progress' AND ${CLAIM_TOKEN('k')} = $2::bigint`,
      values: [claim.id, claim.token],
    });
  }
}
