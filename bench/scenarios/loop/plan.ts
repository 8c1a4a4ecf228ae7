// What the loop scenario runs: sizes and durations for the full run and the --quick smoke run,
// and the goals the numbers are held against. Everything here is copied into the JSON `config`,
// so a result says what produced it.

export interface PhaseTiming {
  /** Load runs this long before the window opens (connections warm, queues in steady state). */
  readonly warmupMs: number;
  /** The measurement window. */
  readonly measureMs: number;
}

export interface LoopPlan {
  readonly agents: number;
  /** Agent worker processes; agents are dealt to them round-robin. */
  readonly workers: number;
  /** Undisturbed measurements of each phase the medians are taken over. */
  readonly rounds: number;
  /**
   * A measurement counts only if other processes and hypervisor steal took at most this many
   * cores on average during its window; otherwise it is repeated at once, up to
   * `retriesPerPhase` times (then the last attempt counts, flagged). Noise only slows a run, so
   * this drops it without favouring either side.
   */
  readonly maxOtherCores: number;
  readonly retriesPerPhase: number;
  /** Retries in the whole run, so a busy machine cannot stretch it without bound. */
  readonly retryBudget: number;
  /** One unmeasured closed-loop run per system first: JIT, script cache, pools, rate estimates. */
  readonly warmupMs: number;
  readonly closed: PhaseTiming;
  readonly open: PhaseTiming & { readonly ratePerS: number };
  /** Leads queued in dialhub and jobs queued in BullMQ before the first phase (the same number). */
  readonly initialDepth: number;
  /** gateway.addLeads / Queue.addBulk batch. */
  readonly fillBatch: number;
  /**
   * Before a phase, each queue is topped up to at least its expected use (rate x phase time) times
   * this, so no phase runs out of work (the run fails if one does).
   */
  readonly depthHeadroom: number;
  /** Handshakes in flight at once per worker while connecting. */
  readonly connectConcurrency: number;
  /** How long a worker may take to finish its agents' cycles when a phase stops. */
  readonly stopTimeoutMs: number;
  /** The BullMQ dialer's pg Pool size (node-postgres's default). */
  readonly bullmqPoolMax: number;
  readonly bullmqOfferTimeoutMs: number;
}

export const FULL: LoopPlan = {
  agents: 1000,
  workers: 4,
  rounds: 3,
  maxOtherCores: 0.25,
  retriesPerPhase: 1,
  retryBudget: 5,
  warmupMs: 3000,
  closed: { warmupMs: 2000, measureMs: 10_000 },
  open: { warmupMs: 2000, measureMs: 8000, ratePerS: 1000 },
  initialDepth: 250_000,
  fillBatch: 5000,
  depthHeadroom: 1.5,
  connectConcurrency: 50,
  stopTimeoutMs: 15_000,
  bullmqPoolMax: 10,
  bullmqOfferTimeoutMs: 10_000,
};

export const QUICK: LoopPlan = {
  ...FULL,
  agents: 200,
  workers: 2,
  rounds: 1,
  retriesPerPhase: 0,
  warmupMs: 1500,
  closed: { warmupMs: 1000, measureMs: 4000 },
  open: { warmupMs: 1000, measureMs: 4000, ratePerS: 1000 },
  initialDepth: 50_000,
};

/** Its size inside `npm run bench -- all` (the whole suite in about 15 minutes on 2 cores). */
export const SUITE: LoopPlan = { ...FULL, rounds: 2, retryBudget: 3, initialDepth: 150_000 };

export const GOALS = {
  /** calls/s over the BullMQ dialer's. */
  vs_bullmq_dialer: 3,
  /** calls/s over bare Socket.IO round trips/s (a call needs two round trips: 0.5 is the ceiling). */
  vs_socketio: 0.4,
  /** ready -> offer p99 at the open-loop rate, ms. */
  offer_p99_ms: 5,
  /** ... and over the BullMQ dialer's p99 at the same rate. */
  offer_p99_vs_bullmq_dialer: 0.2,
} as const;
