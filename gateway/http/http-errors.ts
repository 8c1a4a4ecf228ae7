// How a failure leaves the HTTP API: every thrown thing becomes `{ error: { code, message, issues? } }`
// with the status of its wire code. Gateway, engine, db and zod errors go through toWireError (the
// one mapping shared with the sockets); express's body-parser errors are mapped here.
// Anything else is INTERNAL: logged (without pg's `detail`, which can quote row values such as
// phone numbers) and never shown.
import type { ErrorRequestHandler, RequestHandler } from 'express';
import { GatewayError, statusOf, toWireError } from '../errors.js';
import type { Logger } from '../logger.js';
import { WIRE_ERRORS } from '../protocol/errors.js';
import type { WireError, WireErrorCode } from '../protocol/errors.js';

const messageOf = (code: WireErrorCode): string => WIRE_ERRORS[code].message;

/** body-parser's errors carry a `type` and a status; none carries the body's content. */
function bodyParserError(err: unknown): WireError | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const type = (err as { type?: unknown }).type;
  if (typeof type !== 'string') return undefined;
  switch (type) {
    case 'entity.too.large': {
      const limit = (err as { limit?: unknown }).limit;
      return {
        code: 'PAYLOAD_TOO_LARGE',
        message:
          typeof limit === 'number'
            ? `Request body is larger than this route's limit of ${limit} bytes`
            : messageOf('PAYLOAD_TOO_LARGE'),
        retryable: false,
      };
    }
    case 'entity.parse.failed':
      return { code: 'BAD_REQUEST', message: 'Request body is not valid JSON', retryable: false };
    case 'encoding.unsupported':
    case 'charset.unsupported':
    case 'request.aborted':
    case 'request.size.invalid':
    case 'stream.encoding.set':
    case 'parameters.too.many':
      return { code: 'BAD_REQUEST', message: messageOf('BAD_REQUEST'), retryable: false };
    default:
      return undefined;
  }
}

export function toHttpError(err: unknown): WireError {
  return bodyParserError(err) ?? toWireError(err);
}

/** The error body, and its log line when it is our fault. */
export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (err: unknown, req, res, next) => {
    if (res.headersSent) {
      next(err);
      return;
    }
    const error = toHttpError(err);
    const status = statusOf(error);
    if (status >= 500) {
      const e = err instanceof Error ? err : new Error(String(err));
      const code = (err as { code?: unknown } | null)?.code;
      (req.log ?? logger).error(
        {
          err: { type: e.name, message: e.message, stack: e.stack, code },
          method: req.method,
          path: req.path,
        },
        'http.internal_error',
      );
    }
    if (error.code === 'UNAUTHENTICATED') res.set('WWW-Authenticate', 'Bearer realm="dialhub"');
    const retryAfter = err instanceof GatewayError ? err.details?.retryAfterSeconds : undefined;
    if (typeof retryAfter === 'number') res.set('Retry-After', String(retryAfter));
    res.status(status).json({ error });
  };
}

export const notFound: RequestHandler = (_req, res) => {
  res.status(404).json({ error: { code: 'NOT_FOUND', message: WIRE_ERRORS.NOT_FOUND.message } });
};
