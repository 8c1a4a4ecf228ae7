// The in-memory QueueStore: one process, no server. It is the zero-setup mode and the reference
// model the Redis store is tested against, so it mirrors each Lua script step for step (the
// function names below match the script and include names) and holds the same structures.
// Every method runs synchronously between awaits, which makes each operation atomic.
import type { CampaignConfig } from '../campaign.js';
import { isOpenAt, nextOpening } from '../calling-window.js';
import {
  computeZone,
  decodeLimits,
  EMPTY_HISTORY,
  heldUntil,
  lockoutOutcomes,
  NO_RULES,
  withCall,
  withLockout,
  withRestored,
} from '../calling-rules.js';
import type { CallingRules, NumberHistory, ZoneLimits, ZonePlan } from '../calling-rules.js';
import type { CallingWindow, ZoneKey } from '../calling-window.js';
import { decodeCompletionResult, encodeCompletionResult } from '../completion.js';
import { decideDisposition, decodeDisposition } from '../disposition.js';
import type { DispositionPolicy } from '../disposition.js';
import { prepareBatch } from '../enqueue-batch.js';
import { EngineError } from '../errors.js';
import type { EngineErrorCode } from '../errors.js';
import type { AgentId, CampaignRef, DeviceId, LeadId, TenantId } from '../ids.js';
import { memberOf, readyScore, seqOf, toQueuedLead } from '../lead.js';
import type { LeadInput, LeadRecord } from '../lead.js';
import { counterOfField, LIVE_STATES, PHASE_OF_STATE, processLeaseIds, randomEpoch } from '../lease.js';
import type { Lease, LeaseId, LeaseIds, LeaseRecord, LeaseRecordState, ParsedLeaseId } from '../lease.js';
import type {
  CommittedCompletion,
  Completion,
  CompletionInput,
  DefineResult,
  Dispatched,
  EnqueueResult,
  ExpiredLease,
  RebuildOptions,
  OrphanCompletion,
  PhaseChange,
  ItemResult,
  LeadUpdateResult,
  LeaseExtension,
  LeaseRef,
  LeaseView,
  QueueSnapshot,
  QueueStats,
  QueueStore,
  ReadyAgent,
  ReadyAndDispatched,
  RebuildResult,
  ReclaimedLease,
  RemovedLead,
  UnsuppressResult,
  RestoredCalls,
} from '../queue-store.js';
import { REBUILD_WAITED } from '../queue-store.js';
import {
  checkAgents,
  checkCommit,
  checkHeld,
  checkCompletion,
  checkLeaseRef,
  checkPhones,
  checkSession,
  checkTtl,
} from '../store-input.js';
import type { CheckedCompletion } from '../store-input.js';
import { SortedSet } from './sorted-set.js';

export interface MemoryQueueStoreOptions {
  readonly tombstoneRetentionMs?: number;
  readonly promoteInline?: number;
  readonly newEpoch?: () => string;
  /** Lease id signing; default a key of this process (the memory store is one process anyway). */
  readonly leaseIds?: LeaseIds;
}

interface Campaign {
  epoch: string;
  seq: number;
  lseq: number;
  zseq: number;
  version: number;
  window: CallingWindow;
  rules: CallingRules;
  /** outcome codes that lock a number out (rules.lua: the policy's lockout flag) */
  lockouts: ReadonlySet<string>;
  policies: Map<string, DispositionPolicy>;
  readonly zones: Map<string, number>;
  readonly zoneNames: Map<number, ZoneKey>;
  readonly windows: Map<number, string>;
  /** zone index -> calling-rule limits (absent: none) */
  readonly limits: Map<number, ZoneLimits>;
  /** phone digits -> call history under the calling rules */
  readonly history: Map<string, NumberHistory>;
  readonly ready: Map<number, SortedSet>;
  readonly scheduled: SortedSet;
  readonly pinned: Map<string, SortedSet>;
  readonly records: Map<string, LeadRecord>;
  readonly phones: Map<string, string>;
  readonly leases: Map<string, LeaseRecord>;
  readonly leaseExpiry: SortedSet;
  readonly tombstones: SortedSet;
  readonly agents: SortedSet;
  /** ready agent -> { device, session } */
  readonly agentDevices: Map<string, { device: string; session: string }>;
  readonly agentLeases: Map<string, string>;
  /** member -> field of its live, claimed, expired-and-requeued or revoked lease */
  readonly leaseOf: Map<string, string>;
  /** phone digits never to queue again */
  readonly suppressed: Set<string>;
  /** A rebuild is reading the system of record (the Redis store's stale mark): no completion is claimed or applied. */
  rebuilding: boolean;
  /** Rebuilds ended (the Redis store's cfg rg). */
  rebuilds: number;
}

class Fail {
  constructor(readonly code: EngineErrorCode) {}
}

const PINNED_SCAN = 16;
const DEFAULT_RETENTION_MS = 15 * 60_000;

export class MemoryQueueStore implements QueueStore {
  readonly kind = 'memory' as const;
  readonly #campaigns = new Map<string, Campaign>();
  readonly #rebuilds = new Map<Campaign, Promise<RebuildResult>>();
  readonly #retention: number;
  readonly #promoteInline: number;
  readonly #newEpoch: () => string;
  readonly #ids: LeaseIds;

  constructor(options: MemoryQueueStoreOptions = {}) {
    this.#retention = options.tombstoneRetentionMs ?? DEFAULT_RETENTION_MS;
    // A tombstone must outlive the call that writes it (reclaim purges in the same step).
    if (!Number.isInteger(this.#retention) || this.#retention < 1_000) {
      throw new RangeError('tombstoneRetentionMs must be an integer of at least 1000');
    }
    this.#promoteInline = options.promoteInline ?? 256;
    this.#newEpoch = options.newEpoch ?? randomEpoch;
    this.#ids = options.leaseIds ?? processLeaseIds();
  }

  get leaseIds(): LeaseIds {
    return this.#ids;
  }

  #key(ref: CampaignRef): string {
    return `${ref.tenantId}\x00${ref.campaignId}`;
  }

  #get(ref: CampaignRef): Campaign {
    const c = this.#campaigns.get(this.#key(ref));
    if (!c) throw new EngineError('CAMPAIGN_UNKNOWN', undefined, { campaignId: ref.campaignId });
    return c;
  }

  #leaseId(ref: CampaignRef, epoch: string, field: string, leadId: string, agentId: string): LeaseId {
    return this.#ids.format({
      tenantId: ref.tenantId,
      campaignId: ref.campaignId,
      epoch,
      counter: counterOfField(field),
      leadId,
      agentId,
    });
  }

  /** The lead id of a lease: from its lead's record, or from the stored result of a done lease. */
  #leadOf(c: Campaign, r: LeaseRecord): string {
    return c.records.get(r.member)?.leadId ?? (r.state === 'd' ? (r.result.split('|')[3] ?? '') : '');
  }

  // findLease in lease.lua: the checks every lease operation makes first, in this order.
  #find(c: Campaign, id: ParsedLeaseId, agent = ''): { r: LeaseRecord; field: string } | Fail {
    let field = String(id.counter);
    let r: LeaseRecord | undefined;
    if (id.epoch !== c.epoch) {
      field = `${id.epoch}:${id.counter}`;
      r = c.leases.get(field);
    }
    if (!r) {
      field = String(id.counter);
      r = c.leases.get(field);
      if (r && r.epoch !== id.epoch) r = undefined;
    }
    if (!r) {
      return new Fail(id.epoch === c.epoch && id.counter <= c.lseq ? 'LEASE_STALE' : 'LEASE_UNKNOWN');
    }
    if (agent !== '' && r.agent !== agent) return new Fail('LEASE_NOT_OWNED');
    return { r, field };
  }

  async defineCampaign(ref: CampaignRef, config: CampaignConfig, now: number): Promise<DefineResult> {
    await Promise.resolve();
    let c = this.#campaigns.get(this.#key(ref));
    if (!c) {
      c = {
        epoch: this.#newEpoch(),
        seq: 0,
        lseq: 0,
        zseq: 0,
        version: 0,
        window: config.window,
        rules: NO_RULES,
        lockouts: new Set(),
        policies: new Map(),
        zones: new Map(),
        zoneNames: new Map(),
        windows: new Map(),
        limits: new Map(),
        history: new Map(),
        ready: new Map(),
        scheduled: new SortedSet(),
        pinned: new Map(),
        records: new Map(),
        phones: new Map(),
        leases: new Map(),
        leaseExpiry: new SortedSet(),
        tombstones: new SortedSet(),
        agents: new SortedSet(),
        agentDevices: new Map(),
        agentLeases: new Map(),
        leaseOf: new Map(),
        suppressed: new Set(),
        rebuilding: false,
        rebuilds: 0,
      };
      this.#campaigns.set(this.#key(ref), c);
    }
    c.policies = new Map(Object.entries(config.dispositions));
    c.window = config.window;
    c.rules = config.callingRules ?? NO_RULES;
    c.lockouts = lockoutOutcomes(c.rules);
    c.version++;
    for (const [zone, index] of c.zones)
      this.#putZonePlan(c, index, computeZone(c.window, c.rules, zone as ZoneKey, now));
    // One process: its memory cannot go back in time without the process (and the queue) going too.
    return { stale: false };
  }

  async dropCampaign(ref: CampaignRef): Promise<void> {
    await Promise.resolve();
    this.#campaigns.delete(this.#key(ref));
  }

  async hasCampaign(ref: CampaignRef): Promise<boolean> {
    await Promise.resolve();
    return this.#campaigns.has(this.#key(ref));
  }

  async rebuilds(ref: CampaignRef): Promise<number | null> {
    await Promise.resolve();
    return this.#campaigns.get(this.#key(ref))?.rebuilds ?? null;
  }

  async enqueue(ref: CampaignRef, leads: readonly LeadInput[], now: number): Promise<EnqueueResult> {
    await Promise.resolve();
    return this.#enqueue(this.#get(ref), leads, now);
  }

  // enqueue.lua
  #enqueue(c: Campaign, leads: readonly LeadInput[], now: number): EnqueueResult {
    const batch = prepareBatch(leads, c.window, now, c.rules);
    const zoneIndex = batch.zones.map(([zone, plan]) => {
      let index = c.zones.get(zone);
      if (index === undefined) {
        index = ++c.zseq;
        c.zones.set(zone, index);
        c.zoneNames.set(index, zone);
      }
      this.#putZonePlan(c, index, plan);
      return index;
    });
    const seen = new Set<string>();
    const duplicates: LeadId[] = [];
    const alreadyQueued: LeadId[] = [];
    const suppressed: LeadId[] = [];
    let enqueued = 0;
    for (const p of batch.leads) {
      if (c.suppressed.has(p.phoneDigits)) {
        suppressed.push(p.lead.id);
        continue;
      }
      if (seen.has(p.phoneDigits)) {
        duplicates.push(p.lead.id);
        continue;
      }
      const holder = c.phones.get(p.phoneDigits);
      if (holder !== undefined) {
        if (c.records.get(holder)?.leadId === p.lead.id) alreadyQueued.push(p.lead.id);
        else duplicates.push(p.lead.id);
        continue;
      }
      seen.add(p.phoneDigits);
      enqueued++;
      const member = memberOf(++c.seq);
      const l = p.lead;
      const rec: LeadRecord = {
        attempts: l.attempts,
        priority: l.priority,
        zone: zoneIndex[p.zoneRef]!,
        pinned: l.pinnedAgentId ?? '',
        leadId: l.id,
        phoneDigits: p.phoneDigits,
        name: l.name,
        fieldsJson: p.fieldsJson,
      };
      c.records.set(member, rec);
      c.phones.set(p.phoneDigits, member);
      this.#place(c, rec, member, l.dueAt ?? now, now);
    }
    return { enqueued, duplicates, alreadyQueued, suppressed };
  }

  // updateLead.lua
  async updateLead(ref: CampaignRef, phone: string, lead: LeadInput, now: number): Promise<LeadUpdateResult> {
    await Promise.resolve();
    const [oldDigits] = checkPhones([phone]);
    const c = this.#get(ref);
    const batch = prepareBatch([lead], c.window, now, c.rules);
    const p = batch.leads[0]!;
    const [zoneKeyOf, plan] = batch.zones[0]!;
    const member = c.phones.get(oldDigits!);
    const rec = member === undefined ? undefined : c.records.get(member);
    if (member === undefined || !rec || rec.leadId !== p.lead.id) return 'absent';
    const field = c.leaseOf.get(member);
    const lease = field === undefined ? undefined : c.leases.get(field);
    if (lease && LIVE_STATES.has(lease.state)) return 'leased';
    if (p.phoneDigits !== oldDigits) {
      if (c.suppressed.has(p.phoneDigits)) return 'suppressed';
      if (c.phones.has(p.phoneDigits)) return 'duplicate';
    }
    const readyScoreNow = c.ready.get(rec.zone)?.score(member);
    let due =
      readyScoreNow !== undefined
        ? readyScoreNow % 2 ** 44
        : (c.scheduled.score(member) ??
          (rec.pinned === '' ? undefined : c.pinned.get(rec.pinned)?.score(member)) ??
          now);
    if (p.lead.dueAt !== undefined) due = p.lead.dueAt;
    let zone = c.zones.get(zoneKeyOf);
    if (zone === undefined) {
      zone = ++c.zseq;
      c.zones.set(zoneKeyOf, zone);
      c.zoneNames.set(zone, zoneKeyOf);
    }
    this.#putZonePlan(c, zone, plan);
    this.#unqueue(c, rec, member);
    if (p.phoneDigits !== oldDigits) {
      c.phones.delete(oldDigits!);
      c.phones.set(p.phoneDigits, member);
    }
    const updated: LeadRecord = {
      attempts: rec.attempts,
      priority: p.lead.priority,
      zone,
      pinned: p.lead.pinnedAgentId ?? '',
      leadId: rec.leadId,
      phoneDigits: p.phoneDigits,
      name: p.lead.name,
      fieldsJson: p.fieldsJson,
    };
    c.records.set(member, updated);
    this.#place(c, updated, member, due, now);
    return 'updated';
  }

  async setAgentsReady(
    ref: CampaignRef,
    agents: readonly ReadyAgent[],
    now: number,
  ): Promise<readonly ItemResult<{ agentId: AgentId }>[]> {
    await Promise.resolve();
    checkAgents(agents);
    return this.#markReady(this.#get(ref), agents, now);
  }

  // ready.lua (setAgentsReady and the first step of dispatch)
  #markReady(c: Campaign, agents: readonly ReadyAgent[], now: number): ItemResult<{ agentId: AgentId }>[] {
    return agents.map(({ agentId, deviceId, session }) => {
      if (c.agentLeases.has(agentId)) return failure('AGENT_BUSY');
      c.agents.add(agentId, now, true);
      c.agentDevices.set(agentId, { device: deviceId, session: session ?? '' });
      return { ok: true, agentId };
    });
  }

  async setAgentNotReady(ref: CampaignRef, agentId: AgentId, session?: string): Promise<boolean> {
    await Promise.resolve();
    checkSession(session);
    const c = this.#campaigns.get(this.#key(ref));
    if (!c) return false;
    const entry = c.agentDevices.get(agentId);
    if (session !== undefined && session !== '' && entry && entry.session !== session) return false;
    c.agentDevices.delete(agentId);
    return c.agents.remove(agentId);
  }

  async lease(ref: CampaignRef, agent: ReadyAgent, now: number, offerTtlMs: number): Promise<Lease | null> {
    await Promise.resolve();
    checkAgents([agent]);
    checkTtl(offerTtlMs, 'offerTtlMs');
    const c = this.#get(ref);
    this.#runnable(ref, c);
    if (c.agentLeases.has(agent.agentId)) throw new EngineError('AGENT_BUSY');
    this.#promoteDue(c, now, this.#promoteInline);
    const open = this.#openZones(c, now);
    let member = this.#popPinned(c, open, agent.agentId, now);
    if (member !== undefined && !this.#offerable(c, member, now)) member = undefined;
    const pinned = member !== undefined;
    while (member === undefined) {
      member = this.#popReady(c, open);
      if (member === undefined) break;
      if (!this.#offerable(c, member, now)) member = undefined;
    }
    if (member === undefined) return null;
    return this.#grant(ref, c, member, agent.agentId, agent.deviceId, now, offerTtlMs, pinned);
  }

  async dispatch(ref: CampaignRef, now: number, maxPairs: number, offerTtlMs: number): Promise<Dispatched> {
    const { leases, nextOpenAt } = await this.readyAndDispatch(ref, [], now, maxPairs, offerTtlMs);
    return { leases, nextOpenAt };
  }

  async readyAndDispatch(
    ref: CampaignRef,
    agents: readonly ReadyAgent[],
    now: number,
    maxPairs: number,
    offerTtlMs: number,
  ): Promise<ReadyAndDispatched> {
    await Promise.resolve();
    checkTtl(offerTtlMs, 'offerTtlMs');
    checkAgents(agents);
    if (!Number.isInteger(maxPairs) || maxPairs < 1)
      throw new RangeError('maxPairs must be a positive integer');
    const c = this.#get(ref);
    this.#runnable(ref, c);
    const ready = this.#markReady(c, agents, now);
    return { ready, ...this.#dispatch(ref, c, now, maxPairs, offerTtlMs) };
  }

  // includes/run.lua: nothing is leased from a queue being rebuilt.
  #runnable(ref: CampaignRef, c: Campaign): void {
    if (c.rebuilding) throw new EngineError('CAMPAIGN_STALE', undefined, { campaignId: ref.campaignId });
  }

  // dispatch.lua
  #dispatch(ref: CampaignRef, c: Campaign, now: number, maxPairs: number, offerTtlMs: number): Dispatched {
    const agents = c.agents.head(maxPairs).map(([, agent]) => agent);
    if (agents.length === 0) return { leases: [], nextOpenAt: null };
    this.#promoteDue(c, now, this.#promoteInline);
    const open = this.#openZones(c, now);
    const hadPinned = c.pinned.size > 0;
    const leases: Lease[] = [];
    let readyLeft = true;
    for (const agent of agents) {
      let member = this.#popPinned(c, open, agent, now);
      if (member !== undefined && !this.#offerable(c, member, now)) member = undefined;
      const pinned = member !== undefined;
      while (member === undefined && readyLeft) {
        member = this.#popReady(c, open);
        readyLeft = member !== undefined;
        if (member !== undefined && !this.#offerable(c, member, now)) member = undefined;
      }
      if (member !== undefined) {
        const device = c.agentDevices.get(agent)?.device ?? '';
        leases.push(this.#grant(ref, c, member, agent, device, now, offerTtlMs, pinned));
      } else if (!hadPinned) {
        break;
      }
    }
    return { leases, nextOpenAt: leases.length < agents.length ? this.#nextOpening(c, now) : null };
  }

  async accept(tenantId: TenantId, lease: LeaseRef, now: number, ttlMs: number): Promise<LeaseExtension> {
    const [res] = await this.acceptMany(tenantId, [lease], now, ttlMs);
    if (!res!.ok) throw new EngineError(res!.code, undefined, { leaseId: lease.leaseId });
    return { leaseId: res!.leaseId, expiresAt: res!.expiresAt };
  }

  async acceptMany(
    tenantId: TenantId,
    leases: readonly LeaseRef[],
    now: number,
    ttlMs: number,
  ): Promise<readonly ItemResult<LeaseExtension>[]> {
    await Promise.resolve();
    return this.#renew(tenantId, leases, now, ttlMs, 'accept');
  }

  async extend(
    tenantId: TenantId,
    leases: readonly LeaseRef[],
    now: number,
    ttlMs: number,
  ): Promise<readonly ItemResult<LeaseExtension>[]> {
    await Promise.resolve();
    return this.#renew(tenantId, leases, now, ttlMs, 'extend');
  }

  async setPhase(
    tenantId: TenantId,
    changes: readonly PhaseChange[],
    now: number,
    ttlMs: number,
  ): Promise<readonly ItemResult<LeaseExtension>[]> {
    await Promise.resolve();
    return this.#renew(tenantId, changes, now, ttlMs, 'phase');
  }

  async expire(
    tenantId: TenantId,
    leases: readonly LeaseRef[],
    now: number,
  ): Promise<readonly ItemResult<LeaseExtension>[]> {
    await Promise.resolve();
    return this.#renew(tenantId, leases, now, 1, 'expire');
  }

  // renewLeases.lua
  #renew(
    tenantId: TenantId,
    leases: readonly (LeaseRef & { phase?: PhaseChange['phase'] })[],
    now: number,
    ttlMs: number,
    mode: 'accept' | 'extend' | 'expire' | 'phase',
  ): ItemResult<LeaseExtension>[] {
    checkTtl(ttlMs, 'ttlMs');
    const expires = mode === 'expire' ? now : now + ttlMs;
    let open: Set<number> | undefined;
    return leases.map((l): ItemResult<LeaseExtension> => {
      let checked;
      try {
        checked = checkLeaseRef(tenantId, l.leaseId);
      } catch (err) {
        const e = err as EngineError;
        return { ok: false, code: e.code, message: e.message };
      }
      const c = this.#campaigns.get(this.#key(checked.ref));
      if (!c) return failure('CAMPAIGN_UNKNOWN');
      const found = this.#find(c, checked.lease, l.agentId);
      if (found instanceof Fail) return failure(found.code);
      const { r, field } = found;
      const ok = (at: number): ItemResult<LeaseExtension> => ({
        ok: true,
        leaseId: l.leaseId as LeaseId,
        expiresAt: at,
      });
      if (r.state === 'c') return mode === 'accept' ? failure('LEASE_STALE') : ok(r.at);
      if (r.state === 'x') return failure('LEASE_EXPIRED');
      if (!LIVE_STATES.has(r.state)) return failure('LEASE_STALE');
      if (r.at <= now) return failure('LEASE_EXPIRED');
      if (mode === 'accept') {
        if (r.state === 'o') {
          const rec = c.records.get(r.member)!;
          open ??= this.#openZones(c, now);
          if (!open.has(rec.zone)) {
            this.#requeueHead(c, rec, r.member);
            c.leases.delete(field);
            c.leaseOf.delete(r.member);
            this.#releaseLive(c, field, r.agent);
            return failure('OUTSIDE_CALLING_WINDOW');
          }
          r.state = 'a';
          this.#recordCall(c, rec, now);
        }
      } else if (mode === 'extend') {
        if (r.state === 'o') return failure('LEASE_NOT_ACCEPTED');
      } else if (mode === 'phase') {
        if (r.state === 'o') return failure('LEASE_NOT_ACCEPTED');
        const next = l.phase === 'on_call' ? 'n' : l.phase === 'wrap_up' ? 'w' : undefined;
        if (next && PHASE_RANK[next] > PHASE_RANK[r.state as 'a' | 'n' | 'w']) r.state = next;
      }
      r.at = expires;
      c.leaseExpiry.add(field, expires);
      return ok(expires);
    });
  }

  async reject(tenantId: TenantId, lease: LeaseRef, _now: number): Promise<void> {
    await Promise.resolve();
    const { ref, lease: id } = checkLeaseRef(tenantId, lease.leaseId);
    const c = this.#get(ref);
    const found = this.#find(c, id, lease.agentId);
    const fail = (code: EngineErrorCode) => new EngineError(code, undefined, { leaseId: lease.leaseId });
    if (found instanceof Fail) throw fail(found.code);
    const { r, field } = found;
    if (r.state === 'x') throw fail('LEASE_EXPIRED');
    if (r.state === 'c' || !LIVE_STATES.has(r.state)) throw fail('LEASE_STALE');
    const rec = c.records.get(r.member)!;
    if (c.suppressed.has(rec.phoneDigits)) this.#forget(c, rec, r.member);
    else this.#requeueHead(c, rec, r.member);
    c.leases.delete(field);
    c.leaseOf.delete(r.member);
    this.#releaseLive(c, field, r.agent);
  }

  async complete(
    tenantId: TenantId,
    items: readonly CompletionInput[],
    now: number,
  ): Promise<readonly ItemResult<Completion>[]> {
    await Promise.resolve();
    return this.#claim(tenantId, items, now, 'direct', this.#retention);
  }

  async claimCompletions(
    tenantId: TenantId,
    items: readonly CompletionInput[],
    now: number,
    holdMs: number,
  ): Promise<readonly ItemResult<Completion>[]> {
    await Promise.resolve();
    checkTtl(holdMs, 'holdMs');
    return this.#claim(tenantId, items, now, 'claim', holdMs);
  }

  // claimLeases.lua
  #claim(
    tenantId: TenantId,
    items: readonly CompletionInput[],
    now: number,
    mode: 'claim' | 'direct',
    span: number,
  ): ItemResult<Completion>[] {
    return items.map((item): ItemResult<Completion> => {
      const checked = checkCompletion(tenantId, item, now);
      if (checked instanceof EngineError) return { ok: false, code: checked.code, message: checked.message };
      const c = this.#campaigns.get(this.#key(checked.ref));
      if (!c) return failure('CAMPAIGN_UNKNOWN');
      if (c.rebuilding) return failure('CAMPAIGN_STALE');
      const found = this.#find(c, checked.lease, checked.agentId);
      if (found instanceof Fail) return failure(found.code);
      return this.#completeFound(c, found, checked, now, mode, span);
    });
  }

  // completeOne in claimLeases.lua: a found lease, decided and then claimed or applied.
  #completeFound(
    c: Campaign,
    { r, field }: { r: LeaseRecord; field: string },
    checked: CheckedCompletion,
    now: number,
    mode: 'claim' | 'direct',
    span: number,
  ): ItemResult<Completion> {
    const leaseId = checked.leaseId as LeaseId;
    if (r.state === 'd') return { ok: true, ...decodeCompletionResult(leaseId, r.result, true, '') };
    if (!completable(r.state)) return failure('LEASE_STALE');
    const decided = this.#decide(c, r, field, checked, now);
    if (decided instanceof Fail) return failure(decided.code);
    if (mode === 'direct') this.#applyResult(c, r, field, decided.result, now, span);
    else this.#claimLease(c, r, field, decided.result, now + span);
    return { ok: true, ...decodeCompletionResult(leaseId, decided.result, false, decided.dnc) };
  }

  async adoptCompletions(
    tenantId: TenantId,
    items: readonly OrphanCompletion[],
    now: number,
    holdMs: number,
  ): Promise<readonly ItemResult<Completion>[]> {
    await Promise.resolve();
    checkTtl(holdMs, 'holdMs');
    // adoptLeases.lua
    return items.map((item): ItemResult<Completion> => {
      const checked = checkCompletion(tenantId, item, now);
      if (checked instanceof EngineError) return { ok: false, code: checked.code, message: checked.message };
      // Only a lease this deployment granted to this agent for this lead is adopted.
      if (!this.#ids.verify(item.leaseId, tenantId, item.agentId) || checked.lease.leadId !== item.leadId) {
        return failure('LEASE_UNKNOWN');
      }
      let digits: string;
      try {
        checkAgents([{ agentId: item.agentId, deviceId: item.deviceId }]);
        [digits] = checkPhones([item.phone]) as [string];
      } catch (err) {
        const e = err as EngineError;
        return { ok: false, code: e.code, message: e.message };
      }
      const c = this.#campaigns.get(this.#key(checked.ref));
      if (!c) return failure('CAMPAIGN_UNKNOWN');
      if (c.rebuilding) return failure('CAMPAIGN_STALE');
      const leaseId = checked.leaseId as LeaseId;
      const found = this.#find(c, checked.lease, checked.agentId);
      // Adopted already (a retry), or known after all: a normal claim.
      if (!(found instanceof Fail)) return this.#completeFound(c, found, checked, now, 'claim', holdMs);
      if (found.code !== 'LEASE_UNKNOWN') return failure(found.code);
      const member = c.phones.get(digits);
      if (member === undefined) return failure('LEASE_UNKNOWN');
      if (c.records.get(member)?.leadId !== item.leadId) return failure('LEASE_UNKNOWN');
      const previous = c.leaseOf.get(member);
      const prev = previous === undefined ? undefined : c.leases.get(previous);
      if (prev && LIVE_STATES.has(prev.state)) return failure('LEASE_STALE');
      const { epoch, counter } = checked.lease;
      const field = epoch === c.epoch ? String(counter) : `${epoch}:${counter}`;
      const r: LeaseRecord = {
        state: 'x',
        member,
        agent: item.agentId,
        device: item.deviceId,
        at: now,
        result: '',
        epoch,
        aux: '',
      };
      c.leaseOf.set(member, field);
      const decided = this.#decide(c, r, field, checked, now);
      if (decided instanceof Fail) {
        if (previous === undefined) c.leaseOf.delete(member);
        else c.leaseOf.set(member, previous);
        return failure(decided.code);
      }
      if (previous !== undefined) {
        c.leases.delete(previous);
        c.tombstones.remove(previous);
      }
      c.leases.set(field, r);
      this.#claimLease(c, r, field, decided.result, now + holdMs);
      return { ok: true, ...decodeCompletionResult(leaseId, decided.result, false, decided.dnc) };
    });
  }

  async applyCompletions(
    tenantId: TenantId,
    items: readonly CommittedCompletion[],
    now: number,
  ): Promise<readonly ItemResult<Completion>[]> {
    await Promise.resolve();
    // applyLeases.lua
    return items.map((item): ItemResult<Completion> => {
      const checked = checkCommit(tenantId, item);
      if (checked instanceof EngineError) return { ok: false, code: checked.code, message: checked.message };
      const c = this.#campaigns.get(this.#key(checked.ref));
      if (!c) return failure('CAMPAIGN_UNKNOWN');
      if (c.rebuilding) return failure('CAMPAIGN_STALE');
      const found = this.#find(c, checked.lease, checked.agentId);
      if (found instanceof Fail) return failure(found.code);
      const { r, field } = found;
      const leaseId = checked.leaseId as LeaseId;
      if (r.state === 'd') return { ok: true, ...decodeCompletionResult(leaseId, r.result, true, '') };
      if (!completable(r.state)) return failure('LEASE_STALE');
      if (!c.records.has(r.member)) return failure('LEASE_STALE');
      if (r.state === 'x' && c.leaseOf.get(r.member) !== field) return failure('LEASE_STALE');
      this.#applyResult(c, r, field, checked.result, now, this.#retention);
      return { ok: true, ...decodeCompletionResult(leaseId, checked.result, false, '') };
    });
  }

  // decideCompletion in completion.lua
  #decide(
    c: Campaign,
    r: LeaseRecord,
    field: string,
    checked: CheckedCompletion,
    now: number,
  ): { result: string; dnc: string } | Fail {
    const policy = c.policies.get(checked.outcome);
    if (!policy) return new Fail('OUTCOME_UNKNOWN');
    if (policy.callback && !checked.callback) return new Fail('CALLBACK_REQUIRED');
    if (!policy.callback && checked.callback) return new Fail('CALLBACK_INVALID');
    const rec = c.records.get(r.member);
    if (!rec) return new Fail('LEASE_STALE');
    let late: boolean;
    if (r.state === 'c') late = r.result.endsWith('|1');
    else if (r.state === 'x') {
      if (c.leaseOf.get(r.member) !== field) return new Fail('LEASE_STALE');
      late = true;
    } else late = r.state !== 'r' && r.at <= now;
    const attempts = rec.attempts + 1;
    const d = decideDisposition(policy, attempts, checked.completedAt, r.agent, checked.callback);
    return {
      result: encodeCompletionResult(checked.outcome, attempts, d, rec.leadId, late),
      dnc: d.kind === 'dnc' ? rec.phoneDigits : '',
    };
  }

  // claim in completion.lua
  #claimLease(c: Campaign, r: LeaseRecord, field: string, result: string, holdUntil: number): void {
    if (r.state !== 'c') {
      if (r.state === 'x') {
        this.#unqueue(c, c.records.get(r.member)!, r.member);
        c.tombstones.remove(field);
      } else if (r.state === 'r') {
        c.tombstones.remove(field);
      }
      r.aux = r.state;
      r.state = 'c';
    }
    r.result = result;
    r.at = holdUntil;
    c.leaseExpiry.add(field, holdUntil);
  }

  // applyResult in completion.lua
  #applyResult(
    c: Campaign,
    r: LeaseRecord,
    field: string,
    result: string,
    now: number,
    retention: number,
  ): void {
    const member = r.member;
    const rec = c.records.get(member)!;
    if (r.state === 'x') this.#unqueue(c, rec, member);
    if (LIVE_STATES.has(r.state)) this.#releaseLive(c, field, r.agent);
    if (c.leaseOf.get(member) === field) c.leaseOf.delete(member);
    const parts = result.split('|');
    const d = decodeDisposition(parts[2]!);
    if (c.lockouts.has(parts[0]!)) this.#lockNumber(c, rec, now);
    if ((d.kind === 'retry' || d.kind === 'callback') && !c.suppressed.has(rec.phoneDigits)) {
      rec.attempts = Number(parts[1]);
      rec.pinned = d.kind === 'callback' ? (d.pinnedAgentId ?? '') : '';
      this.#place(c, rec, member, d.dueAt, now);
    } else {
      this.#forget(c, rec, member);
      if (d.kind === 'dnc') c.suppressed.add(rec.phoneDigits);
    }
    r.state = 'd';
    r.at = now;
    r.result = result;
    r.aux = '';
    c.tombstones.add(field, now + retention);
  }

  async expiredLeases(ref: CampaignRef, now: number, limit: number): Promise<readonly ExpiredLease[]> {
    await Promise.resolve();
    const c = this.#get(ref);
    return c.leaseExpiry.upTo(now, limit).map(([, field]) => {
      const r = c.leases.get(field)!;
      const leadId = c.records.get(r.member)?.leadId ?? '';
      return {
        leaseId: this.#leaseId(ref, r.epoch, field, leadId, r.agent),
        state: r.state,
        leadId: leadId as LeadId,
        agentId: r.agent as AgentId,
        deviceId: r.device as DeviceId,
      };
    });
  }

  async peekLease(tenantId: TenantId, leaseId: string, now: number): Promise<LeaseView> {
    await Promise.resolve();
    const { ref, lease: id } = checkLeaseRef(tenantId, leaseId);
    const c = this.#get(ref);
    const found = this.#find(c, id);
    if (found instanceof Fail) throw new EngineError(found.code, undefined, { leaseId });
    const { r } = found;
    const leadId = this.#leadOf(c, r);
    const live = LIVE_STATES.has(r.state) && r.at > now;
    return {
      leaseId: leaseId as LeaseId,
      state: r.state,
      live,
      phase: live ? (PHASE_OF_STATE[r.state] ?? null) : null,
      leadId: leadId === '' ? null : (leadId as LeadId),
      agentId: r.agent as AgentId,
      deviceId: r.device as DeviceId,
      at: r.at,
    };
  }

  async agentLease(ref: CampaignRef, agentId: AgentId, now: number): Promise<LeaseView | null> {
    await Promise.resolve();
    const c = this.#get(ref);
    const field = c.agentLeases.get(agentId);
    const r = field === undefined ? undefined : c.leases.get(field);
    if (field === undefined || !r) return null;
    const leadId = this.#leadOf(c, r);
    if (leadId === '') return null;
    const live = LIVE_STATES.has(r.state) && r.at > now;
    return {
      leaseId: this.#leaseId(ref, r.epoch || c.epoch, field, leadId, agentId),
      state: r.state,
      live,
      phase: live ? (PHASE_OF_STATE[r.state] ?? null) : null,
      leadId: leadId as LeadId,
      agentId,
      deviceId: r.device as DeviceId,
      at: r.at,
    };
  }

  async reclaim(
    ref: CampaignRef,
    now: number,
    limit: number,
    only?: readonly string[],
  ): Promise<readonly ReclaimedLease[]> {
    await Promise.resolve();
    return this.#reclaim(ref, now, limit, 'expired', only);
  }

  async voidClaims(
    ref: CampaignRef,
    now: number,
    leaseIds: readonly string[],
  ): Promise<readonly ReclaimedLease[]> {
    await Promise.resolve();
    if (leaseIds.length === 0) return [];
    return this.#reclaim(ref, now, leaseIds.length, 'void', leaseIds);
  }

  // reclaimLeases.lua
  #reclaim(
    ref: CampaignRef,
    now: number,
    limit: number,
    mode: 'expired' | 'void',
    only: readonly string[] | undefined,
  ): ReclaimedLease[] {
    const c = this.#get(ref);
    let expired: string[];
    if (only) {
      expired = [];
      for (const leaseId of only.slice(0, limit)) {
        let id: ParsedLeaseId;
        try {
          id = checkLeaseRef(ref.tenantId, leaseId).lease;
        } catch {
          continue;
        }
        if (id.campaignId !== ref.campaignId) continue;
        const field = id.epoch === c.epoch ? String(id.counter) : `${id.epoch}:${id.counter}`;
        const score = c.leaseExpiry.score(field);
        if (score !== undefined && score <= now) expired.push(field);
      }
    } else {
      expired = c.leaseExpiry.upTo(now, limit).map(([, field]) => field);
    }
    const voiding = mode === 'void';
    const out: ReclaimedLease[] = [];
    for (const field of expired) {
      const r = c.leases.get(field)!;
      if ((r.state === 'c') !== voiding) continue;
      let state: LeaseRecordState = r.state;
      const rec = c.records.get(r.member);
      if (rec) {
        if ((voiding && r.aux === 'r') || c.suppressed.has(rec.phoneDigits)) this.#forget(c, rec, r.member);
        else this.#requeueHead(c, rec, r.member);
      }
      this.#releaseLive(c, field, r.agent);
      if (voiding) {
        state = r.aux as LeaseRecordState;
        r.state = 'v';
        r.aux = '';
        r.result = '';
      } else {
        r.state = 'x';
      }
      r.at = now;
      c.tombstones.add(field, now + this.#retention);
      const leadId = rec?.leadId ?? '';
      out.push({
        leaseId: this.#leaseId(ref, r.epoch, field, leadId, r.agent),
        agentId: r.agent as AgentId,
        deviceId: r.device as DeviceId,
        leadId: leadId as LeadId,
        state: state === 'o' ? 'offered' : 'accepted',
      });
    }
    for (const [, field] of c.tombstones.upTo(now, limit)) {
      const r = c.leases.get(field);
      if (r && c.leaseOf.get(r.member) === field) {
        c.leaseOf.delete(r.member);
        if (r.state === 'r') {
          const rec = c.records.get(r.member);
          if (rec) this.#forget(c, rec, r.member);
        }
      }
      c.leases.delete(field);
      c.tombstones.remove(field);
    }
    return out;
  }

  async promote(ref: CampaignRef, now: number, limit: number): Promise<number> {
    await Promise.resolve();
    return this.#promoteDue(this.#get(ref), now, limit);
  }

  async removeNumbers(
    ref: CampaignRef,
    phones: readonly string[],
    now: number,
  ): Promise<readonly RemovedLead[]> {
    await Promise.resolve();
    const digitsList = checkPhones(phones);
    const c = this.#get(ref);
    const out: RemovedLead[] = [];
    for (const digits of digitsList) {
      const member = c.phones.get(digits);
      if (member === undefined) continue;
      const rec = c.records.get(member)!;
      let revoked: RemovedLead['revoked'] = null;
      let keepRecord = false;
      const field = c.leaseOf.get(member);
      const r = field === undefined ? undefined : c.leases.get(field);
      if (field !== undefined && r) {
        if (r.state === 'c') {
          keepRecord = true;
        } else if (LIVE_STATES.has(r.state)) {
          keepRecord = true;
          revoked = {
            leaseId: this.#leaseId(ref, r.epoch, field, rec.leadId, r.agent),
            agentId: r.agent as AgentId,
            deviceId: r.device as DeviceId,
          };
          this.#releaseLive(c, field, r.agent);
          r.state = 'r';
          r.at = now;
          c.tombstones.add(field, now + this.#retention);
        } else {
          c.leases.delete(field);
          c.tombstones.remove(field);
          c.leaseOf.delete(member);
        }
      }
      this.#unqueue(c, rec, member);
      if (keepRecord) c.phones.delete(digits);
      else this.#forget(c, rec, member);
      out.push({ phone: `+${digits}`, leadId: rec.leadId as LeadId, revoked });
    }
    for (const digits of digitsList) c.suppressed.add(digits);
    return out;
  }

  // eraseNumbers.lua
  async eraseNumbers(ref: CampaignRef, phones: readonly string[]): Promise<readonly RemovedLead[]> {
    await Promise.resolve();
    const digitsList = checkPhones(phones);
    const c = this.#get(ref);
    const wanted = new Set(digitsList);
    const members: string[] = [];
    const seen = new Set<string>();
    for (const digits of digitsList) {
      const member = c.phones.get(digits);
      if (member !== undefined && !seen.has(member)) {
        seen.add(member);
        members.push(member);
      }
    }
    // Records a removal mid-call kept after taking the number out of the index.
    for (const member of c.leaseOf.keys()) {
      const rec = c.records.get(member);
      if (!seen.has(member) && rec && wanted.has(rec.phoneDigits)) {
        seen.add(member);
        members.push(member);
      }
    }
    const out: RemovedLead[] = [];
    for (const member of members) {
      const rec = c.records.get(member);
      if (!rec) continue;
      let revoked: RemovedLead['revoked'] = null;
      const field = c.leaseOf.get(member);
      const r = field === undefined ? undefined : c.leases.get(field);
      if (field !== undefined && r) {
        if (LIVE_STATES.has(r.state)) {
          if (r.state !== 'c') {
            revoked = {
              leaseId: this.#leaseId(ref, r.epoch, field, rec.leadId, r.agent),
              agentId: r.agent as AgentId,
              deviceId: r.device as DeviceId,
            };
          }
          this.#releaseLive(c, field, r.agent);
        }
        c.leases.delete(field);
        c.tombstones.remove(field);
      }
      c.leaseOf.delete(member);
      this.#unqueue(c, rec, member);
      this.#forget(c, rec, member);
      out.push({ phone: `+${rec.phoneDigits}`, leadId: rec.leadId as LeadId, revoked });
    }
    for (const digits of digitsList) {
      c.suppressed.delete(digits);
      c.history.delete(digits);
    }
    return out;
  }

  // unsuppressNumbers.lua
  async unsuppressNumbers(ref: CampaignRef, phones: readonly string[]): Promise<UnsuppressResult> {
    await Promise.resolve();
    const digitsList = checkPhones(phones);
    const c = this.#get(ref);
    const wanted = new Set(digitsList);
    // Records held by a lease but no longer in the phone index: the removal kept them for a call.
    const held = new Set<string>();
    for (const member of c.leaseOf.keys()) {
      const rec = c.records.get(member);
      if (rec && wanted.has(rec.phoneDigits) && c.phones.get(rec.phoneDigits) !== member) {
        held.add(rec.phoneDigits);
      }
    }
    if (held.size > 0) return { removed: 0, held: [...held].map((d) => `+${d}`) };
    let removed = 0;
    for (const digits of wanted) if (c.suppressed.delete(digits)) removed++;
    return { removed, held: [] };
  }

  // trimHistory.lua
  async trimHistory(ref: CampaignRef, now: number): Promise<number> {
    await Promise.resolve();
    const c = this.#get(ref);
    let reach = 0;
    for (const l of c.limits.values()) {
      reach = Math.max(reach, l.minGapMs, ...l.caps.map((cap) => cap.periodMs));
    }
    let dropped = 0;
    for (const [digits, h] of c.history) {
      const last = h.calls.length > 0 ? h.calls[h.calls.length - 1]! : 0;
      if (h.lockedUntil <= now && last <= now - reach) {
        c.history.delete(digits);
        dropped++;
      }
    }
    return dropped;
  }

  // restoreHistory.lua
  async restoreHistory(ref: CampaignRef, numbers: readonly RestoredCalls[], now: number): Promise<number> {
    await Promise.resolve();
    const digits = checkPhones(numbers.map((n) => n.phone));
    const c = this.#get(ref);
    let written = 0;
    numbers.forEach((n, i) => {
      const d = digits[i]!;
      const member = c.phones.get(d);
      const rec = member === undefined ? undefined : c.records.get(member);
      const limits = rec === undefined ? undefined : c.limits.get(rec.zone);
      if (limits === undefined) return;
      this.#putHistory(
        c,
        d,
        withRestored(limits, c.history.get(d) ?? EMPTY_HISTORY, n.calls, n.lockouts, now),
      );
      written++;
    });
    return written;
  }

  async refreshWindows(ref: CampaignRef, now: number): Promise<void> {
    await Promise.resolve();
    const c = this.#get(ref);
    for (const [zone, index] of c.zones)
      this.#putZonePlan(c, index, computeZone(c.window, c.rules, zone as ZoneKey, now));
  }

  async stats(ref: CampaignRef, now: number): Promise<QueueStats> {
    await Promise.resolve();
    const c = this.#get(ref);
    let scheduled = c.scheduled.size;
    for (const set of c.pinned.values()) scheduled += set.size;
    let ready = 0;
    const zones = [...c.zoneNames].map(([index, zone]) => {
      const count = c.ready.get(index)?.size ?? 0;
      ready += count;
      return { zone, ready: count, open: isOpenAt(c.windows.get(index) ?? '0', now) };
    });
    zones.sort((a, b) => (a.zone < b.zone ? -1 : a.zone > b.zone ? 1 : 0));
    return { ready, scheduled, leased: c.leaseExpiry.size, readyAgents: c.agents.size, zones };
  }

  async rebuild(
    ref: CampaignRef,
    source: AsyncIterable<readonly LeadInput[]> | Iterable<readonly LeadInput[]>,
    now: number,
    options: RebuildOptions = {},
  ): Promise<RebuildResult> {
    await Promise.resolve();
    const c = this.#get(ref);
    // One rebuild of a campaign at a time (the Redis store's rebuild lock): a second one waits
    // for it and reads nothing.
    const running = this.#rebuilds.get(c);
    if (running) {
      await running.catch(() => undefined);
      return REBUILD_WAITED;
    }
    // Another rebuild ended after the caller saw the need for this one (one process: the queue
    // never goes back in time, so it is never stale otherwise).
    if (options.unlessRebuiltSince !== undefined && c.rebuilds > options.unlessRebuiltSince)
      return REBUILD_WAITED;
    c.rebuilding = true;
    const run = this.#rebuildSteps(c, ref, source, now, options).finally(() => {
      c.rebuilding = false;
    });
    this.#rebuilds.set(c, run);
    try {
      return await run;
    } finally {
      this.#rebuilds.delete(c);
    }
  }

  async #rebuildSteps(
    c: Campaign,
    ref: CampaignRef,
    source: AsyncIterable<readonly LeadInput[]> | Iterable<readonly LeadInput[]>,
    now: number,
    { held = [], history }: RebuildOptions,
  ): Promise<RebuildResult> {
    // rebuildReset: keep the leads whose calls are in progress, drop everything else queued.
    const fields = [
      ...c.leaseExpiry.entries().map(([, field]) => field),
      ...c.tombstones.entries().flatMap(([, field]) => (c.leases.get(field)?.state === 'r' ? [field] : [])),
    ];
    const kept = fields.flatMap((field) => {
      const r = c.leases.get(field);
      const rec = r && c.records.get(r.member);
      return r && rec ? [[r.member, rec, field, r.state] as const] : [];
    });
    c.ready.clear();
    c.scheduled.clear();
    c.pinned.clear();
    c.records.clear();
    c.phones.clear();
    c.leaseOf.clear();
    for (const [member, rec, field, state] of kept) {
      c.records.set(member, rec);
      if (state !== 'r') c.phones.set(rec.phoneDigits, member);
      c.leaseOf.set(member, field);
    }
    // attachLeases: the calls in progress the queue lost get their leases back.
    const calls = checkHeld(ref, held);
    if (calls.length > 0)
      this.#enqueue(
        c,
        calls.map((h) => h.lead),
        now,
      );
    let reattached = 0;
    for (const h of calls) {
      const member = c.phones.get(h.digits);
      const rec = member === undefined ? undefined : c.records.get(member);
      if (member === undefined || !rec || rec.leadId !== h.lead.id) continue;
      const previous = c.leaseOf.get(member);
      const prev = previous === undefined ? undefined : c.leases.get(previous);
      if (prev && LIVE_STATES.has(prev.state)) continue;
      if (previous !== undefined) {
        c.leases.delete(previous);
        c.tombstones.remove(previous);
      }
      const field = h.epoch === c.epoch ? String(h.counter) : `${h.epoch}:${h.counter}`;
      this.#unqueue(c, rec, member);
      c.leases.set(field, {
        state: h.state,
        member,
        agent: h.agentId,
        device: h.deviceId,
        at: h.expiresAt,
        result: '',
        epoch: h.epoch,
        aux: '',
      });
      c.leaseOf.set(member, field);
      c.leaseExpiry.add(field, h.expiresAt);
      if (!c.agentLeases.has(h.agentId)) c.agentLeases.set(h.agentId, field);
      reattached++;
    }
    let enqueued = 0;
    let duplicates = 0;
    let suppressed = 0;
    for await (const chunk of source) {
      const r = await this.enqueue(ref, chunk, now);
      enqueued += r.enqueued;
      duplicates += r.duplicates.length + r.alreadyQueued.length;
      suppressed += r.suppressed.length;
    }
    if (history) {
      const numbers = await history();
      if (numbers.length > 0) await this.restoreHistory(ref, numbers, now);
    }
    c.rebuilds++;
    return { enqueued, duplicates, suppressed, keptLeased: kept.length, reattached, waited: false };
  }

  async snapshot(ref: CampaignRef): Promise<QueueSnapshot> {
    await Promise.resolve();
    const c = this.#get(ref);
    const byKey = <T>(entries: [string, T][]) =>
      Object.fromEntries(entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
    const ready: [string, string[]][] = [];
    for (const [index, set] of c.ready) {
      if (set.size > 0) ready.push([c.zoneNames.get(index)!, set.entries().map(([, m]) => m)]);
    }
    const pinned: [string, [string, number][]][] = [];
    for (const [agent, set] of c.pinned) pinned.push([agent, set.entries().map(([s, m]) => [m, s])]);
    const leases: [
      string,
      { state: LeaseRecordState; member: string; agentId: string; expiresAt: number },
    ][] = [];
    const revoked: [string, string][] = [];
    for (const [field, r] of c.leases) {
      const rec = c.records.get(r.member);
      if (r.state === 'r' && rec)
        revoked.push([this.#leaseId(ref, r.epoch, field, rec.leadId, r.agent), r.member]);
      if (LIVE_STATES.has(r.state)) {
        leases.push([
          this.#leaseId(ref, r.epoch, field, this.#leadOf(c, r), r.agent),
          { state: r.state, member: r.member, agentId: r.agent, expiresAt: r.at },
        ]);
      }
    }
    return {
      records: byKey([...c.records].map(([m, r]) => [m, r.leadId])),
      ready: byKey(ready),
      scheduled: c.scheduled.entries().map(([s, m]) => [m, s]),
      pinned: byKey(pinned),
      leases: byKey(leases),
      revoked: byKey(revoked),
      agents: c.agents.entries().map(([s, m]) => [m, s]),
      phones: byKey([...c.phones].map(([d, m]) => [`+${d}`, m])),
      suppressed: [...c.suppressed].map((d) => `+${d}`).sort(),
      numbers: byKey(
        [...c.history].map(([d, h]) => [`+${d}`, { lockedUntil: h.lockedUntil, calls: [...h.calls] }]),
      ),
    };
  }

  async close(): Promise<void> {
    await Promise.resolve();
  }

  // ---- queue.lua ----

  #readySet(c: Campaign, zone: number): SortedSet {
    let set = c.ready.get(zone);
    if (!set) {
      set = new SortedSet();
      c.ready.set(zone, set);
    }
    return set;
  }

  #putPinned(c: Campaign, agent: string, due: number, member: string): void {
    let set = c.pinned.get(agent);
    if (!set) {
      set = new SortedSet();
      c.pinned.set(agent, set);
    }
    set.add(member, due);
  }

  #dropPinned(c: Campaign, agent: string, member: string): void {
    const set = c.pinned.get(agent);
    if (!set) return;
    set.remove(member);
    if (set.size === 0) c.pinned.delete(agent);
  }

  #place(c: Campaign, rec: LeadRecord, member: string, due: number, now: number): void {
    if (rec.pinned !== '') this.#putPinned(c, rec.pinned, due, member);
    else if (due > now) c.scheduled.add(member, due);
    else this.#readySet(c, rec.zone).add(member, readyScore(rec.priority, due));
  }

  #requeueHead(c: Campaign, rec: LeadRecord, member: string): void {
    if (rec.pinned !== '') this.#putPinned(c, rec.pinned, 0, member);
    else this.#readySet(c, rec.zone).add(member, readyScore(rec.priority, 0));
  }

  #unqueue(c: Campaign, rec: LeadRecord, member: string): void {
    c.ready.get(rec.zone)?.remove(member);
    c.scheduled.remove(member);
    if (rec.pinned !== '') this.#dropPinned(c, rec.pinned, member);
  }

  #forget(c: Campaign, rec: LeadRecord, member: string): void {
    c.records.delete(member);
    if (c.phones.get(rec.phoneDigits) === member) c.phones.delete(rec.phoneDigits);
  }

  // dialable in queue.lua: a picked lead whose number is suppressed is dropped, never offered.
  #dialable(c: Campaign, member: string): boolean {
    if (c.suppressed.size === 0) return true;
    const rec = c.records.get(member)!;
    if (!c.suppressed.has(rec.phoneDigits)) return true;
    this.#forget(c, rec, member);
    return false;
  }

  // ---- rules.lua ----

  #putZonePlan(c: Campaign, index: number, plan: ZonePlan): void {
    c.windows.set(index, plan.window);
    const limits = decodeLimits(plan.limits);
    if (limits === null) c.limits.delete(index);
    else c.limits.set(index, limits);
  }

  #putHistory(c: Campaign, digits: string, h: NumberHistory): void {
    if (h.lockedUntil === 0 && h.calls.length === 0) c.history.delete(digits);
    else c.history.set(digits, h);
  }

  #recordCall(c: Campaign, rec: LeadRecord, now: number): void {
    const limits = c.limits.get(rec.zone);
    if (limits === undefined) return;
    this.#putHistory(
      c,
      rec.phoneDigits,
      withCall(limits, c.history.get(rec.phoneDigits) ?? EMPTY_HISTORY, now),
    );
  }

  #lockNumber(c: Campaign, rec: LeadRecord, now: number): void {
    const limits = c.limits.get(rec.zone);
    if (limits === undefined || limits.lockoutMs === 0) return;
    this.#putHistory(
      c,
      rec.phoneDigits,
      withLockout(limits, c.history.get(rec.phoneDigits) ?? EMPTY_HISTORY, now),
    );
  }

  // dialable and heldByRules in queue.lua: suppressed leads are dropped, held ones wait.
  #offerable(c: Campaign, member: string, now: number): boolean {
    if (!this.#dialable(c, member)) return false;
    const rec = c.records.get(member)!;
    const limits = c.limits.get(rec.zone);
    if (limits === undefined) return true;
    const until = heldUntil(limits, c.history.get(rec.phoneDigits) ?? EMPTY_HISTORY, now);
    if (until === null) return true;
    if (rec.pinned !== '') this.#putPinned(c, rec.pinned, until, member);
    else c.scheduled.add(member, until);
    return false;
  }

  #promoteDue(c: Campaign, now: number, limit: number): number {
    const due = c.scheduled.upTo(now, limit);
    for (const [score, member] of due) {
      const rec = c.records.get(member)!;
      this.#readySet(c, rec.zone).add(member, readyScore(rec.priority, score));
      c.scheduled.remove(member);
    }
    return due.length;
  }

  #openZones(c: Campaign, now: number): Set<number> {
    const open = new Set<number>();
    for (const [index, enc] of c.windows) if (isOpenAt(enc, now)) open.add(index);
    return open;
  }

  // nextOpeningOf in window.lua
  #nextOpening(c: Campaign, now: number): number | null {
    let best: number | null = null;
    for (const enc of c.windows.values()) {
      if (isOpenAt(enc, now)) continue;
      const at = nextOpening(enc, now);
      if (at !== null && at > now && (best === null || at < best)) best = at;
    }
    return best;
  }

  #popPinned(c: Campaign, open: Set<number>, agent: string, now: number): string | undefined {
    const set = c.pinned.get(agent);
    if (!set) return undefined;
    for (const [, member] of set.upTo(now, PINNED_SCAN)) {
      if (open.has(c.records.get(member)!.zone)) {
        this.#dropPinned(c, agent, member);
        return member;
      }
    }
    return undefined;
  }

  #popReady(c: Campaign, open: Set<number>): string | undefined {
    let best: readonly [number, string] | undefined;
    let bestZone = -1;
    for (const zone of open) {
      const head = c.ready.get(zone)?.first();
      if (head && (!best || head[0] < best[0] || (head[0] === best[0] && seqOf(head[1]) < seqOf(best[1])))) {
        best = head;
        bestZone = zone;
      }
    }
    if (!best) return undefined;
    c.ready.get(bestZone)!.remove(best[1]);
    return best[1];
  }

  #grant(
    ref: CampaignRef,
    c: Campaign,
    member: string,
    agent: string,
    device: string,
    now: number,
    ttl: number,
    pinned: boolean,
  ): Lease {
    const counter = String(++c.lseq);
    const rec = c.records.get(member)!;
    // A lead in the queue has no live lease, so a lease still named here expired and was requeued.
    const old = c.leaseOf.get(member);
    if (old !== undefined) {
      c.leases.delete(old);
      c.tombstones.remove(old);
    }
    c.leaseOf.set(member, counter);
    const expires = now + ttl;
    c.leases.set(counter, {
      state: 'o',
      member,
      agent,
      device,
      at: expires,
      result: '',
      epoch: c.epoch,
      aux: '',
    });
    c.leaseExpiry.add(counter, expires);
    c.agentLeases.set(agent, counter);
    c.agents.remove(agent);
    return {
      leaseId: this.#leaseId(ref, c.epoch, counter, rec.leadId, agent),
      campaignId: ref.campaignId,
      agentId: agent as AgentId,
      deviceId: device as DeviceId,
      state: 'offered',
      expiresAt: expires,
      pinned,
      lead: toQueuedLead({ ...rec }, c.zoneNames.get(rec.zone) ?? ('' as ZoneKey)),
    };
  }

  #releaseLive(c: Campaign, field: string, agent: string): void {
    c.leaseExpiry.remove(field);
    if (c.agentLeases.get(agent) === field) c.agentLeases.delete(agent);
  }
}

const PHASE_RANK = { a: 1, n: 2, w: 3 } as const;

// completable in completion.lua
const completable = (state: LeaseRecordState): boolean =>
  LIVE_STATES.has(state) || state === 'x' || state === 'r';

function failure(code: EngineErrorCode): { ok: false; code: EngineErrorCode; message: string } {
  return { ok: false, code, message: new EngineError(code).message };
}
