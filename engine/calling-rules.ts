// Calling rules as data: a campaign's preset and the rule packs a tenant adds per region, and how
// they reach the queue. A pack applies to the leads of its zones (every lead when it names none)
// and may: narrow the hours (its own or a preset's, intersected with the campaign's window),
// close holidays (local dates on which the region's window is closed), cap the calls to one
// number in a period, keep a minimum gap between two calls to one number, and lock a number out
// for a while after an outcome (an abandoned call).
//
// Hours and holidays are compiled into the zone's calling-window intervals (calling-window.ts),
// which the lease already checks. The per-number rules are compiled per zone key into "limits"
// the lease scripts check against the number's call history, inside the same atomic step that
// grants the lease (redis/lua/includes/rules.lua, mirrored by the memory store and by `heldUntil`
// here). A lead under several zones gets the strictest of every pack of any of its zones.
import { z } from 'zod';
import { CALLING_PRESETS, PRESET_IDS, presetOf } from './calling-presets.js';
import type { CallCap, PresetId } from './calling-presets.js';
import { callingWindowSchema, computeWindowOf, isValidZone, localDay, zonesOf } from './calling-window.js';
import type { CallingWindow, HoursOf, ZoneHours, ZoneKey } from './calling-window.js';
import { outcomeCodeSchema } from './disposition.js';

const MINUTE_MS = 60_000;
const DAY_MS = 24 * 60 * MINUTE_MS;
const MAX_RULE_MS = 366 * DAY_MS;

const isoDateSchema = z
  .string()
  .regex(/^\d{4}-\d\d-\d\d$/, 'must be a date YYYY-MM-DD')
  .refine((d) => {
    const ms = Date.parse(`${d}T00:00:00Z`);
    return Number.isFinite(ms) && new Date(ms).toISOString().slice(0, 10) === d;
  }, 'must be a real calendar date');

const zoneNameSchema = z
  .string()
  .min(1)
  .max(64)
  .refine(isValidZone, 'must be an IANA time zone such as America/New_York');

export const callCapSchema = z.strictObject({
  count: z.number().int().min(1).max(1000),
  periodMs: z.number().int().min(MINUTE_MS).max(MAX_RULE_MS),
});

export const presetIdSchema = z.enum(PRESET_IDS);

export const rulePackSchema = z.strictObject({
  name: z.string().trim().min(1).max(64),
  /** The region: leads with any of these candidate zones. Absent: every lead. */
  zones: z.array(zoneNameSchema).min(1).max(600).optional(),
  /** A preset's hours and call caps for the region. */
  preset: presetIdSchema.optional(),
  /** Hours of the region (local time), on top of the campaign's window: both must allow a call. */
  hours: callingWindowSchema.optional(),
  /** Local dates on which the region's window is closed all day. */
  holidays: z.array(isoDateSchema).max(400).default([]),
  /** Caps on the calls to one number (every cap holds). */
  maxCalls: z.array(callCapSchema).max(4).default([]),
  /** No call to a number sooner than this after its previous call (ms). */
  minGapMs: z.number().int().min(0).max(MAX_RULE_MS).default(0),
  /** After a call with one of these outcomes, the number is not called for `durationMs`. */
  lockout: z
    .strictObject({
      outcomes: z.array(outcomeCodeSchema).min(1).max(16),
      durationMs: z.number().int().min(MINUTE_MS).max(MAX_RULE_MS),
    })
    .optional(),
});

export const callingRulesSchema = z.strictObject({
  /** Hours and caps of a preset (engine/calling-presets.ts) for every lead of the campaign. */
  preset: presetIdSchema.optional(),
  packs: z.array(rulePackSchema).max(32).default([]),
});

export type RulePack = z.output<typeof rulePackSchema>;
export type RulePackInput = z.input<typeof rulePackSchema>;
export type CallingRules = z.output<typeof callingRulesSchema>;
export type CallingRulesInput = z.input<typeof callingRulesSchema>;

export const NO_RULES: CallingRules = Object.freeze({ packs: Object.freeze([]) }) as unknown as CallingRules;

/** The packs a preset choice stands for, then the tenant's own. */
function effectivePacks(rules: CallingRules): RulePack[] {
  const packs: RulePack[] = [];
  if (rules.preset !== undefined) packs.push(presetPack(rules.preset));
  for (const pack of rules.packs) {
    packs.push(pack);
    if (pack.preset !== undefined) {
      packs.push({ ...presetPack(pack.preset), ...(pack.zones ? { zones: pack.zones } : {}) });
    }
  }
  return packs;
}

function presetPack(id: PresetId): RulePack {
  const p = presetOf(id);
  return { name: `preset ${id}`, hours: p.hours, holidays: [], maxCalls: [...p.maxCalls], minGapMs: 0 };
}

const appliesTo = (pack: RulePack, zone: string): boolean =>
  pack.zones === undefined || pack.zones.includes(zone);

// ---------------------------------------------------------------------------------------------
// Hours and holidays

/** The hours of each zone under the campaign's window and rules (memoized per zone). */
export function hoursOfRules(window: CallingWindow, rules: CallingRules): HoursOf {
  const packs = effectivePacks(rules);
  const memo = new Map<string, ZoneHours>();
  return (zone) => {
    let hours = memo.get(zone);
    if (hours === undefined) {
      const windows: CallingWindow[] = [window];
      const closedDays = new Set<number>();
      for (const pack of packs) {
        if (!appliesTo(pack, zone)) continue;
        if (pack.hours !== undefined) windows.push(pack.hours);
        for (const date of pack.holidays) closedDays.add(localDay(date));
      }
      hours = { windows, closedDays };
      memo.set(zone, hours);
    }
    return hours;
  };
}

/** The holidays (local dates 'YYYY-MM-DD') closing a zone under these rules. */
export function holidaysOf(rules: CallingRules, zone: string): ReadonlySet<string> {
  const out = new Set<string>();
  for (const pack of effectivePacks(rules)) {
    if (appliesTo(pack, zone)) for (const date of pack.holidays) out.add(date);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Per-number limits

/** The per-number rules of one zone key, the strictest of every pack of any of its zones. */
export interface ZoneLimits {
  readonly minGapMs: number;
  readonly lockoutMs: number;
  readonly caps: readonly CallCap[];
}

/** The limits of a zone key, or null when no pack limits its numbers. */
export function limitsOf(rules: CallingRules, key: ZoneKey): ZoneLimits | null {
  const zones = zonesOf(key);
  let minGapMs = 0;
  let lockoutMs = 0;
  const caps = new Map<string, CallCap>();
  for (const pack of effectivePacks(rules)) {
    if (!zones.some((z) => appliesTo(pack, z))) continue;
    minGapMs = Math.max(minGapMs, pack.minGapMs);
    lockoutMs = Math.max(lockoutMs, pack.lockout?.durationMs ?? 0);
    for (const cap of pack.maxCalls) caps.set(`${cap.count}/${cap.periodMs}`, cap);
  }
  if (minGapMs === 0 && lockoutMs === 0 && caps.size === 0) return null;
  return { minGapMs, lockoutMs, caps: [...caps.values()] };
}

/** Outcome codes that lock a number out (the duration is its zone's `lockoutMs`). */
export function lockoutOutcomes(rules: CallingRules): ReadonlySet<string> {
  const out = new Set<string>();
  for (const pack of rules.packs) for (const code of pack.lockout?.outcomes ?? []) out.add(code);
  return out;
}

/**
 * "<minGapMs>,<lockoutMs>[,<count>/<periodMs>]...", as redis/lua/includes/rules.lua reads it;
 * '' for no limits.
 */
export function encodeLimits(limits: ZoneLimits | null): string {
  if (limits === null) return '';
  return [limits.minGapMs, limits.lockoutMs, ...limits.caps.map((c) => `${c.count}/${c.periodMs}`)].join(',');
}

export function decodeLimits(encoded: string): ZoneLimits | null {
  if (encoded === '') return null;
  const [gap, lockout, ...caps] = encoded.split(',');
  return {
    minGapMs: Number(gap),
    lockoutMs: Number(lockout),
    caps: caps.map((c) => {
      const [count, periodMs] = c.split('/');
      return { count: Number(count), periodMs: Number(periodMs) };
    }),
  };
}

/** What a zone key holds in the queue: its encoded window and its encoded limits. */
export interface ZonePlan {
  readonly window: string;
  readonly limits: string;
}

export function computeZone(window: CallingWindow, rules: CallingRules, key: ZoneKey, now: number): ZonePlan {
  return {
    window: computeWindowOf(hoursOfRules(window, rules), key, now),
    limits: encodeLimits(limitsOf(rules, key)),
  };
}

/** A zone plan as one script argument: "<window>#<limits>" (the scripts split it). */
export const zonePlanArg = (plan: ZonePlan): string => `${plan.window}#${plan.limits}`;

// ---------------------------------------------------------------------------------------------
// A number's call history (per campaign): when it was called and until when it is locked out.

export interface NumberHistory {
  /** Epoch ms until which the number is locked out (0: not locked). */
  readonly lockedUntil: number;
  /** Start times of its calls still within reach of a rule, oldest first. */
  readonly calls: readonly number[];
}

export const EMPTY_HISTORY: NumberHistory = Object.freeze({ lockedUntil: 0, calls: Object.freeze([]) });

/** "<lockedUntil>[,<call>]..." as rules.lua keeps it. */
export function encodeHistory(h: NumberHistory): string {
  return [h.lockedUntil, ...h.calls].join(',');
}

export function decodeHistory(encoded: string | null | undefined): NumberHistory {
  if (encoded === null || encoded === undefined || encoded === '') return EMPTY_HISTORY;
  const [lock, ...calls] = encoded.split(',').map(Number);
  return { lockedUntil: lock ?? 0, calls };
}

/** How long a call stays relevant to the limits. */
const reachOf = (limits: ZoneLimits): number =>
  Math.max(limits.minGapMs, ...limits.caps.map((c) => c.periodMs));

/**
 * When the number may next be called under these limits, if later than now (else null): after
 * its lockout, `minGapMs` after its last call, and once each cap has room again (the oldest call
 * that fills it has left its period). Mirrors ruleHold in rules.lua.
 */
export function heldUntil(limits: ZoneLimits | null, h: NumberHistory, now: number): number | null {
  if (limits === null) return null;
  let until = h.lockedUntil > now ? h.lockedUntil : 0;
  const n = h.calls.length;
  if (limits.minGapMs > 0 && n > 0) until = Math.max(until, h.calls[n - 1]! + limits.minGapMs);
  for (const cap of limits.caps) {
    let inside = 0;
    for (let i = n - 1; i >= 0 && h.calls[i]! > now - cap.periodMs; i--) inside++;
    if (inside >= cap.count) until = Math.max(until, h.calls[n - cap.count]! + cap.periodMs);
  }
  return until > now ? until : null;
}

/** The history after a call starting at `now` (calls out of every rule's reach dropped). */
export function withCall(limits: ZoneLimits, h: NumberHistory, now: number): NumberHistory {
  const reach = reachOf(limits);
  return {
    lockedUntil: h.lockedUntil > now ? h.lockedUntil : 0,
    calls: [...h.calls.filter((t) => t > now - reach), now],
  };
}

/** The history after a lockout-outcome at `now`. */
export function withLockout(limits: ZoneLimits, h: NumberHistory, now: number): NumberHistory {
  return { lockedUntil: Math.max(h.lockedUntil, now + limits.lockoutMs), calls: h.calls };
}

/**
 * The history with calls and lockout outcomes read back from the system of record merged in
 * (Redis lost them): calls united (and kept within every rule's reach), the later lockout kept.
 * Mirrors restoreHistory.lua.
 */
export function withRestored(
  limits: ZoneLimits,
  h: NumberHistory,
  calls: readonly number[],
  lockouts: readonly number[],
  now: number,
): NumberHistory {
  const reach = reachOf(limits);
  const kept = [...new Set([...h.calls, ...calls])].filter((t) => t > now - reach && t <= now);
  let lockedUntil = h.lockedUntil;
  if (limits.lockoutMs > 0)
    for (const t of lockouts) lockedUntil = Math.max(lockedUntil, t + limits.lockoutMs);
  return { lockedUntil: lockedUntil > now ? lockedUntil : 0, calls: kept.sort((a, b) => a - b) };
}

/** How far back a call or a lockout outcome can still hold a number under these rules (ms). */
export function rulesReachMs(rules: CallingRules): number {
  let reach = 0;
  for (const pack of effectivePacks(rules)) {
    reach = Math.max(
      reach,
      pack.minGapMs,
      pack.lockout?.durationMs ?? 0,
      ...pack.maxCalls.map((c) => c.periodMs),
    );
  }
  return reach;
}

/** Presets as the admin API lists them. */
export function listPresets() {
  return Object.entries(CALLING_PRESETS).map(([id, p]) => ({ id, ...p }));
}
