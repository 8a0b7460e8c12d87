import type { FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { appError } from '../../platform/errors/index.ts';
import { domainError } from '../errors.ts';
import type { AuthService, AuthUser } from './auth-service.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by `app.authenticate`; null on anonymous routes. */
    user: AuthUser | null;
  }
  interface FastifyInstance {
    /** onRequest hook: a valid `Authorization: Bearer <access token>` or 401. */
    authenticate: (request: FastifyRequest, reply: FastifyReply) => Promise<void>;
    /** onRequest hook: an admin's access token. A user's token gets 404, so admin routes stay unlisted. */
    requireAdmin: (request: FastifyRequest, reply: FastifyReply) => Promise<void>;
  }
}

/** The scheme name is case-insensitive (RFC 7235 §2.1): "bearer" must work as well as "Bearer". */
const BEARER = /^Bearer ([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)$/i;
/** RFC 7235 §3.1: every 401 carries a challenge. */
export const CHALLENGE = { 'www-authenticate': 'Bearer realm="innkeep"' } as const;

/** The authenticated user of a route behind `app.authenticate`. */
export function currentUser(request: FastifyRequest): AuthUser {
  if (!request.user) throw appError('UNAUTHORIZED', undefined, { headers: CHALLENGE });
  return request.user;
}

/**
 * Shared authentication: decorates the root instance (not encapsulated) so every domain plugin can
 * put `{ onRequest: app.authenticate }` (or `onRequest:`) on its routes; either way it runs on
 * onRequest, before validation. Stateless: verifying a token costs one HMAC and no query. Must be
 * registered before the route plugins (its onRoute hook only sees routes added after it).
 */
export const authPlugin = fp<{ auth: AuthService }>(
  async (app, { auth }) => {
    app.decorateRequest('user', null);

    const authenticate = async (request: FastifyRequest) => {
      const header = request.headers.authorization;
      if (!header) {
        throw appError('UNAUTHORIZED', 'This endpoint needs an access token', {
          headers: CHALLENGE,
          hint: 'Send Authorization: Bearer <accessToken> from POST /api/auth/login',
        });
      }
      const match = BEARER.exec(header);
      const user = match?.[1] ? auth.verifyAccessToken(match[1]) : undefined;
      if (!user) {
        throw domainError('INVALID_TOKEN', undefined, {
          headers: { 'www-authenticate': 'Bearer realm="innkeep", error="invalid_token"' },
          hint: 'Refresh it with POST /api/auth/refresh, or log in again',
        });
      }
      request.user = user;
      // For the request's warning and error logs (see loggerOptions).
      if (request.ctx) request.ctx.principal = { userId: user.id, role: user.role };
    };

    const requireAdmin = async (request: FastifyRequest) => {
      await authenticate(request);
      if (request.user?.role !== 'admin') {
        throw appError('ROUTE_NOT_FOUND', `Route ${request.method} ${request.url.split('?')[0]} not found`);
      }
    };
    app.decorate('authenticate', authenticate);
    app.decorate('requireAdmin', requireAdmin);

    // As a preHandler, authentication would run after body parsing and schema validation: an anonymous
    // caller would get 400s describing the input instead of a 401. Refuse that when the route is added.
    const isAuth = (hook: unknown) => hook === authenticate || hook === requireAdmin;
    app.addHook('onRoute', (route) => {
      const pre = Array.isArray(route.preHandler) ? route.preHandler : [route.preHandler];
      if (pre.some(isAuth)) {
        throw new Error(`${route.method} ${route.url}: use { onRequest: app.authenticate }, not preHandler`);
      }
    });
  },
  { name: 'innkeep-auth' },
);
