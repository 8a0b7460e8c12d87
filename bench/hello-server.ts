// The ceiling: Fastify's hello world in its own process, measured in the same run and with the same
// client as the operations, so each operation's throughput can be read as a fraction of it.
//   PORT=3999 node bench/hello-server.ts
//
// With HELLO_BYTES_FILE (a file of bytes, e.g. a cached answer's JSON), `/bytes` also answers those
// bytes as they are, and their Brotli form to `Accept-Encoding: br` (made once at start with the
// response cache's settings), with the same headers as a cached answer of the API (ETag, Vary,
// Cache-Control, a request id): Fastify sending a stored Buffer and nothing else, the reference the
// cache phase compares Innkeep's cached reads with (bench/lib/cache-phase.ts).
import { readFileSync } from 'node:fs';
import { brotliCompressSync, constants } from 'node:zlib';
import Fastify from 'fastify';

const app = Fastify({ logger: false });
app.get('/hello', async () => ({ hello: 'world' }));
app.get('/healthz', async () => ({ status: 'ok' }));

const bytesFile = process.env.HELLO_BYTES_FILE;
if (bytesFile) {
  const identity = readFileSync(bytesFile);
  const br = brotliCompressSync(identity, {
    params: {
      [constants.BROTLI_PARAM_QUALITY]: 6,
      [constants.BROTLI_PARAM_MODE]: constants.BROTLI_MODE_TEXT,
      [constants.BROTLI_PARAM_SIZE_HINT]: identity.length,
    },
  });
  app.get('/bytes', (request, reply) => {
    const wantsBr = /\bbr\b/.test(String(request.headers['accept-encoding'] ?? ''));
    reply
      .header('x-request-id', '00000000-0000-4000-8000-000000000000')
      .header('etag', wantsBr ? '"0123456789abcdefghijklmnopq-br"' : '"0123456789abcdefghijklmnopq"')
      .header('vary', 'accept-encoding')
      .header('cache-control', 'public, max-age=3600, stale-while-revalidate=86400')
      .type('application/json; charset=utf-8');
    if (wantsBr) reply.header('content-encoding', 'br');
    reply.send(wantsBr ? br : identity);
  });
}

const shutdown = () => {
  app.close().then(
    () => process.exit(0),
    () => process.exit(1),
  );
};
process.once('SIGTERM', shutdown);
process.once('SIGINT', shutdown);

await app.listen({ host: process.env.HOST ?? '127.0.0.1', port: Number(process.env.PORT ?? 3999) });
