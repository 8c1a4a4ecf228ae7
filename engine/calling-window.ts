// Calling windows: when a lead may be called, turned from "allowed hours in the callee's local
// time" into absolute UTC intervals. The queue's Lua scripts cannot do time-zone math, so this
// module precomputes, per zone key, the open intervals over a horizon and encodes them as a
// string a script (or `isOpenAt`, its TypeScript mirror) checks against `now` inside the lease.
//
// Semantics: an instant is open for a zone iff that zone's wall clock at the instant (local
// weekday and HH:MM, as `DateTime.fromMillis(t, { zone })` shows it) falls in some rule. The
// intervals follow that rule exactly, across DST changes included:
//  - spring-forward gap: a boundary inside the skipped hour (02:30 on America/New_York's
//    2026-03-08) takes effect at the transition instant, the first moment the clock reads at or
//    past it (03:00 EDT = 07:00Z). So a window "from 02:30" opens at 07:00Z, one "to 02:30" closes
//    there, and one lying wholly inside the gap is closed that day.
//  - fall-back overlap: a boundary inside the repeated hour is honoured at both of its
//    occurrences, because the clock reads it twice. "From 01:30" on 2026-11-01 in New York opens
//    at 01:30 EDT (05:30Z), closes when the clock falls back to 01:00 EST (06:00Z) and opens again
//    at 01:30 EST (06:30Z).
// We deliberately do not resolve boundaries with luxon's `DateTime.fromObject`: it moves a gap
// time forward by the gap (02:30 becomes 03:30 EDT, which would keep a window "to 02:30" open
// until 03:30 on the callee's clock), and for an ambiguous time it picks the offset the zone has
// at `Settings.now()`, the host's real clock (01:30 on 2026-11-01 is 05:30Z when run in summer
// and 06:30Z in winter). Instead we find the zone's offset changes over the horizon and place
// each rule in every constant-offset stretch, which is exact and depends on nothing but input.

import { IANAZone } from 'luxon';
import { z } from 'zod';
import { EngineError } from './errors.js';

export const isoWeekdaySchema = z.number().int().min(1).max(7); // 1 = Monday ... 7 = Sunday (luxon's weekday)

export const callingWindowSchema = z.object({
  rules: z
    .array(
      z
        .object({
          days: z.array(isoWeekdaySchema).min(1),
          from: z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/), // 'HH:MM' local, inclusive
          to: z.string().regex(/^(([01]\d|2[0-3]):[0-5]\d|24:00)$/), // 'HH:MM' local, exclusive; '24:00' = end of day
        })
        // Fixed-width 'HH:MM' strings compare like the times they name, '24:00' last.
        .refine((r) => r.from < r.to, {
          message: 'from must be before to (split overnight hours into two rules)',
        }),
    )
    .max(50),
});

export type CallingWindow = z.infer<typeof callingWindowSchema>;

/** Every day, all day. */
export const ALWAYS_OPEN: CallingWindow = Object.freeze({
  rules: Object.freeze([
    Object.freeze({ days: Object.freeze([1, 2, 3, 4, 5, 6, 7]), from: '00:00', to: '24:00' }),
  ]),
}) as CallingWindow;

/**
 * The time zones a lead may be in, normalized (sorted, de-duplicated, joined by ','), so leads
 * with the same candidate zones share one precomputed window.
 */
export type ZoneKey = string & { readonly __brand: 'ZoneKey' };

/** No known zone. Such a lead is never open: we cannot tell whether it is a lawful hour there. */
export const UNKNOWN_ZONE = '' as ZoneKey;

const MINUTE_MS = 60_000;
const HOUR_MS = 60 * MINUTE_MS;
const DAY_MS = 24 * HOUR_MS;

/** How far ahead `computeWindow` looks; a refresh well within it keeps leads callable. */
export const WINDOW_HORIZON_MS = 8 * DAY_MS;

/**
 * `computeWindow` also keeps the hour before `now`, so a gateway whose clock lags the one that
 * computed the window still finds the interval it is in.
 */
const LOOKBACK_MS = HOUR_MS;

// ---------------------------------------------------------------------------------------------
// Zones

// A fixed offset such as 'UTC+3' or '+03:00' is not where a person lives: it has no DST, so it
// would be wrong for half the year. Newer engines accept '+03:00' as an Intl time zone (ECMA-402
// offset zones; Node 20 does not yet), so refuse these by shape rather than rely on Intl. IANA's own 'Etc/GMT+3' stays valid. ',' is the key's
// separator and never part of a zone name.
const FIXED_OFFSET = /^(?:UTC|GMT|UT)?[+-]|,/i;

/** Lead imports repeat the same few zone names; bound the memo so junk input cannot grow it forever. */
const ZONE_MEMO_LIMIT = 4096;
const zoneValidity = new Map<string, boolean>();

/** True for a real IANA zone name ('Europe/London', 'UTC', 'Etc/GMT+3'); false for fixed offsets. */
export function isValidZone(name: string): boolean {
  const known = zoneValidity.get(name);
  if (known !== undefined) return known;
  const valid = name !== '' && !FIXED_OFFSET.test(name) && IANAZone.isValidZone(name);
  if (zoneValidity.size >= ZONE_MEMO_LIMIT) zoneValidity.clear();
  zoneValidity.set(name, valid);
  return valid;
}

function assertZone(name: string): void {
  if (!isValidZone(name)) {
    throw new EngineError('LEAD_INVALID', `unknown time zone "${name}"`, { zone: name });
  }
}

/**
 * The key for a lead's candidate zones. Names are kept as given (not canonicalized: Intl would
 * turn 'Asia/Kolkata' into 'Asia/Calcutta'); order and duplicates do not matter.
 */
export function zoneKey(zones: string | readonly string[] | null | undefined): ZoneKey {
  if (zones === null || zones === undefined || zones === '') return UNKNOWN_ZONE;
  const names = typeof zones === 'string' ? [zones] : [...new Set(zones)];
  for (const name of names) assertZone(name);
  // Code-unit order, not locale order, so every process builds the same key.
  return names.sort().join(',') as ZoneKey;
}

/** The zone names in a key; [] for the unknown zone. */
export function zonesOf(key: ZoneKey): string[] {
  return key === UNKNOWN_ZONE ? [] : key.split(',');
}

// ---------------------------------------------------------------------------------------------
// Intervals

/** Epoch ms, start inclusive, end exclusive. */
export interface Interval {
  readonly start: number;
  readonly end: number;
}

interface Rule {
  /** Bit n set when ISO weekday n is allowed. */
  readonly dayMask: number;
  readonly fromMs: number;
  /** 24:00 is 24 h: the start of the next local day. */
  readonly toMs: number;
}

/** A stretch of time in which the zone's UTC offset is constant. */
interface OffsetSpan {
  readonly start: number;
  readonly end: number;
  readonly offsetMs: number;
}

function msOfDay(hhmm: string): number {
  const match = /^(\d\d):(\d\d)$/.exec(hhmm);
  const hours = Number(match?.[1]);
  const minutes = Number(match?.[2]);
  if (!match || minutes > 59 || hours > 24 || (hours === 24 && minutes !== 0)) {
    throw new EngineError('CAMPAIGN_INVALID', `calling window time "${hhmm}" is not HH:MM`, { time: hhmm });
  }
  return hours * HOUR_MS + minutes * MINUTE_MS;
}

function compileRules(window: CallingWindow): Rule[] {
  return window.rules.map((r) => ({
    dayMask: r.days.reduce((mask, day) => mask | (1 << day), 0),
    fromMs: msOfDay(r.from),
    toMs: msOfDay(r.to),
  }));
}

/** ISO weekday of a local day given as ms since the epoch of its 00:00 (1970-01-01 was a Thursday). */
function isoWeekday(localDayStart: number): number {
  const daysSinceEpoch = Math.round(localDayStart / DAY_MS);
  return ((((daysSinceEpoch + 3) % 7) + 7) % 7) + 1;
}

function offsetMsAt(zone: IANAZone, t: number): number {
  return Math.round(zone.offset(t) * MINUTE_MS);
}

/**
 * Offsets change at most twice a year in today's zones; sampling every few hours finds every
 * change, and a binary search pins each one to the millisecond. (Two changes that cancel out
 * within one sampling step would be missed; tzdata has none.)
 */
const OFFSET_SAMPLE_MS = 6 * HOUR_MS;

/** The constant-offset spans covering [fromMs, untilMs), in order. */
function offsetSpans(zone: IANAZone, fromMs: number, untilMs: number): OffsetSpan[] {
  const spans: OffsetSpan[] = [];
  const last = untilMs - 1;
  let spanStart = fromMs;
  let offsetMs = offsetMsAt(zone, fromMs);
  let checked = fromMs; // offset is `offsetMs` everywhere in [spanStart, checked]
  while (checked < last) {
    const probe = Math.min(checked + OFFSET_SAMPLE_MS, last);
    if (offsetMsAt(zone, probe) === offsetMs) {
      checked = probe;
      continue;
    }
    let lo = checked;
    let hi = probe;
    while (hi - lo > 1) {
      const mid = Math.floor((lo + hi) / 2);
      if (offsetMsAt(zone, mid) === offsetMs) lo = mid;
      else hi = mid;
    }
    spans.push({ start: spanStart, end: hi, offsetMs });
    spanStart = hi;
    offsetMs = offsetMsAt(zone, hi);
    checked = hi;
  }
  spans.push({ start: spanStart, end: untilMs, offsetMs });
  return spans;
}

/** Sorts and joins overlapping or touching intervals. */
function mergeIntervals(intervals: Interval[]): Interval[] {
  intervals.sort((a, b) => a.start - b.start);
  const merged: Interval[] = [];
  let current: Interval | undefined;
  for (const next of intervals) {
    if (current !== undefined && next.start <= current.end) {
      if (next.end > current.end) current = { start: current.start, end: next.end };
    } else {
      if (current !== undefined) merged.push(current);
      current = next;
    }
  }
  if (current !== undefined) merged.push(current);
  return merged;
}

function intersectIntervals(a: readonly Interval[], b: readonly Interval[]): Interval[] {
  const out: Interval[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    const x = a[i]!;
    const y = b[j]!;
    const start = Math.max(x.start, y.start);
    const end = Math.min(x.end, y.end);
    if (start < end) out.push({ start, end });
    if (x.end <= y.end) i++;
    else j++;
  }
  return out;
}

function zoneIntervals(
  rules: readonly Rule[],
  name: string,
  fromMs: number,
  untilMs: number,
  closedDays: ReadonlySet<number>,
): Interval[] {
  const spans = offsetSpans(IANAZone.create(name), fromMs, untilMs);
  // Every local day the wall clock shows during [fromMs, untilMs). Near a fall-back change the
  // clock runs back, so take the extremes over all spans, not just the two ends; this also covers
  // zones far east of UTC, whose local date at fromMs is already the next day.
  let localMin = Infinity;
  let localMax = -Infinity;
  for (const span of spans) {
    localMin = Math.min(localMin, span.start + span.offsetMs);
    localMax = Math.max(localMax, span.end + span.offsetMs);
  }
  const firstDay = Math.floor(localMin / DAY_MS) * DAY_MS;
  const lastDay = Math.floor((localMax - 1) / DAY_MS) * DAY_MS;

  const intervals: Interval[] = [];
  for (let day = firstDay; day <= lastDay; day += DAY_MS) {
    // A closed day (a holiday of the region) has no hours at all on the callee's calendar.
    if (closedDays.has(day)) continue;
    const weekdayBit = 1 << isoWeekday(day);
    for (const rule of rules) {
      if ((rule.dayMask & weekdayBit) === 0) continue;
      // Within a span the wall clock is UTC + offset, so the rule's local [from, to) is the UTC
      // range [from - offset, to - offset) there; clipping to each span is what makes gap and
      // overlap boundaries come out as described at the top of this file.
      for (const span of spans) {
        const start = Math.max(day + rule.fromMs - span.offsetMs, span.start);
        const end = Math.min(day + rule.toMs - span.offsetMs, span.end);
        if (start < end) intervals.push({ start, end });
      }
    }
  }
  return mergeIntervals(intervals);
}

const NO_DAYS: ReadonlySet<number> = new Set();

/**
 * What decides the hours of one zone: every window listed must allow an instant (the campaign's
 * own hours, a preset, a region's stricter hours), and a closed local day has no hours at all.
 */
export interface ZoneHours {
  readonly windows: readonly CallingWindow[];
  /** Local days closed (holidays), each as `localDay` gives it. */
  readonly closedDays: ReadonlySet<number>;
}

/** Resolves the hours of a zone by name (engine/calling-rules.ts builds one from rule packs). */
export type HoursOf = (zone: string) => ZoneHours;

/**
 * A local date 'YYYY-MM-DD' as ms since the epoch of its 00:00 on a calendar without offsets,
 * the same day numbering `zoneIntervals` walks.
 */
export function localDay(isoDate: string): number {
  const match = /^(\d{4})-(\d\d)-(\d\d)$/.exec(isoDate);
  const ms = match ? Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3])) : NaN;
  if (!Number.isFinite(ms) || new Date(ms).toISOString().slice(0, 10) !== isoDate) {
    throw new EngineError('CAMPAIGN_INVALID', `"${isoDate}" is not a date YYYY-MM-DD`, { date: isoDate });
  }
  return ms;
}

/** Just the campaign's window, every day of the calendar open to it. */
export const hoursOfWindow =
  (window: CallingWindow): HoursOf =>
  () => ({ windows: [window], closedDays: NO_DAYS });

/**
 * The intervals within [fromMs, untilMs) in which calling is allowed in every zone of the key (a
 * lead that may be in New York or Chicago is called only when both allow it). Sorted, disjoint,
 * touching intervals merged. The unknown zone is never open.
 */
export function openIntervals(
  window: CallingWindow,
  key: ZoneKey,
  fromMs: number,
  untilMs: number,
): Interval[] {
  return openIntervalsOf(hoursOfWindow(window), key, fromMs, untilMs);
}

/** As `openIntervals`, each zone's hours resolved by `hoursOf`: its windows intersected, closed days removed. */
export function openIntervalsOf(hoursOf: HoursOf, key: ZoneKey, fromMs: number, untilMs: number): Interval[] {
  const zones = zonesOf(key);
  if (zones.length === 0 || !(fromMs < untilMs)) return [];
  for (const zone of zones) assertZone(zone);
  const compiled = new Map<CallingWindow, Rule[]>();
  let open: Interval[] | undefined;
  for (const zone of zones) {
    const hours = hoursOf(zone);
    for (const window of hours.windows) {
      let rules = compiled.get(window);
      if (rules === undefined) {
        rules = compileRules(window);
        compiled.set(window, rules);
      }
      const own = zoneIntervals(rules, zone, fromMs, untilMs, hours.closedDays);
      open = open === undefined ? own : intersectIntervals(open, own);
      if (open.length === 0) return [];
    }
  }
  return open ?? [];
}

// ---------------------------------------------------------------------------------------------
// Encoding shared with the Lua scripts: "<validUntilMs>|<start>,<end>|<start>,<end>...", integer
// epoch ms, intervals sorted and disjoint. Past validUntil the window says nothing, so it is
// closed until refreshed: an outdated window must never let a call through.

export function encodeWindow(intervals: readonly Interval[], validUntilMs: number): string {
  if (!Number.isSafeInteger(validUntilMs))
    throw new RangeError(`validUntil ${validUntilMs} is not an integer ms`);
  let encoded = String(validUntilMs);
  let previousEnd = -Infinity;
  for (const { start, end } of intervals) {
    if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start >= end || start < previousEnd) {
      throw new RangeError(`interval [${start}, ${end}) is not integer, non-empty, sorted and disjoint`);
    }
    encoded += `|${start},${end}`;
    previousEnd = end;
  }
  return encoded;
}

const ENCODED_WINDOW = /^-?\d+(?:\|-?\d+,-?\d+)*$/;

export function decodeWindow(encoded: string): { validUntil: number; intervals: Interval[] } {
  const malformed = (): Error => new Error(`malformed calling window "${encoded.slice(0, 80)}"`);
  if (!ENCODED_WINDOW.test(encoded)) throw malformed();
  const [head, ...rest] = encoded.split('|');
  const validUntil = Number(head);
  if (!Number.isSafeInteger(validUntil)) throw malformed();
  const intervals: Interval[] = [];
  let previousEnd = -Infinity;
  for (const pair of rest) {
    const comma = pair.indexOf(',');
    const start = Number(pair.slice(0, comma));
    const end = Number(pair.slice(comma + 1));
    if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start >= end || start < previousEnd) {
      throw malformed();
    }
    intervals.push({ start, end });
    previousEnd = end;
  }
  return { validUntil, intervals };
}

/**
 * Decimal integer in s[from, to), or NaN if that is not one. Hand-rolled so `isOpenAt` allocates
 * nothing: no substrings, no arrays.
 */
function scanInt(s: string, from: number, to: number): number {
  let i = from;
  let sign = 1;
  if (i < to && s.charCodeAt(i) === 45 /* - */) {
    sign = -1;
    i++;
  }
  if (i >= to) return NaN;
  let value = 0;
  for (; i < to; i++) {
    const digit = s.charCodeAt(i) - 48; /* 0 */
    if (digit < 0 || digit > 9) return NaN;
    value = value * 10 + digit;
  }
  return sign * value;
}

/**
 * True iff nowMs is before the window's validUntil and inside one of its intervals. On the hot
 * path, so it reads left to right and stops at the first interval ending after now. A malformed
 * string is treated as closed rather than thrown on: failing closed never calls out of hours.
 */
export function isOpenAt(encoded: string, nowMs: number): boolean {
  let bar = encoded.indexOf('|');
  const validUntil = scanInt(encoded, 0, bar === -1 ? encoded.length : bar);
  if (!(nowMs < validUntil)) return false; // also false when validUntil is NaN
  while (bar !== -1) {
    const comma = encoded.indexOf(',', bar + 1);
    if (comma === -1) return false;
    const next = encoded.indexOf('|', comma + 1);
    const end = scanInt(encoded, comma + 1, next === -1 ? encoded.length : next);
    if (Number.isNaN(end)) return false;
    // Intervals are sorted and disjoint: the first one ending after now is the only candidate.
    if (end > nowMs) return scanInt(encoded, bar + 1, comma) <= nowMs;
    bar = next;
  }
  return false;
}

/**
 * The open intervals for the key over [now - 1 h, now + WINDOW_HORIZON_MS), encoded, valid until
 * the end of the horizon. The unknown zone gets "0": never open.
 */
export function computeWindow(window: CallingWindow, key: ZoneKey, nowMs: number): string {
  return computeWindowOf(hoursOfWindow(window), key, nowMs);
}

/** As `computeWindow`, each zone's hours resolved by `hoursOf` (rule packs, presets, holidays). */
export function computeWindowOf(hoursOf: HoursOf, key: ZoneKey, nowMs: number): string {
  if (key === UNKNOWN_ZONE) return encodeWindow([], 0);
  // Whole ms, so the encoding stays integer even if a caller's clock hands us a fraction.
  const now = Math.floor(nowMs);
  const validUntil = now + WINDOW_HORIZON_MS;
  return encodeWindow(openIntervalsOf(hoursOf, key, now - LOOKBACK_MS, validUntil), validUntil);
}

/**
 * When the lead can next be called: the start of the interval containing nowMs (so <= nowMs when
 * open now) or of the next one; null if none starts before validUntil, including when the window
 * has already expired.
 */
export function nextOpening(encoded: string, nowMs: number): number | null {
  const { validUntil, intervals } = decodeWindow(encoded);
  if (!(nowMs < validUntil)) return null;
  for (const { start, end } of intervals) {
    if (end > nowMs) return start < validUntil ? start : null;
  }
  return null;
}
