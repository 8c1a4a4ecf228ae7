// The in-memory QueueStore: one process, no server. It is the zero-setup mode and the reference
// model the Redis store is tested against, so it mirrors each Lua script step for step (the
// function names below match the script and include names) and holds the same structures.
// Every method runs synchronously between awaits, which makes each operation atomic.
import type { CampaignConfig } from '../campaign.js';
import { computeWindow, isOpenAt } from '../calling-window.js';
import type { CallingWindow, ZoneKey } from '../calling-window.js';
import { decodeCompletionResult, encodeCompletionResult } from '../completion.js';
import { decideDisposition } from '../disposition.js';
import type { DispositionPolicy } from '../disposition.js';
import { prepareBatch } from '../enqueue-batch.js';
import { EngineError } from '../errors.js';
import type { EngineErrorCode } from '../errors.js';
import type { AgentId, CampaignRef, DeviceId, LeadId, TenantId } from '../ids.js';
import { memberOf, readyScore, seqOf, toQueuedLead } from '../lead.js';
import type { LeadInput, LeadRecord } from '../lead.js';
import { formatLeaseId, randomEpoch } from '../lease.js';
import type { Lease, LeaseId, LeaseRecord, ParsedLeaseId } from '../lease.js';
import type {
  Completion,
  CompletionInput,
  EnqueueResult,
  ItemResult,
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
} from '../queue-store.js';
import { checkAgents, checkCompletion, checkLeaseRef, checkPhones, checkTtl } from '../store-input.js';
import { SortedSet } from './sorted-set.js';

export interface MemoryQueueStoreOptions {
  readonly tombstoneRetentionMs?: number;
  readonly promoteInline?: number;
  readonly newEpoch?: () => string;
}

interface Campaign {
  readonly epoch: string;
  seq: number;
  lseq: number;
  zseq: number;
  version: number;
  window: CallingWindow;
  policies: Map<string, DispositionPolicy>;
  readonly zones: Map<string, number>;
  readonly zoneNames: Map<number, ZoneKey>;
  readonly windows: Map<number, string>;
  readonly ready: Map<number, SortedSet>;
  readonly scheduled: SortedSet;
  readonly pinned: Map<string, SortedSet>;
  readonly records: Map<string, LeadRecord>;
  readonly phones: Map<string, string>;
  readonly leases: Map<string, LeaseRecord>;
  readonly leaseExpiry: SortedSet;
  readonly tombstones: SortedSet;
  readonly agents: SortedSet;
  readonly agentDevices: Map<string, string>;
  readonly agentLeases: Map<string, string>;
  /** member -> counter of its live or expired-and-requeued lease */
  readonly leaseOf: Map<string, string>;
  /** phone digits never to queue again */
  readonly suppressed: Set<string>;
}

class Fail {
  constructor(readonly code: EngineErrorCode) {}
}

const PINNED_SCAN = 16;
const DEFAULT_RETENTION_MS = 15 * 60_000;

export class MemoryQueueStore implements QueueStore {
  readonly kind = 'memory' as const;
  readonly #campaigns = new Map<string, Campaign>();
  readonly #retention: number;
  readonly #promoteInline: number;
  readonly #newEpoch: () => string;

  constructor(options: MemoryQueueStoreOptions = {}) {
    this.#retention = options.tombstoneRetentionMs ?? DEFAULT_RETENTION_MS;
    // A tombstone must outlive the call that writes it (reclaim purges in the same step).
    if (!Number.isInteger(this.#retention) || this.#retention < 1_000) {
      throw new RangeError('tombstoneRetentionMs must be an integer of at least 1000');
    }
    this.#promoteInline = options.promoteInline ?? 256;
    this.#newEpoch = options.newEpoch ?? randomEpoch;
  }

  #key(ref: CampaignRef): string {
    return `${ref.tenantId}\x00${ref.campaignId}`;
  }

  #get(ref: CampaignRef): Campaign {
    const c = this.#campaigns.get(this.#key(ref));
    if (!c) throw new EngineError('CAMPAIGN_UNKNOWN', undefined, { campaignId: ref.campaignId });
    return c;
  }

  // findLease in lease.lua: the checks every lease operation makes first, in this order.
  #leaseRecord(c: Campaign, id: ParsedLeaseId, agent = ''): LeaseRecord | Fail {
    if (c.epoch !== id.epoch) return new Fail('LEASE_UNKNOWN');
    const r = c.leases.get(String(id.counter));
    if (!r) return new Fail(id.counter <= c.lseq ? 'LEASE_STALE' : 'LEASE_UNKNOWN');
    if (agent !== '' && r.agent !== agent) return new Fail('LEASE_NOT_OWNED');
    return r;
  }

  async defineCampaign(ref: CampaignRef, config: CampaignConfig, now: number): Promise<void> {
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
        policies: new Map(),
        zones: new Map(),
        zoneNames: new Map(),
        windows: new Map(),
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
      };
      this.#campaigns.set(this.#key(ref), c);
    }
    c.policies = new Map(Object.entries(config.dispositions));
    c.window = config.window;
    c.version++;
    for (const [zone, index] of c.zones)
      c.windows.set(index, computeWindow(config.window, zone as ZoneKey, now));
  }

  async dropCampaign(ref: CampaignRef): Promise<void> {
    await Promise.resolve();
    this.#campaigns.delete(this.#key(ref));
  }

  async hasCampaign(ref: CampaignRef): Promise<boolean> {
    await Promise.resolve();
    return this.#campaigns.has(this.#key(ref));
  }

  async enqueue(ref: CampaignRef, leads: readonly LeadInput[], now: number): Promise<EnqueueResult> {
    await Promise.resolve();
    const c = this.#get(ref);
    const batch = prepareBatch(leads, c.window, now);
    const zoneIndex = batch.zones.map(([zone, enc]) => {
      let index = c.zones.get(zone);
      if (index === undefined) {
        index = ++c.zseq;
        c.zones.set(zone, index);
        c.zoneNames.set(index, zone);
      }
      c.windows.set(index, enc);
      return index;
    });
    const seen = new Set<string>();
    const duplicates: LeadId[] = [];
    const suppressed: LeadId[] = [];
    let enqueued = 0;
    for (const p of batch.leads) {
      if (c.suppressed.has(p.phoneDigits)) {
        suppressed.push(p.lead.id);
        continue;
      }
      if (seen.has(p.phoneDigits) || c.phones.has(p.phoneDigits)) {
        duplicates.push(p.lead.id);
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
    return { enqueued, duplicates, suppressed };
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

  // setAgentsReady.lua (and the first step of dispatch.lua)
  #markReady(c: Campaign, agents: readonly ReadyAgent[], now: number): ItemResult<{ agentId: AgentId }>[] {
    return agents.map(({ agentId, deviceId }) => {
      if (c.agentLeases.has(agentId)) return failure('AGENT_BUSY');
      c.agents.add(agentId, now, true);
      c.agentDevices.set(agentId, deviceId);
      return { ok: true, agentId };
    });
  }

  async setAgentNotReady(ref: CampaignRef, agentId: AgentId): Promise<boolean> {
    await Promise.resolve();
    const c = this.#campaigns.get(this.#key(ref));
    if (!c) return false;
    c.agentDevices.delete(agentId);
    return c.agents.remove(agentId);
  }

  async lease(ref: CampaignRef, agent: ReadyAgent, now: number, offerTtlMs: number): Promise<Lease | null> {
    await Promise.resolve();
    checkAgents([agent]);
    checkTtl(offerTtlMs, 'offerTtlMs');
    const c = this.#get(ref);
    if (c.agentLeases.has(agent.agentId)) throw new EngineError('AGENT_BUSY');
    this.#promoteDue(c, now, this.#promoteInline);
    const open = this.#openZones(c, now);
    let member = this.#popPinned(c, open, agent.agentId, now);
    const pinned = member !== undefined;
    member ??= this.#popReady(c, open);
    if (member === undefined) return null;
    return this.#grant(ref, c, member, agent.agentId, agent.deviceId, now, offerTtlMs, pinned);
  }

  async dispatch(
    ref: CampaignRef,
    now: number,
    maxPairs: number,
    offerTtlMs: number,
  ): Promise<readonly Lease[]> {
    return (await this.readyAndDispatch(ref, [], now, maxPairs, offerTtlMs)).leases;
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
    const ready = this.#markReady(c, agents, now);
    return { ready, leases: this.#dispatch(ref, c, now, maxPairs, offerTtlMs) };
  }

  // dispatch.lua
  #dispatch(ref: CampaignRef, c: Campaign, now: number, maxPairs: number, offerTtlMs: number): Lease[] {
    const agents = c.agents.head(maxPairs).map(([, agent]) => agent);
    if (agents.length === 0) return [];
    this.#promoteDue(c, now, this.#promoteInline);
    const open = this.#openZones(c, now);
    const leases: Lease[] = [];
    let readyLeft = true;
    for (const agent of agents) {
      let member = this.#popPinned(c, open, agent, now);
      const pinned = member !== undefined;
      if (member === undefined && readyLeft) {
        member = this.#popReady(c, open);
        readyLeft = member !== undefined;
      }
      if (member !== undefined) {
        const device = c.agentDevices.get(agent) ?? '';
        leases.push(this.#grant(ref, c, member, agent, device, now, offerTtlMs, pinned));
      } else if (c.pinned.size === 0) {
        break;
      }
    }
    return leases;
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
    return this.#leaseBatch(tenantId, leases, now, ttlMs, 'accept');
  }

  async extend(
    tenantId: TenantId,
    leases: readonly LeaseRef[],
    now: number,
    ttlMs: number,
  ): Promise<readonly ItemResult<LeaseExtension>[]> {
    await Promise.resolve();
    return this.#leaseBatch(tenantId, leases, now, ttlMs, 'extend');
  }

  async expire(
    tenantId: TenantId,
    leases: readonly LeaseRef[],
    now: number,
  ): Promise<readonly ItemResult<LeaseExtension>[]> {
    await Promise.resolve();
    return this.#leaseBatch(tenantId, leases, now, 1, 'expire');
  }

  // renewLeases.lua: the same checks for all three; accept takes an offered lease, extend only an
  // accepted one, expire either (due now, for the next reclaim).
  #leaseBatch(
    tenantId: TenantId,
    leases: readonly LeaseRef[],
    now: number,
    ttlMs: number,
    mode: 'accept' | 'extend' | 'expire',
  ): ItemResult<LeaseExtension>[] {
    checkTtl(ttlMs, 'ttlMs');
    const expires = mode === 'expire' ? now : now + ttlMs;
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
      const r = this.#leaseRecord(c, checked.lease, l.agentId);
      if (r instanceof Fail) return failure(r.code);
      if (r.state === 'd') return failure('LEASE_STALE');
      if (r.state === 'x' || r.at <= now) return failure('LEASE_EXPIRED');
      if (mode === 'extend' && r.state === 'o') return failure('LEASE_NOT_ACCEPTED');
      if (mode !== 'expire') r.state = 'a';
      r.at = expires;
      c.leaseExpiry.add(String(checked.lease.counter), expires);
      return { ok: true, leaseId: l.leaseId as LeaseId, expiresAt: expires };
    });
  }

  async reject(tenantId: TenantId, lease: LeaseRef, _now: number): Promise<void> {
    await Promise.resolve();
    const { ref, lease: id } = checkLeaseRef(tenantId, lease.leaseId);
    const c = this.#get(ref);
    const r = this.#leaseRecord(c, id, lease.agentId);
    const fail = (code: EngineErrorCode) => new EngineError(code, undefined, { leaseId: lease.leaseId });
    if (r instanceof Fail) throw fail(r.code);
    if (r.state === 'd') throw fail('LEASE_STALE');
    if (r.state === 'x') throw fail('LEASE_EXPIRED');
    const counter = String(id.counter);
    this.#requeueHead(c, c.records.get(r.member)!, r.member);
    c.leases.delete(counter);
    c.leaseOf.delete(r.member);
    this.#releaseLive(c, counter, r.agent);
  }

  async complete(
    tenantId: TenantId,
    items: readonly CompletionInput[],
    now: number,
  ): Promise<readonly ItemResult<Completion>[]> {
    await Promise.resolve();
    return this.#complete(tenantId, items, now, true);
  }

  async checkCompletions(
    tenantId: TenantId,
    items: readonly CompletionInput[],
    now: number,
  ): Promise<readonly ItemResult<Completion>[]> {
    await Promise.resolve();
    return this.#complete(tenantId, items, now, false);
  }

  async expiredLeases(ref: CampaignRef, now: number, limit: number): Promise<readonly LeaseId[]> {
    await Promise.resolve();
    const c = this.#get(ref);
    return c.leaseExpiry
      .upTo(now, limit)
      .map(([, counter]) => formatLeaseId(ref.campaignId, c.epoch, counter));
  }

  #complete(
    tenantId: TenantId,
    items: readonly CompletionInput[],
    now: number,
    apply: boolean,
  ): ItemResult<Completion>[] {
    return items.map((item): ItemResult<Completion> => {
      const checked = checkCompletion(tenantId, item, now);
      if (checked instanceof EngineError) return { ok: false, code: checked.code, message: checked.message };
      const c = this.#campaigns.get(this.#key(checked.ref));
      if (!c) return failure('CAMPAIGN_UNKNOWN');
      const r = this.#leaseRecord(c, checked.lease, checked.agentId);
      if (r instanceof Fail) return failure(r.code);
      const leaseId = checked.leaseId as LeaseId;
      if (r.state === 'd') return { ok: true, ...decodeCompletionResult(leaseId, r.result, true, '') };
      const policy = c.policies.get(checked.outcome);
      if (!policy) return failure('OUTCOME_UNKNOWN');
      if (policy.callback && !checked.callback) return failure('CALLBACK_REQUIRED');
      if (!policy.callback && checked.callback) return failure('CALLBACK_INVALID');
      const member = r.member;
      const rec = c.records.get(member);
      if (!rec) return failure('LEASE_STALE');
      const counter = String(checked.lease.counter);
      let late = false;
      if (r.state === 'x') {
        if (c.leaseOf.get(member) !== counter) return failure('LEASE_STALE');
        late = true;
      } else if (r.at <= now) {
        late = true;
      }
      const attempts = rec.attempts + 1;
      const d = decideDisposition(policy, attempts, checked.completedAt, r.agent, checked.callback);
      const dncDigits = d.kind === 'dnc' ? rec.phoneDigits : '';
      const result = encodeCompletionResult(checked.outcome, attempts, d, rec.leadId, late);
      if (!apply) return { ok: true, ...decodeCompletionResult(leaseId, result, false, dncDigits) };

      if (r.state === 'x') this.#unqueue(c, rec, member);
      else this.#releaseLive(c, counter, r.agent);
      c.leaseOf.delete(member);
      if (d.kind === 'retry' || d.kind === 'callback') {
        rec.attempts = attempts;
        rec.pinned = d.kind === 'callback' ? (d.pinnedAgentId ?? '') : '';
        this.#place(c, rec, member, d.dueAt, now);
      } else {
        this.#forget(c, rec, member);
        if (d.kind === 'dnc') c.suppressed.add(rec.phoneDigits);
      }
      r.state = 'd';
      r.at = now;
      r.result = result;
      c.tombstones.add(counter, now + this.#retention);
      return { ok: true, ...decodeCompletionResult(leaseId, result, false, dncDigits) };
    });
  }

  async peekLease(tenantId: TenantId, leaseId: string, _now: number): Promise<LeaseView> {
    await Promise.resolve();
    const { ref, lease: id } = checkLeaseRef(tenantId, leaseId);
    const c = this.#get(ref);
    const r = this.#leaseRecord(c, id);
    if (r instanceof Fail) throw new EngineError(r.code, undefined, { leaseId });
    const rec = c.records.get(r.member);
    const leadId = rec ? rec.leadId : r.state === 'd' ? (r.result.split('|')[3] ?? '') : '';
    return {
      leaseId: leaseId as LeaseId,
      state: ({ o: 'offered', a: 'accepted', x: 'expired', d: 'done' } as const)[r.state],
      leadId: leadId === '' ? null : (leadId as LeadId),
      agentId: r.agent as AgentId,
      deviceId: r.device as DeviceId,
      at: r.at,
    };
  }

  async reclaim(ref: CampaignRef, now: number, limit: number): Promise<readonly ReclaimedLease[]> {
    await Promise.resolve();
    const c = this.#get(ref);
    const out: ReclaimedLease[] = [];
    for (const [, counter] of c.leaseExpiry.upTo(now, limit)) {
      const r = c.leases.get(counter)!;
      const rec = c.records.get(r.member)!;
      this.#requeueHead(c, rec, r.member);
      this.#releaseLive(c, counter, r.agent);
      const state = r.state;
      r.state = 'x';
      r.at = now;
      c.tombstones.add(counter, now + this.#retention);
      out.push({
        leaseId: formatLeaseId(ref.campaignId, c.epoch, counter),
        agentId: r.agent as AgentId,
        deviceId: r.device as DeviceId,
        leadId: rec.leadId as LeadId,
        state: state === 'a' ? 'accepted' : 'offered',
      });
    }
    for (const [, counter] of c.tombstones.upTo(now, limit)) {
      const r = c.leases.get(counter);
      if (r?.state === 'x' && c.leaseOf.get(r.member) === counter) c.leaseOf.delete(r.member);
      c.leases.delete(counter);
      c.tombstones.remove(counter);
    }
    return out;
  }

  async promote(ref: CampaignRef, now: number, limit: number): Promise<number> {
    await Promise.resolve();
    return this.#promoteDue(this.#get(ref), now, limit);
  }

  async removeNumbers(ref: CampaignRef, phones: readonly string[]): Promise<readonly RemovedLead[]> {
    await Promise.resolve();
    const digitsList = checkPhones(phones);
    const c = this.#get(ref);
    const out: RemovedLead[] = [];
    for (const digits of digitsList) {
      const member = c.phones.get(digits);
      if (member === undefined) continue;
      const rec = c.records.get(member)!;
      this.#unqueue(c, rec, member);
      let revoked: RemovedLead['revoked'] = null;
      const counter = c.leaseOf.get(member);
      const r = counter === undefined ? undefined : c.leases.get(counter);
      if (counter !== undefined && r) {
        if (r.state === 'o' || r.state === 'a') {
          revoked = {
            leaseId: formatLeaseId(ref.campaignId, c.epoch, counter),
            agentId: r.agent as AgentId,
            deviceId: r.device as DeviceId,
          };
          this.#releaseLive(c, counter, r.agent);
        } else {
          c.tombstones.remove(counter);
        }
        c.leases.delete(counter);
        c.leaseOf.delete(member);
      }
      this.#forget(c, rec, member);
      out.push({ phone: `+${digits}`, leadId: rec.leadId as LeadId, revoked });
    }
    for (const digits of digitsList) c.suppressed.add(digits);
    return out;
  }

  async refreshWindows(ref: CampaignRef, now: number): Promise<void> {
    await Promise.resolve();
    const c = this.#get(ref);
    for (const [zone, index] of c.zones) c.windows.set(index, computeWindow(c.window, zone as ZoneKey, now));
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
  ): Promise<RebuildResult> {
    await Promise.resolve();
    const c = this.#get(ref);
    // rebuildReset: keep the leads under a live lease, drop everything else that is queued.
    const kept = c.leaseExpiry.entries().map(([, counter]) => {
      const member = c.leases.get(counter)!.member;
      return [member, c.records.get(member)!, counter] as const;
    });
    c.ready.clear();
    c.scheduled.clear();
    c.pinned.clear();
    c.records.clear();
    c.phones.clear();
    c.leaseOf.clear();
    for (const [member, rec, counter] of kept) {
      c.records.set(member, rec);
      c.phones.set(rec.phoneDigits, member);
      c.leaseOf.set(member, counter);
    }
    let enqueued = 0;
    let duplicates = 0;
    let suppressed = 0;
    for await (const chunk of source) {
      const r = await this.enqueue(ref, chunk, now);
      enqueued += r.enqueued;
      duplicates += r.duplicates.length;
      suppressed += r.suppressed.length;
    }
    return { enqueued, duplicates, suppressed, keptLeased: kept.length };
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
      { state: 'offered' | 'accepted'; member: string; agentId: string; expiresAt: number },
    ][] = [];
    for (const [counter, r] of c.leases) {
      if (r.state === 'o' || r.state === 'a') {
        leases.push([
          formatLeaseId(ref.campaignId, c.epoch, counter),
          {
            state: r.state === 'o' ? 'offered' : 'accepted',
            member: r.member,
            agentId: r.agent,
            expiresAt: r.at,
          },
        ]);
      }
    }
    return {
      records: byKey([...c.records].map(([m, r]) => [m, r.leadId])),
      ready: byKey(ready),
      scheduled: c.scheduled.entries().map(([s, m]) => [m, s]),
      pinned: byKey(pinned),
      leases: byKey(leases),
      agents: c.agents.entries().map(([s, m]) => [m, s]),
      phones: byKey([...c.phones].map(([d, m]) => [`+${d}`, m])),
      suppressed: [...c.suppressed].map((d) => `+${d}`).sort(),
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
    c.leases.set(counter, { state: 'o', member, agent, device, at: expires, result: '' });
    c.leaseExpiry.add(counter, expires);
    c.agentLeases.set(agent, counter);
    c.agents.remove(agent);
    return {
      leaseId: formatLeaseId(ref.campaignId, c.epoch, counter),
      campaignId: ref.campaignId,
      agentId: agent as AgentId,
      deviceId: device as DeviceId,
      state: 'offered',
      expiresAt: expires,
      pinned,
      lead: toQueuedLead({ ...rec }, c.zoneNames.get(rec.zone) ?? ('' as ZoneKey)),
    };
  }

  #releaseLive(c: Campaign, counter: string, agent: string): void {
    c.leaseExpiry.remove(counter);
    if (c.agentLeases.get(agent) === counter) c.agentLeases.delete(agent);
  }
}

function failure(code: EngineErrorCode): { ok: false; code: EngineErrorCode; message: string } {
  return { ok: false, code, message: new EngineError(code).message };
}
