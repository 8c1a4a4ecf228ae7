// Property test of the calling rules over every IANA zone this Node knows and every DST change of
// the two years from 2026-11-30: no lease is ever granted outside the callee's window (campaign
// hours, presets, regional hours, holidays; every candidate zone open; never an unknown zone) or
// against a per-number rule (call caps, minimum gap, lockout).
//
// The oracle is written apart from the engine: the callee's wall clock comes from
// Intl.DateTimeFormat (the engine uses luxon's offsets), and the per-number rules are judged from
// the calls the test itself made. First the compiled windows against the oracle for every zone at
// each of its DST changes, then random campaigns run on both stores (memory and Redis).
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CALLING_PRESETS, PRESET_IDS } from '../../engine/calling-presets.js';
import type { PresetId } from '../../engine/calling-presets.js';
import { callingRulesSchema, hoursOfRules } from '../../engine/calling-rules.js';
import type { CallingRules, CallingRulesInput, RulePackInput } from '../../engine/calling-rules.js';
import {
  computeWindowOf,
  isOpenAt,
  isValidZone,
  WINDOW_HORIZON_MS,
  zoneKey,
} from '../../engine/calling-window.js';
import type { CallingWindow } from '../../engine/calling-window.js';
import { parseCampaignConfig } from '../../engine/campaign.js';
import { asAgentId, asDeviceId, asTenantId, campaignRef } from '../../engine/ids.js';
import type { LeadInput } from '../../engine/lead.js';
import type { QueueStore } from '../../engine/queue-store.js';
import { makeStore } from '../support/stores.js';
import type { StoreKind, TestStore } from '../support/stores.js';

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
const START = Date.UTC(2026, 10, 30);
const END = START + 2 * 365 * DAY;
const TENANT = asTenantId('rules-prop');

// Every zone Intl lists that the engine accepts (it refuses none of them today; counted below).
const ALL_ZONES = Intl.supportedValuesOf('timeZone');
const ZONES = ALL_ZONES.filter(isValidZone);

// ---------------------------------------------------------------------------------------------
// The oracle: the callee's wall clock, from Intl.

const WEEKDAY: Record<string, number> = { Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6, Sun: 7 };
const formats = new Map<string, Intl.DateTimeFormat>();

interface WallClock {
  readonly date: string;
  readonly weekday: number;
  readonly hhmm: string;
  /** The local time as if it were UTC (ms), for offsets. */
  readonly asUtc: number;
}

function wallClock(zone: string, t: number): WallClock {
  let f = formats.get(zone);
  if (f === undefined) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      weekday: 'short',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
    });
    formats.set(zone, f);
  }
  const p: Record<string, string> = {};
  for (const part of f.formatToParts(t)) p[part.type] = part.value;
  return {
    date: `${p.year}-${p.month}-${p.day}`,
    weekday: WEEKDAY[p.weekday!]!,
    hhmm: `${p.hour}:${p.minute}`,
    asUtc: Date.UTC(Number(p.year), Number(p.month) - 1, Number(p.day), Number(p.hour), Number(p.minute)),
  };
}

const offsetAt = (zone: string, t: number) => wallClock(zone, t).asUtc - Math.floor(t / MIN) * MIN;

/** Every offset change of the zone in [START, END), to the minute. */
function transitions(zone: string): number[] {
  const found: number[] = [];
  let previous = offsetAt(zone, START);
  for (let t = START + DAY; t < END; t += DAY) {
    const offset = offsetAt(zone, t);
    if (offset === previous) continue;
    let lo = (t - DAY) / MIN;
    let hi = t / MIN;
    while (hi - lo > 1) {
      const mid = Math.floor((lo + hi) / 2);
      if (offsetAt(zone, mid * MIN) === previous) lo = mid;
      else hi = mid;
    }
    found.push(hi * MIN);
    previous = offset;
  }
  return found;
}

const inWindow = (w: CallingWindow, c: WallClock) =>
  w.rules.some((r) => r.days.includes(c.weekday) && r.from <= c.hhmm && c.hhmm < r.to);

/** The packs that apply to a zone, presets resolved, as the rules' documentation defines them. */
function packsFor(rules: CallingRulesInput, zone: string) {
  const out: { hours?: CallingWindow; holidays: readonly string[] }[] = [];
  if (rules.preset) out.push({ hours: CALLING_PRESETS[rules.preset].hours, holidays: [] });
  for (const p of rules.packs ?? []) {
    if (p.zones && !p.zones.includes(zone)) continue;
    out.push({ ...(p.hours ? { hours: p.hours } : {}), holidays: p.holidays ?? [] });
    if (p.preset) out.push({ hours: CALLING_PRESETS[p.preset].hours, holidays: [] });
  }
  return out;
}

/** Is a call at `t` lawful for a lead with these candidate zones? Never for no zone. */
function allowed(
  window: CallingWindow,
  rules: CallingRulesInput,
  zones: readonly string[],
  t: number,
): boolean {
  return (
    zones.length > 0 &&
    zones.every((zone) => {
      const c = wallClock(zone, t);
      if (!inWindow(window, c)) return false;
      return packsFor(rules, zone).every(
        (p) => !p.holidays.includes(c.date) && (!p.hours || inWindow(p.hours, c)),
      );
    })
  );
}

// ---------------------------------------------------------------------------------------------
// Arbitraries

function hhmm(minutes: number): string {
  return `${String(Math.floor(minutes / 60)).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}`;
}

/** Rules with boundaries anywhere, often in 00:00-04:00 where DST changes happen. */
const ruleArb = fc
  .record({
    days: fc.uniqueArray(fc.integer({ min: 1, max: 7 }), { minLength: 1, maxLength: 7 }),
    a: fc.oneof(fc.integer({ min: 0, max: 240 }), fc.integer({ min: 0, max: 1440 })),
    b: fc.oneof(fc.integer({ min: 0, max: 240 }), fc.integer({ min: 0, max: 1440 })),
  })
  .filter(({ a, b }) => a !== b)
  .map(({ days, a, b }) => ({ days, from: hhmm(Math.min(a, b)), to: hhmm(Math.max(a, b)) }));

const windowArb = fc
  .array(ruleArb, { minLength: 1, maxLength: 3 })
  .map((rules): CallingWindow => ({ rules }));

const isoDate = (ms: number) => new Date(ms).toISOString().slice(0, 10);

/** Rule packs over some of `zones`, holidays within three weeks of `from`. */
function rulesArb(zones: readonly string[], from: number) {
  const pack = fc.record(
    {
      name: fc.constant('pack'),
      zones: fc.option(fc.uniqueArray(fc.constantFrom(...zones), { minLength: 1, maxLength: zones.length }), {
        nil: undefined,
      }),
      preset: fc.option(fc.constantFrom<PresetId>(...PRESET_IDS), { nil: undefined, freq: 4 }),
      hours: fc.option(windowArb, { nil: undefined, freq: 3 }),
      holidays: fc.uniqueArray(
        fc.integer({ min: -1, max: 21 }).map((d) => isoDate(from + d * DAY)),
        {
          maxLength: 4,
        },
      ),
      maxCalls: fc.array(
        fc.record({
          count: fc.integer({ min: 1, max: 3 }),
          periodMs: fc.constantFrom(HOUR, 6 * HOUR, DAY, 3 * DAY),
        }),
        { maxLength: 2 },
      ),
      minGapMs: fc.constantFrom(0, 0, 30 * MIN, 4 * HOUR, DAY),
      lockout: fc.option(
        fc.record({ outcomes: fc.constant(['abandoned']), durationMs: fc.constantFrom(HOUR, 2 * DAY) }),
        { nil: undefined },
      ),
    },
    { requiredKeys: ['name', 'holidays', 'maxCalls', 'minGapMs'] },
  );
  return fc.record({
    preset: fc.option(fc.constantFrom<PresetId>(...PRESET_IDS), { nil: undefined, freq: 3 }),
    packs: fc.array(pack as fc.Arbitrary<RulePackInput>, { maxLength: 3 }),
  });
}

const parseRules = (input: CallingRulesInput): CallingRules => callingRulesSchema.parse(input);

// ---------------------------------------------------------------------------------------------

const changes = new Map<string, number[]>();

beforeAll(() => {
  for (const zone of ZONES) changes.set(zone, transitions(zone));
});

describe("compiled windows agree with the callee's wall clock in every IANA zone", () => {
  it('the engine accepts every zone Intl lists, and the next two years hold DST changes', () => {
    expect(ZONES).toEqual(ALL_ZONES);
    expect(ZONES.length).toBeGreaterThan(300);
    const count = [...changes.values()].reduce((n, c) => n + c.length, 0);
    expect(count).toBeGreaterThan(200);
  });

  it('around every DST change of every zone, with boundaries and a holiday where the change is', () => {
    let checked = 0;
    for (const zone of ZONES) {
      const key = zoneKey(zone);
      for (const change of changes.get(zone)!) {
        // Boundaries at the local minutes just before and after the change (inside a gap or an
        // overlap), and the local day after it closed as a holiday.
        const before = wallClock(zone, change - MIN);
        const after = wallClock(zone, change);
        const minuteOf = (c: WallClock) => Number(c.hhmm.slice(0, 2)) * 60 + Number(c.hhmm.slice(3));
        const a = Math.max(0, minuteOf(before) - 29);
        const b = Math.min(1440, minuteOf(after) + 31);
        const window: CallingWindow = {
          rules: [
            { days: [1, 2, 3, 4, 5, 6, 7], from: hhmm(a), to: hhmm(Math.max(b, a + 1)) },
            { days: [1, 2, 3, 4, 5, 6, 7], from: hhmm(Math.min(a + 45, 1439)), to: '24:00' },
          ],
        };
        const rules: CallingRulesInput = {
          packs: [{ name: 'h', zones: [zone], holidays: [isoDate(change + DAY)] }],
        };
        const now = change - 3 * HOUR;
        const enc = computeWindowOf(hoursOfRules(window, parseRules(rules)), key, now);
        for (let t = change - 3 * HOUR; t <= change + 3 * HOUR + 2 * DAY; t += 7 * MIN) {
          expect(isOpenAt(enc, t), `${zone} at ${new Date(t).toISOString()}`).toBe(
            allowed(window, rules, [zone], t),
          );
          checked++;
        }
        for (const t of [change - 1, change, change + 1]) {
          expect(isOpenAt(enc, t), `${zone} at ${t}`).toBe(allowed(window, rules, [zone], t));
        }
      }
    }
    expect(checked).toBeGreaterThan(10_000);
  });

  it('at random instants for random zones (several candidate zones too), hours, presets and holidays', () => {
    const changing = ZONES.filter((z) => changes.get(z)!.length > 0);
    const caseArb = fc
      .tuple(
        fc.uniqueArray(fc.oneof(fc.constantFrom(...ZONES), fc.constantFrom(...changing)), {
          minLength: 1,
          maxLength: 3,
        }),
        fc.integer({ min: START, max: END - WINDOW_HORIZON_MS }),
      )
      .chain(([zones, start]) =>
        fc.record({
          zones: fc.constant(zones),
          start: fc.constant(start),
          rules: rulesArb(zones, start),
          window: windowArb,
          pick: fc.nat(),
          near: fc.integer({ min: -3 * HOUR, max: 3 * HOUR }),
          ahead: fc.integer({ min: 0, max: WINDOW_HORIZON_MS - 1 }),
        }),
      );
    fc.assert(
      fc.property(caseArb, ({ zones, start, rules, window, pick, near, ahead }) => {
        const enc = computeWindowOf(hoursOfRules(window, parseRules(rules)), zoneKey(zones), start);
        // An instant near one of the zones' DST changes when it has one in the horizon, else anywhere.
        const nearby = zones
          .flatMap((z) => changes.get(z)!)
          .filter((c) => c > start && c < start + WINDOW_HORIZON_MS - 3 * HOUR);
        const t = nearby.length > 0 && pick % 2 === 0 ? nearby[pick % nearby.length]! + near : start + ahead;
        expect(isOpenAt(enc, t)).toBe(allowed(window, rules, zones, t));
      }),
      { numRuns: 1500 },
    );
  });
});

// ---------------------------------------------------------------------------------------------
// Random campaigns on both stores: every granted lease is lawful.

interface Limits {
  gap: number;
  lockout: number;
  caps: { count: number; periodMs: number }[];
}

/** The per-number rules of a lead with these zones, as the documentation states them. */
function limitsFor(rules: CallingRulesInput, zones: readonly string[]): Limits {
  const l: Limits = { gap: 0, lockout: 0, caps: [] };
  const all: RulePackInput[] = [];
  if (rules.preset) all.push({ name: 'p', maxCalls: [...CALLING_PRESETS[rules.preset].maxCalls] });
  for (const p of rules.packs ?? []) {
    if (p.zones && !zones.some((z) => p.zones!.includes(z))) continue;
    all.push(p);
    if (p.preset) all.push({ name: 'p', maxCalls: [...CALLING_PRESETS[p.preset].maxCalls] });
  }
  for (const p of all) {
    l.gap = Math.max(l.gap, p.minGapMs ?? 0);
    l.lockout = Math.max(l.lockout, p.lockout?.durationMs ?? 0);
    l.caps.push(...(p.maxCalls ?? []));
  }
  return l;
}

const LEAD_ZONES = 6;

describe.each<StoreKind>(['memory', 'redis'])('no lease against the calling rules: %s', (kind) => {
  let t: TestStore;
  let store: QueueStore;
  beforeAll(async () => {
    t = await makeStore(kind);
    store = t.store;
  });
  afterAll(async () => {
    await t.dispose();
  });

  let run = 0;
  it('over random campaigns, zones, DST changes, holidays, caps, gaps and lockouts', async () => {
    const changing = ZONES.filter((z) => changes.get(z)!.length > 0);
    let granted = 0;
    await fc.assert(
      fc.asyncProperty(
        fc
          .tuple(
            fc.uniqueArray(fc.oneof(fc.constantFrom(...changing), fc.constantFrom(...ZONES)), {
              minLength: LEAD_ZONES,
              maxLength: LEAD_ZONES,
            }),
            fc.integer({ min: START, max: END - 30 * DAY }),
          )
          .chain(([zones, start]) =>
            fc.tuple(fc.constant(zones), fc.constant(start), rulesArb(zones, start)),
          ),
        windowArb,
        fc.nat(),
        fc.array(
          fc.record({
            advance: fc.oneof(
              fc.integer({ min: MIN, max: 2 * HOUR }),
              fc.integer({ min: 2 * HOUR, max: 2 * DAY }),
            ),
            accept: fc.boolean(),
            outcome: fc.constantFrom('again', 'abandoned', 'no_answer'),
          }),
          { minLength: 10, maxLength: 30 },
        ),
        async ([zones, start, rulesInput], window, seed, steps) => {
          const ref = campaignRef('rules-prop', `c${++run}`);
          // Begin at a DST change of one of the zones when there is one in the first days.
          const soon = zones.flatMap((z) => changes.get(z)!).filter((c) => c > start && c < start + 20 * DAY);
          let now = soon.length > 0 ? soon[seed % soon.length]! - 6 * HOUR : start;
          await store.defineCampaign(
            ref,
            parseCampaignConfig({
              window,
              callingRules: rulesInput,
              dispositions: { again: { final: false }, abandoned: { final: false } },
            }),
            now,
          );
          // Leads in single zones, two zones at once, and none.
          const leadZones: LeadInput['timeZone'][] = [...zones.slice(0, 4), [zones[4]!, zones[5]!], null];
          const leads = leadZones.map((timeZone, i): LeadInput => ({
            id: `L${i}`,
            phone: `+1555000${1000 + i}`,
            timeZone,
          }));
          const zonesOf = new Map(
            leads.map((l) => [l.phone, l.timeZone === null ? [] : [l.timeZone ?? []].flat()]),
          );
          await store.enqueue(ref, leads, now);
          const calls = new Map<string, number[]>();
          const locks = new Map<string, number>();
          let refreshed = now;
          for (const step of steps) {
            now += step.advance;
            if (now - refreshed > DAY) {
              await store.refreshWindows(ref, now); // as the maintenance loop does daily
              refreshed = now;
            }
            await store.reclaim(ref, now, 100);
            await store.promote(ref, now, 100);
            const agents = [0, 1].map((i) => ({
              agentId: asAgentId(`a${i}`),
              deviceId: asDeviceId(`d${i}`),
            }));
            const { leases } = await store.readyAndDispatch(ref, agents, now, 2, 5_000);
            for (const l of leases) {
              granted++;
              const phone = l.lead.phone;
              const leadZones = zonesOf.get(phone)!;
              expect(
                allowed(window, rulesInput, leadZones, now),
                `${phone} in ${leadZones.join()} at ${new Date(now).toISOString()}`,
              ).toBe(true);
              const limits = limitsFor(rulesInput, leadZones);
              const history = calls.get(phone) ?? [];
              expect(locks.get(phone) ?? 0, 'lockout').toBeLessThanOrEqual(now);
              if (history.length > 0 && limits.gap > 0)
                expect(history.at(-1)! + limits.gap).toBeLessThanOrEqual(now);
              for (const cap of limits.caps) {
                expect(history.filter((c) => c > now - cap.periodMs).length, 'cap').toBeLessThan(cap.count);
              }
              if (!step.accept) {
                await store.reject(TENANT, { leaseId: l.leaseId, agentId: l.agentId }, now);
                continue;
              }
              await store.accept(TENANT, { leaseId: l.leaseId, agentId: l.agentId }, now, 60_000);
              history.push(now);
              calls.set(phone, history);
              const done = now + MIN;
              const [result] = await store.complete(
                TENANT,
                [{ leaseId: l.leaseId, outcome: step.outcome }],
                done,
              );
              expect(result?.ok).toBe(true);
              if (
                step.outcome === 'abandoned' &&
                rulesInput.packs.some((p) => p.lockout) &&
                limits.lockout > 0
              ) {
                locks.set(phone, Math.max(locks.get(phone) ?? 0, done + limits.lockout));
              }
            }
          }
          await store.dropCampaign(ref);
        },
      ),
      { numRuns: kind === 'memory' ? 150 : 60 },
    );
    expect(granted).toBeGreaterThan(100);
  }, 120_000);
});
