// The /agent namespace: device handshake, one live session per agent, the agent state machine,
// offers pushed with an acknowledgement and a timeout, resumption after a dropped connection,
// and revocations. Work that must reach an agent connected to another gateway process travels
// over the Socket.IO adapter (server-side events), so any process may dispatch for any agent.
import { RateLimiterMemory } from 'rate-limiter-flexible';
import type { Namespace } from 'socket.io';
import type { z } from 'zod';
import type { Clock } from '../../engine/clock.js';
import { EngineError, isEngineError } from '../../engine/errors.js';
import type { AgentId, CampaignRef, TenantId } from '../../engine/ids.js';
import { parseLeaseId } from '../../engine/lease.js';
import type { Lease } from '../../engine/lease.js';
import type {
  ItemResult,
  LeaseExtension,
  LeaseRef,
  QueueStore,
  ReadyAgent,
} from '../../engine/queue-store.js';
import type { DeviceAuthenticator, DeviceIdentity } from '../auth/device-token.js';
import type { CompletionPipeline } from '../completion-pipeline.js';
import type { Config } from '../config.js';
import type { Dispatcher } from '../dispatcher.js';
import { GatewayError, toWireError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics.js';
import { createTickBatcher } from '../tick-batcher.js';
import type { TickBatcher } from '../tick-batcher.js';
import type { Ack } from '../protocol/errors.js';
import type { AgentClientEvents, AgentServerEvents } from '../protocol/events.js';
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
import type { RevokeReason } from '../protocol/schemas.js';
import { AgentSession, agentRoom } from './agent-session.js';
import type { AgentSocket, HeldLease, InterServerEvents, SessionData } from './agent-session.js';
import { SessionRegistry } from './session-registry.js';

export type AgentNamespace = Namespace<AgentClientEvents, AgentServerEvents, InterServerEvents, SessionData>;

export interface DeviceDirectory {
  /** Throws DEVICE_UNKNOWN or DEVICE_LIMIT when this device may not connect for this agent. */
  check(identity: DeviceIdentity): Promise<void>;
}

export interface CampaignDirectory {
  /** The tenant's campaign if it exists and is active. */
  active(tenantId: TenantId, campaignId: string): Promise<CampaignRef | null>;
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
  readonly completions: CompletionPipeline;
  /** True when several gateway processes share the namespace through an adapter. */
  readonly clustered: boolean;
}

type Handler<S extends z.ZodType, R extends object> = (
  session: AgentSession,
  payload: z.output<S>,
) => Promise<R>;

export class AgentHub {
  readonly sessions = new SessionRegistry();
  readonly #o: AgentHubOptions;
  readonly #graceTimers = new Map<string, NodeJS.Timeout>();
  /** Per device: a device stuck in a loop cannot starve the others (sockets live on one process). */
  readonly #limiter: RateLimiterMemory;
  readonly #readyBatch: TickBatcher<
    { ref: CampaignRef; agent: ReadyAgent },
    ItemResult<{ agentId: AgentId }>
  >;
  readonly #acceptBatch: TickBatcher<{ tenantId: TenantId; lease: LeaseRef }, ItemResult<LeaseExtension>>;
  #nsp: AgentNamespace | undefined;
  #dispatcher: Dispatcher | undefined;
  #closing = false;

  constructor(options: AgentHubOptions) {
    this.#o = options;
    this.#limiter = new RateLimiterMemory({ points: options.config.AGENT_EVENT_RATE, duration: 1 });
    this.#readyBatch = createTickBatcher(
      ({ ref }) => `${ref.tenantId}\x00${ref.campaignId}`,
      async (items) => {
        // Ready and dispatch in one step: an agent can be offered its call in the same round
        // trip that made it ready. Offers go out before the ready acks resolve, so #ready keeps
        // the "offered" state an offer may already have set.
        const ref = items[0]!.ref;
        const { config } = options;
        const { ready, leases } = await options.store.readyAndDispatch(
          ref,
          items.map((i) => i.agent),
          this.#now,
          config.DISPATCH_BATCH,
          config.OFFER_TTL_MS,
        );
        for (const lease of leases) this.deliver(lease, ref);
        if (leases.length >= config.DISPATCH_BATCH) this.#trigger(ref);
        return ready;
      },
    );
    this.#acceptBatch = createTickBatcher(
      ({ tenantId }) => tenantId,
      (items) =>
        options.store.acceptMany(
          items[0]!.tenantId,
          items.map((i) => i.lease),
          this.#now,
          options.config.CALL_TTL_MS,
        ),
    );
  }

  set dispatcher(d: Dispatcher) {
    this.#dispatcher = d;
  }

  get #now(): number {
    return this.#o.clock.now();
  }

  #trigger(ref: CampaignRef): void {
    this.#dispatcher?.trigger(ref);
  }

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
      if (!session) return;
      if (!session.lease && session.socket.connected) this.#offer(session, lease, ref);
      else this.#release(ref.tenantId, lease.leaseId, lease.agentId, ref);
    });
    nsp.on('lease:revoke', (tenantId, agentId, leaseId, reason) => {
      const session = this.sessions.get(tenantId, agentId);
      if (session?.lease?.leaseId === leaseId) this.#dropLease(session, reason);
    });
  }

  async #authenticate(socket: AgentSocket): Promise<void> {
    if (this.#closing) throw new GatewayError('UNAVAILABLE', 'gateway is shutting down');
    const parsed = agentHandshakeSchema.safeParse(socket.handshake.auth);
    if (!parsed.success) throw new GatewayError('UNAUTHENTICATED', 'handshake needs { token, deviceId }');
    const identity = await this.#o.auth.verify(parsed.data.token);
    if (identity.deviceId !== parsed.data.deviceId) {
      throw new GatewayError('UNAUTHENTICATED', 'token was issued for another device');
    }
    await this.#o.devices.check(identity);
    socket.data = { ...identity, ...(parsed.data.leaseId ? { resumeLeaseId: parsed.data.leaseId } : {}) };
  }

  async #connected(socket: AgentSocket): Promise<void> {
    const { logger, metrics } = this.#o;
    const session = new AgentSession(socket, this.#now);
    const room = agentRoom(session.tenantId, session.agentId);
    const previous = this.sessions.add(session);
    metrics.sockets.inc();
    this.#bind(session);
    await socket.join(room);

    // One live session per agent: the newest wins, on any gateway.
    const inherited = previous ? this.#replace(previous) : null;
    if (this.#o.clustered) {
      for (const other of await this.#nsp!.in(room).fetchSockets()) {
        if (other.id === socket.id || other.id === previous?.socket.id) continue;
        other.emit('session:replaced', { reason: 'newer_session' });
        other.disconnect(true);
      }
    }
    const grace = this.#graceTimers.get(session.key);
    if (grace) {
      clearTimeout(grace);
      this.#graceTimers.delete(session.key);
    }
    logger.info(
      { tenantId: session.tenantId, agentId: session.agentId, deviceId: session.deviceId },
      'agent.connected',
    );
    await this.#resume(session, inherited);
    session.announce();
  }

  /** Take over from an older session of the same agent on this process. */
  #replace(previous: AgentSession): HeldLease | null {
    previous.replaced = true;
    previous.socket.emit('session:replaced', { reason: 'newer_session' });
    previous.socket.disconnect(true);
    const lease = previous.lease;
    previous.lease = null;
    if (previous.stateName === 'ready' && previous.campaign) {
      this.#notReady(previous.campaign, previous.agentId);
    }
    // The same agent, on this device or another: the newer session carries on with the call
    // (it is told with call:resumed), rather than leaving it to time out unheld.
    return lease;
  }

  /** A reconnecting device keeps its live lease: the same lease id, not a new call. */
  async #resume(session: AgentSession, inherited: HeldLease | null): Promise<void> {
    let held = inherited;
    const wanted = session.socket.data.resumeLeaseId;
    if (!held && wanted) {
      try {
        const view = await this.#o.store.peekLease(session.tenantId, wanted, this.#now);
        if (view.agentId === session.agentId && (view.state === 'offered' || view.state === 'accepted')) {
          const { campaignId } = parseLeaseId(wanted);
          held = {
            leaseId: wanted,
            ref: { tenantId: session.tenantId, campaignId },
            lead: null,
            state: view.state,
            expiresAt: view.at,
          };
        }
      } catch (err) {
        if (!isEngineError(err)) throw err;
      }
    }
    if (!held) return;
    session.lease = held;
    session.campaign = held.ref;
    session.socket.emit('call:resumed', {
      leaseId: held.leaseId,
      campaign: { id: held.ref.campaignId },
      state: held.state,
      expiresAt: held.expiresAt,
    });
    session.setState(held.state === 'offered' ? 'offered' : 'dialing', this.#now);
  }

  #bind(session: AgentSession): void {
    const { socket } = session;
    this.#on(session, 'agent:ready', readySchema, (s, p) => this.#ready(s, p.campaignId));
    this.#on(session, 'agent:pause', pauseSchema, (s, p) => this.#pause(s, p.reason));
    this.#on(session, 'call:accept', acceptSchema, (s, p) => this.#accept(s, p.leaseId));
    this.#on(session, 'call:reject', rejectSchema, (s, p) => this.#reject(s, p.leaseId, p.reason));
    this.#on(session, 'call:status', callStatusSchema, (s, p) => this.#status(s, p.leaseId, p.status));
    this.#on(session, 'call:complete', completeSchema, (s, p) => this.#complete(s, p));
    socket.on('disconnect', (reason) => {
      // After the events already received: a ready in flight must not outlive the disconnect.
      session
        .run(() => this.#disconnected(session, reason))
        .catch((err: unknown) =>
          this.#o.logger.error({ err, agentId: session.agentId }, 'agent.disconnect_failed'),
        );
    });
  }

  /** Validate, run, and acknowledge `{ ok: true, ... }` or `{ ok: false, error }`. */
  #on<E extends keyof AgentClientEvents, S extends z.ZodType, R extends object>(
    session: AgentSession,
    event: E,
    schema: S,
    handler: Handler<S, R>,
  ): void {
    const listener = (payload: unknown, ack: unknown) => {
      const reply = (res: Ack<R>) => {
        if (typeof ack === 'function') (ack as (r: Ack<R>) => void)(res);
      };
      const parsed = schema.safeParse(payload);
      if (!parsed.success) {
        reply({ ok: false, error: toWireError(parsed.error) });
        return;
      }
      this.#limiter
        .consume(session.socket.id)
        .then(
          () => session.run(() => handler(session, parsed.data)),
          () => {
            throw new GatewayError('RATE_LIMITED');
          },
        )
        .then(
          (result) => reply({ ok: true, ...result }),
          (err: unknown) => {
            const error = toWireError(err);
            if (error.code === 'INTERNAL') this.#o.logger.error({ err, event }, 'agent.event_failed');
            reply({ ok: false, error });
          },
        );
    };
    session.socket.on(event, listener as never);
  }

  async #ready(session: AgentSession, campaignId: string) {
    if (this.#closing) throw new GatewayError('UNAVAILABLE', 'gateway is shutting down: reconnect');
    const ref = await this.#o.campaigns.active(session.tenantId, campaignId);
    if (!ref) throw new GatewayError('CAMPAIGN_UNKNOWN');
    if (session.lease) throw new GatewayError('NOT_READY', 'finish or release the current call first');
    const previous = session.campaign;
    if (session.stateName === 'ready' && previous && previous.campaignId !== ref.campaignId) {
      await this.#o.store.setAgentNotReady(previous, session.agentId);
    }
    const res = await this.#readyBatch.submit({
      ref,
      agent: { agentId: session.agentId, deviceId: session.deviceId },
    });
    if (!res.ok) throw new GatewayError(res.code);
    session.campaign = ref;
    // An offer may have arrived in the same step: the session is then already "offered".
    return { state: session.lease ? session.state : session.setState('ready', this.#now) };
  }

  async #pause(session: AgentSession, reason: string) {
    if (session.lease) throw new GatewayError('NOT_READY', 'finish or release the current call first');
    if (session.stateName === 'ready' && session.campaign) {
      await this.#o.store.setAgentNotReady(session.campaign, session.agentId);
    }
    return { state: session.setState('paused', this.#now, reason) };
  }

  /** The lease named by a device event, adopted if the session lost track of it. */
  #held(session: AgentSession, leaseId: string): HeldLease {
    if (session.lease?.leaseId === leaseId) return session.lease;
    const { campaignId } = parseLeaseId(leaseId);
    return {
      leaseId,
      ref: { tenantId: session.tenantId, campaignId },
      lead: null,
      state: 'offered',
      expiresAt: 0,
    };
  }

  async #accept(session: AgentSession, leaseId: string) {
    const held = this.#held(session, leaseId);
    const res = await this.#acceptBatch.submit({
      tenantId: session.tenantId,
      lease: { leaseId, agentId: session.agentId },
    });
    if (!res.ok) throw new EngineError(res.code, undefined, { leaseId });
    held.state = 'accepted';
    held.expiresAt = res.expiresAt;
    session.lease = held;
    session.campaign = held.ref;
    return { expiresAt: res.expiresAt, state: session.setState('dialing', this.#now) };
  }

  async #reject(session: AgentSession, leaseId: string, reason: string) {
    const held = this.#held(session, leaseId);
    await this.#o.store.reject(session.tenantId, { leaseId, agentId: session.agentId }, this.#now);
    if (session.lease?.leaseId === leaseId) session.lease = null;
    const state = session.setState('paused', this.#now, reason);
    this.#trigger(held.ref);
    return { state };
  }

  async #status(
    session: AgentSession,
    leaseId: string,
    status: 'dialing' | 'ringing' | 'connected' | 'ended',
  ) {
    if (session.lease?.leaseId !== leaseId) {
      // A status for a lease the session does not hold: make sure it is the agent's live lease.
      const view = await this.#o.store.peekLease(session.tenantId, leaseId, this.#now);
      if (view.agentId !== session.agentId) throw new GatewayError('LEASE_NOT_OWNED');
      if (view.state !== 'offered' && view.state !== 'accepted') throw new GatewayError('LEASE_STALE');
    }
    if (session.lease?.state !== 'accepted') await this.#accept(session, leaseId);
    const next = status === 'connected' ? 'on_call' : status === 'ended' ? 'wrap_up' : 'dialing';
    return { state: session.setState(next, this.#now) };
  }

  async #complete(session: AgentSession, payload: z.output<typeof completeSchema>) {
    const held = session.lease?.leaseId === payload.leaseId ? session.lease : null;
    if (held) held.completing = true;
    let result;
    try {
      result = await this.#o.completions.submit(session, payload);
    } finally {
      if (held) held.completing = false;
    }
    if (session.lease?.leaseId === payload.leaseId) session.lease = null;
    if (payload.ready && session.campaign && !session.lease) {
      try {
        const { state } = await this.#ready(session, session.campaign.campaignId);
        return { ...result, state };
      } catch (err) {
        // The outcome is saved whatever happens here: answer that, in wrap-up.
        this.#o.logger.warn({ err, agentId: session.agentId }, 'agent.ready_after_complete_failed');
      }
    }
    return { ...result, state: session.setState('wrap_up', this.#now) };
  }

  async #disconnected(session: AgentSession, reason: string): Promise<void> {
    this.#o.metrics.sockets.dec();
    const current = this.sessions.remove(session);
    this.#o.logger.info(
      { tenantId: session.tenantId, agentId: session.agentId, reason },
      'agent.disconnected',
    );
    if (session.replaced || !current) return;
    if (session.stateName === 'ready' && session.campaign) {
      await this.#o.store.setAgentNotReady(session.campaign, session.agentId);
    }
    const lease = session.lease;
    if (!lease) return;
    // The device may come back (a tunnel, a lift): keep its lease for the grace period.
    const timer = setTimeout(() => {
      this.#graceTimers.delete(session.key);
      this.#graceExpired(session, lease).catch((err: unknown) =>
        this.#o.logger.error({ err, agentId: session.agentId }, 'agent.grace_release_failed'),
      );
    }, this.#o.config.RECONNECT_GRACE_MS);
    timer.unref();
    this.#graceTimers.set(session.key, timer);
  }

  async #graceExpired(session: AgentSession, lease: HeldLease): Promise<void> {
    if (this.sessions.get(session.tenantId, session.agentId)) return; // back on this process
    if (this.#o.clustered && this.#nsp) {
      const sockets = await this.#nsp.in(agentRoom(session.tenantId, session.agentId)).fetchSockets();
      if (sockets.length > 0) return; // back on another process
    }
    // Expire rather than reject: the next reclaim puts the lead back, and the lease stays as an
    // expired tombstone, so if the device does come back later with the call's outcome (a long
    // tunnel), it is still accepted. Completed or reclaimed meanwhile: nothing to do.
    const [res] = await this.#o.store.expire(
      session.tenantId,
      [{ leaseId: lease.leaseId, agentId: session.agentId }],
      this.#now,
    );
    if (res?.ok)
      this.#o.logger.info({ agentId: session.agentId, leaseId: lease.leaseId }, 'lease.grace_expired');
  }

  #notReady(ref: CampaignRef, agentId: AgentId): void {
    this.#o.store
      .setAgentNotReady(ref, agentId)
      .catch((err: unknown) => this.#o.logger.error({ err, agentId }, 'agent.not_ready_failed'));
  }

  // ---- offers ----

  /** Hand a granted lease to its agent's device, wherever it is connected. */
  deliver(lease: Lease, ref: CampaignRef): void {
    const session = this.sessions.get(ref.tenantId, lease.agentId);
    if (session && !session.lease && session.socket.connected) {
      this.#offer(session, lease, ref);
    } else if (!session && this.#o.clustered && this.#nsp) {
      this.#nsp.serverSideEmit('lease:deliver', lease, ref);
    } else {
      this.#release(ref.tenantId, lease.leaseId, lease.agentId, ref);
    }
  }

  #offer(session: AgentSession, lease: Lease, ref: CampaignRef): void {
    const { metrics, config } = this.#o;
    const held = {
      leaseId: lease.leaseId,
      ref,
      lead: lease.lead,
      state: 'offered' as const,
      expiresAt: lease.expiresAt,
    };
    session.lease = held;
    session.campaign = ref;
    session.setState('offered', this.#now);
    const started = performance.now();
    session.socket
      .timeout(config.OFFER_ACK_TIMEOUT_MS)
      .emit('call:offer', session.offerPayload(held), (err, res) => {
        if (session.lease?.leaseId !== lease.leaseId) return; // revoked or replaced meanwhile
        // A device that dropped is the grace period's business: it may resume this very lease.
        if (!session.socket.connected || this.sessions.get(session.tenantId, session.agentId) !== session)
          return;
        if (err) {
          metrics.offers.inc({ result: 'timeout' });
          this.#o.logger.info({ agentId: session.agentId, leaseId: lease.leaseId }, 'offer.timeout');
          this.#revoke(session, 'offer_timeout', true);
          return;
        }
        metrics.offers.inc({ result: 'acknowledged' });
        metrics.offerLatency.observe({ result: 'acknowledged' }, (performance.now() - started) / 1000);
        const ack = offerAckSchema.safeParse(res);
        if (ack.success && ack.data.accept) {
          this.#accept(session, lease.leaseId).catch((e: unknown) => {
            if (!isEngineError(e)) this.#o.logger.error({ err: e }, 'offer.accept_failed');
            if (session.lease?.leaseId === lease.leaseId) this.#dropLease(session, 'expired');
          });
        }
      });
  }

  /** Take a lease away from a session; with `release`, its lead goes back to the queue. */
  #revoke(session: AgentSession, reason: RevokeReason, release: boolean): void {
    const lease = session.lease;
    if (!lease) return;
    this.#dropLease(session, reason);
    if (release) this.#release(session.tenantId, lease.leaseId, session.agentId, lease.ref);
  }

  #dropLease(session: AgentSession, reason: RevokeReason): void {
    const lease = session.lease;
    if (!lease) return;
    session.lease = null;
    session.socket.emit('call:revoked', { leaseId: lease.leaseId, reason });
    session.setState('paused', this.#now, reason);
    session.announce();
  }

  #release(tenantId: string, leaseId: string, agentId: string, ref: CampaignRef): void {
    this.#o.store.reject(tenantId as TenantId, { leaseId, agentId: agentId as AgentId }, this.#now).then(
      () => this.#trigger(ref),
      (err: unknown) => {
        if (!isEngineError(err)) this.#o.logger.error({ err, leaseId }, 'lease.release_failed');
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
      if (session?.lease?.leaseId === leaseId) {
        if (!session.lease.completing) this.#dropLease(session, reason); // its outcome is being saved
      } else if (!session && this.#o.clustered)
        this.#nsp?.serverSideEmit('lease:revoke', tenantId, agentId, leaseId, reason);
    }
  }

  /** A campaign was paused or archived: its ready agents on this process stop being routed. */
  campaignClosed(ref: CampaignRef): void {
    for (const s of this.sessions.all()) {
      if (
        s.stateName === 'ready' &&
        s.campaign?.campaignId === ref.campaignId &&
        s.tenantId === ref.tenantId
      ) {
        this.#notReady(ref, s.agentId);
        s.setState('paused', this.#now, 'campaign_closed');
        s.announce();
      }
    }
  }

  /** Heartbeat: extend the accepted leases of connected devices. */
  async extendHeld(): Promise<void> {
    const byTenant = new Map<TenantId, AgentSession[]>();
    for (const s of this.sessions.all()) {
      if (s.lease?.state === 'accepted' && !s.lease.completing && s.socket.connected) {
        const list = byTenant.get(s.tenantId);
        if (list) list.push(s);
        else byTenant.set(s.tenantId, [s]);
      }
    }
    for (const [tenantId, sessions] of byTenant) {
      const refs = sessions.map((s) => ({ leaseId: s.lease!.leaseId, agentId: s.agentId }));
      const results = await this.#o.store.extend(tenantId, refs, this.#now, this.#o.config.CALL_TTL_MS);
      results.forEach((r, i) => {
        const s = sessions[i]!;
        if (s.lease?.leaseId !== refs[i]!.leaseId || s.lease.completing) return;
        if (r.ok) s.lease.expiresAt = r.expiresAt;
        else this.#dropLease(s, 'expired');
      });
    }
  }

  /**
   * Graceful stop: refuse new devices, take ready agents out of routing, give offered leads back,
   * wait (up to the deadline) for calls in progress to complete, then disconnect everyone; a
   * device that reconnects to another gateway resumes its lease there.
   */
  async drain(deadline: number): Promise<void> {
    this.#closing = true;
    for (const s of this.sessions.all()) {
      if (s.stateName === 'ready' && s.campaign) await this.#o.store.setAgentNotReady(s.campaign, s.agentId);
      if (s.lease?.state === 'offered') this.#revoke(s, 'shutdown', true);
    }
    while (Date.now() < deadline && [...this.sessions.all()].some((s) => s.lease)) {
      await new Promise((r) => setTimeout(r, 50));
    }
    // Offers still unanswered go back to the queue; calls still in progress keep their lease
    // for a resume on another gateway.
    for (const s of this.sessions.all()) if (s.lease?.state === 'offered') this.#revoke(s, 'shutdown', true);
    for (const timer of this.#graceTimers.values()) clearTimeout(timer);
    this.#graceTimers.clear();
    for (const s of [...this.sessions.all()]) {
      s.replaced = true; // leave held leases to their TTL, for a resume elsewhere
      s.socket.disconnect(true);
    }
  }
}
