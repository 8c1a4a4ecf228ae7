// What the engine scenario runs: sizes for the full run and the --quick smoke run, the settings
// each side may be tuned over, and the goals the numbers are held against. Everything here is
// copied into the JSON `config`, so a result says what produced it.

export interface DialhubShape {
  /** Pairs one dispatch call may make. */
  readonly maxPairs: number;
  /** Dispatch loops running at once on one client. */
  readonly concurrency: number;
}

export interface Plan {
  readonly leadsPerRound: number;
  /** Undisturbed rounds the medians are taken over. */
  readonly rounds: number;
  /**
   * A round (the dialhub and BullMQ pair) counts only if, during both timed phases, other
   * processes and hypervisor steal took at most this many cores on average; otherwise it is run
   * again, up to `rounds` extra times. Noise only ever slows a run, so this drops it without
   * favouring either side. Every attempt is kept in the JSON.
   */
  readonly maxOtherCores: number;
  readonly agents: number;
  readonly enqueueBatch: number;
  readonly offerTtlMs: number;
  /** How long the store keeps done leases (its default, stated so the purge cost is reproducible). */
  readonly tombstoneRetentionMs: number;
  readonly warmupLeads: number;
  readonly tuneLeads: number;
  /** Each candidate runs this many times, interleaved; its best run counts (noise only slows). */
  readonly tunePasses: number;
  /** Dispatch shapes tried; agents in flight (maxPairs x concurrency) never exceeds `agents`. */
  readonly dialhubCandidates: readonly DialhubShape[];
  readonly bullmqConcurrencies: readonly number[];
  readonly bullmqAddBatch: number;
  readonly smallDepth: number;
  readonly largeDepth: number;
  readonly latencySamples: number;
  readonly latencyWarmup: number;
  readonly latencyBlock: number;
  /** Cycles run under MONITOR to count Redis element writes per cycle (untimed). */
  readonly writeCountLeads: number;
}

// Chosen from a wider sweep on the 2-core reference machine (maxPairs 25..500, concurrency 2..8;
// BullMQ 50..1000): these bracket the best of each side, so tuning in-run picks among them.
export const FULL: Plan = {
  leadsPerRound: 200_000,
  rounds: 3,
  maxOtherCores: 0.25,
  agents: 1000,
  enqueueBatch: 5000,
  offerTtlMs: 30_000,
  tombstoneRetentionMs: 15 * 60_000,
  warmupLeads: 10_000,
  tuneLeads: 50_000,
  tunePasses: 2,
  dialhubCandidates: [
    { maxPairs: 50, concurrency: 4 },
    { maxPairs: 100, concurrency: 4 },
    { maxPairs: 100, concurrency: 8 },
    { maxPairs: 250, concurrency: 2 },
  ],
  bullmqConcurrencies: [50, 200, 500],
  bullmqAddBatch: 5000,
  smallDepth: 10_000,
  largeDepth: 1_000_000,
  latencySamples: 2000,
  latencyWarmup: 200,
  latencyBlock: 100,
  writeCountLeads: 5000,
};

export const QUICK: Plan = {
  ...FULL,
  leadsPerRound: 5_000,
  rounds: 1,
  warmupLeads: 1_000,
  tuneLeads: 2_000,
  tunePasses: 1,
  dialhubCandidates: FULL.dialhubCandidates.slice(0, 2),
  bullmqConcurrencies: FULL.bullmqConcurrencies.slice(0, 2),
  largeDepth: 20_000,
  latencySamples: 100,
  latencyWarmup: 20,
  latencyBlock: 20,
  writeCountLeads: 1000,
};

/** Its size inside `npm run bench -- all` (the whole suite in about 15 minutes on 2 cores). */
export const SUITE: Plan = {
  ...FULL,
  leadsPerRound: 100_000,
  rounds: 2,
  tunePasses: 1,
  tuneLeads: 30_000,
  latencySamples: 1000,
};

/** Issue 9's goals for the engine rows (cycles vs BullMQ, writes per cycle, bytes per lead at 1M). */
export const GOALS = {
  vs_bullmq: 2,
  p50_1m_vs_10k: 1.3,
  redis_bytes_per_lead: 150,
  redis_writes_per_cycle: 6,
} as const;
