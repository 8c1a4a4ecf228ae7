// What the recovery scenario's child processes serve to the orchestrator (plain JSON over IPC).
import type { AgentCredential } from '../loop/api.js';

export type Role = 'live' | 'silent';

/** [lead or job id, epoch ms] */
export type Sighting = readonly [string, number];

export interface Tally {
  /** Every offer (dialhub) or job pickup (BullMQ) this process saw, in order. */
  readonly offers: readonly Sighting[];
  /** Completions the system accepted, per lead / job id. */
  readonly completed: Readonly<Record<string, number>>;
  /** Errors by code or message. */
  readonly errors: Readonly<Record<string, number>>;
}

export interface LateCompletions {
  /** Held calls whose completion the system accepted after the silence. */
  readonly accepted: readonly string[];
  /** Refused, by the code the system gave. */
  readonly refused: Readonly<Record<string, number>>;
}

export interface DialhubFleetApi {
  connect(req: {
    url: string;
    campaignId: string;
    agents: readonly AgentCredential[];
    role: Role;
    talkMs: number;
    concurrency: number;
  }): Promise<{ connected: number }>;
  /** Every agent goes ready; live agents work calls in a loop, silent ones hold their first. */
  start(): Promise<void>;
  /** Silent: the calls held so far (lead ids). */
  held(): Promise<readonly string[]>;
  tally(): Promise<Tally>;
  /** Live: finish the calls in hand, take no new ones. */
  stop(): Promise<void>;
  /** Silent, after it is resumed: complete every held call (reconnecting first if dropped). */
  release(): Promise<LateCompletions>;
  shutdown(): Promise<void>;
}

export interface BullmqWorkerApi {
  start(): Promise<void>;
  held(): Promise<readonly string[]>;
  tally(): Promise<Tally>;
  /** Silent, after it is resumed: let every held job's processor return. */
  release(): Promise<LateCompletions>;
  shutdown(): Promise<void>;
}
