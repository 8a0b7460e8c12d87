import { randomUUID } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyBaseLogger } from 'fastify';
import { type AppError, appError } from '../errors/index.ts';
import type { ErrorBody } from './error-body.ts';
import { errorBody } from './error-handler.ts';

/** What is known of the request a socket is receiving, once Fastify has seen its headers. */
interface InFlight {
  readonly id: string;
  readonly url: string;
  /** Its response was sent (e.g. a 401 before the body was read) while its body still arrives. */
  answered?: boolean;
}

/**
 * Answers what Node's HTTP parser rejects before Fastify sees a request (malformed request lines,
 * invalid bytes in the URL, headers over the size limit) and requests that outlive the request
 * timeout (slow headers or a slow body), in the standard error body. Fastify's default handler
 * writes a body of its own without code, requestId, timestamp or path.
 */
export class ClientErrors {
  readonly #inFlight = new WeakMap<Socket, InFlight>();
  readonly #log: () => FastifyBaseLogger;

  constructor(log: () => FastifyBaseLogger) {
    this.#log = log;
  }

  /** Call once a request's headers are parsed (onRequest), so a later timeout can name it. */
  track(socket: Socket, request: { id: string; url: string }): void {
    this.#inFlight.set(socket, { ...request });
  }

  /** Call once the request has been answered (onResponse). */
  answered(socket: Socket): void {
    const known = this.#inFlight.get(socket);
    if (known) known.answered = true;
  }

  /** Fastify's `clientErrorHandler`. */
  readonly handle = (err: Error & { code?: string; rawPacket?: unknown }, socket: Socket): void => {
    if (err.code === 'ECONNRESET' || socket.destroyed) return;
    const known = this.#inFlight.get(socket);
    // A request answered already (or being answered) gets no second response on its socket: a
    // keep-alive client would read it as the answer to its next request. The socket just closes.
    const writing = (socket as { _httpMessage?: { headersSent?: boolean } })._httpMessage?.headersSent;
    if (known?.answered || writing) {
      socket.destroy();
      return;
    }
    const appErr = toAppError(err);
    const body: ErrorBody = errorBody(
      { id: known?.id ?? randomUUID(), url: known?.url ?? requestTarget(err.rawPacket) },
      appErr,
    );
    this.#log().info(
      { err, code: appErr.code, statusCode: appErr.statusCode, requestId: body.requestId },
      'client error',
    );
    if (socket.writable) {
      const json = JSON.stringify(body);
      socket.write(
        `HTTP/1.1 ${appErr.statusCode} ${STATUS_CODES[appErr.statusCode]}\r\n` +
          'Content-Type: application/json; charset=utf-8\r\n' +
          `Content-Length: ${Buffer.byteLength(json)}\r\n` +
          `x-request-id: ${body.requestId}\r\nConnection: close\r\n\r\n${json}`,
      );
    }
    socket.destroy();
  };
}

function toAppError(err: Error & { code?: string }): AppError {
  switch (err.code) {
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return appError('REQUEST_TIMEOUT');
    case 'HPE_HEADER_OVERFLOW':
      return appError('HEADERS_TOO_LARGE');
    default:
      return appError('BAD_REQUEST');
  }
}

/**
 * The path of the request line the parser choked on, when it is short printable ASCII; else '' (the
 * target may be what was malformed, or 100 KB long: it is not echoed).
 */
function requestTarget(raw: unknown): string {
  if (!Buffer.isBuffer(raw)) return '';
  const match = /^[A-Z]{3,10} ([\x21-\x7e]{1,2048}) HTTP\/1\.[01]\r?\n/.exec(
    raw.subarray(0, 2100).toString('latin1'),
  );
  const target = match?.[1];
  if (!target) return '';
  const path = target.split('?')[0] ?? '';
  return path.length <= 256 ? path : '';
}
