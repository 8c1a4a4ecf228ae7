// The floor's simulated people and the bench's rule for disturbed windows: the outcome mix and
// durations the floor draws from, the ideal floor it is compared with, and the bounded repeats.
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_PROFILE,
  idealUtilisation,
  OUTCOMES,
  paced,
  pickOutcome,
  sample,
  withAnswerRate,
} from '../../bench/scenarios/floor/profile.js';
import { undisturbed } from '../../bench/lib/window-meter.js';
import type { RetryBudget, WindowCpu } from '../../bench/lib/window-meter.js';

/** A deterministic generator (mulberry32), so the statistics below do not flake. */
function seeded(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('the floor profile', () => {
  it('the default mix is a whole, with the 35% answer rate of issue 10', () => {
    const sum = OUTCOMES.reduce((a, o) => a + DEFAULT_PROFILE.mix[o], 0);
    expect(sum).toBeCloseTo(1, 9);
    expect(DEFAULT_PROFILE.mix.answered).toBe(0.35);
  });

  it('another answer rate rescales the other outcomes and keeps the whole', () => {
    const p = withAnswerRate(DEFAULT_PROFILE, 0.5);
    expect(p.mix.answered).toBe(0.5);
    expect(OUTCOMES.reduce((a, o) => a + p.mix[o], 0)).toBeCloseTo(1, 9);
    expect(p.mix.no_answer / p.mix.busy).toBeCloseTo(
      DEFAULT_PROFILE.mix.no_answer / DEFAULT_PROFILE.mix.busy,
      9,
    );
  });

  it('outcomes are drawn in proportion to the mix', () => {
    const random = seeded(7);
    const counts = Object.fromEntries(OUTCOMES.map((o) => [o, 0])) as Record<string, number>;
    const n = 20_000;
    for (let i = 0; i < n; i++) counts[pickOutcome(DEFAULT_PROFILE.mix, random)]!++;
    for (const o of OUTCOMES) expect(counts[o]! / n).toBeCloseTo(DEFAULT_PROFILE.mix[o], 1);
  });

  it('durations are log-normal around their mean, within their bounds; pace divides them', () => {
    const random = seeded(11);
    const talk = DEFAULT_PROFILE.talk;
    const xs = Array.from({ length: 20_000 }, () => sample(talk, random));
    const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
    expect(Math.abs(mean - talk.meanMs) / talk.meanMs).toBeLessThan(0.1);
    expect(Math.min(...xs)).toBeGreaterThanOrEqual(talk.minMs);
    expect(Math.max(...xs)).toBeLessThanOrEqual(talk.maxMs);
    expect(paced(DEFAULT_PROFILE, 10).talk.meanMs).toBe(talk.meanMs / 10);
  });

  it('the ideal floor: talk time over the whole cycle when offers are instant', () => {
    const ideal = idealUtilisation(DEFAULT_PROFILE);
    // 0.35 x 30 s of talk in 8 + 12 + 0.35 x 30 = 30.5 s
    expect(ideal.utilisation).toBeCloseTo(10.5 / 30.5, 6);
    expect(ideal.callsPerAgentHour).toBeCloseTo(3600 / 30.5, 6);
  });
});

describe('disturbed windows', () => {
  const cpu = (other: number): WindowCpu => ({ seconds: 1, ours: 1, redis: 0, other, steal: 0, byPid: {} });
  const opts = (budget: RetryBudget, retries = 1) => ({
    maxOtherCores: 0.25,
    retries,
    budget,
    log: () => undefined,
  });

  it('a quiet window counts at once', async () => {
    const budget = { left: 3, repeated: 0, countedDisturbed: 0 };
    const r = await undisturbed(() => Promise.resolve({ cpu: cpu(0.1), v: 1 }), opts(budget));
    expect(r).toMatchObject({ v: 1, disturbed: false });
    expect(budget).toEqual({ left: 3, repeated: 0, countedDisturbed: 0 });
  });

  it('a disturbed window is measured again, and the repeat is counted', async () => {
    const budget = { left: 3, repeated: 0, countedDisturbed: 0 };
    const others = [1.5, 0.1];
    const r = await undisturbed(() => Promise.resolve({ cpu: cpu(others.shift()!) }), opts(budget));
    expect(r.disturbed).toBe(false);
    expect(budget).toEqual({ left: 2, repeated: 1, countedDisturbed: 0 });
  });

  it('repeats stop at the bound per window and at the budget; the last one counts, flagged', async () => {
    const budget = { left: 1, repeated: 0, countedDisturbed: 0 };
    let calls = 0;
    const noisy = () => {
      calls++;
      return Promise.resolve({ cpu: cpu(1.9) });
    };
    expect((await undisturbed(noisy, opts(budget, 5))).disturbed).toBe(true);
    expect(calls).toBe(2); // one repeat: the budget had one
    expect((await undisturbed(noisy, opts(budget, 5))).disturbed).toBe(true);
    expect(calls).toBe(3); // budget spent: no repeat
    expect(budget).toEqual({ left: 0, repeated: 1, countedDisturbed: 2 });
  });
});
