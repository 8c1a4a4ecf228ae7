// The QueueStore port: every queue operation the engine offers, each one atomic. Two adapters
// implement it (Redis for production, memory for zero-setup and as the reference model); the
// contract suite in test/contract runs against both and a property test checks they agree.
//
// Time is always an argument (`now`, epoch ms): the caller's clock follows Redis's own, so every
// gateway agrees on when a lease expires or a lead falls due.
import type { AgentId, CampaignRef, DeviceId, LeadId, TenantId } from './ids.js';
import type { LeadInput } from './lead.js';
import type { CallPhase, Lease, LeaseId, LeaseIds, LeaseRecordState } from './lease.js';
import type { CampaignConfig } from './campaign.js';
import type { CallbackRequest, Disposition } from './disposition.js';
import type { EngineErrorCode } from './errors.js';
import type { ZoneKey } from './calling-window.js';
import type { NumberHistory } from './calling-rules.js';

export interface EnqueueResult {
  readonly enqueued: number;
  /** Leads not queued because their number is already queued in this campaign under another lead. */
  readonly duplicates: readonly LeadId[];
  /** Leads queued before, under the same id and number (a retried import): nothing to do. */
  readonly alreadyQueued: readonly LeadId[];
  /** Leads not queued because the campaign suppressed their number (do-not-call, erased). */
  readonly suppressed: readonly LeadId[];
}

export interface ReadyAgent {
  readonly agentId: AgentId;
  readonly deviceId: DeviceId;
  /**
   * The session that makes the agent ready (opaque, short). Only this session can take the agent
   * out of routing again: an older, replaced session never removes a newer one's ready flag.
   */
  readonly session?: string;
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

/** A decided completion: what the system of record commits, then the queue applies. */
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

/** A completion the system of record has committed, to be applied to the queue as it was decided. */
export interface CommittedCompletion {
  readonly leaseId: string;
  /** When given, the lease must belong to this agent. */
  readonly agentId?: AgentId;
  readonly outcome: string;
  readonly attempts: number;
  readonly disposition: Disposition;
  readonly leadId: string;
  readonly late: boolean;
}

/**
 * The completion of a lease the queue does not know (issued in an earlier epoch; Redis lost it),
 * whose id the caller has verified (`LeaseIds.verify`) and whose lead the system of record still
 * holds as queued under this number.
 */
export interface OrphanCompletion extends CompletionInput {
  readonly agentId: AgentId;
  readonly deviceId: DeviceId;
  readonly leadId: string;
  /** The lead's number (E.164). */
  readonly phone: string;
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
  readonly state: LeaseRecordState;
  /** Live and not yet past its expiry. */
  readonly live: boolean;
  /** How far the call had got, for a live lease (a resumed device is told). */
  readonly phase: CallPhase | null;
  readonly leadId: LeadId | null;
  readonly agentId: AgentId;
  readonly deviceId: DeviceId;
  /** Expiry for a live lease, requeue/revoke/completion time for a tombstone. */
  readonly at: number;
}

export interface ExpiredLease {
  readonly leaseId: LeaseId;
  /** o, a, n, w (requeued by `reclaim`) or c (claimed: requeued only by `voidClaims`). */
  readonly state: LeaseRecordState;
  readonly leadId: LeadId;
  readonly agentId: AgentId;
  readonly deviceId: DeviceId;
}

export interface ReclaimedLease {
  readonly leaseId: LeaseId;
  readonly leadId: LeadId;
  readonly agentId: AgentId;
  readonly deviceId: DeviceId;
  /** The state the lease was in: offered, or taken by the device (dialling, on the call, ended, completing). */
  readonly state: 'offered' | 'accepted';
}

export interface PhaseChange extends LeaseRef {
  readonly phase: 'on_call' | 'wrap_up';
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
  /** live leases (offered, taken, being completed): lease id -> record. */
  readonly leases: Readonly<
    Record<string, { state: LeaseRecordState; member: string; agentId: string; expiresAt: number }>
  >;
  /** leads whose number was removed mid-call, their outcome still to come: lease id -> member. */
  readonly revoked: Readonly<Record<string, string>>;
  /** ready agents in idle order (longest idle first). */
  readonly agents: readonly (readonly [string, number])[];
  /** phone -> member. */
  readonly phones: Readonly<Record<string, string>>;
  /** numbers the campaign must never queue again, sorted. */
  readonly suppressed: readonly string[];
  /** phone -> its call history under the calling rules (numbers called under limits). */
  readonly numbers: Readonly<Record<string, NumberHistory>>;
}

export interface RebuildResult {
  readonly enqueued: number;
  readonly duplicates: number;
  /** Leads not queued because the campaign suppressed their number. */
  readonly suppressed: number;
  /** Leads kept because they were under a live lease when the rebuild began (their numbers count as duplicates). */
  readonly keptLeased: number;
  /** Held calls attached again (their leases were lost). */
  readonly reattached: number;
  /**
   * Another rebuild of the campaign (another gateway's) was under way, or had ended since the
   * caller saw the need (`unlessRebuiltSince`): this one waited for it and read nothing (the
   * counts are 0).
   */
  readonly waited: boolean;
}

/** The result of a rebuild that waited for another one of the campaign and read nothing. */
export const REBUILD_WAITED: RebuildResult = Object.freeze({
  enqueued: 0,
  duplicates: 0,
  suppressed: 0,
  keptLeased: 0,
  reattached: 0,
  waited: true,
});

export interface Dispatched {
  readonly leases: readonly Lease[];
  /**
   * When ready agents were left unmatched: the earliest moment a zone whose calling window is
   * closed now opens (a dispatch trigger), or null.
   */
  readonly nextOpenAt: number | null;
}

export interface ReadyAndDispatched extends Dispatched {
  /** One result per agent marked ready, in order (AGENT_BUSY for one holding a live lease). */
  readonly ready: readonly ItemResult<{ agentId: AgentId }>[];
}

/**
 * A call in progress that the queue may have lost (its keys were deleted, or it went back in
 * time): a rebuild attaches it again, so its lead is not offered to anyone else meanwhile.
 */
export interface HeldLease {
  /** Issued by this deployment (the caller verified it). */
  readonly leaseId: string;
  readonly agentId: AgentId;
  readonly deviceId: DeviceId;
  readonly phase: CallPhase;
  readonly expiresAt: number;
  /** The lead as the system of record holds it (queued). */
  readonly lead: LeadInput;
}

export interface DefineResult {
  /**
   * The queue may have lost writes (Redis restarted or failed over since its epoch began):
   * nothing is leased from it until it is rebuilt from the system of record.
   */
  readonly stale: boolean;
}

export interface QueueStore {
  readonly kind: 'redis' | 'memory';
  /** How this store signs the lease ids it issues (shared by every gateway of a deployment). */
  readonly leaseIds: LeaseIds;

  /** Create or update a campaign. Re-defining keeps its queue; window changes apply at once. */
  defineCampaign(ref: CampaignRef, config: CampaignConfig, now: number): Promise<DefineResult>;
  /** Remove a campaign and everything queued in it. */
  dropCampaign(ref: CampaignRef): Promise<void>;
  hasCampaign(ref: CampaignRef): Promise<boolean>;
  /**
   * How many rebuilds of the campaign have ended (null: the queue does not know the campaign).
   * A caller that finds the campaign unknown or stale reads this first and hands it to `rebuild`
   * as `unlessRebuiltSince`: a rebuild that ended meanwhile makes its own needless.
   */
  rebuilds(ref: CampaignRef): Promise<number | null>;

  /** Validate the whole batch first (nothing is written if any lead is malformed), then queue it. */
  enqueue(ref: CampaignRef, leads: readonly LeadInput[], now: number): Promise<EnqueueResult>;

  /**
   * Update one queued lead in place (an edit, a callback created, moved or cancelled): the lead
   * queued under `phone` with `lead.id` gets `lead`'s number, name, zone, priority, pin and fields
   * and is placed again, keeping its "first in" place and, when `lead.dueAt` is absent, its due
   * time. Attempts stay the queue's own. Nothing changes unless the answer is `updated`: `leased`
   * while a live lease holds it (offered, on a call, being completed, expired but not reclaimed),
   * `absent` when no queued lead has that id and number, `duplicate` or `suppressed` when the new
   * number is queued under another lead or suppressed in the campaign.
   */
  updateLead(ref: CampaignRef, phone: string, lead: LeadInput, now: number): Promise<LeadUpdateResult>;

  /** Mark agents ready; an agent already ready keeps its idle-since time. */
  setAgentsReady(
    ref: CampaignRef,
    agents: readonly ReadyAgent[],
    now: number,
  ): Promise<readonly ItemResult<{ agentId: AgentId }>[]>;
  /** Take an agent out of routing; with `session`, only if that session made it ready. */
  setAgentNotReady(ref: CampaignRef, agentId: AgentId, session?: string): Promise<boolean>;

  /**
   * Lease the next lead for one agent (its due pinned callbacks first). Like every operation that
   * grants leases, never from a queue that may have lost writes (CAMPAIGN_STALE: rebuild it), and
   * never a lead outside its calling window or whose number is suppressed.
   */
  lease(ref: CampaignRef, agent: ReadyAgent, now: number, offerTtlMs: number): Promise<Lease | null>;
  /** Pair the longest-idle ready agents with the next leads, up to `maxPairs` pairs. */
  dispatch(ref: CampaignRef, now: number, maxPairs: number, offerTtlMs: number): Promise<Dispatched>;
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

  /**
   * The device takes its offered call. The lead's calling window is checked again: an offer
   * accepted after its window closed is withdrawn (OUTSIDE_CALLING_WINDOW; the lead goes back).
   */
  accept(tenantId: TenantId, lease: LeaseRef, now: number, ttlMs: number): Promise<LeaseExtension>;
  /** Accept many leases in one step (devices that took their offers in the same tick). */
  acceptMany(
    tenantId: TenantId,
    leases: readonly LeaseRef[],
    now: number,
    ttlMs: number,
  ): Promise<readonly ItemResult<LeaseExtension>[]>;
  /** How far accepted calls got (connected, ended), so a resumed device is put back where it was; extends them. */
  setPhase(
    tenantId: TenantId,
    changes: readonly PhaseChange[],
    now: number,
    ttlMs: number,
  ): Promise<readonly ItemResult<LeaseExtension>[]>;
  /** Heartbeat: extend accepted leases (a lease being completed is left as it is). */
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

  /**
   * Decide and apply completions in one step (no system of record to commit to in between: the
   * engine's own tests and benchmarks). The gateway uses claim, commit, apply instead.
   */
  complete(
    tenantId: TenantId,
    items: readonly CompletionInput[],
    now: number,
  ): Promise<readonly ItemResult<Completion>[]>;
  /**
   * Step 1 of a completion: decide it (fencing by lease id, outcome code, disposition) and claim
   * the lease: its lead is out of routing (an expired-and-requeued lead leaves the queue again)
   * and the reaper leaves it alone until `now + holdMs`, after which it may only requeue it by
   * `voidClaims`, once the commit has been fenced out in the system of record. Claiming again
   * (a retry) decides again. A done lease answers its stored result with `duplicate: true`.
   */
  claimCompletions(
    tenantId: TenantId,
    items: readonly CompletionInput[],
    now: number,
    holdMs: number,
  ): Promise<readonly ItemResult<Completion>[]>;
  /**
   * Step 1 for a lease the queue does not know (LEASE_UNKNOWN from `claimCompletions`: issued in
   * an earlier epoch, lost by Redis): find the lead by number, refuse if it is under a newer
   * live lease (LEASE_STALE) or not queued here (LEASE_UNKNOWN), else claim it as above.
   */
  adoptCompletions(
    tenantId: TenantId,
    items: readonly OrphanCompletion[],
    now: number,
    holdMs: number,
  ): Promise<readonly ItemResult<Completion>[]>;
  /**
   * Step 3 (after the commit): apply what the system of record holds. Re-checks the fence only
   * (the lease must still be its lead's: claimed, or live / expired-and-requeued when the reaper
   * found the outcome committed by a process whose claim Redis lost) and writes the committed
   * disposition; never decides again.
   */
  applyCompletions(
    tenantId: TenantId,
    items: readonly CommittedCompletion[],
    now: number,
  ): Promise<readonly ItemResult<Completion>[]>;

  /** Live and claimed leases past their expiry, not reclaimed yet (read-only). */
  expiredLeases(ref: CampaignRef, now: number, limit: number): Promise<readonly ExpiredLease[]>;
  peekLease(tenantId: TenantId, leaseId: string, now: number): Promise<LeaseView>;
  /**
   * The lease the agent holds in this campaign (the one that makes it AGENT_BUSY), or null.
   * A gateway asks when the agent's only session holds no call: an offer nobody can accept
   * any more (lost in a crash or a rebuild) is then given back rather than blocking the agent.
   */
  agentLease(ref: CampaignRef, agentId: AgentId, now: number): Promise<LeaseView | null>;

  /**
   * Put the leads of expired, unclaimed leases back (head of their priority, no attempt
   * counted); with `only`, just those leases (the ones the caller settled first).
   */
  reclaim(
    ref: CampaignRef,
    now: number,
    limit: number,
    only?: readonly string[],
  ): Promise<readonly ReclaimedLease[]>;
  /**
   * Requeue the leads of expired claims whose commit the caller has fenced out (recorded the
   * lease as void in the system of record): the leases become void, later completions stale.
   */
  voidClaims(ref: CampaignRef, now: number, leaseIds: readonly string[]): Promise<readonly ReclaimedLease[]>;
  /** Move scheduled leads that fell due into the ready queue. Returns how many moved. */
  promote(ref: CampaignRef, now: number, limit: number): Promise<number>;
  /**
   * Remove every queued lead with one of these numbers, and suppress the numbers in this
   * campaign: no later enqueue (import, rebuild) queues them again and no lease offers them. A
   * live lease on such a lead is revoked for routing (reported, so its device is told) but the
   * outcome of its call is still accepted.
   */
  removeNumbers(ref: CampaignRef, phones: readonly string[], now: number): Promise<readonly RemovedLead[]>;
  /**
   * Erase numbers from this campaign (a data subject's erasure): every lead with one of them is
   * taken out wherever it is and its record dropped, a live lease on one is revoked (reported) and
   * dropped, so a late completion is stale and nothing of the call is kept, and the numbers leave
   * the suppression set. Afterwards no key of the campaign holds them. It does not suppress: the
   * caller keeps the suppression outside the queue (a keyed hash) and commits it first.
   */
  eraseNumbers(ref: CampaignRef, phones: readonly string[]): Promise<readonly RemovedLead[]>;
  /** Recompute the calling-window intervals of every zone the campaign holds (daily, and on demand). */
  refreshWindows(ref: CampaignRef, now: number): Promise<void>;

  stats(ref: CampaignRef, now: number): Promise<QueueStats>;
  /**
   * Replace the campaign's queue with the given leads (the system of record's queued leads, in
   * enqueue order). Leads under a live lease keep it and are not queued twice; so do the calls in
   * `held` (calls in progress that live sessions hold, which the queue may have lost), attached
   * again before anything is leased from the rebuilt queue. A stale queue starts a new lease
   * epoch and may be leased from again once the rebuild has attached the held calls and restored
   * the numbers' calling-rules history (`options.history`, read once the leads are queued).
   */
  rebuild(
    ref: CampaignRef,
    source: AsyncIterable<readonly LeadInput[]> | Iterable<readonly LeadInput[]>,
    now: number,
    options?: RebuildOptions,
  ): Promise<RebuildResult>;
  snapshot(ref: CampaignRef): Promise<QueueSnapshot>;

  close(): Promise<void>;

  /**
   * Take numbers off this campaign's suppression set (they left the do-not-call list): leads
   * queued from now on are dialled; leads removed by the listing stay removed. When a lead removed
   * by the listing is still on a call here (its completion could put a retry back), nothing
   * changes and the numbers held are returned in `held` (retry once the call is completed).
   */
  unsuppressNumbers(ref: CampaignRef, phones: readonly string[]): Promise<UnsuppressResult>;

  /**
   * Restore numbers' calling-rules history (engine/calling-rules.ts) from the system of record
   * after the queue lost it (a rebuild): each number's call start times and the times of its
   * lockout outcomes are merged into what the queue holds, under the limits of the zone of the
   * lead queued under the number (a number without one, or without limits, is skipped). Returns
   * how many numbers' histories were written.
   */
  restoreHistory(ref: CampaignRef, numbers: readonly RestoredCalls[], now: number): Promise<number>;
  /**
   * Drop the calling-rules histories of numbers no rule can hold back any more (not locked out,
   * every call past the longest reach of any zone's limits), so the histories of numbers that are
   * not called again do not stay until the campaign is archived. Returns how many were dropped.
   */
  trimHistory(ref: CampaignRef, now: number): Promise<number>;
}

/** One number's calls as the system of record holds them (epoch ms). */
export interface RebuildOptions {
  /** Calls in progress that live sessions hold, which the queue may have lost. */
  readonly held?: readonly HeldLease[];
  /**
   * The numbers' calling-rules history from the system of record, asked for once the leads are
   * queued (restoreHistory needs a number's lead to know its zone's limits) and written before
   * the rebuild ends, so nothing is leased from the rebuilt queue against a history it lost.
   */
  readonly history?: () => Promise<readonly RestoredCalls[]>;
  /**
   * `rebuilds(ref)` as the caller read it when it saw the need for this rebuild (0 for a campaign
   * the queue did not know). If a rebuild has ended since and the queue is not stale, the queue
   * already holds what the system of record held after that need arose: this rebuild reads
   * nothing and answers `waited` (a second rebuild would refuse every lease while it reads the
   * system of record again, for nothing). Without it, the rebuild always runs.
   */
  readonly unlessRebuiltSince?: number;
}

export interface RestoredCalls {
  readonly phone: string;
  /** When each call started. */
  readonly calls: readonly number[];
  /** When each call whose outcome locks the number out ended. */
  readonly lockouts: readonly number[];
}

export type LeadUpdateResult = 'updated' | 'absent' | 'leased' | 'duplicate' | 'suppressed';

export interface UnsuppressResult {
  /** How many of the numbers left the suppression set. */
  readonly removed: number;
  /** Numbers (E.164) whose removed lead's call is still held; when any, nothing changed. */
  readonly held: readonly string[];
}
