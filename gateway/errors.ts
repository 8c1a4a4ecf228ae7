// The gateway's error class and the one place any thrown thing becomes a wire error: engine
// errors keep their codes, validation failures list their issues, anything else is INTERNAL
// (and logged, never shown).
import { z } from 'zod';
import { EngineError } from '../engine/errors.js';
import { DbError } from '../db/index.js';
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
  DEVICE_LIMIT: 'DEVICE_LIMIT',
  WRITER_CLOSED: 'UNAVAILABLE',
  WRITE_FAILED: 'INTERNAL',
};

export function toWireError(err: unknown): WireError {
  if (err instanceof GatewayError) return { code: err.code, message: err.message };
  if (err instanceof EngineError) return { code: err.code, message: err.message };
  if (err instanceof DbError) {
    const code = DB_CODES[err.code];
    return { code, message: code === 'INTERNAL' ? WIRE_ERRORS.INTERNAL.message : err.message };
  }
  if (err instanceof z.ZodError) {
    return {
      code: 'PAYLOAD_INVALID',
      message: WIRE_ERRORS.PAYLOAD_INVALID.message,
      issues: err.issues.slice(0, 20).map((i) => ({ path: i.path.join('.'), message: i.message })),
    };
  }
  return { code: 'INTERNAL', message: WIRE_ERRORS.INTERNAL.message };
}

export function statusOf(error: WireError): number {
  return WIRE_ERRORS[error.code].status;
}

export const isInternal = (error: WireError): boolean => error.code === 'INTERNAL';
