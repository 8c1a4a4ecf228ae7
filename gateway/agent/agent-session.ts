// One connected agent device: who it is, the state routing and the wallboard see, the campaign it
// works and the lease it holds. State changes are pushed to the device as they happen.
import type { Socket } from 'socket.io';
import type { AgentId, CampaignRef, DeviceId, TenantId } from '../../engine/ids.js';
import type { QueuedLead } from '../../engine/lead.js';
import type { AgentClientEvents, AgentServerEvents } from '../protocol/events.js';
import type { Lease } from '../../engine/lease.js';
import type { AgentState, AgentStateName, OfferPayload, RevokeReason } from '../protocol/schemas.js';

/** Events between gateway processes (over the adapter). */
export interface InterServerEvents {
  'lease:deliver': (lease: Lease, ref: CampaignRef) => void;
  'lease:revoke': (tenantId: string, agentId: string, leaseId: string, reason: RevokeReason) => void;
}

export type AgentSocket = Socket<AgentClientEvents, AgentServerEvents, InterServerEvents, SessionData>;

export interface SessionData {
  tenantId: TenantId;
  agentId: AgentId;
  deviceId: DeviceId;
  /** Lease the device says it was working when it connected (resume after a drop). */
  resumeLeaseId?: string;
}

export interface HeldLease {
  readonly leaseId: string;
  readonly ref: CampaignRef;
  /** Known when the lease was offered by this process; a resumed lease may not carry it. */
  readonly lead: QueuedLead | null;
  state: 'offered' | 'accepted';
  expiresAt: number;
  /** Its completion is being saved: heartbeats leave it alone. */
  completing?: boolean;
}

export const agentRoom = (tenantId: string, agentId: string) => `t:${tenantId}:a:${agentId}`;
export const sessionKey = (tenantId: string, agentId: string) => `${tenantId}\x00${agentId}`;

export class AgentSession {
  readonly tenantId: TenantId;
  readonly agentId: AgentId;
  readonly deviceId: DeviceId;
  readonly socket: AgentSocket;
  #state: AgentState;
  /** The campaign the agent is ready on (or last worked). */
  campaign: CampaignRef | null = null;
  lease: HeldLease | null = null;
  /** Set when a newer session took over: this one's disconnect must not release anything. */
  replaced = false;
  #chain: Promise<unknown> = Promise.resolve();

  constructor(socket: AgentSocket, now: number) {
    this.socket = socket;
    this.tenantId = socket.data.tenantId;
    this.agentId = socket.data.agentId;
    this.deviceId = socket.data.deviceId;
    this.#state = { state: 'paused', reason: 'login', since: now };
  }

  /**
   * Run the device's events one after another: a "pause" sent while a "ready" is still on its
   * way must see the ready done, never interleave with it.
   */
  run<T>(work: () => Promise<T>): Promise<T> {
    const next = this.#chain.then(work, work);
    this.#chain = next.catch(() => undefined);
    return next;
  }

  get key(): string {
    return sessionKey(this.tenantId, this.agentId);
  }

  get state(): AgentState {
    return this.#state;
  }

  get stateName(): AgentStateName {
    return this.#state.state;
  }

  setState(state: Exclude<AgentStateName, 'paused'>, now: number): AgentState;
  setState(state: 'paused', now: number, reason: string): AgentState;
  setState(state: AgentStateName, now: number, reason?: string): AgentState {
    const campaignId = this.campaign?.campaignId;
    const base = { since: now, ...(campaignId ? { campaignId } : {}) };
    this.#state = state === 'paused' ? { state, reason: reason ?? 'paused', ...base } : { state, ...base };
    return this.#state;
  }

  /**
   * Tell the device its current state. Only for changes the device did not ask for (login,
   * resume, revocation, a closed campaign): the acknowledgement of the device's own events
   * already carries the new state, and one frame fewer per call is real CPU at load.
   */
  announce(): void {
    this.socket.emit('agent:state', this.#state);
  }

  offerPayload(lease: HeldLease & { readonly lead: QueuedLead }): OfferPayload {
    const l = lease.lead;
    return {
      leaseId: lease.leaseId,
      lead: {
        id: l.id,
        phone: l.phone,
        name: l.name,
        timeZone: l.timeZone,
        attempts: l.attempts,
        fields: l.fields,
      },
      campaign: { id: lease.ref.campaignId },
      expiresAt: lease.expiresAt,
    };
  }
}
