// What a simulated floor looks like: how long agents think between calls (wrap-up), how long
// numbers ring, how long answered calls last, and what happens to each dial. The defaults are a
// plain outbound sales floor (issue 10: 35% answered, 30 s average talk); `pace` divides every
// duration, so a smoke run shows the same mix in seconds instead of minutes.

export const OUTCOMES = ['answered', 'no_answer', 'busy', 'voicemail', 'callback', 'dnc', 'failed'] as const;
export type FloorOutcome = (typeof OUTCOMES)[number];

/** A duration distribution in ms: log-normal around a mean (call lengths are skewed), clamped. */
export interface Duration {
  readonly meanMs: number;
  /** Spread of the underlying normal (0 = always the mean). */
  readonly sigma: number;
  readonly minMs: number;
  readonly maxMs: number;
}

export interface FloorProfile {
  /** Wrap-up and thinking time before the agent is ready again. */
  readonly think: Duration;
  /** From accepting the offer to the outcome being known (dialling and ringing). */
  readonly ring: Duration;
  /** Answered calls only. */
  readonly talk: Duration;
  /** Shares of all dials; they sum to 1. */
  readonly mix: Readonly<Record<FloorOutcome, number>>;
  /** Callbacks are booked this far ahead (ms), for anyone. */
  readonly callbackAfterMs: number;
  /** no_answer and busy come back this soon (ms) as retries, so retries happen within a run. */
  readonly retryAfterMs: number;
}

export const DEFAULT_PROFILE: FloorProfile = {
  think: { meanMs: 8000, sigma: 0.5, minMs: 1000, maxMs: 60_000 },
  ring: { meanMs: 12_000, sigma: 0.4, minMs: 2000, maxMs: 40_000 },
  talk: { meanMs: 30_000, sigma: 0.8, minMs: 3000, maxMs: 600_000 },
  mix: {
    answered: 0.35,
    no_answer: 0.28,
    busy: 0.08,
    voicemail: 0.17,
    callback: 0.05,
    dnc: 0.02,
    failed: 0.05,
  },
  callbackAfterMs: 60_000,
  retryAfterMs: 30_000,
};

/** Every duration divided by `pace` (pace 10: a 30 s call lasts 3 s). */
export function paced(p: FloorProfile, pace: number): FloorProfile {
  const d = (x: Duration): Duration => ({
    meanMs: x.meanMs / pace,
    sigma: x.sigma,
    minMs: x.minMs / pace,
    maxMs: x.maxMs / pace,
  });
  return {
    ...p,
    think: d(p.think),
    ring: d(p.ring),
    talk: d(p.talk),
    callbackAfterMs: p.callbackAfterMs / pace,
    retryAfterMs: p.retryAfterMs / pace,
  };
}

/** Set the answered share and scale the other outcomes to fill the rest. */
export function withAnswerRate(p: FloorProfile, rate: number): FloorProfile {
  const others = OUTCOMES.filter((o) => o !== 'answered');
  const rest = others.reduce((a, o) => a + p.mix[o], 0);
  const mix = Object.fromEntries([
    ['answered', rate],
    ...others.map((o) => [o, (p.mix[o] / rest) * (1 - rate)]),
  ]) as Record<FloorOutcome, number>;
  return { ...p, mix };
}

/** A standard normal sample (Box-Muller). */
function normal(random: () => number): number {
  const u = 1 - random();
  const v = random();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

/** A log-normal sample whose mean is `meanMs`, clamped to [minMs, maxMs]. */
export function sample(d: Duration, random: () => number = Math.random): number {
  const mu = Math.log(d.meanMs) - (d.sigma * d.sigma) / 2;
  const x = Math.exp(mu + d.sigma * normal(random));
  return Math.min(d.maxMs, Math.max(d.minMs, x));
}

export function pickOutcome(
  mix: Readonly<Record<FloorOutcome, number>>,
  random: () => number = Math.random,
): FloorOutcome {
  let r = random();
  for (const o of OUTCOMES) {
    r -= mix[o];
    if (r < 0) return o;
  }
  return 'answered';
}

/**
 * The best an agent could do if every offer arrived the instant it was ready: talk time over the
 * whole cycle (think + ring + talk when answered). The floor's baseline.
 */
export function idealUtilisation(p: FloorProfile): { utilisation: number; callsPerAgentHour: number } {
  const mean = (d: Duration) => d.meanMs; // clamping moves the means by little; the ratio is what matters
  const cycle = mean(p.think) + mean(p.ring) + p.mix.answered * mean(p.talk);
  return { utilisation: (p.mix.answered * mean(p.talk)) / cycle, callsPerAgentHour: 3_600_000 / cycle };
}
