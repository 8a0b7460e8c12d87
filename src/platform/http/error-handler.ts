import { STATUS_CODES } from 'node:http';
import type { FastifyError, FastifyInstance, FastifyRequest } from 'fastify';
import { AppError, appError, type ErrorDetail, type ErrorTranslator } from '../errors/index.ts';
import { activeTraceIds } from '../observability/trace-ids.ts';
import type { ErrorBody } from './error-body.ts';
import type { RouteMethods } from './route-methods.ts';

const FASTIFY_CODES: Record<string, Parameters<typeof appError>[0]> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'BAD_JSON',
  FST_ERR_CTP_INVALID_JSON_BODY: 'BAD_JSON',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'VALIDATION',
};

export interface ErrorHandlingOptions {
  readonly exposeStack: boolean;
  readonly routeMethods?: RouteMethods;
  /** The adapters' translations of their own failures (PostgreSQL errors, ...), tried in order. */
  readonly translators?: readonly ErrorTranslator[];
}

/**
 * Installs the error and not-found handlers: every failure leaves as `ErrorBody`, adapters' errors
 * are translated by the translators they provide, 5xx are logged with their cause and never expose
 * internals outside development.
 */
export function registerErrorHandling(app: FastifyInstance, options: ErrorHandlingOptions): void {
  const translators = options.translators ?? [];
  app.setErrorHandler((err: FastifyError | Error, request, reply) => {
    const appErr = toAppError(err, translators);
    if (appErr.statusCode >= 500) request.log.error({ err }, 'request failed');
    else request.log.info({ code: appErr.code, statusCode: appErr.statusCode }, appErr.message);
    if (appErr.headers) reply.headers(appErr.headers);
    const body = errorBody(request, appErr);
    if (options.exposeStack && appErr.statusCode >= 500) body.stack = err.stack;
    return reply.code(appErr.statusCode).type('application/json; charset=utf-8').send(body);
  });

  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0];
    const allowed = options.routeMethods?.allowed(request.url) ?? [];
    if (allowed.length > 0) {
      const err = appError('METHOD_NOT_ALLOWED', `${request.method} is not allowed on ${path}`, {
        hint: `Allowed: ${allowed.join(', ')}`,
      });
      return reply.code(405).header('allow', allowed.join(', ')).send(errorBody(request, err));
    }
    const err = appError('ROUTE_NOT_FOUND', `Route ${request.method} ${path} not found`);
    return reply.code(404).send(errorBody(request, err));
  });
}

/**
 * The body for `err`; `request` needs only its id and URL (a request the parser rejected has no more).
 * Called where the request runs, it carries the request's trace id when tracing is on.
 */
export function errorBody(request: Pick<FastifyRequest, 'id' | 'url'>, err: AppError): ErrorBody {
  const ids = activeTraceIds();
  return {
    success: false,
    error: STATUS_CODES[err.statusCode] ?? 'Error',
    message: err.message,
    statusCode: err.statusCode,
    code: err.code,
    timestamp: new Date().toISOString(),
    path: request.url,
    requestId: String(request.id),
    ...(ids ? { traceId: ids.traceId } : {}),
    ...(err.details ? { details: [...err.details] } : {}),
    ...(err.hint ? { hint: err.hint } : {}),
  };
}

function toAppError(err: FastifyError | Error, translators: readonly ErrorTranslator[]): AppError {
  if (err instanceof AppError) return err;
  const fe = err as FastifyError;
  if (fe.validation) {
    const details = fe.validation.map((v) => validationDetail(fe.validationContext, v));
    return appError(
      'VALIDATION',
      `Invalid ${fe.validationContext ?? 'request'}: ${details.map((d) => `${d.field ? `${d.field} ` : ''}${d.message}`).join('; ')}`,
      {
        details,
      },
    );
  }
  for (const translate of translators) {
    const translated = translate(err);
    if (translated) return translated;
  }
  const mapped = fe.code ? FASTIFY_CODES[fe.code] : undefined;
  if (mapped) return appError(mapped, fe.message, { cause: err });
  if (typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
    return new AppError(fe.code ?? `E_HTTP_${fe.statusCode}`, fe.statusCode, fe.message, { cause: err });
  }
  return appError('INTERNAL', undefined, { cause: err });
}

interface AjvLikeError {
  instancePath?: string;
  message?: string;
  keyword?: string;
  params?: Record<string, unknown>;
}

function validationDetail(context: string | undefined, v: AjvLikeError): ErrorDetail {
  const path = (v.instancePath ?? '').replace(/^\//, '').replaceAll('/', '.');
  const extra = v.params?.additionalProperty ?? v.params?.missingProperty;
  const field =
    [path, typeof extra === 'string' ? extra : ''].filter(Boolean).join('.') || context || undefined;
  let message = v.message ?? 'is invalid';
  if (v.keyword === 'additionalProperties') message = 'is not a known parameter';
  if (v.keyword === 'required') message = 'is required';
  const allowed = v.params?.allowedValues;
  if (Array.isArray(allowed)) message = `must be one of ${allowed.join(', ')}`;
  return { ...(field ? { field } : {}), message, ...(context ? { in: context } : {}) };
}
