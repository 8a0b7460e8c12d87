import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import fp from 'fastify-plugin';

/**
 * OpenAPI 3 from the route schemas (so the document cannot drift from validation), served as JSON at
 * /docs/json and as Swagger UI at /docs. Registered before the routes so it sees every one of them.
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
            'Errors share one body: `{ success: false, code, message, statusCode, requestId, details?, hint? }`.',
        },
        components: {
          securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
        },
        tags: [
          { name: 'auth' },
          { name: 'hotels' },
          { name: 'availability' },
          { name: 'bookings' },
          { name: 'waitlist' },
          { name: 'trips' },
          { name: 'reviews' },
          { name: 'me' },
          { name: 'admin' },
        ],
      },
    });
    await app.register(swaggerUi, { routePrefix: '/docs', uiConfig: { deepLinking: true } });
  },
  { name: 'innkeep-openapi' },
);
