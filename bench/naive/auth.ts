import type { FastifyRequest } from 'fastify';
import { CHALLENGE } from '../../src/app/auth/auth-plugin.ts';
import { ACCESS_TOKEN_ISSUER, type AuthUser } from '../../src/app/auth/auth-service.ts';
import { domainError } from '../../src/app/errors.ts';
import { appError } from '../../src/platform/errors/index.ts';
import { JwtSigner } from '../../src/platform/security/index.ts';

/** As the real auth plugin: the scheme is case-insensitive, the token three base64url parts. */
const BEARER = /^Bearer ([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)$/i;

export interface NaiveAuth {
  /** onRequest hook: a valid access token or 401. */
  authenticate(request: FastifyRequest): Promise<void>;
  /** onRequest hook: an admin's token; anyone else gets the route-not-found 404, as in the real app. */
  requireAdmin(request: FastifyRequest): Promise<void>;
  /** The user `authenticate` found. */
  user(request: FastifyRequest): AuthUser;
}

/**
 * Stateless bearer-token checks with the same JWTs, errors and headers as the real auth plugin, so
 * the bench can send both apps the tokens it mints. Runs on onRequest: anonymous callers get 401
 * before any validation, as in the real app.
 */
export function naiveAuth(secret: string): NaiveAuth {
  const jwt = new JwtSigner(secret, { issuer: ACCESS_TOKEN_ISSUER });
  const users = new WeakMap<FastifyRequest, AuthUser>();

  const authenticate = async (request: FastifyRequest) => {
    const header = request.headers.authorization;
    if (!header) {
      throw appError('UNAUTHORIZED', 'This endpoint needs an access token', {
        headers: CHALLENGE,
        hint: 'Send Authorization: Bearer <accessToken> from POST /api/auth/login',
      });
    }
    const token = BEARER.exec(header)?.[1];
    const result = token ? jwt.verify(token) : undefined;
    const id = result?.ok ? Number(result.claims.sub) : Number.NaN;
    const role = result?.ok ? result.claims.role : undefined;
    if (!Number.isSafeInteger(id) || id < 1 || (role !== 'user' && role !== 'admin')) {
      throw domainError('INVALID_TOKEN', undefined, {
        headers: { 'www-authenticate': 'Bearer realm="innkeep", error="invalid_token"' },
        hint: 'Refresh it with POST /api/auth/refresh, or log in again',
      });
    }
    users.set(request, { id, role });
  };

  return {
    authenticate,
    async requireAdmin(request) {
      await authenticate(request);
      if (users.get(request)?.role !== 'admin') {
        throw appError('ROUTE_NOT_FOUND', `Route ${request.method} ${request.url.split('?')[0]} not found`);
      }
    },
    user(request) {
      const user = users.get(request);
      if (!user) throw appError('UNAUTHORIZED', undefined, { headers: CHALLENGE });
      return user;
    },
  };
}
