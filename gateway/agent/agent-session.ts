// One connected agent device: who it is, its state machine's current state, and the queue its
// events run through one at a time. The hub (agent-hub.ts) owns what happens; the session only
// holds it.
import { randomBytes } from 'node:crypto';
import type { Socket } from 'socket.io';
import type { AgentId, CampaignRef, DeviceId, TenantId } from '../../engine/ids.js';
import type { Lease } from '../../engine/lease.js';
import type { QueuedLead } from '../../engine/lead.js';
import { LOGIN_STATE } from '../calls/agent-machine.js';
import type { HeldCall, MachineState } from '../calls/agent-machine.js';
import type { AgentClientEvents, AgentServerEvents } from '../protocol/events.js';
import type { RevokeReason } from '../protocol/schemas.js';

/** A supervisor action sent to the gateway that holds the agent's device. */
export type AgentControl =
  | { readonly action: 'force_pause'; readonly reason: string }
  | { readonly action: 'disconnect'; readonly reason: string };

/** A call in progress a session holds, for a rebuild to attach it again (agent-hub.ts heldCalls). */
export interface HeldCallInfo {
  readonly leaseId: string;
  readonly agentId: string;
  readonly deviceId: string;
  readonly phase: 'offered' | 'dialing' | 'on_call' | 'wrap_up';
  readonly expiresAt: number;
  /** When the queue recorded the accept (a call taken on this gateway; absent when unknown). */
  readonly acceptedAt?: number;
}

/** Events between gateway processes (over the adapter). */
export interface InterServerEvents {
  'lease:deliver': (lease: Lease, ref: CampaignRef) => void;
  'lease:revoke': (tenantId: string, agentId: string, leaseId: string, reason: RevokeReason) => void;
  'agent:control': (
    tenantId: string,
    agentId: string,
    control: AgentControl,
    ack: (found: boolean) => void,
  ) => void;
  /** A gateway changed a campaign's status or configuration: the others read it again. */
  'campaign:changed': (ref: CampaignRef) => void;
  /**
   * A newer session of the agent (connected at `since`, server clock) asks every other gateway to
   * replace the agent's session there; answered once the older one is out of routing.
   */
  'session:replace': (
    tenantId: string,
    agentId: string,
    newer: { socketId: string; since: number },
    ack: (replaced: boolean) => void,
  ) => void;
  'calls:held': (ref: CampaignRef, ack: (calls: HeldCallInfo[]) => void) => void;
}

export type AgentSocket = Socket<AgentClientEvents, AgentServerEvents, InterServerEvents, SessionData>;

export interface SessionData {
  tenantId: TenantId;
  agentId: AgentId;
  deviceId: DeviceId;
  /** Lease the device says it was working when it connected (resume after a drop). */
  resumeLeaseId?: string;
  /** The lease this session holds now: another gateway checks it before expiring a dropped call. */
  leaseId?: string;
}

export const agentRoom = (tenantId: string, agentId: string) => `t:${tenantId}:a:${agentId}`;
export const tenantRoom = (tenantId: string) => `t:${tenantId}`;
export const sessionKey = (tenantId: string, agentId: string) => `${tenantId}\x00${agentId}`;

export class AgentSession {
  readonly tenantId: TenantId;
  readonly agentId: AgentId;
  readonly deviceId: DeviceId;
  readonly socket: AgentSocket;
  /** Short random id: only this session may take the agent out of routing it put it in. */
  readonly id = randomBytes(6).toString('base64url');
  state: MachineState;
  #leads: Map<string, QueuedLead> | undefined;
  graceTimer: NodeJS.Timeout | undefined;
  /** When it connected (server clock): of two sessions of one agent, the later one wins. */
  readonly since: number;
  #chain: Promise<unknown> = Promise.resolve();

  constructor(socket: AgentSocket, now: number) {
    this.socket = socket;
    this.tenantId = socket.data.tenantId;
    this.agentId = socket.data.agentId;
    this.deviceId = socket.data.deviceId;
    this.state = LOGIN_STATE(now);
    this.since = now;
  }

  /** Whether this session connected after the other one (ties broken by socket id). */
  isNewerThan(other: { socketId: string; since: number }): boolean {
    return this.since !== other.since ? this.since > other.since : this.socket.id > other.socketId;
  }

  /**
   * Run the session's events one after another: a "pause" sent while a "ready" is still on its
   * way, an offer timeout firing during an accept, a revocation during a completion — each sees
   * the state the one before it left, never interleaves with it.
   */
  run<T>(work: () => Promise<T>): Promise<T> {
    const next = this.#chain.then(work, work);
    this.#chain = next.catch(() => undefined);
    return next;
  }

  /**
   * The leads of offers this session was given, for the offer frame and the wallboard. Made at
   * the first offer: most of a floor's devices idle, and an empty Map is ~200 B each.
   */
  get leads(): Map<string, QueuedLead> {
    return (this.#leads ??= new Map());
  }

  get key(): string {
    return sessionKey(this.tenantId, this.agentId);
  }

  get connected(): boolean {
    return this.socket.connected;
  }

  /** The call this session holds as the queue offered it (lead included, when this process offered it). */
  leadOf(call: HeldCall): QueuedLead | undefined {
    return this.leads.get(call.leaseId);
  }
}
