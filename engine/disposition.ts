// Disposition policy: what an outcome code does to a lead. Each campaign maps its codes to a
// policy; the system codes always exist (a campaign may tune their delays and limits but not
// change what they are: `dnc` always suppresses the number, `callback` always schedules one).
import { z } from 'zod';

export const outcomeCodeSchema = z
  .string()
  .regex(/^[a-z][a-z0-9_]{0,31}$/, 'must be lower_snake_case, 1-32 chars');
export type OutcomeCode = z.infer<typeof outcomeCodeSchema>;

export const SYSTEM_OUTCOMES = [
  'answered',
  'no_answer',
  'busy',
  'voicemail',
  'failed',
  'invalid_number',
  'dnc',
  'callback',
] as const;
export type SystemOutcome = (typeof SYSTEM_OUTCOMES)[number];

const DAY_MS = 86_400_000;

export const dispositionPolicySchema = z
  .object({
    /** The lead leaves the queue for good. */
    final: z.boolean(),
    /** Not final: dial again this long after the outcome. */
    retryDelayMs: z
      .number()
      .int()
      .min(0)
      .max(90 * DAY_MS)
      .default(0),
    /** Not final: give up (final) once the lead has had this many attempts. 0 means no limit. */
    maxAttempts: z.number().int().min(0).max(1000).default(0),
    /** The call reached the person (answer-rate reporting). */
    contact: z.boolean().default(false),
    /** Add the number to the tenant's do-not-call list. Implies final. */
    dnc: z.boolean().default(false),
    /** Schedule a callback at a time the agent gives, for that agent or anyone. Not final. */
    callback: z.boolean().default(false),
  })
  .refine((p) => !(p.dnc && !p.final), { message: 'a dnc outcome must be final' })
  .refine((p) => !(p.callback && p.final), { message: 'a callback outcome cannot be final' });

export type DispositionPolicy = z.output<typeof dispositionPolicySchema>;
export type DispositionPolicyInput = z.input<typeof dispositionPolicySchema>;

const MIN = 60_000;

export const SYSTEM_DISPOSITIONS: Readonly<Record<SystemOutcome, DispositionPolicy>> = {
  answered: { final: true, retryDelayMs: 0, maxAttempts: 0, contact: true, dnc: false, callback: false },
  no_answer: {
    final: false,
    retryDelayMs: 60 * MIN,
    maxAttempts: 5,
    contact: false,
    dnc: false,
    callback: false,
  },
  busy: { final: false, retryDelayMs: 15 * MIN, maxAttempts: 5, contact: false, dnc: false, callback: false },
  voicemail: {
    final: false,
    retryDelayMs: 240 * MIN,
    maxAttempts: 3,
    contact: false,
    dnc: false,
    callback: false,
  },
  failed: {
    final: false,
    retryDelayMs: 30 * MIN,
    maxAttempts: 3,
    contact: false,
    dnc: false,
    callback: false,
  },
  invalid_number: {
    final: true,
    retryDelayMs: 0,
    maxAttempts: 0,
    contact: false,
    dnc: false,
    callback: false,
  },
  dnc: { final: true, retryDelayMs: 0, maxAttempts: 0, contact: true, dnc: true, callback: false },
  callback: { final: false, retryDelayMs: 0, maxAttempts: 0, contact: true, dnc: false, callback: true },
};

export const dispositionsSchema = z
  .record(outcomeCodeSchema, dispositionPolicySchema)
  .default({})
  .transform((custom) => ({ ...SYSTEM_DISPOSITIONS, ...custom }))
  .refine((all) => all.dnc.dnc, { message: 'the system outcome "dnc" must keep dnc: true' })
  .refine((all) => all.callback.callback, {
    message: 'the system outcome "callback" must keep callback: true',
  })
  .refine((all) => Object.keys(all).length <= 64, { message: 'at most 64 outcome codes' });

export type Dispositions = Readonly<Record<string, DispositionPolicy>>;

/** Compact form stored in the campaign config hash and read by the complete script. */
export function encodePolicy(p: DispositionPolicy): string {
  const b = (v: boolean) => (v ? '1' : '0');
  return [b(p.final), p.retryDelayMs, p.maxAttempts, b(p.contact), b(p.dnc), b(p.callback)].join(',');
}

export function decodePolicy(s: string): DispositionPolicy {
  const [final, delay, max, contact, dnc, callback] = s.split(',');
  return {
    final: final === '1',
    retryDelayMs: Number(delay),
    maxAttempts: Number(max),
    contact: contact === '1',
    dnc: dnc === '1',
    callback: callback === '1',
  };
}

/** Where a completed lead goes. Shared by both stores so they decide identically. */
export type Disposition =
  | { readonly kind: 'final' }
  | { readonly kind: 'exhausted' }
  | { readonly kind: 'dnc' }
  | { readonly kind: 'retry'; readonly dueAt: number }
  | { readonly kind: 'callback'; readonly dueAt: number; readonly pinnedAgentId: string | null };

export interface CallbackRequest {
  readonly at: number;
  readonly scope: 'agent' | 'anyone';
}

/**
 * Decide the disposition of a lead that has now had `attempts` attempts (this one included).
 * Mirrored line for line by `redis/lua/includes/disposition.lua`.
 */
export function decideDisposition(
  policy: DispositionPolicy,
  attempts: number,
  now: number,
  agentId: string,
  callback: CallbackRequest | undefined,
): Disposition {
  if (policy.dnc) return { kind: 'dnc' };
  if (policy.final) return { kind: 'final' };
  if (policy.callback && callback) {
    return {
      kind: 'callback',
      dueAt: Math.max(callback.at, now),
      pinnedAgentId: callback.scope === 'agent' ? agentId : null,
    };
  }
  if (policy.maxAttempts > 0 && attempts >= policy.maxAttempts) return { kind: 'exhausted' };
  return { kind: 'retry', dueAt: now + policy.retryDelayMs };
}

export function encodeDisposition(d: Disposition): string {
  switch (d.kind) {
    case 'final':
    case 'exhausted':
    case 'dnc':
      return d.kind;
    case 'retry':
      return `retry:${d.dueAt}`;
    case 'callback':
      return `callback:${d.dueAt}:${d.pinnedAgentId ?? ''}`;
    default: {
      const never: never = d;
      throw new Error(`unknown disposition ${JSON.stringify(never)}`);
    }
  }
}

export function decodeDisposition(s: string): Disposition {
  const [kind = '', due, agent] = s.split(':');
  switch (kind) {
    case 'final':
    case 'exhausted':
    case 'dnc':
      return { kind };
    case 'retry':
      return { kind, dueAt: Number(due) };
    case 'callback':
      return { kind, dueAt: Number(due), pinnedAgentId: agent ? agent : null };
    default:
      throw new Error(`corrupt disposition "${s}"`);
  }
}
