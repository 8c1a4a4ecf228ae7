// The /supervisor namespace's wire protocol: one definition of every frame and command, as zod
// schemas and typed event maps, imported by the gateway, the dashboard, the bench and the tests.
//
// A supervisor subscribes to its tenant's floor (or one campaign) and gets a snapshot, then
// deltas. Every frame carries the socket's sequence number (snapshot, agents, counters share one
// counter): a client that sees a number skipped asks for a fresh snapshot (`floor:resync`).
import { z } from 'zod';
import { AGENT_STATES } from '../protocol/schemas.js';
import type { AgentStateName } from '../protocol/schemas.js';
import type { Ack } from '../protocol/errors.js';

export const SUPERVISOR_NAMESPACE = '/supervisor';

const id = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be 1-64 characters of A-Z a-z 0-9 _ -');
const reason = z
  .string()
  .trim()
  .regex(/^[a-z0-9_ -]{1,48}$/i, 'must be 1-48 letters, digits, spaces, _ or -');

/** Handshake `auth`: an access token of a supervisor or admin of the tenant. */
export const supervisorHandshakeSchema = z.object({ token: z.string().min(1).max(4096) });

// ---- client → server (each acknowledged) ----

export const subscribeSchema = z.strictObject({ campaignId: id.optional() });
export const replaySchema = z.strictObject({ at: z.number().int().min(0) });
export const forcePauseSchema = z.strictObject({ agentId: id, reason });
export const logoutSchema = z.strictObject({ agentId: id });
export const campaignActionSchema = z.strictObject({ campaignId: id });

// ---- what the frames carry ----

/** One agent's tile: the state routing uses (the agent state machine), as the wallboard shows it. */
export interface AgentTile {
  readonly agentId: string;
  readonly name: string;
  readonly state: AgentStateName;
  /** Only for paused: why. */
  readonly reason?: string;
  /** When the state began (epoch ms); null for an agent never seen connected. */
  readonly since: number | null;
  readonly campaignId: string | null;
  /** The lead of the call the agent holds: first name only. */
  readonly leadFirstName: string | null;
}

/** Why a campaign's queue has nothing ready to dial although leads are loaded. */
export const EMPTY_REASONS = [
  'paused',
  'window_closed',
  'all_scheduled',
  'all_leased',
  'dnc',
  'no_leads',
] as const;
export type EmptyReason = (typeof EMPTY_REASONS)[number];

/** Average seconds per agent-visit of each state over the last hour. */
export interface FloorAverages {
  readonly waitSec: number;
  readonly talkSec: number;
  readonly wrapSec: number;
  readonly pauseSec: number;
}

export interface CampaignTile {
  readonly id: string;
  readonly name: string;
  readonly status: string;
  /** The live queue; null when the engine holds none (a paused campaign). */
  readonly queue: { readonly ready: number; readonly scheduled: number; readonly leased: number } | null;
  readonly callbacksDue: number;
  /** Since midnight in the tenant's time zone. */
  readonly callsToday: number;
  readonly contactsPerHour: number;
  /** Contacts / calls today, 0..1; null with no calls. */
  readonly answerRate: number | null;
  /** Average handle time today (talk seconds reported by devices); null with no calls. */
  readonly ahtSec: number | null;
  readonly agentsByState: Readonly<Partial<Record<AgentStateName, number>>>;
  /** Completed calls per minute, oldest first, the last entry the current minute. */
  readonly perMinute: readonly number[];
  readonly emptyReason: EmptyReason | null;
  /** Explanation in words, for the tile. */
  readonly emptyDetail: string | null;
  readonly averages: FloorAverages;
}

export interface WallboardSettings {
  readonly timeZone: string;
  /** Seconds in a state after which its tile escalates (warn, then alert). */
  readonly thresholds: Readonly<Partial<Record<AgentStateName, readonly [number, number]>>>;
}

export interface SnapshotFrame {
  readonly seq: number;
  readonly at: number;
  readonly campaignId: string | null;
  readonly settings: WallboardSettings;
  readonly agents: readonly AgentTile[];
  readonly campaigns: readonly CampaignTile[];
  readonly agentAverages: Readonly<Record<string, FloorAverages>>;
}

export interface AgentsFrame {
  readonly seq: number;
  readonly at: number;
  readonly agents: readonly AgentTile[];
}

export interface CountersFrame {
  readonly seq: number;
  readonly at: number;
  readonly campaigns: readonly CampaignTile[];
  readonly agentAverages: Readonly<Record<string, FloorAverages>>;
  /** Only when an admin changed them since the last frame (time zone, escalation thresholds). */
  readonly settings?: WallboardSettings;
}

/**
 * Why the server ends a wallboard's connection: `token_expired` (refresh the access token and
 * reconnect), `logged_out` (the session ended), `user_changed` (the user was deleted, or their
 * role or password changed), `link_revoked` (a TV link was revoked).
 */
export interface SessionEndedFrame {
  readonly reason: string;
}

export type ReplayAck = Ack<{ at: number; from: number; agents: AgentTile[] }>;
export type ActionAck = Ack<{ found: boolean }>;
export type CampaignActionAck = Ack<{ status: string }>;

export interface SupervisorClientEvents {
  'floor:subscribe': (p: z.input<typeof subscribeSchema>, ack: (a: Ack<{ seq: number }>) => void) => void;
  'floor:resync': (p: Record<string, never>, ack: (a: Ack<{ seq: number }>) => void) => void;
  'floor:replay': (p: z.input<typeof replaySchema>, ack: (a: ReplayAck) => void) => void;
  'agent:force_pause': (p: z.input<typeof forcePauseSchema>, ack: (a: ActionAck) => void) => void;
  'agent:logout': (p: z.input<typeof logoutSchema>, ack: (a: ActionAck) => void) => void;
  'campaign:pause': (p: z.input<typeof campaignActionSchema>, ack: (a: CampaignActionAck) => void) => void;
  'campaign:resume': (p: z.input<typeof campaignActionSchema>, ack: (a: CampaignActionAck) => void) => void;
}

export interface SupervisorServerEvents {
  'floor:snapshot': (f: SnapshotFrame) => void;
  'floor:agents': (f: AgentsFrame) => void;
  'floor:counters': (f: CountersFrame) => void;
  'session:ended': (f: SessionEndedFrame) => void;
}

/** GET /api/v1/console/campaigns: what the agent console offers (the campaign's own outcome codes). */
export interface ConsoleCampaign {
  readonly id: string;
  readonly name: string;
  readonly outcomes: readonly {
    readonly code: string;
    readonly final: boolean;
    readonly contact: boolean;
    readonly callback: boolean;
  }[];
}

export { AGENT_STATES };
export type { AgentStateName };
