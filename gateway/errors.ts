// The gateway's error class and the one place any thrown thing becomes a wire error: engine
// errors keep their codes, validation failures list their issues, anything else is INTERNAL
// (and logged, never shown).
import { z } from 'zod';
import { EngineError } from '../engine/errors.js';
import { DbError, LEAD_FIELDS_CONSTRAINT, pgCode, pgConstraint } from '../db/index.js';
import type { DbErrorCode } from '../db/index.js';
import { WIRE_ERRORS } from './protocol/errors.js';
import type { WireError, WireErrorCode } from './protocol/errors.js';

export class GatewayError extends Error {
  override readonly name = 'GatewayError';
  constructor(
    readonly code: WireErrorCode,
    message?: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message ?? WIRE_ERRORS[code].message);
  }

  get status(): number {
    return WIRE_ERRORS[this.code].status;
  }
}

/** Database failures as the wire sees them (never with pg's detail, which can quote row values). */
const DB_CODES: Record<DbErrorCode, WireErrorCode> = {
  INPUT_INVALID: 'INPUT_INVALID',
  CONFLICT: 'CONFLICT',
  TENANT_UNKNOWN: 'NOT_FOUND',
  USER_UNKNOWN: 'NOT_FOUND',
  CAMPAIGN_UNKNOWN: 'CAMPAIGN_UNKNOWN',
  LEAD_UNKNOWN: 'NOT_FOUND',
  IMPORT_UNKNOWN: 'NOT_FOUND',
  DEVICE_LIMIT: 'DEVICE_LIMIT',
  WRITER_CLOSED: 'UNAVAILABLE',
  // A batch that rolled back saved nothing: the same completion may be retried.
  WRITE_FAILED: 'UNAVAILABLE',
  LEASE_VOID: 'LEASE_STALE',
  LEASE_CONFLICT: 'LEASE_CONFLICT',
};

// Failures of the connection to Redis or Postgres (refused, reset, timed out, client offline):
// nothing was done, or nothing is known to be; the client may retry.
const TRANSIENT_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTCONN',
  'EHOSTUNREACH',
]);
const TRANSIENT_NAMES = new Set([
  'ClientOfflineError',
  'ClientClosedError',
  'ConnectionTimeoutError',
  'SocketClosedUnexpectedlyError',
  'TimeoutError',
  'KnexTimeoutError',
  'AbortError',
]);

export function isTransient(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && TRANSIENT_CODES.has(code)) return true;
  if (TRANSIENT_NAMES.has(err.name) || TRANSIENT_NAMES.has(err.constructor.name)) return true;
  return /Connection terminated|connection timeout|timed out|The client is closed/i.test(err.message);
}

const wire = (code: WireErrorCode, message: string = WIRE_ERRORS[code].message): WireError => ({
  code,
  message,
  retryable: WIRE_ERRORS[code].retryable,
});

export function toWireError(err: unknown): WireError {
  if (err instanceof GatewayError) return wire(err.code, err.message);
  if (err instanceof EngineError) return wire(err.code, err.message);
  if (err instanceof DbError) {
    const code = DB_CODES[err.code];
    return wire(
      code,
      code === 'INTERNAL' || code === 'UNAVAILABLE' ? WIRE_ERRORS[code].message : err.message,
    );
  }
  // The leads triggers' refusal of custom fields over the tenant's limits (migration 0012): its
  // message names the limit, never a value.
  if (err instanceof Error && pgCode(err) === '23514' && pgConstraint(err) === LEAD_FIELDS_CONSTRAINT) {
    return wire('LEAD_INVALID', err.message);
  }
  if (err instanceof z.ZodError) {
    return {
      ...wire('PAYLOAD_INVALID'),
      issues: err.issues.slice(0, 20).map((i) => ({ path: i.path.join('.'), message: i.message })),
    };
  }
  if (isTransient(err)) return wire('UNAVAILABLE');
  return wire('INTERNAL');
}

export function statusOf(error: WireError): number {
  return WIRE_ERRORS[error.code].status;
}

export const isInternal = (error: WireError): boolean => error.code === 'INTERNAL';
