import type { FastifyRequest, RouteOptions } from 'fastify';

/**
 * What kind of work a route does, for the policies that treat routes by class: rate limits, in-flight
 * caps and time budgets each have one setting per class.
 * - `probe`: health and readiness probes and metrics; never limited, shed or budgeted.
 * - `auth`: logging in and registering (strict limits: guessing passwords).
 * - `read`: every other GET/HEAD (generous limits).
 * - `write`: every other POST/PUT/PATCH/DELETE (bookings: moderate limits).
 * - `admin`: `/api/admin/...` and the admin pages under `/admin/` (separate limits).
 * - `expensive`: heavy reads (reports, later AI generation) with their own in-flight cap and budget.
 */
export const ROUTE_CLASSES = ['probe', 'auth', 'read', 'write', 'admin', 'expensive'] as const;
export type RouteClass = (typeof ROUTE_CLASSES)[number];

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Overrides the class {@link routeClassOf} would infer from the route's method and URL. */
    routeClass?: RouteClass;
  }
}

const PROBES = new Set(['/healthz', '/ready', '/health', '/metrics', '/api/metrics']);
/** Operators' routes outside /api/admin (admin-guarded on the API port). */
const ADMIN = new Set(['/health/detailed', '/api/performance']);

/**
 * The route's class: its `config.routeClass` when it names one, otherwise inferred from its URL
 * pattern and method. Unmatched requests (404s) count as reads.
 *
 * @example
 * routeClassOf('POST', '/api/auth/login'); // 'auth'
 * routeClassOf('GET', '/api/hotels/:id'); // 'read'
 */
export function routeClassOf(method: string, url: string | undefined, declared?: RouteClass): RouteClass {
  if (declared) return declared;
  if (url === undefined) return 'read';
  if (PROBES.has(url)) return 'probe';
  if (ADMIN.has(url)) return 'admin';
  if (url.startsWith('/api/auth/')) return 'auth';
  if (url.startsWith('/api/admin/') || url === '/admin' || url.startsWith('/admin/')) return 'admin';
  return method === 'GET' || method === 'HEAD' ? 'read' : 'write';
}

/** The class of the route a request matched (see {@link routeClassOf}). */
export function requestRouteClass(request: FastifyRequest): RouteClass {
  const options = request.routeOptions;
  return routeClassOf(request.method, options.url, options.config?.routeClass);
}

/** The class of a route being added (an `onRoute` hook's argument). */
export function declaredRouteClass(route: RouteOptions): RouteClass {
  const method = Array.isArray(route.method) ? (route.method[0] ?? 'GET') : route.method;
  return routeClassOf(
    method,
    route.url,
    (route.config as { routeClass?: RouteClass } | undefined)?.routeClass,
  );
}
