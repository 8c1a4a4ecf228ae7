// A lead as the engine queues it: the input schema (validated before anything is written), the
// compact record kept per queued lead, and the order key. The record holds everything an offer
// needs, packed into one short string so that ~128 of them fit a listpack-encoded Redis hash.
import { z } from 'zod';
import type { AgentId, LeadId } from './ids.js';
import { agentIdSchema, leadIdSchema } from './ids.js';
import type { ZoneKey } from './calling-window.js';

/** E.164: a plus, a non-zero country digit, 7 to 15 digits in all. */
export const e164Schema = z
  .string()
  .regex(/^\+[1-9]\d{6,14}$/, 'must be an E.164 number such as +447700900123');

// The record separator (ASCII unit separator). Names and field values may hold any printable
// text, so control characters are refused at the edge and this byte can never occur inside one.
export const SEP = '\x1f';
// eslint-disable-next-line no-control-regex
const NO_CONTROL = /^[^\x00-\x1f\x7f]*$/;

export const MAX_PRIORITY = 255;
const MAX_FIELDS_JSON = 4096;

export const leadInputSchema = z.object({
  id: leadIdSchema,
  phone: e164Schema,
  name: z.string().max(120).regex(NO_CONTROL, 'must not contain control characters').default(''),
  /** One IANA zone, several candidate zones (dial only when all are inside the window), or null (never dialled). */
  timeZone: z
    .union([z.string().min(1).max(64), z.array(z.string().min(1).max(64)).max(8), z.null()])
    .default(null),
  /** 0..255, higher first. */
  priority: z.number().int().min(0).max(MAX_PRIORITY).default(0),
  /** Epoch ms when the lead becomes dialable; absent or past means now. */
  dueAt: z.number().int().min(0).max(8.64e15).optional(),
  attempts: z.number().int().min(0).max(100_000).default(0),
  pinnedAgentId: agentIdSchema.optional(),
  fields: z
    .record(z.string().min(1).max(64).regex(NO_CONTROL), z.string().max(1000).regex(NO_CONTROL))
    .refine(
      (f) => JSON.stringify(f).length <= MAX_FIELDS_JSON,
      `custom fields must be at most ${MAX_FIELDS_JSON} bytes`,
    )
    .optional(),
});

export type LeadInput = z.input<typeof leadInputSchema>;
export type ValidLead = z.output<typeof leadInputSchema>;

const ID = /^[A-Za-z0-9_-]{1,64}$/;
const E164 = /^\+[1-9]\d{6,14}$/;
const isZoneName = (z: unknown): z is string => typeof z === 'string' && z.length >= 1 && z.length <= 64;
const has = (o: object, k: string): boolean => Object.prototype.hasOwnProperty.call(o, k);
const isIntIn = (n: unknown, max: number): n is number =>
  typeof n === 'number' && Number.isSafeInteger(n) && n >= 0 && n <= max;

/**
 * `leadInputSchema` (or, with `withId` false, the schema without `id`) for the leads a bulk import
 * makes, without zod's cost (its parse was a fifth of an import's CPU and a third of what it
 * allocated, twice per lead): the parsed lead when `input` is plainly valid, exactly as zod would
 * output it; undefined for anything else, valid or not, which the caller then parses with zod
 * (so every error is zod's). A property test checks it against the schema.
 */
export function plainLead(input: unknown, withId: true): ValidLead | undefined;
export function plainLead(input: unknown, withId: false): Omit<ValidLead, 'id'> | undefined;
export function plainLead(input: unknown, withId: boolean): Omit<ValidLead, 'id'> | undefined {
  if (typeof input !== 'object' || input === null || Object.getPrototypeOf(input) !== Object.prototype)
    return undefined;
  const l = input as Record<string, unknown>;
  if (withId && !(typeof l.id === 'string' && ID.test(l.id))) return undefined;
  if (!(typeof l.phone === 'string' && E164.test(l.phone))) return undefined;
  const name = l.name === undefined ? '' : l.name;
  if (!(typeof name === 'string' && name.length <= 120 && NO_CONTROL.test(name))) return undefined;
  let timeZone: string | string[] | null;
  if (l.timeZone === undefined || l.timeZone === null) timeZone = null;
  else if (isZoneName(l.timeZone)) timeZone = l.timeZone;
  else if (Array.isArray(l.timeZone) && l.timeZone.length <= 8) {
    const zones: unknown[] = l.timeZone;
    for (let i = 0; i < zones.length; i++) if (!isZoneName(zones[i])) return undefined;
    timeZone = zones.slice() as string[];
  } else return undefined;
  const priority = l.priority === undefined ? 0 : l.priority;
  const attempts = l.attempts === undefined ? 0 : l.attempts;
  if (!isIntIn(priority, MAX_PRIORITY) || !isIntIn(attempts, 100_000)) return undefined;
  // An optional key present with undefined as its value: zod's to answer.
  if (has(l, 'dueAt') && !isIntIn(l.dueAt, 8.64e15)) return undefined;
  if (has(l, 'pinnedAgentId') && !(typeof l.pinnedAgentId === 'string' && ID.test(l.pinnedAgentId)))
    return undefined;
  let fields: Record<string, string> | undefined;
  if (has(l, 'fields')) {
    const f = l.fields;
    if (typeof f !== 'object' || f === null || Object.getPrototypeOf(f) !== Object.prototype)
      return undefined;
    if (Object.getOwnPropertySymbols(f).length > 0) return undefined;
    const keys = Object.keys(f);
    if (keys.length !== Object.getOwnPropertyNames(f).length) return undefined;
    fields = {};
    for (const key of keys) {
      const v = (f as Record<string, unknown>)[key];
      if (key === '__proto__' || key.length < 1 || key.length > 64 || !NO_CONTROL.test(key)) return undefined;
      if (!(typeof v === 'string' && v.length <= 1000 && NO_CONTROL.test(v))) return undefined;
      fields[key] = v;
    }
    if (JSON.stringify(fields).length > MAX_FIELDS_JSON) return undefined;
  }
  const out: { -readonly [K in keyof ValidLead]?: ValidLead[K] } = {};
  if (withId) out.id = l.id as LeadId;
  out.phone = l.phone;
  out.name = name;
  out.timeZone = timeZone;
  out.priority = priority;
  if (has(l, 'dueAt')) out.dueAt = l.dueAt as number;
  out.attempts = attempts;
  if (has(l, 'pinnedAgentId')) out.pinnedAgentId = l.pinnedAgentId as AgentId;
  if (fields) out.fields = fields;
  return out as Omit<ValidLead, 'id'>;
}

/** What an offer carries about the lead. */
export interface QueuedLead {
  readonly id: LeadId;
  readonly phone: string;
  readonly name: string;
  readonly timeZone: ZoneKey;
  readonly priority: number;
  /** Attempts already made before this one. */
  readonly attempts: number;
  readonly pinnedAgentId: AgentId | null;
  readonly fields: Readonly<Record<string, string>>;
}

/**
 * The packed record. Field order is shared with `redis/lua/includes/lead.lua`:
 * attempts, priority, zone index, pinned agent, lead id, phone digits (E.164 without "+"),
 * name, custom fields as JSON ('' when none).
 */
export interface LeadRecord {
  attempts: number;
  priority: number;
  zone: number;
  pinned: string;
  leadId: string;
  phoneDigits: string;
  name: string;
  fieldsJson: string;
}

export function encodeLeadRecord(r: LeadRecord): string {
  return [r.attempts, r.priority, r.zone, r.pinned, r.leadId, r.phoneDigits, r.name, r.fieldsJson].join(SEP);
}

export function decodeLeadRecord(s: string): LeadRecord {
  const p = s.split(SEP);
  if (p.length !== 8) throw new Error(`corrupt lead record (${p.length} fields)`);
  return {
    attempts: Number(p[0]),
    priority: Number(p[1]),
    zone: Number(p[2]),
    pinned: p[3]!,
    leadId: p[4]!,
    phoneDigits: p[5]!,
    name: p[6]!,
    fieldsJson: p[7]!,
  };
}

export function toQueuedLead(r: LeadRecord, zone: ZoneKey): QueuedLead {
  return {
    id: r.leadId as LeadId,
    phone: `+${r.phoneDigits}`,
    name: r.name,
    timeZone: zone,
    priority: r.priority,
    attempts: r.attempts,
    pinnedAgentId: r.pinned === '' ? null : (r.pinned as AgentId),
    fields: r.fieldsJson === '' ? {} : (JSON.parse(r.fieldsJson) as Record<string, string>),
  };
}

/**
 * Queue members are per-campaign enqueue sequence numbers, written as a length digit followed by
 * the decimal digits ("15" for 5, "3123" for 123). Redis orders equal scores by member bytes, and
 * this encoding makes byte order equal numeric order, so "first in" needs no bits of the score.
 */
export function memberOf(seq: number): string {
  const s = String(seq);
  return String.fromCharCode(48 + s.length) + s;
}

export function seqOf(member: string): number {
  return Number(member.slice(1));
}

/** Leads per record bucket: small enough that Redis keeps each bucket as a listpack. */
export const RECORD_BUCKET_SIZE = 128;

export const recordBucketOf = (member: string): number => Math.floor(seqOf(member) / RECORD_BUCKET_SIZE);

// The phone index (Redis) is bucketed by linear hashing over the last 7 digits, growing with the
// campaign: redis/lua/includes/keys.lua.

const PRIORITY_SHIFT = 2 ** 44; // due times up to 2^44 ms (year 2527) fit below the priority band

/**
 * Order key of a ready lead: higher priority first, then earlier due. Exact in a double
 * (255 * 2^44 + 2^44 < 2^53). A lead put back after a reject or an expired lease gets due 0,
 * the head of its priority.
 */
export function readyScore(priority: number, dueMs: number): number {
  const due = Math.min(Math.max(Math.trunc(dueMs), 0), PRIORITY_SHIFT - 1);
  return (MAX_PRIORITY - priority) * PRIORITY_SHIFT + due;
}
