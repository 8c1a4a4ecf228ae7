// What the startup scenario runs: how many restarts of each kind it times and how long the
// zero-setup process idles before its memory is read. Copied into the JSON `config`.

export interface StartupPlan {
  /** Timed restarts of each build (compiled bundle, tsx), alternating, after one untimed start. */
  readonly restarts: number;
  /** How long the zero-setup process idles, after /readyz, before its RSS is read. */
  readonly idleMs: number;
  /** RSS samples taken over the end of the idle time (the median is reported). */
  readonly rssSamples: number;
  /** A start that is not ready within this long fails the run. */
  readonly readyTimeoutMs: number;
}

export const FULL: StartupPlan = { restarts: 5, idleMs: 10_000, rssSamples: 5, readyTimeoutMs: 60_000 };
export const QUICK: StartupPlan = { restarts: 1, idleMs: 2_000, rssSamples: 2, readyTimeoutMs: 60_000 };
export const SUITE: StartupPlan = { ...FULL, restarts: 3 };

export const GOALS = {
  /** Process start to /readyz 200 with real Redis and Postgres, ms (the compiled bundle). */
  start_to_ready_ms: 1000,
  /** Resident memory of the idle zero-setup process (and any children), MiB. */
  zero_setup_idle_rss_mib: 250,
} as const;
