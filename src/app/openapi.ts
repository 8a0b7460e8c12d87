import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import fp from 'fastify-plugin';
import { transformDocument } from './openapi/document-transform.ts';
import { transformRoute } from './openapi/route-transform.ts';

/**
 * OpenAPI 3 from the route schemas (so the document cannot drift from validation), served as JSON at
 * /docs/json and as Swagger UI at /docs. Registered before the routes so it sees every one of them.
 * The transforms (src/app/openapi/) add what a client needs and validation does not: operationIds, the
 * error responses, optional parameters that have defaults, shared component schemas.
 * docs/openapi.json is this document, written by `npm run openapi`.
 */
export const openApi = fp(
  async (app) => {
    await app.register(swagger, {
      openapi: {
        openapi: '3.1.0',
        info: {
          title: 'Innkeep API',
          version: '0.1.0',
          description:
            'Hotel search, availability, bookings that never oversell, waitlists, reviews and reports. ' +
            'Every error has one body, the `Error` schema: `{ success: false, code, message, statusCode, ' +
            'requestId, details?, hint? }`; each operation lists the codes it can answer.',
        },
        servers: [
          { url: '/', description: 'The server that serves this document' },
          { url: 'http://localhost:3000', description: 'A local server (`npm start`, default PORT)' },
        ],
        components: {
          securitySchemes: {
            bearerAuth: {
              type: 'http',
              scheme: 'bearer',
              bearerFormat: 'JWT',
              description: 'The accessToken of POST /api/auth/login, /register or /refresh',
            },
          },
        },
        tags: [
          { name: 'auth', description: 'Accounts and sessions (access and refresh tokens)' },
          { name: 'hotels', description: 'Search, details and price history of hotels' },
          { name: 'availability', description: 'Free rooms and prices for stays' },
          { name: 'bookings', description: 'Booking and cancelling rooms' },
          { name: 'waitlist', description: 'Waiting for a sold-out room type to free up' },
          { name: 'trips', description: 'Named groups of bookings' },
          { name: 'reviews', description: 'Hotel reviews' },
          { name: 'me', description: 'The logged-in user’s own lists' },
          { name: 'users', description: 'The logged-in user’s dashboard' },
          { name: 'admin', description: 'Reports for admins (others get 404)' },
          { name: 'health', description: 'Liveness, readiness and health probes' },
          {
            name: 'operations',
            description:
              'Metrics, the performance report and detailed health, for admins (others get 404); also on the internal listener without a token',
          },
        ],
      },
      transform: transformRoute,
      transformObject: transformDocument,
    });
    await app.register(swaggerUi, { routePrefix: '/docs', uiConfig: { deepLinking: true } });
  },
  { name: 'innkeep-openapi' },
);
