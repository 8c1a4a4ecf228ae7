// Leases: the fencing token handed to a device with each offer. A lease id names its campaign,
// the campaign's queue epoch (new whenever the queue is created afresh, e.g. after Redis lost its
// data, so ids from before can never match a lease from after) and a per-campaign counter that
// only grows, so an id that is not live can be told apart as stale (it was issued) or unknown.
import { randomBytes } from 'node:crypto';
import type { AgentId, CampaignId, DeviceId } from './ids.js';
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
}

const LEASE_ID = /^([A-Za-z0-9_-]{1,64})\.([a-z0-9]{1,12})\.([1-9][0-9]{0,15})$/;

/** A fresh queue epoch: a new lease-id namespace for a campaign created (or re-created) now. */
export const randomEpoch = (): string => randomBytes(4).readUInt32BE(0).toString(36);

export function formatLeaseId(campaignId: string, epoch: string, counter: number | string): LeaseId {
  return `${campaignId}.${epoch}.${counter}` as LeaseId;
}

export function parseLeaseId(id: string): ParsedLeaseId {
  const m = LEASE_ID.exec(id);
  if (!m) throw new EngineError('LEASE_UNKNOWN', 'Lease id is malformed', { leaseId: id.slice(0, 100) });
  return { campaignId: m[1] as CampaignId, epoch: m[2]!, counter: Number(m[3]) };
}

/**
 * The packed lease record (shared with `redis/lua/includes/lease.lua`):
 * state (o offered, a accepted, x expired and requeued, d done), lead member, agent, device,
 * expiry or completion time (ms), and for a done lease the completion result.
 */
export interface LeaseRecord {
  state: 'o' | 'a' | 'x' | 'd';
  member: string;
  agent: string;
  device: string;
  at: number;
  result: string;
}

export function encodeLeaseRecord(r: LeaseRecord): string {
  return [r.state, r.member, r.agent, r.device, r.at, r.result].join('\x1f');
}

export function decodeLeaseRecord(s: string): LeaseRecord {
  const [state, member, agent, device, at, result] = s.split('\x1f');
  if (state !== 'o' && state !== 'a' && state !== 'x' && state !== 'd')
    throw new Error('corrupt lease record');
  return { state, member: member!, agent: agent!, device: device!, at: Number(at), result: result ?? '' };
}

/** Fields of one granted lease as the dispatch and lease scripts return them. */
export const LEASE_REPLY_FIELDS = 7;

export function leaseFromReply(
  campaignId: CampaignId,
  epoch: string,
  f: readonly unknown[],
  offset: number,
): Lease {
  const record = decodeLeadRecord(String(f[offset + 6]));
  return {
    leaseId: formatLeaseId(campaignId, epoch, String(f[offset])),
    campaignId,
    agentId: String(f[offset + 1]) as AgentId,
    deviceId: String(f[offset + 2]) as DeviceId,
    state: 'offered',
    expiresAt: Number(f[offset + 3]),
    pinned: Number(f[offset + 4]) === 1,
    lead: toQueuedLead(record, String(f[offset + 5]) as ZoneKey),
  };
}
