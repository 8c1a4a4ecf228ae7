// Sizes of the `scale` scenario: how far the queue grows, over how many campaigns, and how many
// leases are timed at each size. The full run is what README's figures come from; `--quick`
// proves the tool works in seconds and measures nothing worth quoting.

export interface ScalePlan {
  /** Campaigns the leads are spread over, evenly (one tenant). */
  readonly campaigns: number;
  /** Total queued leads at each measured step, ascending; the first is the baseline. */
  readonly steps: readonly number[];
  /** Campaigns whose leases are timed at each step (the same ones every step). */
  readonly probes: number;
  /** Timed leases per probe campaign per step (after `warmup` untimed ones). */
  readonly samples: number;
  readonly warmup: number;
  /** Consecutive leases on one campaign before moving to the next (interleaved, like `engine`). */
  readonly block: number;
  readonly enqueueBatch: number;
  /** Campaigns filled at once (node-redis pipelines their scripts on one connection). */
  readonly fillConcurrency: number;
  readonly offerTtlMs: number;
}

export const FULL: ScalePlan = {
  campaigns: 1_000,
  steps: [10_000, 100_000, 1_000_000, 10_000_000],
  probes: 50,
  samples: 100,
  warmup: 10,
  block: 10,
  enqueueBatch: 2_500,
  fillConcurrency: 4,
  offerTtlMs: 30_000,
};

export const QUICK: ScalePlan = {
  campaigns: 20,
  steps: [2_000, 20_000],
  probes: 5,
  samples: 20,
  warmup: 2,
  block: 5,
  enqueueBatch: 1_000,
  fillConcurrency: 4,
  offerTtlMs: 30_000,
};

/** Its size inside `npm run bench -- all` (the whole suite in about 15 minutes on 2 cores). */
export const SUITE: ScalePlan = { ...FULL, steps: [10_000, 100_000, 1_000_000], probes: 30 };

/** Goals from the bench issue. */
export const GOALS = {
  /** Lease p50 at the largest step over lease p50 at the smallest. */
  p50LargestVsSmallest: 1.3,
} as const;

/** '10k', '1m', '10m': the step's size as metric names carry it. */
export function stepLabel(total: number): string {
  if (total >= 1_000_000 && total % 1_000_000 === 0) return `${total / 1_000_000}m`;
  if (total >= 1_000 && total % 1_000 === 0) return `${total / 1_000}k`;
  return String(total);
}
