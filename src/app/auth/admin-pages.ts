import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Eta } from 'eta/core';
import type { FastifyInstance, FastifyReply, FastifyRequest, onRequestHookHandler } from 'fastify';
import { AppError, appError } from '../../platform/errors/index.ts';
import { registerFormBodyParser } from '../../platform/http/index.ts';
import { CHALLENGE } from './auth-plugin.ts';
import type { AuthService } from './auth-service.ts';

/**
 * The admin pages' session: an HttpOnly cookie holding an admin's access token, scoped to /admin,
 * SameSite=Strict (another site's page can neither read it nor make the browser send it), Secure in
 * production. It lives as long as the token (ACCESS_TOKEN_TTL_S); then the pages ask to log in again.
 */
export const ADMIN_COOKIE = 'innkeep_admin';
export const ADMIN_LOGIN_PATH = '/admin/login';
export const ADMIN_LOGOUT_PATH = '/admin/logout';
const DEFAULT_NEXT = '/admin/queues';
const BEARER = /^Bearer ([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)$/i;
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

const eta = new Eta({ autoEscape: true, autoTrim: [false, 'nl'], cache: true });
eta.loadTemplate('@login', readFileSync(join(import.meta.dirname, 'admin-login.eta'), 'utf8'));

/** The value of cookie `name` in a Cookie header, undefined when absent. */
export function readCookie(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/**
 * Where a login may send the browser next: only a path of the admin pages on this origin (never
 * `//evil.example`, a scheme or a backslash trick), else the queue dashboard.
 */
export function safeNext(next: unknown): string {
  if (typeof next !== 'string' || next.length > 512) return DEFAULT_NEXT;
  return /^\/admin\/[A-Za-z0-9/_\-.?=&%]*$/.test(next) && !next.startsWith('/admin/login')
    ? next
    : DEFAULT_NEXT;
}

/**
 * Whether a state-changing request comes from this origin. Sec-Fetch-Site says so in every current
 * browser; otherwise its Origin must be this one. Under `Referrer-Policy: no-referrer` a browser sends
 * `Origin: null` with a form, so "null" alone proves nothing and is refused.
 */
function sameOrigin(request: FastifyRequest): boolean {
  const site = request.headers['sec-fetch-site'];
  if (site !== undefined) return site === 'same-origin' || site === 'none';
  const origin = request.headers.origin;
  if (origin !== undefined) return origin === `${request.protocol}://${request.host}`;
  return true;
}

/**
 * onRequest hook of the admin pages: an admin's access token, from `Authorization: Bearer` (scripts)
 * or the admin cookie (a browser). Without one, a page view is redirected to the login form and
 * anything else gets 401 in the standard format. A cookie-authenticated POST/PUT/DELETE must come
 * from this origin (defence in depth beside SameSite=Strict): 403 otherwise.
 */
export function adminPageGuard(auth: AuthService): onRequestHookHandler {
  return async (request: FastifyRequest, reply: FastifyReply) => {
    const bearer = BEARER.exec(request.headers.authorization ?? '')?.[1];
    const cookie = bearer ? undefined : readCookie(request.headers.cookie, ADMIN_COOKIE);
    const token = bearer ?? cookie;
    const user = token ? auth.verifyAccessToken(token) : undefined;
    if (user?.role === 'admin') {
      if (cookie && !SAFE_METHODS.has(request.method) && !sameOrigin(request)) {
        throw appError('FORBIDDEN', 'Cross-site request refused', {
          hint: 'Admin pages accept state changes from their own origin only',
        });
      }
      request.user = user;
      if (request.ctx) request.ctx.principal = { userId: user.id, role: user.role };
      return;
    }
    if (request.method === 'GET' && (request.headers.accept ?? '').includes('text/html')) {
      const next = encodeURIComponent(safeNext(request.url));
      return reply.header('cache-control', 'no-store').redirect(`${ADMIN_LOGIN_PATH}?next=${next}`, 303);
    }
    throw appError('UNAUTHORIZED', 'The admin pages need an administrator’s session', {
      headers: CHALLENGE,
      hint: `Log in at ${ADMIN_LOGIN_PATH}, or send Authorization: Bearer <an admin's access token>`,
    });
  };
}

export interface AdminPagesOptions {
  readonly auth: AuthService;
  /** Cookies are marked Secure (HTTPS only) in production. */
  readonly production: boolean;
}

/**
 * The admin pages' login: `GET /admin/login` (a form), `POST /admin/login` (checks the e-mail and
 * password with the API's login, throttles included, and accepts administrators only; sets the
 * admin cookie and redirects to `next`), `POST /admin/logout` (clears it). The refresh token a login
 * creates is revoked at once: the pages never refresh, they log in again.
 */
export async function adminPages(app: FastifyInstance, options: AdminPagesOptions): Promise<void> {
  const { auth, production } = options;
  registerFormBodyParser(app, 4096);
  const page = (
    reply: FastifyReply,
    status: number,
    view: { next: string; email?: string; error?: string },
  ) =>
    reply
      .code(status)
      .header('cache-control', 'no-store')
      .type('text/html; charset=utf-8')
      .send(eta.render('@login', { email: '', error: undefined, ...view }));
  const cookie = (value: string, maxAgeS: number) =>
    `${ADMIN_COOKIE}=${value}; Path=/admin; Max-Age=${maxAgeS}; HttpOnly; SameSite=Strict${production ? '; Secure' : ''}`;

  app.get(ADMIN_LOGIN_PATH, { schema: { hide: true } }, async (request, reply) => {
    const { next } = request.query as { next?: unknown };
    return page(reply, 200, { next: safeNext(next) });
  });

  app.post(
    ADMIN_LOGIN_PATH,
    { schema: { hide: true }, config: { routeClass: 'auth' } },
    async (request, reply) => {
      const form = (request.body ?? {}) as Record<string, unknown>;
      const next = safeNext(form.next);
      const email = typeof form.email === 'string' ? form.email.slice(0, 254) : '';
      const password = typeof form.password === 'string' ? form.password : '';
      if (!email.trim() || !password || password.length > 128) {
        return page(reply, 400, { next, email, error: 'Enter your e-mail and password.' });
      }
      let session: Awaited<ReturnType<AuthService['login']>>;
      try {
        session = await auth.login({ email, password }, request.ip);
      } catch (err) {
        if (!(err instanceof AppError) || err.statusCode >= 500) throw err;
        if (err.headers?.['retry-after']) reply.header('retry-after', err.headers['retry-after']);
        const error =
          err.statusCode === 429
            ? 'Too many attempts: wait a little and try again.'
            : 'Wrong e-mail or password, or not an administrator.';
        return page(reply, err.statusCode === 429 ? 429 : 401, { next, email, error });
      }
      // The pages never refresh: the refresh token this login created is of no use.
      await auth.logout(session.refreshToken);
      if (session.user.role !== 'admin') {
        return page(reply, 401, { next, email, error: 'Wrong e-mail or password, or not an administrator.' });
      }
      return reply
        .header('set-cookie', cookie(session.accessToken, session.expiresIn))
        .header('cache-control', 'no-store')
        .redirect(next, 303);
    },
  );

  app.post(ADMIN_LOGOUT_PATH, { schema: { hide: true } }, async (_request, reply) =>
    reply.header('set-cookie', cookie('', 0)).redirect(ADMIN_LOGIN_PATH, 303),
  );
}
