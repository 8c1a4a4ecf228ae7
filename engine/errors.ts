// The engine's own error set. Every failure an engine operation can report has a stable code
// here; the gateway maps these codes onto its wire/HTTP error catalog. Lua scripts report the
// same failures as negative integers (see `codeFromScriptStatus`), so a Redis-backed and a
// memory-backed store throw exactly the same errors.

export const ENGINE_ERRORS = {
  CAMPAIGN_UNKNOWN: 'No such campaign in this tenant',
  CAMPAIGN_INVALID: 'Campaign configuration is invalid',
  LEAD_INVALID: 'Lead is malformed',
  INPUT_INVALID: 'Request is malformed',
  LEASE_UNKNOWN: 'No such lease',
  LEASE_STALE: 'Lease is no longer current',
  LEASE_EXPIRED: 'Lease has expired',
  LEASE_NOT_OWNED: 'Lease belongs to another agent',
  LEASE_NOT_ACCEPTED: 'Lease has not been accepted yet',
  OUTCOME_UNKNOWN: 'Outcome code is not defined for this campaign',
  CALLBACK_REQUIRED: 'This outcome needs a callback time and scope',
  CALLBACK_INVALID: 'Callback is malformed or out of range',
  AGENT_BUSY: 'Agent already holds a live lease',
  CAMPAIGN_STALE: "The campaign's queue may have lost writes and is being rebuilt from the system of record",
  OUTSIDE_CALLING_WINDOW: "The lead's calling window has closed",
} as const;

export type EngineErrorCode = keyof typeof ENGINE_ERRORS;

export class EngineError extends Error {
  override readonly name = 'EngineError';
  readonly code: EngineErrorCode;
  readonly details: Readonly<Record<string, unknown>> | undefined;

  constructor(code: EngineErrorCode, message?: string, details?: Record<string, unknown>) {
    super(message ?? ENGINE_ERRORS[code]);
    this.code = code;
    this.details = details;
  }
}

export function isEngineError(err: unknown, code?: EngineErrorCode): err is EngineError {
  return err instanceof EngineError && (code === undefined || err.code === code);
}

/**
 * Script status codes. Lua scripts return these negative integers instead of raising, so that a
 * batch call can report one status per item. `engine/redis/lua/includes/status.lua` declares the
 * same numbers; a unit test keeps the two tables in step.
 */
export const SCRIPT_STATUS = {
  CAMPAIGN_UNKNOWN: -1,
  LEASE_UNKNOWN: -2,
  LEASE_STALE: -3,
  LEASE_EXPIRED: -4,
  LEASE_NOT_OWNED: -5,
  LEASE_NOT_ACCEPTED: -6,
  OUTCOME_UNKNOWN: -7,
  CALLBACK_REQUIRED: -8,
  AGENT_BUSY: -9,
  CONFIG_STALE: -10,
  CALLBACK_INVALID: -11,
  CAMPAIGN_STALE: -12,
  OUTSIDE_CALLING_WINDOW: -13,
} as const satisfies Partial<Record<EngineErrorCode | 'CONFIG_STALE', number>>;

export type ScriptStatusName = keyof typeof SCRIPT_STATUS;

const STATUS_BY_NUMBER = new Map<number, ScriptStatusName>(
  Object.entries(SCRIPT_STATUS).map(([name, n]) => [n, name as ScriptStatusName]),
);

export function statusName(status: number): ScriptStatusName | undefined {
  return STATUS_BY_NUMBER.get(status);
}

export const STATUS_OK = 1;
export const STATUS_DUPLICATE = 2;

/** The engine error a negative script status stands for. */
export function errorFromStatus(status: number, details?: Record<string, unknown>): Error {
  const name = statusName(status);
  if (name === undefined || name === 'CONFIG_STALE') return new Error(`unexpected script status ${status}`);
  return new EngineError(name, undefined, details);
}

/** The error code a negative script status stands for (batch results carry codes, not throws). */
export function codeFromStatus(status: number): EngineErrorCode {
  const name = statusName(status);
  if (name === undefined || name === 'CONFIG_STALE') throw new Error(`unexpected script status ${status}`);
  return name;
}
