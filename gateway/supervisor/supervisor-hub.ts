// The /supervisor namespace: a supervisor's (or admin's) access token in the handshake, a
// subscription to the tenant's floor or one campaign, a snapshot, then deltas; and the actions a
// supervisor takes from the wallboard (force-pause, log out, pause or resume a campaign), each
// acknowledged and written to the audit log.
//
// The state shown is the agent state machine's (gateway/calls/agent-machine.ts), reported by the
// agent hub of whichever gateway holds the agent's device: each gateway publishes its agents'
// changes to the others over the Socket.IO adapter, and every gateway keeps each tenant's floor
// and its last hour (for replay). Agent changes go out at once (gathered for a few milliseconds
// into one frame); campaign counters are computed once per interval per tenant and sent at that
// pace, so a busy floor cannot flood a browser. Every frame carries the socket's sequence number.
import type { Namespace, Server, Socket } from 'socket.io';
import type { z } from 'zod';
import type { TenantId } from '../../engine/ids.js';
import { createWallboardRepository } from '../../db/index.js';
import type { StoredWallboardSettings, UserRole, WallboardRepository } from '../../db/index.js';
import type { AgentStateChange } from '../agent/agent-hub.js';
import { askGateways } from '../ask-gateways.js';
import { GatewayError, toWireError } from '../errors.js';
import type { Gateway } from '../gateway.js';
import type { Ack } from '../protocol/errors.js';
import { createSupervisorActions } from './actions.js';
import { campaignTiles } from './counters.js';
import { endSession } from './session-cuts.js';
import { TenantFloor } from './floor.js';
import type { StateRecord } from './floor.js';
import {
  campaignActionSchema,
  forcePauseSchema,
  logoutSchema,
  replaySchema,
  subscribeSchema,
  SUPERVISOR_NAMESPACE,
  supervisorHandshakeSchema,
} from './protocol.js';
import type {
  AgentDelta,
  AgentTile,
  AverageDelta,
  CampaignTile,
  FloorAverages,
  SupervisorClientEvents,
  SupervisorServerEvents,
  WallboardSettings,
} from './protocol.js';

/** Who an access token speaks for (gateway/auth/access-token.ts). */
export interface AccessIdentity {
  readonly tenantId: string;
  readonly userId: string;
  readonly role: UserRole;
  /** The login session (a logout ends its sockets on every gateway). */
  readonly sessionId?: string;
  /** When the credential expires (epoch ms): the socket is cut then, and reconnects with a new one. */
  readonly expiresAt?: number;
  /** A TV link (gateway/supervisor/tv-links.ts): read-only, optionally pinned to one campaign. */
  readonly link?: { readonly id: string; readonly campaignId: string | null };
}

/** Verifies an access token; throws UNAUTHENTICATED when it is not valid. */
export type AccessVerifier = (token: string) => Promise<AccessIdentity>;

export interface SupervisorOptions {
  readonly verify: AccessVerifier;
  /** How often campaign counters are recomputed and sent (default 1000 ms). */
  readonly countersIntervalMs?: number;
  /**
   * How long agent changes are gathered into one frame (default 50 ms): several changes of one
   * agent in that window go out as one, and a frame's overhead is paid twenty times a second at most.
   */
  readonly deltaFlushMs?: number;
}

interface SupervisorData {
  tenantId: TenantId;
  userId: string;
  role: UserRole;
  sessionId?: string;
  /** A TV link's id: the socket may watch, never act. */
  linkId?: string;
  /** The campaign a TV link is pinned to. */
  pinned?: string | null;
  /** Subscribed: null for the whole floor, or one campaign. */
  scope?: string | null;
  seq: number;
  /** Agents this socket shows (a campaign scope drops agents that left it). */
  shown: Set<string>;
  /** How much of the floor's ids and campaign ids tables this socket holds. */
  idsKnown: number;
  campaignsKnown: number;
}

interface InterServerEvents {
  'floor:records': (tenantId: string, records: StateRecord[]) => void;
  'floor:agents': (tenantId: string, ack: (records: StateRecord[]) => void) => void;
}

type SupervisorNamespace = Namespace<
  SupervisorClientEvents,
  SupervisorServerEvents,
  InterServerEvents,
  SupervisorData
>;
type SupervisorSocket = Socket<
  SupervisorClientEvents,
  SupervisorServerEvents,
  InterServerEvents,
  SupervisorData
>;

interface TenantView {
  readonly floor: TenantFloor;
  settings: StoredWallboardSettings;
  /** Roster, settings and other gateways' agents loaded (once per tenant; roster refreshed). */
  loaded: Promise<void> | null;
  rosterAt: number;
  readonly sockets: Set<SupervisorSocket>;
  /** Agents whose tile changed since the last flush. */
  readonly dirty: Set<string>;
  counters: { campaigns: CampaignTile[]; agentAverages: Record<string, FloorAverages> } | null;
  /** The computation in flight, shared by everyone who asks meanwhile. */
  computing: Promise<void> | null;
  /** The settings the last counters frame (or snapshot) went out with, as JSON. */
  sentSettings: string;
  /** The campaign tiles the last counters frame carried, as JSON ('' after a fresh computation). */
  sentCampaigns: string;
  /**
   * The agent averages every subscribed socket holds: what the last counters frame brought them
   * to. Snapshots carry these, counters frames the difference to the new ones.
   */
  sentAverages: Record<string, FloorAverages>;
  /** When sentAverages last changed (epoch ms). */
  averagesAt: number;
}

const ROSTER_REFRESH_MS = 30_000;

/** How often per-agent averages go out (campaign figures go every counters interval). */
const AVERAGES_EVERY_MS = 10_000;

/** The longest a timer can wait (setTimeout's limit); a later expiry is checked again then. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** Who may watch the floor and act on it. */
const WALLBOARD_ROLES: ReadonlySet<UserRole> = new Set(['owner', 'admin', 'supervisor']);

export interface Supervisor {
  stop(): void;
}

function toRecord(c: AgentStateChange): StateRecord {
  return {
    agentId: c.agentId,
    state: c.state.state,
    ...(c.state.state === 'paused' ? { reason: c.state.reason } : {}),
    since: c.state.since,
    campaignId: c.state.campaignId ?? null,
    leadFirstName: c.lead?.firstName ?? null,
    at: c.at,
  };
}

/** The averages that differ from what the sockets hold, and the agents that have none any more. */
function averagesDelta(
  floor: TenantFloor,
  held: Readonly<Record<string, FloorAverages>>,
  next: Readonly<Record<string, FloorAverages>>,
): { changed: AverageDelta[]; removed: number[] } {
  const changed: AverageDelta[] = [];
  for (const [id, a] of Object.entries(next)) {
    const h = held[id];
    if (
      !h ||
      h.waitSec !== a.waitSec ||
      h.talkSec !== a.talkSec ||
      h.wrapSec !== a.wrapSec ||
      h.pauseSec !== a.pauseSec
    ) {
      changed.push([floor.indexOf(id), a.waitSec, a.talkSec, a.wrapSec, a.pauseSec]);
    }
  }
  const removed = Object.keys(held)
    .filter((id) => !(id in next))
    .map((id) => floor.indexOf(id));
  return { changed, removed };
}

export function attachSupervisor(gateway: Gateway, options: SupervisorOptions): Supervisor {
  const { db, store, clock, logger } = gateway.deps;
  const hub = gateway.hub;
  const clustered = gateway.deps.adapter !== undefined;
  const wallboard: WallboardRepository = createWallboardRepository(db.knex);
  const actions = createSupervisorActions(gateway);
  const countersMs = options.countersIntervalMs ?? 1_000;
  const flushMs = options.deltaFlushMs ?? 50;
  const nsp = (gateway.io as unknown as Server).of(SUPERVISOR_NAMESPACE) as unknown as SupervisorNamespace;
  const tenants = new Map<string, TenantView>();
  let flushTimer: NodeJS.Timeout | undefined;
  let outbox = new Map<string, StateRecord[]>();
  let outboxTimer: NodeJS.Timeout | undefined;

  const view = (tenantId: string): TenantView => {
    let v = tenants.get(tenantId);
    if (!v) {
      v = {
        floor: new TenantFloor(),
        settings: { timeZone: 'UTC', thresholds: {} },
        loaded: null,
        rosterAt: 0,
        sockets: new Set(),
        dirty: new Set(),
        counters: null,
        computing: null,
        sentSettings: '',
        sentCampaigns: '',
        sentAverages: {},
        averagesAt: 0,
      };
      tenants.set(tenantId, v);
    }
    return v;
  };

  // ---- the feed: this gateway's agents, and the others' over the adapter ----

  function ingest(tenantId: string, records: readonly StateRecord[]): void {
    const v = view(tenantId);
    for (const r of records) if (v.floor.apply(r)) v.dirty.add(r.agentId);
    if (v.dirty.size > 0 && v.sockets.size > 0 && !flushTimer) {
      flushTimer = setTimeout(flush, flushMs);
    }
  }

  const unsubscribe = hub.onStateChange((change) => {
    const r = toRecord(change);
    ingest(change.tenantId, [r]);
    if (!clustered) return;
    const list = outbox.get(change.tenantId) ?? [];
    list.push(r);
    outbox.set(change.tenantId, list);
    outboxTimer ??= setTimeout(() => {
      outboxTimer = undefined;
      const sending = outbox;
      outbox = new Map();
      for (const [tenantId, records] of sending) nsp.serverSideEmit('floor:records', tenantId, records);
    }, flushMs);
  });
  nsp.on('floor:records', (tenantId, records) => ingest(tenantId, records));
  nsp.on('floor:agents', (tenantId, ack) => ack(hub.agentStates(tenantId).map(toRecord)));

  async function load(tenantId: string): Promise<void> {
    const v = view(tenantId);
    const [agents, settings] = await Promise.all([wallboard.agents(tenantId), wallboard.settings(tenantId)]);
    v.floor.setRoster(new Map(agents.map((a) => [a.id, a.name])));
    v.settings = settings;
    v.rosterAt = clock.now();
    const here = hub.agentStates(tenantId).map(toRecord);
    let there: StateRecord[] = [];
    if (clustered) {
      there = await askGateways<StateRecord[]>(nsp, 'floor:agents', [tenantId]).then(
        (answers) => answers.flat(),
        () => [],
      );
    }
    for (const r of [...here, ...there]) v.floor.apply(r);
  }

  function ensureLoaded(tenantId: string): Promise<void> {
    const v = view(tenantId);
    if (!v.loaded || clock.now() - v.rosterAt > ROSTER_REFRESH_MS) {
      const loading = load(tenantId);
      v.loaded = loading.catch((err: unknown) => {
        v.loaded = null;
        throw err;
      });
    }
    return v.loaded;
  }

  // ---- frames ----

  const inScope = (s: SupervisorSocket, t: AgentTile): boolean =>
    s.data.scope === null || s.data.scope === undefined || t.campaignId === s.data.scope;

  /** What of the floor's tables the socket does not hold yet (and now will). */
  function tableUpdates(s: SupervisorSocket, floor: TenantFloor): { ids?: string[]; campaignIds?: string[] } {
    const out: { ids?: string[]; campaignIds?: string[] } = {};
    if (floor.ids.length > s.data.idsKnown) {
      out.ids = floor.ids.slice(s.data.idsKnown);
      s.data.idsKnown = floor.ids.length;
    }
    if (floor.campaignIds.length > s.data.campaignsKnown) {
      out.campaignIds = floor.campaignIds.slice(s.data.campaignsKnown);
      s.data.campaignsKnown = floor.campaignIds.length;
    }
    return out;
  }

  function flush(): void {
    flushTimer = undefined;
    const at = clock.now();
    for (const v of tenants.values()) {
      if (v.dirty.size === 0) continue;
      // Each change is encoded once per tenant, whatever the number of sockets; an agent that
      // changed several times since the last flush goes out once, in its latest state.
      const changes = [...v.dirty].map((id) => ({ tile: v.floor.tile(id), delta: v.floor.delta(id, at) }));
      v.dirty.clear();
      for (const s of v.sockets) {
        const whole: AgentTile[] = [];
        const d: AgentDelta[] = [];
        for (const { tile, delta } of changes) {
          const shown = s.data.shown.has(tile.agentId);
          if (inScope(s, tile)) {
            if (shown && delta) d.push(delta);
            else whole.push(tile);
            s.data.shown.add(tile.agentId);
          } else if (shown) {
            // Left the campaign this socket watches: sent once more (so it can drop it), then not.
            s.data.shown.delete(tile.agentId);
            if (delta) d.push(delta);
            else whole.push(tile);
          }
        }
        if (whole.length === 0 && d.length === 0) continue;
        s.emit('floor:agents', {
          seq: ++s.data.seq,
          at,
          ...tableUpdates(s, v.floor),
          ...(whole.length > 0 ? { agents: whole } : {}),
          ...(d.length > 0 ? { d } : {}),
        });
      }
    }
  }

  function settingsOf(v: TenantView): WallboardSettings {
    return { timeZone: v.settings.timeZone, thresholds: v.settings.thresholds };
  }

  const scopeCampaigns = (s: SupervisorSocket, campaigns: readonly CampaignTile[]): CampaignTile[] =>
    campaigns.filter((c) => s.data.scope === null || s.data.scope === undefined || c.id === s.data.scope);

  function computeCounters(tenantId: string, v: TenantView): Promise<void> {
    // The settings are read again with every computation, so an admin's change (on any gateway)
    // reaches every wallboard with the next counters frame.
    v.computing ??= wallboard
      .settings(tenantId)
      .then((settings) => {
        v.settings = settings;
        return campaignTiles({ db, wallboard, store, clock }, tenantId, settings.timeZone, v.floor);
      })
      .then((counters) => {
        v.counters = counters;
      })
      .finally(() => {
        v.computing = null;
      });
    return v.computing;
  }

  async function snapshot(s: SupervisorSocket): Promise<number> {
    const { tenantId } = s.data;
    await ensureLoaded(tenantId);
    const v = view(tenantId);
    const scope = s.data.scope ?? null;
    if (!v.counters || (scope !== null && !v.counters.campaigns.some((c) => c.id === scope))) {
      await computeCounters(tenantId, v);
      // The sockets already watching have not had these: the next counters frame carries them.
      v.sentCampaigns = '';
    }
    // Built and sent in one synchronous step, and only then does the socket get deltas: nothing
    // falls between the snapshot and the first delta.
    const agents = v.floor.tiles(scope);
    v.sockets.add(s);
    s.data.shown = new Set(agents.map((a) => a.agentId));
    s.data.idsKnown = v.floor.ids.length;
    s.data.campaignsKnown = v.floor.campaignIds.length;
    const seq = ++s.data.seq;
    v.sentSettings = JSON.stringify(settingsOf(v));
    s.emit('floor:snapshot', {
      seq,
      at: clock.now(),
      campaignId: scope,
      settings: settingsOf(v),
      agents,
      campaigns: scopeCampaigns(s, v.counters?.campaigns ?? []),
      agentAverages: v.sentAverages,
      ids: v.floor.ids.slice(),
      campaignIds: v.floor.campaignIds.slice(),
    });
    return seq;
  }

  const countersTimer = setInterval(() => {
    for (const [tenantId, v] of tenants) {
      if (v.sockets.size === 0) continue;
      computeCounters(tenantId, v).then(
        () => {
          if (!v.counters) return;
          const at = clock.now();
          const settings = JSON.stringify(settingsOf(v));
          const changed = settings !== v.sentSettings;
          v.sentSettings = settings;
          // Per-agent averages are hour-long statistics: sent (as a difference) every
          // AVERAGES_EVERY_MS, not with every counters frame, so 5,000 agents' averages do not
          // outweigh the state changes themselves.
          const due = at - v.averagesAt >= AVERAGES_EVERY_MS;
          const averages = due
            ? averagesDelta(v.floor, v.sentAverages, v.counters.agentAverages)
            : { changed: [], removed: [] };
          // Campaign tiles only when one changed; the frame itself is the heartbeat.
          const campaigns = JSON.stringify(v.counters.campaigns);
          const campaignsChanged = campaigns !== v.sentCampaigns;
          v.sentCampaigns = campaigns;
          if (due) {
            v.sentAverages = v.counters.agentAverages;
            v.averagesAt = at;
          }
          for (const s of v.sockets) {
            s.emit('floor:counters', {
              seq: ++s.data.seq,
              at,
              ...tableUpdates(s, v.floor),
              ...(campaignsChanged ? { campaigns: scopeCampaigns(s, v.counters.campaigns) } : {}),
              ...(averages.changed.length > 0 ? { averages: averages.changed } : {}),
              ...(averages.removed.length > 0 ? { averagesRemoved: averages.removed } : {}),
              ...(changed ? { settings: settingsOf(v) } : {}),
            });
          }
        },
        (err: unknown) => logger.error({ err, tenantId }, 'supervisor.counters_failed'),
      );
    }
  }, countersMs);
  countersTimer.unref();

  const trimTimer = setInterval(() => {
    const now = clock.now();
    for (const v of tenants.values()) v.floor.trim(now);
  }, 60_000);
  trimTimer.unref();

  // ---- the namespace ----

  /** Cut the socket when its access token expires; the page refreshes the token and reconnects. */
  function expireAt(socket: SupervisorSocket, expiresAt: number): void {
    const wait = expiresAt - clock.now();
    const timer = setTimeout(
      () => {
        if (clock.now() < expiresAt) {
          expireAt(socket, expiresAt);
          return;
        }
        logger.info(
          { tenantId: socket.data.tenantId, userId: socket.data.userId },
          'supervisor.token_expired',
        );
        endSession(socket, 'token_expired');
      },
      Math.min(Math.max(wait, 0), MAX_TIMER_MS),
    );
    timer.unref();
    socket.once('disconnect', () => clearTimeout(timer));
  }

  nsp.use((socket, next) => {
    const parsed = supervisorHandshakeSchema.safeParse(socket.handshake.auth);
    const work = parsed.success
      ? options.verify(parsed.data.token)
      : Promise.reject(new GatewayError('UNAUTHENTICATED', 'handshake auth needs { token }'));
    work
      .then((identity) => {
        if (!WALLBOARD_ROLES.has(identity.role)) {
          throw new GatewayError('FORBIDDEN', 'the wallboard is for supervisors, admins and owners');
        }
        socket.data = {
          tenantId: identity.tenantId as TenantId,
          userId: identity.userId,
          role: identity.role,
          seq: 0,
          shown: new Set(),
          idsKnown: 0,
          campaignsKnown: 0,
          ...(identity.sessionId !== undefined ? { sessionId: identity.sessionId } : {}),
          ...(identity.link ? { linkId: identity.link.id, pinned: identity.link.campaignId } : {}),
        };
        if (identity.expiresAt !== undefined) expireAt(socket, identity.expiresAt);
        next();
      })
      .catch((err: unknown) => {
        const wire = toWireError(err);
        if (wire.code === 'INTERNAL') logger.error({ err }, 'supervisor.handshake_failed');
        next(Object.assign(new Error(wire.message), { data: wire }));
      });
  });

  nsp.on('connection', (socket) => {
    const { tenantId, userId } = socket.data;
    logger.info({ tenantId, userId }, 'supervisor.connected');
    socket.on('disconnect', () => view(tenantId).sockets.delete(socket));

    /** Parse, run, acknowledge: every command answers `{ ok: true, ... }` or `{ ok: false, error }`. */
    function handle<S extends z.ZodType, R extends object>(
      event: keyof SupervisorClientEvents,
      schema: S,
      run: (p: z.output<S>) => Promise<R>,
    ): void {
      socket.on(event, (payload: unknown, ack: unknown) => {
        const reply = typeof ack === 'function' ? (ack as (a: Ack<R>) => void) : () => undefined;
        const parsed = schema.safeParse(payload ?? {});
        if (!parsed.success) {
          reply({ ok: false, error: toWireError(parsed.error) });
          return;
        }
        run(parsed.data).then(
          (r) => reply({ ok: true, ...r }),
          (err: unknown) => {
            const error = toWireError(err);
            if (error.code === 'INTERNAL') logger.error({ err, event }, 'supervisor.command_failed');
            reply({ ok: false, error });
          },
        );
      });
    }

    handle('floor:subscribe', subscribeSchema, async (p) => {
      const { pinned } = socket.data;
      if (pinned !== undefined && pinned !== null && p.campaignId !== undefined && p.campaignId !== pinned) {
        throw new GatewayError('FORBIDDEN', 'this wallboard link shows one campaign only');
      }
      const campaignId = p.campaignId ?? pinned ?? undefined;
      if (campaignId !== undefined && !(await db.campaigns.get(tenantId, campaignId))) {
        throw new GatewayError('CAMPAIGN_UNKNOWN');
      }
      socket.data.scope = campaignId ?? null;
      return { seq: await snapshot(socket) };
    });

    handle('floor:resync', subscribeSchema.pick({}), async () => {
      if (socket.data.scope === undefined) throw new GatewayError('NOT_READY', 'subscribe first');
      return { seq: await snapshot(socket) };
    });

    handle('floor:replay', replaySchema, async (p) => {
      await ensureLoaded(tenantId);
      const v = view(tenantId);
      const now = clock.now();
      const from = v.floor.earliest(now);
      const at = Math.min(Math.max(p.at, from), now);
      return { at, from, agents: v.floor.tilesAt(at, socket.data.scope ?? null) };
    });

    async function agentOfTenant(agentId: string): Promise<void> {
      await ensureLoaded(tenantId);
      const v = view(tenantId);
      if (!v.floor.knows(agentId) && !v.floor.current(agentId)) {
        throw new GatewayError('NOT_FOUND', 'No such agent in this tenant');
      }
    }

    const actor = { tenantId, userId };
    /** A TV link watches; only a logged-in supervisor, admin or owner acts. */
    const mayAct = (): void => {
      if (socket.data.linkId !== undefined) {
        throw new GatewayError('FORBIDDEN', 'a wallboard link is read-only');
      }
    };

    handle('agent:force_pause', forcePauseSchema, async (p) => {
      mayAct();
      await agentOfTenant(p.agentId);
      return actions.forcePause(actor, p.agentId, p.reason);
    });

    handle('agent:logout', logoutSchema, async (p) => {
      mayAct();
      await agentOfTenant(p.agentId);
      return actions.logout(actor, p.agentId);
    });

    const setStatus = async (campaignId: string, status: 'active' | 'paused') => {
      mayAct();
      const done = await actions.setCampaignStatus(actor, campaignId, status);
      view(tenantId).counters = null;
      return done;
    };
    handle('campaign:pause', campaignActionSchema, (p) => setStatus(p.campaignId, 'paused'));
    handle('campaign:resume', campaignActionSchema, (p) => setStatus(p.campaignId, 'active'));
  });

  return {
    stop() {
      unsubscribe();
      clearInterval(countersTimer);
      clearInterval(trimTimer);
      clearTimeout(flushTimer);
      clearTimeout(outboxTimer);
      // Close each wallboard's connection, not its session: a server-side disconnect is final for
      // socket.io-client (no reconnect), and the page would stay on its last frame until reloaded;
      // a closed connection reconnects by itself to this address, whichever gateway then answers,
      // subscribes again and gets a fresh snapshot (as the agent namespace's drain does with several
      // gateways). Only this gateway's sockets: nsp.disconnectSockets goes through the Redis adapter
      // and would end every gateway's wallboards.
      for (const socket of nsp.sockets.values()) socket.conn.close();
    },
  };
}
