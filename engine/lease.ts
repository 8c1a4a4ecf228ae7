// Leases: the fencing token handed to a device with each offer.
//
// A lease id is `<campaign>.<epoch>.<counter>.<lead>.<mac>`:
//  - the campaign's queue epoch and a per-epoch counter name the lease inside the queue. The
//    epoch is new whenever the queue is created afresh and whenever Redis may have lost writes
//    (it restarted, or failed over: a new server run id), so a counter that went back with lost
//    writes is never issued twice under the same epoch: a lease id is unique for the life of
//    the tenant whatever Redis loses;
//  - the lead id and a MAC (HMAC-SHA256 over tenant, campaign, epoch, counter, lead and the
//    agent the lease was granted to, truncated to 96 bits) make the id verifiable without
//    Redis: when Redis no longer knows a lease (its keys were lost), the outcome of the call it
//    stood for can still be checked against the agent presenting it and applied to its lead.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { AgentId, CampaignId, DeviceId, LeadId, TenantId } from './ids.js';
import type { QueuedLead } from './lead.js';
import { decodeLeadRecord, toQueuedLead } from './lead.js';
import type { ZoneKey } from './calling-window.js';
import { EngineError } from './errors.js';

export type LeaseId = string & { readonly __brand: 'LeaseId' };

export type LeaseState = 'offered' | 'accepted';

export interface Lease {
  readonly leaseId: LeaseId;
  readonly campaignId: CampaignId;
  readonly agentId: AgentId;
  readonly deviceId: DeviceId;
  readonly state: LeaseState;
  readonly expiresAt: number;
  readonly lead: QueuedLead;
  /** The lead was an agent-pinned callback that fell due. */
  readonly pinned: boolean;
}

export interface ParsedLeaseId {
  readonly campaignId: CampaignId;
  readonly epoch: string;
  readonly counter: number;
  readonly leadId: LeadId;
  readonly mac: string;
}

export { MAX_LEASE_ID_LENGTH } from './ids.js';

const LEASE_ID =
  /^([A-Za-z0-9_-]{1,64})\.([a-z0-9]{1,16})\.([1-9][0-9]{0,15})\.([A-Za-z0-9_-]{1,64})\.([A-Za-z0-9_-]{16})$/;

/** A fresh queue epoch: 64 random bits, base 36. */
export const randomEpoch = (): string => randomBytes(8).readBigUInt64BE(0).toString(36);

export function parseLeaseId(id: string): ParsedLeaseId {
  const m = LEASE_ID.exec(id);
  if (!m) throw new EngineError('LEASE_UNKNOWN', 'Lease id is malformed', { leaseId: id.slice(0, 100) });
  return {
    campaignId: m[1] as CampaignId,
    epoch: m[2]!,
    counter: Number(m[3]),
    leadId: m[4] as LeadId,
    mac: m[5]!,
  };
}

export interface LeaseIdParts {
  readonly tenantId: string;
  readonly campaignId: string;
  readonly epoch: string;
  readonly counter: number | string;
  readonly leadId: string;
  readonly agentId: string;
}

/** Formats and verifies lease ids with one secret, shared by every gateway of a deployment. */
export interface LeaseIds {
  format(parts: LeaseIdParts): LeaseId;
  /**
   * The parsed id if it is well formed and its MAC matches this tenant and agent: the lease was
   * granted by this deployment to this agent, whatever the queue remembers of it.
   */
  verify(id: string, tenantId: string, agentId: string): ParsedLeaseId | null;
}

const MAC_BYTES = 12;

export function createLeaseIds(secret: string | Uint8Array): LeaseIds {
  const key = typeof secret === 'string' ? Buffer.from(secret, 'utf8') : Buffer.from(secret);
  if (key.length < 16) throw new RangeError('the lease id secret must have at least 16 bytes');
  const mac = (p: LeaseIdParts): Buffer =>
    createHmac('sha256', key)
      .update(`${p.tenantId}\0${p.campaignId}\0${p.epoch}\0${p.counter}\0${p.leadId}\0${p.agentId}`)
      .digest()
      .subarray(0, MAC_BYTES);
  return {
    format(p) {
      return `${p.campaignId}.${p.epoch}.${p.counter}.${p.leadId}.${mac(p).toString('base64url')}` as LeaseId;
    },
    verify(id, tenantId, agentId) {
      let parsed: ParsedLeaseId;
      try {
        parsed = parseLeaseId(id);
      } catch {
        return null;
      }
      const expected = mac({ ...parsed, tenantId, agentId });
      const given = Buffer.from(parsed.mac, 'base64url');
      return given.length === expected.length && timingSafeEqual(given, expected) ? parsed : null;
    },
  };
}

/** Lease ids signed with a key of this process only (single-process stores and tests). */
export const processLeaseIds = (): LeaseIds => createLeaseIds(randomBytes(32));

/**
 * Lease states, shared with `redis/lua/includes/lease.lua`:
 *  - live (in the expiry index): o offered, a accepted and dialling, n on the call (connected),
 *    w call ended (wrap-up, outcome not yet reported), c completing (an outcome was decided and
 *    is being committed to the system of record; the reaper may only requeue it after fencing
 *    that commit out in Postgres);
 *  - tombstones (kept for the retention period): x expired and requeued (a late completion is
 *    accepted while the lead is not leased again), r revoked because its number was removed
 *    mid-call (the outcome of the call is still accepted), v void (a completion that never
 *    committed was fenced out: refused from then on), d done (a repeat gets the same answer).
 */
export type LeaseRecordState = 'o' | 'a' | 'n' | 'w' | 'c' | 'x' | 'r' | 'v' | 'd';

export const LIVE_STATES: ReadonlySet<LeaseRecordState> = new Set(['o', 'a', 'n', 'w', 'c']);
/** Live and taken by the device: accepted, on the call, or wrapping up. */
export const ACCEPTED_STATES: ReadonlySet<LeaseRecordState> = new Set(['a', 'n', 'w']);

/** What a device may be told of a lease it resumes: how far the call had got. */
export type CallPhase = 'offered' | 'dialing' | 'on_call' | 'wrap_up';

export const PHASE_OF_STATE: Partial<Record<LeaseRecordState, CallPhase>> = {
  o: 'offered',
  a: 'dialing',
  n: 'on_call',
  w: 'wrap_up',
  c: 'wrap_up',
};

/**
 * The packed lease record (shared with `redis/lua/includes/lease.lua`): state, lead member,
 * agent, device, time (expiry while live, requeue/revoke/completion time for a tombstone),
 * result (the decided completion for c, the stored one for d), the epoch the lease was issued
 * in, and aux (for c: the state it was completed from).
 */
export interface LeaseRecord {
  state: LeaseRecordState;
  member: string;
  agent: string;
  device: string;
  at: number;
  result: string;
  epoch: string;
  aux: string;
}

const STATES = new Set<string>(['o', 'a', 'n', 'w', 'c', 'x', 'r', 'v', 'd']);

export function encodeLeaseRecord(r: LeaseRecord): string {
  return [r.state, r.member, r.agent, r.device, r.at, r.result, r.epoch, r.aux].join('\x1f');
}

export function decodeLeaseRecord(s: string): LeaseRecord {
  const [state = '', member, agent, device, at, result, epoch, aux] = s.split('\x1f');
  if (!STATES.has(state)) throw new Error('corrupt lease record');
  return {
    state: state as LeaseRecordState,
    member: member!,
    agent: agent!,
    device: device!,
    at: Number(at),
    result: result ?? '',
    epoch: epoch ?? '',
    aux: aux ?? '',
  };
}

/**
 * The hash field a lease lives under: its counter when issued in the campaign's current epoch,
 * `<epoch>:<counter>` when adopted from an earlier epoch (a lease Redis lost, completed later).
 */
export const leaseField = (epoch: string, counter: number | string, currentEpoch: string): string =>
  epoch === currentEpoch ? String(counter) : `${epoch}:${counter}`;

export function counterOfField(field: string): string {
  const i = field.indexOf(':');
  return i < 0 ? field : field.slice(i + 1);
}

/** Fields of one granted lease as the dispatch and lease scripts return them. */
export const LEASE_REPLY_FIELDS = 7;

export function leaseFromReply(
  ids: LeaseIds,
  tenantId: TenantId,
  campaignId: CampaignId,
  epoch: string,
  f: readonly unknown[],
  offset: number,
): Lease {
  const record = decodeLeadRecord(String(f[offset + 6]));
  const agentId = String(f[offset + 1]) as AgentId;
  return {
    leaseId: ids.format({
      tenantId,
      campaignId,
      epoch,
      counter: String(f[offset]),
      leadId: record.leadId,
      agentId,
    }),
    campaignId,
    agentId,
    deviceId: String(f[offset + 2]) as DeviceId,
    state: 'offered',
    expiresAt: Number(f[offset + 3]),
    pinned: Number(f[offset + 4]) === 1,
    lead: toQueuedLead(record, String(f[offset + 5]) as ZoneKey),
  };
}
