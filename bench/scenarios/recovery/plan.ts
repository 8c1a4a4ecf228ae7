// Sizes and settings of the `recovery` scenario. The full run is what README's figures come from;
// `--quick` proves the tool works (and leaves out BullMQ at its 30 s defaults, which alone takes
// a minute or more).

export interface RecoveryPlan {
  /** Simulated agents (dialhub) and processing slots (BullMQ), live and silenced together. */
  readonly agents: number;
  /** Share of them silenced (SIGSTOP on their process) while each holds a call. */
  readonly silentShare: number;
  /** How long a live agent's call lasts before it completes (ms). */
  readonly talkMs: number;
  /** Leads (jobs) queued per system: enough for the live agents to stay busy for a while. */
  readonly leadsPerLiveAgent: number;
  /** Handshakes in flight at once. */
  readonly connectConcurrency: number;
  /** Run BullMQ at its defaults (30 s lock, 30 s stalled check) as well as with the 2 s lock. */
  readonly bullmqDefaults: boolean;
}

export const FULL: RecoveryPlan = {
  agents: 400,
  silentShare: 0.1,
  talkMs: 3_000,
  leadsPerLiveAgent: 10,
  connectConcurrency: 25,
  bullmqDefaults: true,
};

export const QUICK: RecoveryPlan = {
  agents: 40,
  silentShare: 0.1,
  talkMs: 1_000,
  leadsPerLiveAgent: 5,
  connectConcurrency: 20,
  bullmqDefaults: false,
};

/** Its size inside `npm run bench -- all` (the whole suite in about 15 minutes on 2 cores). */
export const SUITE: RecoveryPlan = FULL;

/**
 * dialhub's settings for the run: a 5 s lease (the shortest CALL_TTL_MS allows), everything else
 * at its default or the default's rule for a short lease. A silent device is noticed by the
 * Socket.IO heartbeat (derived from CALL_TTL_MS: 1 s ping interval, 1 s timeout), keeps its call
 * for RECONNECT_GRACE_MS in case it comes back, and the reaper (every RECLAIM_INTERVAL_MS) puts
 * the lead back.
 */
export const DIALHUB_CONFIG = {
  LOG_LEVEL: 'silent',
  AGENT_EVENT_RATE: '100000',
  CALL_TTL_MS: '5000',
  LEASE_HEARTBEAT_MS: '2000',
  RECONNECT_GRACE_MS: '2000',
} as const;

export const DIALHUB_TTL_MS = Number(DIALHUB_CONFIG.CALL_TTL_MS);

/** BullMQ's lock settings: its defaults, and tuned to a 2 s lock. */
export const BULLMQ_VARIANTS = {
  defaults: { lockDurationMs: 30_000, stalledIntervalMs: 30_000 },
  lock2s: { lockDurationMs: 2_000, stalledIntervalMs: 2_000 },
} as const;
export type BullmqVariant = keyof typeof BULLMQ_VARIANTS;

/** How long to wait for every orphaned call to be offered again before counting the rest lost. */
export function recoveryDeadlineMs(ttlMs: number, checkMs: number): number {
  return 2 * ttlMs + 3 * checkMs + 10_000;
}

/** Goals from the bench issue. */
export const GOALS = {
  /** Re-offer p99 minus the lease TTL, ms. */
  reofferOverTtlMs: 100,
} as const;
