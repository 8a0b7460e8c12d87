// Route classes (src/platform/http/route-class.ts): the class every per-class policy (rate limits,
// in-flight caps, time budgets) reads, inferred from the route or declared by it.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import Fastify from 'fastify';
import { declaredRouteClass, requestRouteClass, routeClassOf } from '../../src/platform/http/index.ts';

describe('route classes', () => {
  it('when a route declares no class, then it is inferred from its URL pattern and method', () => {
    assert.equal(routeClassOf('GET', '/healthz'), 'probe');
    assert.equal(routeClassOf('GET', '/ready'), 'probe');
    assert.equal(routeClassOf('GET', '/health'), 'probe');
    assert.equal(routeClassOf('GET', '/metrics'), 'probe');
    assert.equal(routeClassOf('GET', '/health/detailed'), 'admin');
    assert.equal(routeClassOf('POST', '/api/auth/login'), 'auth');
    assert.equal(routeClassOf('GET', '/api/admin/cache/stats'), 'admin');
    assert.equal(routeClassOf('GET', '/admin/queues/api/queues'), 'admin');
    assert.equal(routeClassOf('POST', '/admin/login', 'auth'), 'auth');
    assert.equal(routeClassOf('GET', '/administrator'), 'read');
    assert.equal(routeClassOf('GET', '/api/hotels/:id'), 'read');
    assert.equal(routeClassOf('HEAD', '/api/hotels'), 'read');
    assert.equal(routeClassOf('POST', '/api/bookings'), 'write');
    assert.equal(routeClassOf('DELETE', '/api/bookings/:id'), 'write');
  });

  it('when a request matched no route, then it counts as a read', () => {
    assert.equal(routeClassOf('GET', undefined), 'read');
    assert.equal(routeClassOf('POST', undefined), 'read');
  });

  it('when a route declares a class, then that class wins, for routes being added and for requests', async () => {
    const app = Fastify();
    const seen: string[] = [];
    app.addHook('onRoute', (route) => {
      seen.push(`${String(route.method)} ${route.url}=${declaredRouteClass(route)}`);
    });
    app.get('/api/admin/reports/x', { config: { routeClass: 'expensive' } }, async (request) => ({
      cls: requestRouteClass(request),
    }));
    app.post('/api/things', async (request) => ({ cls: requestRouteClass(request) }));
    await app.ready();
    assert.deepEqual(seen, [
      'GET /api/admin/reports/x=expensive',
      'HEAD /api/admin/reports/x=expensive',
      'POST /api/things=write',
    ]);
    const get = await app.inject({ method: 'GET', url: '/api/admin/reports/x' });
    assert.equal(get.json().cls, 'expensive');
    const post = await app.inject({ method: 'POST', url: '/api/things' });
    assert.equal(post.json().cls, 'write');
    await app.close();
  });
});
