// The QueueStore port: every queue operation the engine offers, each one atomic. Two adapters
// implement it (Redis for production, memory for zero-setup and as the reference model); the
// contract suite in test/contract runs against both and a property test checks they agree.
//
// Time is always an argument (`now`, epoch ms): the caller's clock follows Redis's own, so every
// gateway agrees on when a lease expires or a lead falls due.
import type { AgentId, CampaignRef, DeviceId, LeadId, TenantId } from './ids.js';
import type { LeadInput } from './lead.js';
import type { Lease, LeaseId } from './lease.js';
import type { CampaignConfig } from './campaign.js';
import type { CallbackRequest, Disposition } from './disposition.js';
import type { EngineErrorCode } from './errors.js';
import type { ZoneKey } from './calling-window.js';

export interface EnqueueResult {
  readonly enqueued: number;
  /** Leads not queued because their number is already queued in this campaign. */
  readonly duplicates: readonly LeadId[];
  /** Leads not queued because the campaign suppressed their number (do-not-call, erased). */
  readonly suppressed: readonly LeadId[];
}

export interface ReadyAgent {
  readonly agentId: AgentId;
  readonly deviceId: DeviceId;
}

export interface CompletionInput {
  readonly leaseId: string;
  /** When given, the lease must belong to this agent. */
  readonly agentId?: AgentId;
  readonly outcome: string;
  readonly callback?: CallbackRequest;
  /**
   * When the call was completed (epoch ms), if earlier than `now`: retry and callback times are
   * computed from it, so re-applying a completion recorded earlier lands the lead where the
   * system of record says it is.
   */
  readonly completedAt?: number;
}

export interface Completion {
  readonly leaseId: LeaseId;
  readonly leadId: LeadId;
  readonly outcome: string;
  /** Attempts the lead has had, this one included. */
  readonly attempts: number;
  readonly disposition: Disposition;
  /** The same completion was already applied; nothing changed this time. */
  readonly duplicate: boolean;
  /** The lease had expired and its lead was back in the queue; the call really happened, so it counts. */
  readonly late: boolean;
  /** The dialled number, present only when the outcome adds it to the do-not-call list. */
  readonly dncPhone: string | null;
}

export type ItemResult<T> =
  | ({ readonly ok: true } & T)
  | { readonly ok: false; readonly code: EngineErrorCode; readonly message: string };

export interface LeaseExtension {
  readonly leaseId: LeaseId;
  readonly expiresAt: number;
}

export interface LeaseRef {
  readonly leaseId: string;
  readonly agentId: AgentId;
}

export interface LeaseView {
  readonly leaseId: LeaseId;
  readonly state: 'offered' | 'accepted' | 'expired' | 'done';
  readonly leadId: LeadId | null;
  readonly agentId: AgentId;
  readonly deviceId: DeviceId;
  /** Expiry for a live lease, completion time for a done one. */
  readonly at: number;
}

export interface ReclaimedLease {
  readonly leaseId: LeaseId;
  readonly leadId: LeadId;
  readonly agentId: AgentId;
  readonly deviceId: DeviceId;
  readonly state: 'offered' | 'accepted';
}

export interface RemovedLead {
  readonly phone: string;
  readonly leadId: LeadId;
  /** The live lease the lead was under, now revoked: its device must be told. */
  readonly revoked: {
    readonly leaseId: LeaseId;
    readonly agentId: AgentId;
    readonly deviceId: DeviceId;
  } | null;
}

export interface ZoneStats {
  readonly zone: ZoneKey;
  readonly ready: number;
  readonly open: boolean;
}

export interface QueueStats {
  readonly ready: number;
  readonly scheduled: number;
  readonly leased: number;
  readonly readyAgents: number;
  readonly zones: readonly ZoneStats[];
}

/** Raw membership of every queue structure, for invariant checks, audits and debugging. O(size). */
export interface QueueSnapshot {
  /** member -> lead id, for every lead the campaign holds. */
  readonly records: Readonly<Record<string, string>>;
  /** zone key -> members in queue order. */
  readonly ready: Readonly<Record<string, readonly string[]>>;
  /** members with their due time, in due order. */
  readonly scheduled: readonly (readonly [string, number])[];
  /** agent -> members with due time, in due order. */
  readonly pinned: Readonly<Record<string, readonly (readonly [string, number])[]>>;
  /** live leases: lease id -> record. */
  readonly leases: Readonly<
    Record<string, { state: 'offered' | 'accepted'; member: string; agentId: string; expiresAt: number }>
  >;
  /** ready agents in idle order (longest idle first). */
  readonly agents: readonly (readonly [string, number])[];
  /** phone -> member. */
  readonly phones: Readonly<Record<string, string>>;
  /** numbers the campaign must never queue again, sorted. */
  readonly suppressed: readonly string[];
}

export interface RebuildResult {
  readonly enqueued: number;
  readonly duplicates: number;
  /** Leads not queued because the campaign suppressed their number. */
  readonly suppressed: number;
  /** Leads kept because they were under a live lease when the rebuild began (their numbers count as duplicates). */
  readonly keptLeased: number;
}

export interface ReadyAndDispatched {
  /** One result per agent marked ready, in order (AGENT_BUSY for one holding a live lease). */
  readonly ready: readonly ItemResult<{ agentId: AgentId }>[];
  readonly leases: readonly Lease[];
}

export interface QueueStore {
  readonly kind: 'redis' | 'memory';

  /** Create or update a campaign. Re-defining keeps its queue; window changes apply at once. */
  defineCampaign(ref: CampaignRef, config: CampaignConfig, now: number): Promise<void>;
  /** Remove a campaign and everything queued in it. */
  dropCampaign(ref: CampaignRef): Promise<void>;
  hasCampaign(ref: CampaignRef): Promise<boolean>;

  /** Validate the whole batch first (nothing is written if any lead is malformed), then queue it. */
  enqueue(ref: CampaignRef, leads: readonly LeadInput[], now: number): Promise<EnqueueResult>;

  /** Mark agents ready; an agent already ready keeps its idle-since time. */
  setAgentsReady(
    ref: CampaignRef,
    agents: readonly ReadyAgent[],
    now: number,
  ): Promise<readonly ItemResult<{ agentId: AgentId }>[]>;
  setAgentNotReady(ref: CampaignRef, agentId: AgentId): Promise<boolean>;

  /** Lease the next lead for one agent (its due pinned callbacks first). */
  lease(ref: CampaignRef, agent: ReadyAgent, now: number, offerTtlMs: number): Promise<Lease | null>;
  /** Pair the longest-idle ready agents with the next leads, up to `maxPairs` pairs. */
  dispatch(ref: CampaignRef, now: number, maxPairs: number, offerTtlMs: number): Promise<readonly Lease[]>;
  /**
   * Mark agents ready (as setAgentsReady) and dispatch, in one atomic step: an agent that says
   * "ready" can be offered its call in the same round trip.
   */
  readyAndDispatch(
    ref: CampaignRef,
    agents: readonly ReadyAgent[],
    now: number,
    maxPairs: number,
    offerTtlMs: number,
  ): Promise<ReadyAndDispatched>;

  accept(tenantId: TenantId, lease: LeaseRef, now: number, ttlMs: number): Promise<LeaseExtension>;
  /** Accept many leases in one step (devices that took their offers in the same tick). */
  acceptMany(
    tenantId: TenantId,
    leases: readonly LeaseRef[],
    now: number,
    ttlMs: number,
  ): Promise<readonly ItemResult<LeaseExtension>[]>;
  /** Heartbeat: extend accepted leases. */
  extend(
    tenantId: TenantId,
    leases: readonly LeaseRef[],
    now: number,
    ttlMs: number,
  ): Promise<readonly ItemResult<LeaseExtension>[]>;
  /**
   * Expire live leases now (their device is gone): the next reclaim puts the leads back at the
   * head of their priority and keeps the leases as expired tombstones, so a late completion of a
   * call that really happened is still accepted. Unlike `reject`.
   */
  expire(
    tenantId: TenantId,
    leases: readonly LeaseRef[],
    now: number,
  ): Promise<readonly ItemResult<LeaseExtension>[]>;
  /** The device declines: the lead goes back to the head of its priority, no attempt counted. */
  reject(tenantId: TenantId, lease: LeaseRef, now: number): Promise<void>;
  complete(
    tenantId: TenantId,
    items: readonly CompletionInput[],
    now: number,
  ): Promise<readonly ItemResult<Completion>[]>;
  /**
   * Run every check and decision of `complete` and change nothing: the caller learns the result
   * (lead, attempts, disposition) it must commit to the system of record before applying it.
   */
  checkCompletions(
    tenantId: TenantId,
    items: readonly CompletionInput[],
    now: number,
  ): Promise<readonly ItemResult<Completion>[]>;
  /** Live leases that have expired and not been reclaimed yet (read-only). */
  expiredLeases(ref: CampaignRef, now: number, limit: number): Promise<readonly LeaseId[]>;
  peekLease(tenantId: TenantId, leaseId: string, now: number): Promise<LeaseView>;

  /** Put the leads of expired leases back (head of their priority, no attempt counted). */
  reclaim(ref: CampaignRef, now: number, limit: number): Promise<readonly ReclaimedLease[]>;
  /** Move scheduled leads that fell due into the ready queue. Returns how many moved. */
  promote(ref: CampaignRef, now: number, limit: number): Promise<number>;
  /**
   * Remove every queued lead with one of these numbers, including any under a live lease, and
   * suppress the numbers in this campaign: no later enqueue (import, rebuild) queues them again.
   */
  removeNumbers(ref: CampaignRef, phones: readonly string[]): Promise<readonly RemovedLead[]>;
  /** Recompute the calling-window intervals of every zone the campaign holds (daily, and on demand). */
  refreshWindows(ref: CampaignRef, now: number): Promise<void>;

  stats(ref: CampaignRef, now: number): Promise<QueueStats>;
  /**
   * Replace the campaign's queue with the given leads (the system of record's queued leads, in
   * enqueue order). Leads under a live lease keep it and are not queued twice.
   */
  rebuild(
    ref: CampaignRef,
    source: AsyncIterable<readonly LeadInput[]> | Iterable<readonly LeadInput[]>,
    now: number,
  ): Promise<RebuildResult>;
  snapshot(ref: CampaignRef): Promise<QueueSnapshot>;

  close(): Promise<void>;
}
