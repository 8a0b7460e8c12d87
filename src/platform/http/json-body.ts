import { isUtf8 } from 'node:buffer';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { appError } from '../errors/index.ts';

/**
 * Replaces Fastify's JSON body parser (keeping its prototype-poisoning protection) with one that
 * - rejects a body that is not valid UTF-8 (400 `E_BAD_JSON`): decoding it would silently turn the
 *   bad bytes into U+FFFD and store them;
 * - accepts an empty body on a route that takes none (many clients send `Content-Type:
 *   application/json` with every POST), and still answers 400 where the route needs one.
 */
export function registerJsonBodyParser(app: FastifyInstance): void {
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser(
    'application/json',
    { parseAs: 'buffer' },
    (request: FastifyRequest, body: Buffer | string, done: (err: Error | null, body?: unknown) => void) => {
      const bytes = typeof body === 'string' ? Buffer.from(body) : body;
      if (bytes.length === 0) {
        if (request.routeOptions.schema?.body === undefined) return done(null, undefined);
        return done(appError('BAD_JSON', 'The request body is empty; this route takes a JSON body'));
      }
      if (!isUtf8(bytes)) return done(appError('BAD_JSON', 'The request body is not valid UTF-8'));
      parseJson(request, bytes.toString('utf8'), done);
    },
  );
}
