// What the persist scenario runs (copied into the JSON `config`).

export interface PersistPlan {
  /** Outcomes written per measured round, on each side. */
  readonly outcomes: number;
  /** Completions in flight at once (agents waiting for their acknowledgement). */
  readonly concurrency: number;
  /** Rounds alternating dialhub and the raw INSERT; metrics are medians. */
  readonly rounds: number;
  /** Rows per statement of the raw multi-row INSERT. */
  readonly rawBatch: number;
  readonly maxOtherCores: number;
  readonly retries: number;
  readonly retryBudget: number;
}

export const FULL: PersistPlan = {
  outcomes: 40_000,
  concurrency: 1000,
  rounds: 3,
  rawBatch: 500,
  maxOtherCores: 0.25,
  retries: 1,
  retryBudget: 3,
};

export const QUICK: PersistPlan = {
  ...FULL,
  outcomes: 2000,
  concurrency: 100,
  rounds: 1,
  retries: 0,
  retryBudget: 0,
};

/** Its size inside `npm run bench -- all` (the whole suite in about 15 minutes on 2 cores). */
export const SUITE: PersistPlan = { ...FULL, rounds: 2, retryBudget: 2 };

export const GOALS = {
  outcomes_per_s: 20_000,
  commit_p99_ms: 20,
} as const;
