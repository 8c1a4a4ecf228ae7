// The /agent namespace: the device handshake, one live session per agent, and the translation
// between the wire and the agent state machine (gateway/calls/agent-machine.ts). Frames become
// machine events, the machine's effects become frames, timers and store calls, and the results
// of store calls come back as events; each session's events run one at a time. Work that must
// reach an agent connected to another gateway process travels over the Socket.IO adapter
// (server-side events), so any process may dispatch for, revoke or pause any agent.
import { RateLimiterMemory } from 'rate-limiter-flexible';
import type { Namespace } from 'socket.io';
import type { z } from 'zod';
import type { Clock } from '../../engine/clock.js';
import { isEngineError } from '../../engine/errors.js';
import type { AgentId, CampaignRef, TenantId } from '../../engine/ids.js';
import { parseLeaseId } from '../../engine/lease.js';
import type { Lease } from '../../engine/lease.js';
import type { QueuedLead } from '../../engine/lead.js';
import type {
  ItemResult,
  LeaseExtension,
  LeaseRef,
  QueueStore,
  ReadyAgent,
} from '../../engine/queue-store.js';
import type { DeviceAuthenticator, DeviceIdentity } from '../auth/device-token.js';
import { callOf, phaseOf, transition, wireState } from '../calls/agent-machine.js';
import type { Effect, HeldCall, MachineEvent } from '../calls/agent-machine.js';
import type { Completions } from '../calls/completions.js';
import type { Dispatcher } from '../calls/dispatcher.js';
import type { TenantGap } from '../calls/tenant-gap.js';
import type { Config } from '../config.js';
import { askGateways } from '../ask-gateways.js';
import { GatewayError, toWireError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics.js';
import { isRetryable, WIRE_ERRORS } from '../protocol/errors.js';
import type { Ack, WireError, WireErrorCode } from '../protocol/errors.js';
import type { AgentClientEvents, AgentServerEvents, CompletionAck } from '../protocol/events.js';
import {
  acceptSchema,
  agentHandshakeSchema,
  callStatusSchema,
  completeSchema,
  offerAckSchema,
  pauseSchema,
  readySchema,
  rejectSchema,
} from '../protocol/schemas.js';
import type { AgentState, RevokeReason } from '../protocol/schemas.js';
import { createNagleBatcher } from '../nagle-batcher.js';
import type { NagleBatcher } from '../nagle-batcher.js';
import { AgentSession, agentRoom, tenantRoom } from './agent-session.js';
import type {
  AgentControl,
  AgentSocket,
  HeldCallInfo,
  InterServerEvents,
  SessionData,
} from './agent-session.js';
import { SessionRegistry } from './session-registry.js';
import type { OfferBudget } from '../offer-budget.js';

export type AgentNamespace = Namespace<AgentClientEvents, AgentServerEvents, InterServerEvents, SessionData>;

export interface DeviceDirectory {
  /** Throws DEVICE_UNKNOWN or DEVICE_LIMIT when this device may not connect for this agent. */
  check(identity: DeviceIdentity): Promise<void>;
}

export interface CampaignDirectory {
  /** The tenant's campaign if it exists, is active, and this agent may work it. */
  active(tenantId: TenantId, campaignId: string, agentId?: AgentId): Promise<CampaignRef | null>;
  /** The queue lost the campaign or went stale: rebuild it from the system of record. */
  recover(ref: CampaignRef): Promise<void>;
  /** The campaign's offer and call lease lengths (ms); absent: the deployment's for every campaign. */
  ttls?(ref: CampaignRef): { readonly offerTtlMs: number; readonly callTtlMs: number };
}

/** An agent's state as the wallboard sees it: the state routing uses, from the state machine. */
export interface AgentStateChange {
  readonly tenantId: TenantId;
  readonly agentId: AgentId;
  readonly deviceId: string;
  readonly state: AgentState;
  /** The lead of the call the agent holds, first name only. */
  readonly lead: { readonly id: string; readonly firstName: string | null } | null;
  readonly at: number;
}

export interface AgentHubOptions {
  readonly config: Config;
  readonly store: QueueStore;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly auth: DeviceAuthenticator;
  readonly devices: DeviceDirectory;
  readonly campaigns: CampaignDirectory;
  readonly completions: Completions;
  /** True when several gateway processes share the namespace through an adapter. */
  readonly clustered: boolean;
  /** Times each stage of a ready -> offer (the bench's latency budget). */
  readonly offerBudget?: OfferBudget;
  /**
   * The minimum gap between calls to one number across the tenant's campaigns, reserved before
   * each offer is sent and extended at its accept (gateway/calls/tenant-gap.ts); absent: not kept.
   */
  readonly gap?: TenantGap;
  /** The custom fields an offer may carry (the campaign's choice); absent: all of them. */
  readonly offerFields?: (
    tenantId: TenantId,
    campaignId: string,
    fields: Readonly<Record<string, string>>,
  ) => Readonly<Record<string, string>>;
}

/** The device commands: event name, payload schema, machine event. */
const COMMANDS = {
  'agent:ready': {
    schema: readySchema,
    event: (p: z.output<typeof readySchema>): MachineEvent => ({ type: 'ready', campaignId: p.campaignId }),
  },
  'agent:pause': {
    schema: pauseSchema,
    event: (p: z.output<typeof pauseSchema>): MachineEvent => ({ type: 'pause', reason: p.reason }),
  },
  'call:accept': {
    schema: acceptSchema,
    event: (p: z.output<typeof acceptSchema>): MachineEvent => ({ type: 'accept', leaseId: p.leaseId }),
  },
  'call:reject': {
    schema: rejectSchema,
    event: (p: z.output<typeof rejectSchema>): MachineEvent => ({
      type: 'reject',
      leaseId: p.leaseId,
      reason: p.reason,
    }),
  },
  'call:status': {
    schema: callStatusSchema,
    event: (p: z.output<typeof callStatusSchema>): MachineEvent => ({
      type: 'status',
      leaseId: p.leaseId,
      status: p.status,
    }),
  },
  'call:complete': {
    schema: completeSchema,
    event: (p: z.output<typeof completeSchema>): MachineEvent => ({
      type: 'complete',
      leaseId: p.leaseId,
      ready: p.ready,
    }),
  },
} as const;

type CommandName = keyof typeof COMMANDS;
export const CLIENT_EVENTS = Object.keys(COMMANDS) as CommandName[];

/** The call an older session of the same agent on this process hands to a newer one. */
interface Inherited {
  readonly call: HeldCall;
  readonly lead: QueuedLead | undefined;
}

/** One kind of effect of the agent machine. */
type EffectOf<T extends Effect['type']> = Extract<Effect, { readonly type: T }>;

/** What processing one command produced for its acknowledgement. */
interface Outcome {
  error: WireError | null;
  fields: Record<string, unknown>;
}

/** How long a new session waits for other gateways to replace the agent's older session there. */
const REPLACE_TIMEOUT_MS = 3_000;
/**
 * An acknowledged offer not accepted by its lease's expiry is ended this long after it (ms): an
 * acceptance sent just before the expiry has been answered by then, and the reaper's own
 * revocation usually comes first.
 */
const OFFER_DEADLINE_MARGIN_MS = 1_000;

/** The offer budget's key for an agent (agent ids are unique within a tenant). */
const budgetKey = (tenantId: string, agentId: string): string => `${tenantId}\x00${agentId}`;

const firstName = (name: string): string | null => name.trim().split(/\s+/)[0] || null;

export class AgentHub {
  readonly sessions = new SessionRegistry();
  readonly #o: AgentHubOptions;
  /** Per device: a device stuck in a loop cannot starve the others (sockets live on one process). */
  readonly #limiter: RateLimiterMemory;
  readonly #readyBatch: NagleBatcher<
    { ref: CampaignRef; agent: ReadyAgent },
    { result: ItemResult<{ agentId: AgentId }>; offer: Lease | null }
  >;
  readonly #acceptBatch: NagleBatcher<
    { tenantId: TenantId; lease: LeaseRef; ttlMs: number },
    { result: ItemResult<LeaseExtension>; at: number }
  >;
  readonly #listeners = new Set<(change: AgentStateChange) => void>();
  /** Dropped sessions holding a call for the grace period, by agent: a reconnect takes it over. */
  readonly #offline = new Map<string, AgentSession>();
  /**
   * The session of each connected socket. A socket's listeners are functions shared by every
   * socket (Socket.IO calls them with the socket as `this`), not closures made for each device:
   * eight closures and their contexts per device were ~0.9 KB of an idle device's ~15 KB, and
   * ~2.4 KB under tsx, whose keepNames gives each named closure a 256 B property dictionary
   * (bench `connections`, bench/README.md).
   */
  readonly #sessionOf = new WeakMap<AgentSocket, AgentSession>();
  readonly #socketListeners: {
    readonly commands: readonly (readonly [
      CommandName,
      (this: AgentSocket, payload: unknown, ack: unknown) => void,
    ])[];
    readonly unknown: (this: AgentSocket, event: unknown, ...args: unknown[]) => void;
    readonly disconnect: (this: AgentSocket, reason: string) => void;
  };
  #nsp: AgentNamespace | undefined;
  #dispatcher: Dispatcher | undefined;
  #closing = false;

  constructor(options: AgentHubOptions) {
    this.#o = options;
    const sessionOf = this.#sessionOf;
    const command = (session: AgentSession, name: CommandName, payload: unknown, ack: unknown) =>
      this.#command(session, name, payload, ack);
    const unknown = (socket: AgentSocket, event: unknown, args: unknown[]) =>
      this.#unknown(socket, event, args);
    const disconnected = (session: AgentSession, reason: string) => this.#disconnected(session, reason);
    this.#socketListeners = {
      commands: CLIENT_EVENTS.map(
        (name) =>
          [
            name,
            function (this: AgentSocket, payload: unknown, ack: unknown) {
              const session = sessionOf.get(this);
              if (session) command(session, name, payload, ack);
            },
          ] as const,
      ),
      unknown: function (this: AgentSocket, event: unknown, ...args: unknown[]) {
        unknown(this, event, args);
      },
      disconnect: function (this: AgentSocket, reason: string) {
        const session = sessionOf.get(this);
        if (session) disconnected(session, reason);
      },
    };
    this.#limiter = new RateLimiterMemory({ points: options.config.AGENT_EVENT_RATE, duration: 1 });
    this.#readyBatch = createNagleBatcher(
      ({ ref }) => `${ref.tenantId}\x00${ref.campaignId}`,
      async (items) => {
        // Ready and dispatch in one step: an agent can be offered its call in the same round trip
        // that made it ready. Its own offer comes back with its result (the session is mid-command);
        // offers for other agents are delivered to their sessions.
        const ref = items[0]!.ref;
        const { config, offerBudget } = options;
        if (offerBudget)
          for (const i of items) offerBudget.stamp(budgetKey(ref.tenantId, i.agent.agentId), 'flushed');
        const { ready, leases, nextOpenAt } = await options.store.readyAndDispatch(
          ref,
          items.map((i) => i.agent),
          this.#now,
          config.DISPATCH_BATCH,
          this.#ttls(ref).offerTtlMs,
        );
        if (offerBudget)
          for (const i of items) offerBudget.stamp(budgetKey(ref.tenantId, i.agent.agentId), 'scripted');
        const asking = new Map(items.map((i, n) => [i.agent.agentId as string, n]));
        const offers = new Array<Lease | null>(items.length).fill(null);
        for (const lease of leases) {
          const n = asking.get(lease.agentId);
          if (n !== undefined && offers[n] === null) offers[n] = lease;
          else this.deliver(lease, ref);
        }
        if (nextOpenAt !== null) this.#dispatcher?.triggerAt(ref, nextOpenAt);
        if (leases.length >= config.DISPATCH_BATCH) this.#trigger(ref);
        return ready.map((result, n) => ({ result, offer: offers[n]! }));
      },
    );
    // One acceptMany per tenant and call lease length (campaigns may set their own). Each result
    // carries the `now` the queue recorded the accept at: the call's start under the calling rules.
    this.#acceptBatch = createNagleBatcher(
      ({ tenantId, ttlMs }) => `${tenantId}\x00${ttlMs}`,
      async (items) => {
        const at = this.#now;
        const results = await options.store.acceptMany(
          items[0]!.tenantId,
          items.map((i) => i.lease),
          at,
          items[0]!.ttlMs,
        );
        return results.map((result) => ({ result, at }));
      },
    );
  }

  set dispatcher(d: Dispatcher) {
    this.#dispatcher = d;
  }

  get #now(): number {
    return this.#o.clock.now();
  }

  /** The campaign's lease lengths: its own when set, else the deployment's. */
  #ttls(ref: { tenantId: TenantId; campaignId: string }): { offerTtlMs: number; callTtlMs: number } {
    return (
      this.#o.campaigns.ttls?.(ref as CampaignRef) ?? {
        offerTtlMs: this.#o.config.OFFER_TTL_MS,
        callTtlMs: this.#o.config.CALL_TTL_MS,
      }
    );
  }

  #trigger(ref: CampaignRef): void {
    this.#dispatcher?.trigger(ref);
  }

  // ---- the state feed (the wallboard) ----

  /** Every state change of an agent connected to this process. Returns the unsubscribe. */
  onStateChange(listener: (change: AgentStateChange) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** The agents connected to this process now (of one tenant, when given). */
  agentStates(tenantId?: string): AgentStateChange[] {
    const out: AgentStateChange[] = [];
    for (const s of this.sessions.all()) {
      if (tenantId === undefined || s.tenantId === tenantId) out.push(this.#change(s));
    }
    return out;
  }

  #change(s: AgentSession): AgentStateChange {
    const call = callOf(s.state);
    return {
      tenantId: s.tenantId,
      agentId: s.agentId,
      deviceId: s.deviceId,
      state: wireState(s.state),
      lead: call?.leadId ? { id: call.leadId, firstName: call.leadFirstName } : null,
      at: this.#now,
    };
  }

  // ---- handshake and connection ----

  attach(nsp: AgentNamespace): void {
    this.#nsp = nsp;
    nsp.use((socket, next) => {
      this.#authenticate(socket).then(
        () => next(),
        (err: unknown) => {
          const wire = toWireError(err);
          if (wire.code === 'INTERNAL') this.#o.logger.error({ err }, 'agent.handshake_failed');
          next(Object.assign(new Error(wire.message), { data: wire }));
        },
      );
    });
    nsp.on('connection', (socket) => {
      this.#connected(socket).catch((err: unknown) => {
        this.#o.logger.error({ err }, 'agent.connect_failed');
        socket.disconnect(true);
      });
    });
    nsp.on('lease:deliver', (lease, ref) => {
      // Every other gateway hears this; only the one holding the agent's device acts.
      const session = this.sessions.get(ref.tenantId, lease.agentId);
      if (session) this.#offer(session, lease, ref);
    });
    nsp.on('lease:revoke', (tenantId, agentId, leaseId, reason) => {
      const session = this.sessions.get(tenantId, agentId);
      if (session) this.#event(session, { type: 'revoke', leaseId, reason });
    });
    nsp.on('agent:control', (tenantId, agentId, control, ack) => {
      const session = this.sessions.get(tenantId, agentId);
      if (session) this.#control(session, control);
      ack(session !== undefined);
    });
    nsp.on('calls:held', (ref, ack) => ack(this.#heldHere(ref)));
    nsp.on('session:replace', (tenantId, agentId, newer, ack) => {
      const older = this.sessions.get(tenantId, agentId);
      // The newer of two sessions connecting at once on two gateways replaces the other; the older
      // one answers at once (it is replaced by the newer one's request), so neither waits on the other.
      if (!older || older.socket.id === newer.socketId || older.isNewerThan(newer)) {
        ack(false);
        return;
      }
      older
        .run(() => this.#process(older, { type: 'replaced' }))
        .catch((err: unknown) => {
          this.#o.logger.error({ err, agentId }, 'agent.replace_failed');
          older.socket.disconnect(true);
        })
        .finally(() => ack(true));
    });
  }

  async #authenticate(socket: AgentSocket): Promise<void> {
    if (this.#closing) throw new GatewayError('UNAVAILABLE', 'gateway is shutting down');
    const parsed = agentHandshakeSchema.safeParse(socket.handshake.auth);
    if (!parsed.success) {
      throw new GatewayError('UNAUTHENTICATED', 'handshake auth needs { token, deviceId, leaseId? }');
    }
    const identity = await this.#o.auth.verify(parsed.data.token);
    if (identity.deviceId !== parsed.data.deviceId) {
      throw new GatewayError('UNAUTHENTICATED', 'token was issued for another device');
    }
    await this.#o.devices.check(identity);
    socket.data = { ...identity, ...(parsed.data.leaseId ? { resumeLeaseId: parsed.data.leaseId } : {}) };
    // The bearer token is not kept for the life of the connection (Socket.IO holds the handshake
    // as long as the socket): what it proved is in socket.data, and a device costs ~300 B less.
    socket.handshake.auth = {};
  }

  async #connected(socket: AgentSocket): Promise<void> {
    const { logger, metrics } = this.#o;
    const session = new AgentSession(socket, this.#now);
    const previous = this.sessions.add(session);
    metrics.sockets.inc();
    // One live session per agent across gateways: before the new session's first command runs,
    // an older session of the agent on any other gateway is replaced and out of routing (its own
    // commands in flight, an agent:ready on its way to the queue included, have finished), so
    // nothing the older one does can land after the newer one's agent:ready.
    if (this.#o.clustered) void session.run(() => this.#replaceElsewhere(session));
    this.#bind(session);
    await socket.join([agentRoom(session.tenantId, session.agentId), tenantRoom(session.tenantId)]);

    // One live session per agent: the newest wins, on any gateway. The older one (connected, or
    // dropped and keeping its call for the grace period) keeps its call for the grace period; the
    // newer one resumes it by naming its lease id (auth.leaseId), here or on any other gateway.
    const older = previous ?? this.#offline.get(session.key);
    let inherited: Inherited | null = null;
    if (previous) await previous.run(() => this.#process(previous, { type: 'replaced' }));
    if (older) {
      const call = callOf(older.state);
      if (call && call.leaseId === socket.data.resumeLeaseId) {
        inherited = { call, lead: older.leads.get(call.leaseId) };
        clearTimeout(older.graceTimer);
        this.#offline.delete(session.key);
      } else if (call && previous) {
        this.#offline.set(session.key, previous);
      }
    }
    logger.info(
      { tenantId: session.tenantId, agentId: session.agentId, deviceId: session.deviceId },
      'agent.connected',
    );
    await session.run(async () => {
      await this.#resume(session, inherited);
      if (session.state.name === 'paused') session.socket.emit('agent:state', wireState(session.state));
      this.#publish(session);
    });
  }

  /** Replace the agent's older session on every other gateway; bounded, for a gateway that hangs. */
  async #replaceElsewhere(session: AgentSession): Promise<void> {
    const nsp = this.#nsp;
    if (!nsp) return;
    const newer = { socketId: session.socket.id, since: session.since };
    const answered = await askGateways(
      nsp,
      'session:replace',
      [session.tenantId, session.agentId, newer],
      REPLACE_TIMEOUT_MS,
    ).then(
      () => true,
      () => false,
    );
    if (!answered) this.#o.logger.warn({ agentId: session.agentId }, 'agent.replace_unanswered');
  }

  /** A reconnecting device keeps its live call: the same lease, in the state it was in. */
  async #resume(session: AgentSession, inherited: Inherited | null): Promise<void> {
    const wanted = session.socket.data.resumeLeaseId;
    if (!wanted) return;
    let view;
    try {
      view = await this.#o.store.peekLease(session.tenantId, wanted, this.#now);
    } catch (err) {
      if (isEngineError(err)) return; // unknown or malformed: nothing to resume
      throw err;
    }
    // Only a live lease of this agent is resumed; an expired one is left to the reaper (its late
    // completion is still accepted if its lead was not leased again).
    if (!view.live || !view.phase || view.agentId !== session.agentId) return;
    const known = inherited?.call.leaseId === wanted ? inherited : null;
    if (known?.lead) session.leads.set(wanted, known.lead);
    const call: HeldCall = {
      leaseId: wanted,
      campaignId: parseLeaseId(wanted).campaignId,
      leadId: view.leadId,
      leadFirstName: known?.call.leadFirstName ?? null,
      expiresAt: view.at,
      ...(known?.call.acceptedAt === undefined ? {} : { acceptedAt: known.call.acceptedAt }),
    };
    await this.#process(session, { type: 'resume', call, phase: view.phase });
  }

  #bind(session: AgentSession): void {
    const { socket } = session;
    const listeners = this.#socketListeners;
    this.#sessionOf.set(socket, session);
    // Every client event is acknowledged: known ones by their handler, unknown ones here.
    socket.onAny(listeners.unknown);
    for (const [name, listener] of listeners.commands) socket.on(name, listener);
    socket.on('disconnect', listeners.disconnect);
  }

  /** A client event no command answers to: refused with EVENT_UNKNOWN (counted against the rate limit). */
  #unknown(socket: AgentSocket, event: unknown, args: unknown[]): void {
    // Own keys only: an event named after an Object.prototype member ("constructor") is unknown too.
    if (typeof event === 'string' && Object.hasOwn(COMMANDS, event)) return;
    const ack = args.findLast((a: unknown) => typeof a === 'function') as ((r: Ack) => void) | undefined;
    this.#limiter.consume(socket.id).catch(() => undefined);
    ack?.({
      ok: false,
      error: {
        ...toWireError(
          new GatewayError('EVENT_UNKNOWN', `No such client event "${String(event).slice(0, 40)}"`),
        ),
      },
    });
  }

  #disconnected(session: AgentSession, reason: string): void {
    this.#o.metrics.sockets.dec();
    const current = this.sessions.remove(session);
    this.#o.logger.info(
      { tenantId: session.tenantId, agentId: session.agentId, reason },
      'agent.disconnected',
    );
    if (!current) return; // replaced: the newer session carries on
    this.#event(session, { type: 'disconnect' });
    if (callOf(session.state)) this.#offline.set(session.key, session);
  }

  /** Validate (counting against the rate limit), run through the machine, acknowledge. */
  #command(session: AgentSession, name: CommandName, payload: unknown, ack: unknown): void {
    const command = COMMANDS[name];
    // An event sent with an acknowledgement and no payload: the callback comes first.
    if (typeof payload === 'function' && ack === undefined) {
      ack = payload;
      payload = undefined;
    }
    const reply = (res: Ack<Record<string, unknown>>) => {
      if (typeof ack === 'function') (ack as (r: typeof res) => void)(res);
    };
    if (name === 'agent:ready') this.#o.offerBudget?.received(budgetKey(session.tenantId, session.agentId));
    this.#limiter.consume(session.socket.id).then(
      () => {
        const parsed = command.schema.safeParse(payload);
        if (!parsed.success) {
          reply({ ok: false, error: toWireError(parsed.error) });
          return;
        }
        const event = (command.event as (p: unknown) => MachineEvent)(parsed.data);
        session
          .run(() => this.#process(session, event, name === 'call:complete' ? parsed.data : undefined))
          .then(
            (out) =>
              reply(
                out.error
                  ? { ok: false, error: out.error }
                  : { ok: true, ...out.fields, state: wireState(session.state) },
              ),
            (err: unknown) => {
              const error = toWireError(err);
              if (error.code === 'INTERNAL') this.#o.logger.error({ err, event: name }, 'agent.event_failed');
              reply({ ok: false, error });
            },
          );
      },
      () => reply({ ok: false, error: toWireError(new GatewayError('RATE_LIMITED')) }),
    );
  }

  /** Queue a server event for the session (timers, revocations, offers, control). */
  #event(session: AgentSession, event: MachineEvent): void {
    session
      .run(() => this.#process(session, event))
      .catch((err: unknown) =>
        this.#o.logger.error({ err, agentId: session.agentId, event: event.type }, 'agent.event_failed'),
      );
  }

  /**
   * Run one event through the machine, then its effects; effects that call the store produce
   * result events, which run through the machine in turn. Returns what the command's
   * acknowledgement carries.
   */
  async #process(session: AgentSession, first: MachineEvent, payload?: unknown): Promise<Outcome> {
    const out: Outcome = { error: null, fields: {} };
    const queue: MachineEvent[] = [first];
    while (queue.length > 0) {
      const event = queue.shift()!;
      const before = session.state;
      const t = transition(before, event, this.#now);
      session.state = t.state;
      const leaseId = callOf(t.state)?.leaseId;
      if (leaseId) session.socket.data.leaseId = leaseId;
      else delete session.socket.data.leaseId;
      if (t.ignored)
        this.#o.logger.debug(
          { agentId: session.agentId, event: event.type, why: t.ignored },
          'agent.event_ignored',
        );
      for (const effect of t.effects) {
        const result = this.#effect(session, effect, out, payload);
        const next = result instanceof Promise ? await result : result;
        if (next) queue.push(next);
      }
      if (
        before !== t.state &&
        (before.name !== t.state.name || callOf(before) !== callOf(t.state) || before.since !== t.state.since)
      ) {
        this.#publish(session);
      }
    }
    return out;
  }

  #publish(session: AgentSession): void {
    if (this.#listeners.size === 0) return;
    const change = this.#change(session);
    for (const listener of this.#listeners) {
      try {
        listener(change);
      } catch (err) {
        this.#o.logger.error({ err }, 'agent.state_listener_failed');
      }
    }
  }

  /**
   * Carry out one effect; a store call's result comes back as the next event. An effect that
   * calls nothing runs at once and answers without a promise: most of a call's effects (send,
   * reply, timers) cost no async frame and no turn of the microtask queue.
   */
  #effect(
    session: AgentSession,
    effect: Effect,
    out: Outcome,
    payload: unknown,
  ): MachineEvent | null | Promise<MachineEvent | null> {
    const { logger, config } = this.#o;
    const { agentId } = session;
    switch (effect.type) {
      case 'refuse':
        out.error = {
          code: effect.code,
          message: effect.message ?? WIRE_ERRORS[effect.code].message,
          retryable: isRetryable(effect.code),
        };
        return null;
      case 'reply':
        Object.assign(out.fields, effect.fields);
        return null;
      case 'mark_ready':
        return this.#markReady(session, effect);
      case 'mark_not_ready':
        return this.#markNotReady(session, effect);
      case 'accept_lease':
        return this.#acceptLease(session, effect);
      case 'release_lease':
        return this.#releaseLease(session, effect);
      case 'expire_lease':
        return this.#expireLease(session, effect);
      case 'save_phase':
        return this.#savePhase(session, effect);
      case 'complete_call':
        return this.#completeCall(session, effect, out, payload);
      case 'send_offer':
        this.#sendOffer(session, effect.call);
        return null;
      case 'cancel_offer_timer':
        // The acknowledgement timer cannot be taken back; when it fires, the machine judges it
        // against the state then (an accepted call ignores it).
        return null;
      case 'send_revoked':
        session.leads.delete(effect.leaseId);
        session.socket.emit('call:revoked', { leaseId: effect.leaseId, reason: effect.reason });
        return null;
      case 'send_resumed':
        session.socket.emit('call:resumed', {
          leaseId: effect.call.leaseId,
          campaign: { id: effect.call.campaignId },
          state: effect.phase,
          expiresAt: effect.call.expiresAt,
        });
        return null;
      case 'announce':
        if (session.connected) session.socket.emit('agent:state', wireState(session.state));
        return null;
      case 'start_offer_deadline': {
        const leaseId = effect.call.leaseId;
        const wait = Math.max(0, effect.call.expiresAt - this.#now) + OFFER_DEADLINE_MARGIN_MS;
        setTimeout(() => this.#event(session, { type: 'offer_deadline', leaseId }), wait).unref();
        return null;
      }
      case 'start_grace':
        clearTimeout(session.graceTimer);
        session.graceTimer = setTimeout(() => {
          session.graceTimer = undefined;
          this.#graceExpired(session, effect.call).catch((err: unknown) =>
            logger.error({ err, agentId }, 'agent.grace_failed'),
          );
        }, config.RECONNECT_GRACE_MS);
        session.graceTimer.unref();
        return null;
      case 'send_replaced':
        session.socket.emit('session:replaced', { reason: 'newer_session' });
        return null;
      case 'disconnect':
        session.socket.disconnect(true);
        return null;
      default: {
        const never: never = effect;
        throw new Error(`unknown effect ${JSON.stringify(never)}`);
      }
    }
  }

  async #markReady(session: AgentSession, effect: EffectOf<'mark_ready'>): Promise<MachineEvent> {
    const { store } = this.#o;
    const { tenantId, agentId } = session;
    const afterCall = effect.afterCall === true;
    if (this.#closing) return { type: 'ready_failed', code: 'UNAVAILABLE', left: false, afterCall };
    const ref = await this.#o.campaigns.active(tenantId, effect.campaignId, agentId);
    if (!ref) return { type: 'ready_failed', code: 'CAMPAIGN_UNKNOWN', left: false, afterCall };
    if (effect.leaving) {
      await store.setAgentNotReady(
        { tenantId, campaignId: effect.leaving as CampaignRef['campaignId'] },
        agentId,
        session.id,
      );
    }
    const agent = { agentId, deviceId: session.deviceId, session: session.id };
    let recovered = false;
    let released = false;
    for (;;) {
      try {
        this.#o.offerBudget?.stamp(budgetKey(tenantId, agentId), 'submitted');
        const { result, offer } = await this.#readyBatch.submit({ ref, agent });
        if (!offer) this.#o.offerBudget?.drop(budgetKey(tenantId, agentId));
        if (
          !result.ok &&
          result.code === 'AGENT_BUSY' &&
          !released &&
          (await this.#orphanedOffer(ref, agentId))
        ) {
          released = true;
          continue;
        }
        if (!result.ok)
          return { type: 'ready_failed', code: result.code, left: effect.leaving !== null, afterCall };
        // Held back for the tenant-wide gap: ready, and offered another lead by a dispatch.
        const sent = offer && (await this.#gapAllowsOffer(session, ref, offer)) ? offer : null;
        return {
          type: 'ready_done',
          campaignId: ref.campaignId,
          offer: sent ? this.#held(session, sent) : null,
        };
      } catch (err) {
        // The queue lost the campaign or may have gone back in time: rebuild it from
        // Postgres, then try once more (the agent waits a rebuild, not a retry loop).
        const lost = isEngineError(err, 'CAMPAIGN_UNKNOWN') || isEngineError(err, 'CAMPAIGN_STALE');
        let cause: unknown = err;
        if (lost && !recovered) {
          recovered = true;
          // A rebuild that cannot finish (Postgres or the other gateways unreachable) refuses
          // this ready like any store failure: the agent stays able to go ready again.
          const failed = await this.#o.campaigns.recover(ref).then(
            () => null,
            (e: unknown) => e,
          );
          if (failed === null) continue;
          cause = failed;
        }
        return {
          type: 'ready_failed',
          code: toWireError(cause).code,
          left: effect.leaving !== null,
          afterCall,
        };
      }
    }
  }

  async #markNotReady(session: AgentSession, effect: EffectOf<'mark_not_ready'>): Promise<null> {
    const { store, logger } = this.#o;
    const { tenantId, agentId } = session;
    await store
      .setAgentNotReady(
        { tenantId, campaignId: effect.campaignId as CampaignRef['campaignId'] },
        agentId,
        session.id,
      )
      .catch((err: unknown) => logger.error({ err, agentId }, 'agent.not_ready_failed'));
    return null;
  }

  async #acceptLease(session: AgentSession, effect: EffectOf<'accept_lease'>): Promise<MachineEvent> {
    const { tenantId, agentId } = session;
    const failed = (code: WireErrorCode, retryable: boolean): MachineEvent => ({
      type: 'accept_failed',
      leaseId: effect.call.leaseId,
      code,
      retryable,
      viaAck: effect.viaAck === true,
    });
    try {
      // The number's tenant-wide gap first: the offer's reservation is extended to the gap.
      // Refused (it lapsed and another campaign's call took the number: an offer accepted
      // very late), the offer is withdrawn (its lead due when the other campaign's
      // reservation ends) and the queue never records this call.
      const gap = await this.#o.gap?.beforeAccept(
        {
          tenantId,
          campaignId: effect.call.campaignId,
          leaseId: effect.call.leaseId,
          agentId,
          lead: session.leads.get(effect.call.leaseId),
        },
        this.#now,
      );
      if (gap && !gap.ok) {
        this.#trigger({ tenantId, campaignId: effect.call.campaignId as CampaignRef['campaignId'] });
        return failed('NUMBER_GAP', false);
      }
      const { result: res, at } = await this.#acceptBatch.submit({
        tenantId,
        lease: { leaseId: effect.call.leaseId, agentId },
        ttlMs: this.#ttls({ tenantId, campaignId: effect.call.campaignId }).callTtlMs,
      });
      if (res.ok)
        return {
          type: 'accept_done',
          leaseId: effect.call.leaseId,
          expiresAt: res.expiresAt,
          then: effect.then,
          viaAck: effect.viaAck === true,
          acceptedAt: at,
        };
      if (res.code === 'OUTSIDE_CALLING_WINDOW')
        this.#trigger({ tenantId, campaignId: effect.call.campaignId as CampaignRef['campaignId'] });
      return failed(res.code, false);
    } catch (err) {
      const w = toWireError(err);
      return failed(w.code, w.retryable);
    }
  }

  async #releaseLease(session: AgentSession, effect: EffectOf<'release_lease'>): Promise<null> {
    const { store, logger } = this.#o;
    const { tenantId, agentId } = session;
    const ref = { tenantId, campaignId: effect.call.campaignId as CampaignRef['campaignId'] };
    await store.reject(tenantId, { leaseId: effect.call.leaseId, agentId }, this.#now).then(
      () => this.#trigger(ref),
      (err: unknown) => {
        if (!isEngineError(err)) logger.error({ err, leaseId: effect.call.leaseId }, 'lease.release_failed');
      },
    );
    session.leads.delete(effect.call.leaseId);
    return null;
  }

  async #expireLease(session: AgentSession, effect: EffectOf<'expire_lease'>): Promise<null> {
    const { store, logger } = this.#o;
    const { tenantId, agentId } = session;
    await store.expire(tenantId, [{ leaseId: effect.call.leaseId, agentId }], this.#now).then(
      ([r]) => {
        if (r?.ok) logger.info({ agentId, leaseId: effect.call.leaseId }, 'lease.grace_expired');
      },
      (err: unknown) => logger.error({ err, agentId }, 'lease.expire_failed'),
    );
    return null;
  }

  async #savePhase(session: AgentSession, effect: EffectOf<'save_phase'>): Promise<null> {
    const { store, logger } = this.#o;
    const { tenantId, agentId } = session;
    await store
      .setPhase(
        tenantId,
        [{ leaseId: effect.call.leaseId, agentId, phase: effect.phase }],
        this.#now,
        this.#ttls({ tenantId, campaignId: effect.call.campaignId }).callTtlMs,
      )
      .catch((err: unknown) => logger.warn({ err, agentId }, 'lease.phase_failed'));
    return null;
  }

  async #completeCall(
    session: AgentSession,
    effect: EffectOf<'complete_call'>,
    out: Outcome,
    payload: unknown,
  ): Promise<MachineEvent> {
    const { tenantId, agentId } = session;
    try {
      const ack: CompletionAck = await this.#o.completions.submit(
        { tenantId, agentId, deviceId: session.deviceId },
        payload as z.output<typeof completeSchema>,
      );
      Object.assign(out.fields, ack);
      session.leads.delete(effect.leaseId);
      const ready = (payload as { ready?: boolean } | undefined)?.ready === true;
      return { type: 'complete_done', leaseId: effect.leaseId, ready };
    } catch (err) {
      const w = toWireError(err);
      return { type: 'complete_failed', leaseId: effect.leaseId, code: w.code, retryable: w.retryable };
    }
  }

  /**
   * The store says the agent holds a lease, yet its session (the agent's only one: readiness
   * is asked from a state with no call) holds none. An offer in that state can never be accepted
   * any more (its delivery was lost to a crash, or a rebuild attached it again after the session
   * had given it up): give it back so the agent is not kept out of routing until it expires. A
   * call already accepted is left alone: it may be going on, and its device resumes it.
   */
  async #orphanedOffer(ref: CampaignRef, agentId: AgentId): Promise<boolean> {
    const held = await this.#o.store.agentLease(ref, agentId, this.#now);
    if (!held || held.state !== 'o') return false;
    await this.#o.store.reject(ref.tenantId, { leaseId: held.leaseId, agentId }, this.#now);
    this.#o.logger.warn({ campaignId: ref.campaignId, agentId }, 'lease.orphaned_offer_released');
    return true;
  }

  #held(session: AgentSession, lease: Lease): HeldCall {
    session.leads.set(lease.leaseId, lease.lead);
    return {
      leaseId: lease.leaseId,
      campaignId: lease.campaignId,
      leadId: lease.lead.id,
      leadFirstName: firstName(lease.lead.name),
      expiresAt: lease.expiresAt,
    };
  }

  #sendOffer(session: AgentSession, call: HeldCall): void {
    const { metrics, config } = this.#o;
    const lead = session.leadOf(call);
    if (!lead) return; // a resumed offer: the device has it already
    this.#o.offerBudget?.stamp(budgetKey(session.tenantId, session.agentId), 'sent');
    const started = performance.now();
    session.socket.timeout(config.OFFER_ACK_TIMEOUT_MS).emit(
      'call:offer',
      {
        leaseId: call.leaseId,
        lead: {
          id: lead.id,
          phone: lead.phone,
          name: lead.name,
          timeZone: lead.timeZone,
          attempts: lead.attempts,
          fields: this.#o.offerFields?.(session.tenantId, call.campaignId, lead.fields) ?? lead.fields,
        },
        campaign: { id: call.campaignId },
        expiresAt: call.expiresAt,
      },
      (err, res) => {
        if (err) {
          metrics.offers.inc({ result: 'timeout' });
          this.#event(session, { type: 'offer_timeout', leaseId: call.leaseId });
          return;
        }
        metrics.offers.inc({ result: 'acknowledged' });
        metrics.offerLatency.observe({ result: 'acknowledged' }, (performance.now() - started) / 1000);
        const ack = offerAckSchema.safeParse(res);
        this.#event(session, {
          type: 'offer_acked',
          leaseId: call.leaseId,
          accept: ack.success && ack.data.accept,
        });
      },
    );
  }

  async #graceExpired(session: AgentSession, call: HeldCall): Promise<void> {
    if (this.#offline.get(session.key) === session) this.#offline.delete(session.key);
    // Back on this process or another, holding this very call: it is not ours to expire.
    if (this.sessions.get(session.tenantId, session.agentId)?.socket.data.leaseId === call.leaseId) {
      this.#event(session, { type: 'revoke', leaseId: call.leaseId, reason: 'grace_expired' });
      return;
    }
    if (this.#o.clustered && this.#nsp) {
      const sockets = await this.#nsp.in(agentRoom(session.tenantId, session.agentId)).fetchSockets();
      if (sockets.some((s) => s.data.leaseId === call.leaseId)) {
        this.#event(session, { type: 'revoke', leaseId: call.leaseId, reason: 'grace_expired' });
        return;
      }
    }
    this.#event(session, { type: 'grace_expired' });
  }

  // ---- calls in progress, for a rebuild ----

  /**
   * The calls in progress of a campaign, on every gateway: connected sessions holding one, and
   * dropped ones keeping theirs for the grace period. A rebuild attaches them again, so a queue
   * that lost their leases does not offer their leads to anyone else.
   */
  async heldCalls(ref: CampaignRef): Promise<HeldCallInfo[]> {
    const here = this.#heldHere(ref);
    if (!this.#o.clustered || !this.#nsp) return here;
    // Every gateway must answer: a rebuild that missed another gateway's calls would queue their
    // leads again and offer them to someone else. Unanswered, it fails (UNAVAILABLE, retryable).
    const there = await askGateways<HeldCallInfo[]>(this.#nsp, 'calls:held', [ref]);
    return [...here, ...there.flat()];
  }

  #heldHere(ref: CampaignRef): HeldCallInfo[] {
    const now = this.#now;
    const out: HeldCallInfo[] = [];
    for (const s of [...this.sessions.all(), ...this.#offline.values()]) {
      const call = callOf(s.state);
      const phase = phaseOf(s.state);
      if (!call || !phase || s.tenantId !== ref.tenantId || call.campaignId !== ref.campaignId) continue;
      out.push({
        leaseId: call.leaseId,
        agentId: s.agentId,
        deviceId: s.deviceId,
        phase,
        expiresAt:
          phase === 'offered'
            ? Math.max(call.expiresAt, now + 1_000)
            : now + this.#ttls({ tenantId: s.tenantId, campaignId: call.campaignId }).callTtlMs,
        ...(phase !== 'offered' && call.acceptedAt !== undefined ? { acceptedAt: call.acceptedAt } : {}),
      });
    }
    return out;
  }

  // ---- offers, revocations and control, from anywhere ----

  /** Hand a granted lease to its agent's device, wherever it is connected. */
  deliver(lease: Lease, ref: CampaignRef): void {
    const session = this.sessions.get(ref.tenantId, lease.agentId);
    if (session) this.#offer(session, lease, ref);
    else if (this.#o.clustered && this.#nsp) this.#nsp.serverSideEmit('lease:deliver', lease, ref);
    else this.#release(ref, lease);
  }

  #offer(session: AgentSession, lease: Lease, ref: CampaignRef): void {
    session
      .run(async () => {
        // Only an offer the session will take is checked: any other goes straight back.
        const waiting = session.state.name === 'ready' && session.state.campaignId === ref.campaignId;
        if (waiting && !(await this.#gapAllowsOffer(session, ref, lease))) return;
        await this.#process(session, { type: 'offer', call: this.#held(session, lease) });
      })
      .catch((err: unknown) =>
        this.#o.logger.error({ err, agentId: session.agentId, event: 'offer' }, 'agent.event_failed'),
      );
  }

  /**
   * Before an offer is sent (run in its session's turn): the number's tenant-wide gap
   * (calls/tenant-gap.ts), reserved for the offer's lifetime when its campaign keeps one. Refused,
   * another campaign's call holds the number: the lead went back due when that ends, the device
   * never sees the number, and the agent is made ready again and dispatched to. A reservation
   * that cannot be made (Redis unreachable) leaves the check to the accept.
   */
  async #gapAllowsOffer(session: AgentSession, ref: CampaignRef, lease: Lease): Promise<boolean> {
    const gap = this.#o.gap;
    if (!gap) return true;
    const { tenantId, agentId } = session;
    const reserved = await gap
      .beforeOffer(
        {
          tenantId,
          campaignId: lease.campaignId,
          leaseId: lease.leaseId,
          agentId,
          lead: lease.lead,
          expiresAt: lease.expiresAt,
        },
        this.#now,
      )
      .catch((err: unknown) => {
        this.#o.logger.warn({ err, campaignId: lease.campaignId, agentId }, 'gap.offer_check_failed');
        return { ok: true } as const;
      });
    if (reserved.ok) return true;
    this.#o.offerBudget?.drop(budgetKey(tenantId, agentId));
    await this.#o.store
      .setAgentsReady(ref, [{ agentId, deviceId: session.deviceId, session: session.id }], this.#now)
      .then(
        ([r]) => {
          if (r?.ok) this.#trigger(ref);
          else this.#o.logger.warn({ agentId, code: r?.code }, 'gap.ready_again_refused');
        },
        (err: unknown) => this.#o.logger.warn({ err, agentId }, 'gap.ready_again_failed'),
      );
    return false;
  }

  #release(ref: CampaignRef, lease: Lease): void {
    this.#o.store.reject(ref.tenantId, { leaseId: lease.leaseId, agentId: lease.agentId }, this.#now).then(
      () => this.#trigger(ref),
      (err: unknown) => {
        if (!isEngineError(err))
          this.#o.logger.error({ err, leaseId: lease.leaseId }, 'lease.release_failed');
      },
    );
  }

  /** Leases the queue took back (expired, or their number was removed): tell their devices. */
  revoked(
    tenantId: string,
    leases: readonly { leaseId: string; agentId: string }[],
    reason: RevokeReason,
  ): void {
    for (const { leaseId, agentId } of leases) {
      const session = this.sessions.get(tenantId, agentId);
      if (session) this.#event(session, { type: 'revoke', leaseId, reason });
      else if (this.#o.clustered)
        this.#nsp?.serverSideEmit('lease:revoke', tenantId, agentId, leaseId, reason);
    }
  }

  /**
   * A campaign was paused or archived: its ready agents on this process stop being routed (every
   * other gateway does the same once its campaign registry follows the change).
   */
  campaignClosed(ref: CampaignRef): void {
    for (const s of this.sessions.all()) {
      if (s.tenantId === ref.tenantId)
        this.#event(s, { type: 'campaign_closed', campaignId: ref.campaignId });
    }
  }

  /**
   * A supervisor's force-pause: a ready agent leaves routing now, an offered call goes back, a call
   * in progress is never cut (the agent is paused once its outcome is saved). Resolves with
   * whether the agent's device was found (on any gateway).
   */
  forcePause(tenantId: string, agentId: string, reason: string): Promise<boolean> {
    return this.#controlAnywhere(tenantId, agentId, { action: 'force_pause', reason });
  }

  /** Log an agent's device out (a supervisor, a revoked device or user). Resolves with whether one was found. */
  disconnectAgent(tenantId: string, agentId: string, reason: string): Promise<boolean> {
    return this.#controlAnywhere(tenantId, agentId, { action: 'disconnect', reason });
  }

  /** Disconnect every local session matching (a revoked device, a deleted agent, a whole tenant). */
  disconnectWhere(match: { tenantId: string; agentId?: string; deviceId?: string }, reason: string): number {
    let n = 0;
    for (const s of [...this.sessions.all()]) {
      if (s.tenantId !== match.tenantId) continue;
      if (match.agentId !== undefined && s.agentId !== match.agentId) continue;
      if (match.deviceId !== undefined && s.deviceId !== match.deviceId) continue;
      this.#control(s, { action: 'disconnect', reason });
      n++;
    }
    return n;
  }

  async #controlAnywhere(tenantId: string, agentId: string, control: AgentControl): Promise<boolean> {
    const session = this.sessions.get(tenantId, agentId);
    if (session) {
      this.#control(session, control);
      return true;
    }
    if (!this.#o.clustered || !this.#nsp) return false;
    try {
      const answers = await askGateways<boolean>(this.#nsp, 'agent:control', [tenantId, agentId, control]);
      return answers.some(Boolean);
    } catch {
      return false;
    }
  }

  #control(session: AgentSession, control: AgentControl): void {
    switch (control.action) {
      case 'force_pause':
        this.#event(session, { type: 'force_pause', reason: control.reason });
        return;
      case 'disconnect':
        session.socket.emit('session:replaced', { reason: 'logged_out' });
        session.socket.disconnect(true);
        return;
      default: {
        const never: never = control;
        throw new Error(`unknown control ${JSON.stringify(never)}`);
      }
    }
  }

  /** Heartbeat: extend the accepted calls of connected devices; a call the queue lost is revoked. */
  async extendHeld(): Promise<void> {
    // One extend per tenant and call lease length (campaigns may set their own).
    const byTenant = new Map<
      string,
      {
        tenantId: TenantId;
        ttlMs: number;
        held: { session: AgentSession; leaseId: string; campaignId: string }[];
      }
    >();
    for (const s of this.sessions.all()) {
      const name = s.state.name;
      const call = callOf(s.state);
      if (
        call &&
        !call.routingRevoked &&
        s.connected &&
        (name === 'dialing' || name === 'on_call' || name === 'wrap_up')
      ) {
        const ttlMs = this.#ttls({ tenantId: s.tenantId, campaignId: call.campaignId }).callTtlMs;
        const k = `${s.tenantId}\x00${ttlMs}`;
        const group = byTenant.get(k) ?? { tenantId: s.tenantId, ttlMs, held: [] };
        group.held.push({ session: s, leaseId: call.leaseId, campaignId: call.campaignId });
        byTenant.set(k, group);
      }
    }
    for (const { tenantId, ttlMs, held } of byTenant.values()) {
      const results = await this.#o.store.extend(
        tenantId,
        held.map((h) => ({ leaseId: h.leaseId, agentId: h.session.agentId })),
        this.#now,
        ttlMs,
      );
      const lost = new Map<string, CampaignRef>();
      results.forEach((r, i) => {
        const { session, leaseId, campaignId } = held[i]!;
        if (r.ok) return;
        if (r.code === 'LEASE_EXPIRED' || r.code === 'LEASE_STALE') {
          this.#event(session, { type: 'revoke', leaseId, reason: 'expired' });
        } else if (
          r.code === 'CAMPAIGN_UNKNOWN' ||
          r.code === 'CAMPAIGN_STALE' ||
          r.code === 'LEASE_UNKNOWN'
        ) {
          // The queue lost the campaign (or the lease with it), not the call: the session keeps
          // it, so the rebuild attaches it again and never offers its lead to anyone else.
          const ref = { tenantId, campaignId: campaignId as CampaignRef['campaignId'] };
          lost.set(campaignId, ref);
        }
      });
      for (const ref of lost.values()) {
        this.#o.campaigns
          .recover(ref)
          .catch((err: unknown) =>
            this.#o.logger.error({ err, campaignId: ref.campaignId }, 'campaign.recover_failed'),
          );
      }
    }
  }

  /**
   * Graceful stop: refuse new devices, take ready agents out of routing, give offered leads back,
   * wait (up to the deadline) for calls in progress to complete, then disconnect everyone; a
   * device that reconnects to another gateway resumes its call there.
   */
  async drain(deadline: number): Promise<void> {
    this.#closing = true;
    const all = () => [...this.sessions.all()];
    await Promise.all(all().map((s) => s.run(() => this.#process(s, { type: 'drain' }))));
    while (Date.now() < deadline && all().some((s) => callOf(s.state) && s.state.name !== 'offline')) {
      await new Promise((r) => setTimeout(r, 50));
    }
    await Promise.all(all().map((s) => s.run(() => this.#process(s, { type: 'drain' }))));
    for (const s of [...all(), ...this.#offline.values()]) {
      clearTimeout(s.graceTimer);
      // Leave held calls to their leases' TTL, for a resume elsewhere.
      this.sessions.remove(s);
      // Several gateways run connection-state recovery (gateway.ts): the connection is closed, not
      // the session ended, so the device reconnects at once and recovers its socket elsewhere.
      if (this.#o.clustered && s.connected) s.socket.conn.close();
      else s.socket.disconnect(true);
    }
    this.#offline.clear();
  }
}
