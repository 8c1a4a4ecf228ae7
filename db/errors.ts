// The db component's own error set. Every failure a repository or the outcome writer reports has
// a stable code here; the gateway maps these codes onto its wire/HTTP error catalog, as it does
// for the engine's. Messages never carry phone numbers, names or other lead data.

export const DB_ERRORS = {
  INPUT_INVALID: 'Input is malformed',
  CONFLICT: 'A row with this id already exists',
  TENANT_UNKNOWN: 'No such tenant',
  USER_UNKNOWN: 'No such user in this tenant',
  CAMPAIGN_UNKNOWN: 'No such campaign in this tenant',
  LEAD_UNKNOWN: 'No such lead in this campaign',
  IMPORT_UNKNOWN: 'No such import in this tenant',
  DEVICE_LIMIT: "The tenant's plan allows no more devices",
  WRITER_CLOSED: 'The outcome writer is closed',
  WRITE_FAILED: 'The outcome batch could not be committed',
  LEASE_VOID: "This lease's completion was fenced out: its lead went back to the queue",
  LEASE_CONFLICT: 'This lease id is on record for another lead',
} as const;

export type DbErrorCode = keyof typeof DB_ERRORS;

export class DbError extends Error {
  override readonly name = 'DbError';
  readonly code: DbErrorCode;
  readonly details: Readonly<Record<string, unknown>> | undefined;

  constructor(
    code: DbErrorCode,
    message?: string,
    details?: Record<string, unknown>,
    options?: { cause?: unknown },
  ) {
    super(message ?? DB_ERRORS[code], options);
    this.code = code;
    this.details = details;
  }
}

export function isDbError(err: unknown, code?: DbErrorCode): err is DbError {
  return err instanceof DbError && (code === undefined || err.code === code);
}

/** The SQLSTATE of a Postgres error as the pg driver reports it, if it is one. */
export function pgCode(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
}

/** The constraint a Postgres integrity error names (pg puts it on the error object). */
export function pgConstraint(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const constraint = (err as { constraint?: unknown }).constraint;
  return typeof constraint === 'string' ? constraint : undefined;
}

export const PG_UNIQUE_VIOLATION = '23505';
export const PG_FOREIGN_KEY_VIOLATION = '23503';

/** The name the leads triggers give a refusal of custom fields over the tenant's limits (0012). */
export const LEAD_FIELDS_CONSTRAINT = 'lead_fields_within_plan';
