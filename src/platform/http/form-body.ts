import type { FastifyInstance } from 'fastify';
import { appError } from '../errors/index.ts';

/**
 * Parses `application/x-www-form-urlencoded` bodies (what an HTML `<form method="post">` sends)
 * into a plain object of strings, in the scope it is added to: the admin pages, not the JSON API.
 * A repeated field keeps its last value; the body is capped at `bodyLimit` bytes (413 above).
 *
 * @example
 * await app.register(async (scope) => { registerFormBodyParser(scope); scope.post('/admin/login', handler); });
 */
export function registerFormBodyParser(scope: FastifyInstance, bodyLimit = 8192): void {
  scope.addContentTypeParser(
    'application/x-www-form-urlencoded',
    { parseAs: 'string', bodyLimit },
    (_request, body, done) => {
      const text = typeof body === 'string' ? body : body.toString('utf8');
      const fields: Record<string, string> = {};
      for (const [key, value] of new URLSearchParams(text)) {
        // Raw or percent-encoded bytes that are not UTF-8 decode to U+FFFD: refuse rather than store.
        if (key.includes('\uFFFD') || value.includes('\uFFFD')) {
          return done(appError('BAD_REQUEST', 'The form body is not valid UTF-8'));
        }
        if (key === '__proto__' || key === 'constructor' || key === 'prototype') continue;
        fields[key] = value;
      }
      done(null, fields);
    },
  );
}
