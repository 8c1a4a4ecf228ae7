// Input checks at the db edge. Every repository method parses its arguments with zod before any
// SQL runs, so a malformed id or value fails with INPUT_INVALID instead of reaching Postgres (and
// a tenant id is always a well-formed one before it scopes a query).
import { z } from 'zod';
import { tenantIdSchema } from '../engine/ids.js';
import type { TenantId } from '../engine/ids.js';
import { DbError } from './errors.js';

export function parseInput<S extends z.ZodType>(schema: S, input: unknown, what: string): z.output<S> {
  const parsed = schema.safeParse(input);
  if (!parsed.success) {
    // prettifyError names paths and rules, never the offending values (which may be phone numbers).
    throw new DbError('INPUT_INVALID', `${what}: ${z.prettifyError(parsed.error)}`);
  }
  return parsed.data;
}

/** The tenant every query is scoped to. */
export function tenantOf(tenantId: string): TenantId {
  return parseInput(tenantIdSchema, tenantId, 'tenant id');
}

export const PHONE_E164 = /^\+[1-9]\d{6,14}$/;

/** Lead ids are Postgres bigint identities, handled as decimal strings (they outgrow a JS number). */
export const dbLeadIdSchema = z
  .string()
  .regex(/^[1-9]\d{0,18}$/, 'must be a lead id (a positive integer)')
  .refine((s) => !/^\d+$/.test(s) || BigInt(s) <= 9_223_372_036_854_775_807n, 'lead id is out of range');

/** A string Postgres can store in text and jsonb: no NUL, no lone UTF-16 surrogate. */
export const storableText = (max: number) =>
  z
    .string()
    .max(max)
    .refine((s) => !UNSTORABLE.test(s), 'must not contain NUL or unpaired surrogates');

// eslint-disable-next-line no-control-regex
const UNSTORABLE = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** True when every string inside a JSON-like value (keys included) is storable. */
export function isStorableJson(value: unknown): boolean {
  if (typeof value === 'string') return !UNSTORABLE.test(value);
  if (Array.isArray(value)) return value.every(isStorableJson);
  if (typeof value === 'object' && value !== null) {
    return Object.entries(value).every(([k, v]) => !UNSTORABLE.test(k) && isStorableJson(v));
  }
  return true;
}

/** Epoch ms as Postgres receives a timestamptz (ISO 8601, ms precision, UTC). */
export const toTimestamp = (ms: number): string => new Date(ms).toISOString();

/** A timestamptz as the pg driver returns it, back to epoch ms. */
export const fromTimestamp = (value: Date | string): number =>
  value instanceof Date ? value.getTime() : new Date(value).getTime();
