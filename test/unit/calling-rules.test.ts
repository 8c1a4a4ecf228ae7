// Calling rules as data: presets are well-formed windows with a source, packs are validated at
// the edge, and a zone key's limits are the strictest of every pack of any of its zones.
import { describe, expect, it } from 'vitest';
import { CALLING_PRESETS } from '../../engine/calling-presets.js';
import {
  callingRulesSchema,
  decodeHistory,
  decodeLimits,
  encodeHistory,
  encodeLimits,
  heldUntil,
  limitsOf,
  lockoutOutcomes,
  withCall,
  withLockout,
} from '../../engine/calling-rules.js';
import type { ZoneLimits } from '../../engine/calling-rules.js';
import { callingWindowSchema, zoneKey } from '../../engine/calling-window.js';
import { parseCampaignConfig } from '../../engine/campaign.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const T = Date.UTC(2026, 0, 5, 12);

describe('presets', () => {
  it('are valid calling windows, each naming the rule it encodes', () => {
    for (const [id, preset] of Object.entries(CALLING_PRESETS)) {
      expect(callingWindowSchema.safeParse(preset.hours).success, id).toBe(true);
      expect(preset.source.length, id).toBeGreaterThan(20);
    }
    expect(CALLING_PRESETS['us-tcpa'].hours.rules).toEqual([
      { days: [1, 2, 3, 4, 5, 6, 7], from: '08:00', to: '21:00' },
    ]);
  });
});

describe('rule packs at the edge', () => {
  const refused = (input: unknown) => callingRulesSchema.safeParse(input).success === false;

  it('refuses unknown zones and presets, impossible dates, bad outcome codes and unknown fields', () => {
    expect(refused({ packs: [{ name: 'x', zones: ['Mars/Olympus'] }] })).toBe(true);
    expect(refused({ packs: [{ name: 'x', zones: ['+03:00'] }] })).toBe(true);
    expect(refused({ preset: 'us-zz' })).toBe(true);
    expect(refused({ packs: [{ name: 'x', holidays: ['2026-02-30'] }] })).toBe(true);
    expect(refused({ packs: [{ name: 'x', lockout: { outcomes: ['Abandoned!'], durationMs: DAY } }] })).toBe(
      true,
    );
    expect(refused({ packs: [{ name: 'x', maxCalls: [{ count: 0, periodMs: DAY }] }] })).toBe(true);
    expect(refused({ packs: [{ name: 'x', gap: 5 }] })).toBe(true);
    expect(
      refused({ preset: 'fr', packs: [{ name: 'x', zones: ['Europe/Paris'], holidays: ['2026-07-14'] }] }),
    ).toBe(false);
  });
});

describe('a campaign with rules', () => {
  it('refuses a lockout on an outcome code the campaign does not have', () => {
    const config = (outcomes: string[]) => ({
      window: { rules: [] },
      dispositions: { abandoned: { final: false } },
      callingRules: { packs: [{ name: 'x', lockout: { outcomes, durationMs: DAY } }] },
    });
    expect(() => parseCampaignConfig(config(['abandonned']))).toThrow(
      /not one of the campaign's outcome codes/,
    );
    expect(parseCampaignConfig(config(['abandoned', 'busy'])).callingRules?.packs).toHaveLength(1);
  });
});

describe('limits of a zone key', () => {
  const rules = callingRulesSchema.parse({
    packs: [
      { name: 'us', zones: ['America/New_York'], minGapMs: HOUR, maxCalls: [{ count: 3, periodMs: DAY }] },
      { name: 'ca', zones: ['America/Los_Angeles'], minGapMs: 4 * HOUR },
      { name: 'all', lockout: { outcomes: ['abandoned'], durationMs: 2 * DAY } },
    ],
  });

  it('takes the strictest of every pack of any candidate zone', () => {
    expect(limitsOf(rules, zoneKey(['America/New_York', 'America/Los_Angeles']))).toEqual({
      minGapMs: 4 * HOUR,
      lockoutMs: 2 * DAY,
      caps: [{ count: 3, periodMs: DAY }],
    });
    expect(limitsOf(rules, zoneKey('Asia/Tokyo'))).toEqual({ minGapMs: 0, lockoutMs: 2 * DAY, caps: [] });
    expect(limitsOf(callingRulesSchema.parse({}), zoneKey('Asia/Tokyo'))).toBeNull();
    expect([...lockoutOutcomes(rules)]).toEqual(['abandoned']);
  });

  it("includes a preset's caps, for its region only", () => {
    const fl = callingRulesSchema.parse({
      packs: [{ name: 'fl', zones: ['America/New_York'], preset: 'us-fl' }],
    });
    expect(limitsOf(fl, zoneKey('America/New_York'))?.caps).toEqual([{ count: 3, periodMs: DAY }]);
    expect(limitsOf(fl, zoneKey('America/Chicago'))).toBeNull();
  });

  it('round-trips the encodings the scripts read', () => {
    const l = limitsOf(rules, zoneKey('America/New_York'))!;
    expect(encodeLimits(l)).toBe(`${HOUR},${2 * DAY},3/${DAY}`);
    expect(decodeLimits(encodeLimits(l))).toEqual(l);
    expect(decodeLimits('')).toBeNull();
    const h = { lockedUntil: T + DAY, calls: [T - HOUR, T] };
    expect(decodeHistory(encodeHistory(h))).toEqual(h);
  });
});

describe('when a number may next be called', () => {
  const limits: ZoneLimits = { minGapMs: 2 * HOUR, lockoutMs: DAY, caps: [{ count: 2, periodMs: DAY }] };

  it('after the gap, once a full cap has room, and after a lockout: the latest of them', () => {
    let h = withCall(limits, { lockedUntil: 0, calls: [] }, T);
    expect(heldUntil(limits, h, T + HOUR)).toBe(T + 2 * HOUR);
    expect(heldUntil(limits, h, T + 2 * HOUR)).toBeNull();
    h = withCall(limits, h, T + 3 * HOUR);
    // Two calls in 24 h: full until the first is a day old.
    expect(heldUntil(limits, h, T + 6 * HOUR)).toBe(T + DAY);
    h = withLockout(limits, h, T + 4 * HOUR);
    expect(heldUntil(limits, h, T + 6 * HOUR)).toBe(T + 4 * HOUR + DAY);
    expect(heldUntil(null, h, T + 6 * HOUR)).toBeNull();
  });

  it("forgets calls out of every rule's reach", () => {
    const h = withCall(limits, { lockedUntil: 0, calls: [T - 3 * DAY, T - HOUR] }, T);
    expect(h.calls).toEqual([T - HOUR, T]);
  });
});
