// What the floor scenario runs, for the full run and the --quick smoke run (copied into the JSON
// `config`). --agents and --duration override the sizes; --pace and --answer-rate the profile.

export interface FloorPlan {
  readonly agents: number;
  readonly durationS: number;
  /** Floor worker processes (agents are dealt round-robin). */
  readonly workers: number;
  /** Every duration of the profile divided by this (1 = real time). */
  readonly pace: number;
  readonly connectConcurrency: number;
  /** How long agents may take to finish their calls when the floor stops. */
  readonly stopTimeoutMs: number;
  /** Leads queued per agent-hour of expected dialling, times this margin. */
  readonly leadHeadroom: number;
  /** Windows whose other + steal cores exceed this are counted as disturbed (reported, not repeated: a floor run is long). */
  readonly maxOtherCores: number;
}

export const FULL: FloorPlan = {
  agents: 1000,
  durationS: 300,
  workers: 4,
  pace: 1,
  connectConcurrency: 25,
  stopTimeoutMs: 15_000,
  leadHeadroom: 1.5,
  maxOtherCores: 0.25,
};

export const QUICK: FloorPlan = {
  ...FULL,
  agents: 50,
  durationS: 20,
  workers: 2,
  pace: 10,
};

/** Its size inside `npm run bench -- all` (the whole suite in about 15 minutes on 2 cores). */
export const SUITE: FloorPlan = { ...FULL, durationS: 120 };

export const GOALS = {
  /** ready -> offer, ms. */
  offer_p99_ms: 50,
} as const;
