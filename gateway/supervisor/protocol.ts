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

/** POST /api/v1/tenants/:t/wallboard/links (here so the admin page validates with it too). */
export const wallboardLinkBodySchema = z.strictObject({
  name: z.string().trim().min(1).max(120),
  /** Pin the screen to one campaign; the whole floor when absent. */
  campaignId: id.optional(),
});

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

/**
 * One agent's change in a `floor:agents` frame, as a tuple instead of an object (a busy floor
 * sends a thousand a second): `[index, state, ago, campaign, lead?, reason?]` where `index` is the
 * agent's place in the `ids` table, `state` the place of its state in AGENT_STATES, `ago` how many
 * ms before the frame's `at` the state began (`since = at - ago`), `campaign` the place of its
 * campaign in the `campaignIds` table or -1 for none, `lead` the lead's first name or 0 for none,
 * `reason` the pause reason (paused only). The agent's name is the one its tile already has.
 */
export type AgentDelta =
  | readonly [number, number, number, number]
  | readonly [number, number, number, number, string | 0]
  | readonly [number, number, number, number, string | 0, string];

/** One agent's averages in a `floor:counters` frame: `[index, waitSec, talkSec, wrapSec, pauseSec]`. */
export type AverageDelta = readonly [number, number, number, number, number];

/**
 * The tables the compact deltas index into. The snapshot sends them whole; a later frame sends
 * only what was appended since (the client appends): a table never shrinks or reorders.
 */
interface TableUpdates {
  /** Agent ids by index (the whole tenant's, whatever the scope). */
  readonly ids?: readonly string[];
  /** Campaign ids by index. */
  readonly campaignIds?: readonly string[];
}

export interface SnapshotFrame {
  readonly seq: number;
  readonly at: number;
  readonly campaignId: string | null;
  readonly settings: WallboardSettings;
  readonly agents: readonly AgentTile[];
  readonly campaigns: readonly CampaignTile[];
  readonly agentAverages: Readonly<Record<string, FloorAverages>>;
  readonly ids: readonly string[];
  readonly campaignIds: readonly string[];
}

export interface AgentsFrame extends TableUpdates {
  readonly seq: number;
  readonly at: number;
  /** Whole tiles, for agents this socket did not show yet (joined the floor or the campaign). */
  readonly agents?: readonly AgentTile[];
  /** The changes of agents it shows (and, once, of one that left the campaign it watches). */
  readonly d?: readonly AgentDelta[];
}

export interface CountersFrame extends TableUpdates {
  readonly seq: number;
  readonly at: number;
  /**
   * Every campaign tile of the scope, only when one of them changed since the last frame (the
   * frame itself still comes every interval: it is the wallboard's heartbeat).
   */
  readonly campaigns?: readonly CampaignTile[];
  /**
   * Agents whose averages changed since they were last sent (merge them into the snapshot's);
   * filled every 10 s, absent in between: a floor of 5,000 agents does not resend 5,000 averages
   * every second.
   */
  readonly averages?: readonly AverageDelta[];
  /** Agents (indexes) with no visit left in the last hour: drop their averages. */
  readonly averagesRemoved?: readonly number[];
  /** Only when an admin changed them since the last frame (time zone, escalation thresholds). */
  readonly settings?: WallboardSettings;
}

/**
 * Turns the compact frames back into tiles: the page, the tests and the bench decode with it.
 * Feed it every frame in sequence order (after a gap, only the next snapshot).
 */
export class FloorDecoder {
  #ids: string[] = [];
  #campaigns: string[] = [];
  readonly #names = new Map<string, string>();

  snapshot(f: SnapshotFrame): void {
    this.#ids = [...f.ids];
    this.#campaigns = [...f.campaignIds];
    this.#names.clear();
    for (const a of f.agents) this.#names.set(a.agentId, a.name);
  }

  #tables(f: TableUpdates): void {
    if (f.ids) this.#ids.push(...f.ids);
    if (f.campaignIds) this.#campaigns.push(...f.campaignIds);
  }

  /** The tiles a `floor:agents` frame carries, whole ones first. */
  agents(f: AgentsFrame): AgentTile[] {
    this.#tables(f);
    const out: AgentTile[] = [];
    for (const a of f.agents ?? []) {
      this.#names.set(a.agentId, a.name);
      out.push(a);
    }
    for (const [i, s, ago, c, lead, reason] of f.d ?? []) {
      const agentId = this.#ids[i] ?? String(i);
      out.push({
        agentId,
        name: this.#names.get(agentId) ?? agentId,
        state: AGENT_STATES[s] ?? 'offline',
        ...(reason === undefined ? {} : { reason }),
        since: f.at - ago,
        campaignId: c < 0 ? null : (this.#campaigns[c] ?? null),
        leadFirstName: lead === undefined || lead === 0 ? null : lead,
      });
    }
    return out;
  }

  /** The averages a `floor:counters` frame changes and removes, by agent id. */
  averages(f: CountersFrame): { changed: Record<string, FloorAverages>; removed: string[] } {
    this.#tables(f);
    const changed: Record<string, FloorAverages> = {};
    for (const [i, waitSec, talkSec, wrapSec, pauseSec] of f.averages ?? []) {
      changed[this.#ids[i] ?? String(i)] = { waitSec, talkSec, wrapSec, pauseSec };
    }
    return { changed, removed: (f.averagesRemoved ?? []).map((i) => this.#ids[i] ?? String(i)) };
  }
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
