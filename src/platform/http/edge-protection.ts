import fastifyCors from '@fastify/cors';
import fastifyHelmet from '@fastify/helmet';
import type { FastifyInstance } from 'fastify';
import { declaredRouteClass } from './route-class.ts';

export interface EdgeProtectionOptions {
  /** HSTS is sent only in production (a development server on http://localhost must stay reachable). */
  readonly production: boolean;
  /** Browser origins allowed cross-origin; none (no CORS headers at all) when empty or undefined. */
  readonly corsOrigins?: readonly string[] | undefined;
  /** The body limit of `auth` routes that set none of their own. */
  readonly authBodyLimitBytes: number;
  /** URL prefixes that serve HTML (the Swagger UI), whose CSP lets their own scripts and styles run. */
  readonly htmlPrefixes?: readonly string[];
}

/** What the API's JSON answers need: nothing may load, frame or submit anything. */
const API_CSP = "default-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";
/**
 * The Swagger UI loads its own scripts and styles, sets inline styles, uses data: images and calls
 * the API (/docs/json and "Try it out") on this origin.
 */
const HTML_CSP =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; font-src 'self' data:; base-uri 'self'; form-action 'self'; frame-ancestors 'none'; object-src 'none'";

/**
 * Security headers on every answer (@fastify/helmet: a CSP that allows nothing on the API and the
 * Swagger UI's needs under `htmlPrefixes`, HSTS in production, nosniff, no framing, no referrer),
 * CORS for the configured origins only (credentials never), and a small body limit on `auth`
 * routes. Register on the root instance before the routes.
 *
 * @example
 * await registerEdgeProtection(app, { production: true, corsOrigins: ['https://app.example.com'],
 *   authBodyLimitBytes: 16_384, htmlPrefixes: ['/docs'] });
 */
export async function registerEdgeProtection(
  app: FastifyInstance,
  options: EdgeProtectionOptions,
): Promise<void> {
  await app.register(fastifyHelmet, {
    global: true,
    // Set below, per answer: helmet's per-route override cannot reach routes a plugin registers.
    contentSecurityPolicy: false,
    frameguard: { action: 'deny' },
    referrerPolicy: { policy: 'no-referrer' },
    hsts: options.production ? { maxAge: 31_536_000, includeSubDomains: true } : false,
  });
  const htmlPrefixes = options.htmlPrefixes ?? [];
  app.addHook('onRequest', (request, reply, done) => {
    const html = htmlPrefixes.some((p) => request.url === p || request.url.startsWith(`${p}/`));
    reply.header('content-security-policy', html ? HTML_CSP : API_CSP);
    done();
  });
  const origins = options.corsOrigins ?? [];
  if (origins.length > 0) {
    await app.register(fastifyCors, {
      origin: [...origins],
      credentials: false,
      methods: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'],
      allowedHeaders: ['authorization', 'content-type', 'idempotency-key', 'if-none-match', 'x-request-id'],
      exposedHeaders: [
        'etag',
        'location',
        'retry-after',
        'ratelimit-limit',
        'ratelimit-remaining',
        'ratelimit-reset',
        'x-request-id',
        'x-trace-id',
      ],
      maxAge: 600,
      strictPreflight: true,
    });
  }
  const { authBodyLimitBytes } = options;
  app.addHook('onRoute', (route) => {
    if (route.bodyLimit === undefined && declaredRouteClass(route) === 'auth') {
      route.bodyLimit = authBodyLimitBytes;
    }
  });
}
