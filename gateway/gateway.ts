// The composition root: wires the engine's queue store, Postgres, the Socket.IO hub, dispatch,
// completions and the periodic work into one gateway process. Entry points (main.ts, tests,
// bench) build the dependencies and call createGateway.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { RequestListener } from 'node:http';
import { Server } from 'socket.io';
import type { Adapter } from 'socket.io-adapter';
import type { Clock } from '../engine/clock.js';
import { isEngineError } from '../engine/errors.js';
import type { CampaignRef, TenantId } from '../engine/ids.js';
import type { LeaseId } from '../engine/lease.js';
import { startMaintenance } from '../engine/maintenance.js';
import type { Settled } from '../engine/maintenance.js';
import type { CommittedCompletion, ExpiredLease, QueueStore } from '../engine/queue-store.js';
import type { Database, NewLead } from '../db/index.js';
import { isVoided } from '../db/index.js';
import { AgentHub } from './agent/agent-hub.js';
import type { DeviceIdentity, DeviceTokens } from './auth/device-token.js';
import { createCampaignRegistry, leaseTtlFloors } from './calls/campaigns.js';
import type { CampaignRegistry } from './calls/campaigns.js';
import { createCompletionFollowUps } from './followups/completion.js';
import { createCompletions } from './calls/completions.js';
import type { Completions } from './calls/completions.js';
import { heartbeat as socketHeartbeat } from './config.js';
import { recoveryOptions, withRecovery } from './connection-recovery.js';
import type { Config } from './config.js';
import { createDispatcher } from './calls/dispatcher.js';
import { createTenantGap, gapReservationsFor } from './calls/tenant-gap.js';
import type { GapReservations, TenantGap } from './calls/tenant-gap.js';
import type { Dispatcher } from './calls/dispatcher.js';
import { GatewayError } from './errors.js';
import { addLeads, openLeadIntake } from './leads/intake.js';
import { originAllowed } from './auth/origin.js';
import type { AddedLeads, LeadIntake } from './leads/intake.js';
import type { Logger } from './logger.js';
import { createMetrics } from './metrics.js';
import type { Metrics } from './metrics.js';
import { AGENT_NAMESPACE, MAX_FRAME_BYTES } from './protocol/events.js';
import type { AgentClientEvents, AgentServerEvents } from './protocol/events.js';
import type { HeldCallInfo, InterServerEvents, SessionData } from './agent/agent-session.js';
import { answerByName, askEveryGateway } from './ask-gateways.js';
import type { AnsweringNamespace } from './ask-gateways.js';
import { gatewayRegistryFor } from './gateway-registry.js';
import type { GatewayRegistry } from './gateway-registry.js';
import type { OfferBudget } from './offer-budget.js';
import { createOfferFields } from './privacy/offer-fields.js';
import type { OfferFields } from './privacy/offer-fields.js';

export type { AddedLeads, LeadIntake };

export interface HealthCheck {
  readonly name: string;
  check(): Promise<unknown>;
}

export interface GatewayDeps {
  readonly config: Config;
  readonly store: QueueStore;
  readonly clock: Clock;
  readonly db: Database;
  readonly logger: Logger;
  readonly tokens: DeviceTokens;
  /** Readiness checks (Redis, Postgres). */
  readonly checks?: readonly HealthCheck[];
  /** Socket.IO adapter for several gateway processes (Redis streams); absent for one process. */
  readonly adapter?: (nsp: unknown) => Adapter;
  /** Builds the HTTP app (health, metrics, admin API) once the gateway exists. */
  readonly http?: (gateway: Gateway) => RequestListener;
  /** Attaches the /supervisor namespace (gateway/supervisor) once the gateway exists. */
  readonly supervisor?: (gateway: Gateway) => { stop(): void };
  /** Times each stage of a ready -> offer (the bench's latency budget); absent in production. */
  readonly offerBudget?: OfferBudget;
  /** Where tenant-wide gap reservations live; absent: beside the store's queue (tenant-gap.ts). */
  readonly gapReservations?: GapReservations;
}

export interface Gateway {
  readonly deps: GatewayDeps;
  readonly io: Server<AgentClientEvents, AgentServerEvents, InterServerEvents, SessionData>;
  readonly hub: AgentHub;
  readonly metrics: Metrics;
  readonly campaigns: CampaignRegistry;
  readonly dispatcher: Dispatcher;
  readonly completions: Completions;
  /** Which custom fields offers carry, per campaign (gateway/privacy/offer-fields.ts). */
  readonly offerFields: OfferFields;
  /** The minimum gap between calls to one number across a tenant's campaigns (reservations). */
  readonly tenantGap: TenantGap;
  /** The gateways alive, in Redis (several gateways only): a rebuild hears from each of them. */
  readonly registry: GatewayRegistry | undefined;
  /**
   * The calls in progress of a campaign on every gateway alive (this one's too), as a rebuild
   * gathers them: with several gateways, each registered one must answer, or it rejects
   * UNAVAILABLE (retryable).
   */
  heldCalls(ref: CampaignRef): Promise<readonly HeldCallInfo[]>;
  /** Load campaigns (rebuilding queues the engine lacks), start periodic work, listen. */
  start(port: number, host?: string): Promise<AddressInfo>;
  /** Ready for traffic: started and not draining. */
  readonly ready: boolean;
  health(): Promise<{ ok: boolean; checks: Record<string, string> }>;
  /** Add leads to an active campaign: one outcome per row, the same in Postgres and the queue. */
  addLeads(tenantId: TenantId, campaignId: string, leads: readonly NewLead[]): Promise<AddedLeads>;
  /** The same intake as steps a long import pipelines (check, store, queue), for an active campaign. */
  leadIntake(tenantId: TenantId, campaignId: string): Promise<LeadIntake>;
  /**
   * Put numbers on the tenant's do-not-call list (committed to Postgres first) and out of every
   * queue, revoking live calls for routing (their outcomes are still accepted).
   */
  suppress(
    tenantId: TenantId,
    phones: readonly string[],
    source: 'outcome' | 'api' | 'erasure',
  ): Promise<number>;
  /** Graceful stop within config.SHUTDOWN_TIMEOUT_MS. */
  stop(): Promise<void>;
}

export function createGateway(deps: GatewayDeps): Gateway {
  const { config, store, clock, db, logger, tokens } = deps;
  let started = false;
  let draining = false;

  // Several gateways: a rebuild must hear the calls in progress of every gateway alive, whether
  // or not the adapter counts it at that moment (gateway-registry.ts).
  const registry = deps.adapter ? gatewayRegistryFor(store, clock, logger) : undefined;
  const agents = () => io.of(AGENT_NAMESPACE) as unknown as AnsweringNamespace;

  const hubRef: { hub?: AgentHub } = {};
  const metrics = createMetrics(() => hubRef.hub?.sessions.countsByState() ?? new Map());
  const heldCalls = (ref: CampaignRef): Promise<readonly HeldCallInfo[]> =>
    registry
      ? askEveryGateway<HeldCallInfo[]>(agents(), registry, 'calls:held', [ref]).then((all) => all.flat())
      : hub.heldCalls(ref);
  const campaigns = createCampaignRegistry({
    db,
    store,
    clock,
    logger,
    onRebuilt: (ref) => dispatcher.trigger(ref),
    onDefined: (ref) => dispatcher.trigger(ref),
    onForgotten: (ref) => hub.campaignClosed(ref),
    // Every gateway caches the campaigns it routes: a change made here is announced to the others
    // at once (they read it again from Postgres), not left for a cache miss to find.
    onChanged: (ref) => {
      if (deps.adapter) io.of(AGENT_NAMESPACE).serverSideEmit('campaign:changed', ref);
    },
    heldCalls,
    defaults: { offerTtlMs: config.OFFER_TTL_MS, callTtlMs: config.CALL_TTL_MS },
    floors: leaseTtlFloors(config),
  });

  async function suppress(
    tenantId: TenantId,
    phones: readonly string[],
    source: 'outcome' | 'api' | 'erasure',
  ): Promise<number> {
    // Durable first: the list in Postgres is what a rebuild and every import scrub against.
    // (A do-not-call outcome listed the number in its own commit.)
    if (source !== 'outcome') await db.dnc.add(tenantId, phones, source);
    const removed = await db.leads.markRemoved(tenantId, phones);
    // Every campaign of the tenant, paused ones too and ones this gateway never touched: each
    // suppresses the numbers, so none can come back by a resume, an import or a rebuild.
    const refs = (await db.campaigns.listIds(tenantId)).map((campaignId) => ({ tenantId, campaignId }));
    for (const ref of refs) {
      try {
        const gone = await store.removeNumbers(ref, phones, clock.now());
        const revoked = gone.flatMap((g) => (g.revoked ? [g.revoked] : []));
        if (revoked.length > 0) {
          hub.revoked(tenantId, revoked, 'removed');
          dispatcher.trigger(ref);
        }
      } catch (err) {
        if (!isEngineError(err, 'CAMPAIGN_UNKNOWN')) throw err;
      }
    }
    return removed.length;
  }

  const completions = createCompletions({
    store,
    leaseIds: store.leaseIds,
    clock,
    logger,
    metrics,
    db,
    onDnc: async (tenantId, phone) => {
      await suppress(tenantId, [phone], 'outcome');
    },
    recover: (ref) => campaigns.recover(ref),
    holdMs: config.CALL_TTL_MS,
    onRequeued: (ref) => dispatcher.trigger(ref),
    followUp: createCompletionFollowUps({
      db,
      now: () => clock.now(),
      smsEnabled: config.SMS_HTTP_URL !== undefined && config.SMS_HTTP_URL !== '',
      logger,
    }),
  });

  const offerFields = createOfferFields(db.privacy.consent, () => clock.now(), logger);

  const tenantGap = createTenantGap({
    reservations: deps.gapReservations ?? gapReservationsFor(store),
    store,
    // An accept comes after a ready on the campaign, so it is live here; a resumed offer on a
    // gateway that never routed the campaign loads it first.
    rulesOf: async (ref) => {
      if (!campaigns.isLive(ref) && !(await campaigns.active(ref.tenantId, ref.campaignId))) return null;
      return campaigns.config(ref)?.callingRules ?? null;
    },
    leadOf: (tenantId, leadId) => db.leads.get(tenantId, leadId),
    logger,
  });

  const hub = new AgentHub({
    config,
    store,
    clock,
    logger,
    metrics,
    auth: tokens,
    completions,
    clustered: deps.adapter !== undefined,
    gap: tenantGap,
    ...(deps.offerBudget ? { offerBudget: deps.offerBudget } : {}),
    devices: {
      async check(identity: DeviceIdentity) {
        const device = await db.devices.get(identity.tenantId, identity.deviceId);
        if (!device || device.revokedAt !== null || device.userId !== identity.agentId) {
          throw new GatewayError('DEVICE_UNKNOWN');
        }
      },
    },
    offerFields: (tenantId, campaignId, fields) => offerFields.filter(tenantId, campaignId, fields),
    campaigns: {
      // Ready on a campaign: its offer-fields setting is known before any offer of it is sent.
      active: async (tenantId, campaignId) => {
        const ref = await campaigns.active(tenantId, campaignId);
        if (ref) await offerFields.warm(tenantId, campaignId);
        return ref;
      },
      recover: (ref) => campaigns.recover(ref),
      ttls: (ref) => campaigns.ttls(ref),
    },
  });
  hubRef.hub = hub;

  const dispatcher = createDispatcher({
    store,
    clock,
    logger,
    batch: config.DISPATCH_BATCH,
    offerTtlMs: (ref) => campaigns.ttls(ref).offerTtlMs,
    deliver: (lease, ref) => hub.deliver(lease, ref),
    isLive: (ref) => campaigns.isLive(ref),
    onUnknownCampaign: (ref) => {
      campaigns.recover(ref).then(
        () => dispatcher.trigger(ref),
        (err: unknown) => logger.error({ err, campaignId: ref.campaignId }, 'campaign.recover_failed'),
      );
    },
  });
  hub.dispatcher = dispatcher;

  // Socket.IO answers its own path first; everything else goes to the HTTP app once it exists.
  let handler: RequestListener | undefined;
  const httpServer = createServer((req, res) => {
    if (handler) handler(req, res);
    else res.writeHead(503).end();
  });
  const io = new Server<AgentClientEvents, AgentServerEvents, InterServerEvents, SessionData>(httpServer, {
    serveClient: false,
    transports: ['websocket', 'polling'],
    pingInterval: socketHeartbeat(config).pingIntervalMs,
    pingTimeout: socketHeartbeat(config).pingTimeoutMs,
    // The largest legal frame (a completion with its notes, tags and follow-up) is a few KB;
    // a bigger one closes the connection with WebSocket code 1009 "message too big".
    maxHttpBufferSize: MAX_FRAME_BYTES,
    perMessageDeflate: false,
    // Several gateways (the streams adapter): a device that drops keeps its socket id, rooms and
    // missed frames for the reconnect grace, on any gateway (connection-recovery.ts says what is
    // kept and replayed); the handshake's checks run again on a recovered connection.
    ...(deps.adapter
      ? {
          adapter: withRecovery(deps.adapter) as never,
          connectionStateRecovery: recoveryOptions(config.RECONNECT_GRACE_MS),
        }
      : {}),
    // CORS does not protect WebSockets: check the Origin of browser clients here (unset
    // ALLOWED_ORIGINS: the gateway's own origin only).
    allowRequest: (req, done) => {
      done(null, originAllowed(req.headers.origin, req.headers.host, config.ALLOWED_ORIGINS));
    },
  });
  hub.attach(io.of(AGENT_NAMESPACE));
  if (registry) answerByName(agents(), registry.id, ['calls:held']);
  io.of(AGENT_NAMESPACE).on('campaign:changed', (ref) => {
    campaigns
      .refresh(ref)
      .catch((err: unknown) => logger.error({ err, campaignId: ref.campaignId }, 'campaign.refresh_failed'));
  });

  /**
   * Settle a round of expired leases against the system of record before any is requeued: an
   * outcome already committed (by a process that died before it told the queue) is applied; a
   * claim whose commit never landed is fenced out in Postgres first (recorded as void, so a
   * stalled commit can never land afterwards), then requeued; the rest go back to the queue.
   */
  async function settleExpired(ref: CampaignRef, expired: readonly ExpiredLease[]): Promise<Settled> {
    const { tenantId } = ref;
    const onRecord = await db.outcomes.lookupLeases(
      tenantId,
      expired.map((l) => l.leaseId),
    );
    const apply: CommittedCompletion[] = [];
    const reclaim: LeaseId[] = [];
    const voided: LeaseId[] = [];
    const toVoid: ExpiredLease[] = [];
    for (const l of expired) {
      const r = onRecord.get(l.leaseId);
      if (r && !isVoided(r)) apply.push({ ...r, agentId: r.agentId });
      else if (r) (l.state === 'c' ? voided : reclaim).push(l.leaseId);
      else if (l.state === 'c') toVoid.push(l);
      else reclaim.push(l.leaseId);
    }
    if (toVoid.length > 0) {
      const fenced = await db.outcomes.voidLeases(
        tenantId,
        toVoid
          .filter((l) => l.leadId !== '')
          .map((l) => ({
            leaseId: l.leaseId,
            campaignId: ref.campaignId,
            leadId: l.leadId,
            agentId: l.agentId,
            deviceId: l.deviceId,
          })),
      );
      for (const l of toVoid) {
        const r = fenced.get(l.leaseId);
        if (!r) continue;
        if (isVoided(r)) voided.push(l.leaseId);
        else apply.push({ ...r, agentId: r.agentId });
      }
      if (voided.length > 0)
        logger.warn({ campaignId: ref.campaignId, voided: voided.length }, 'lease.claims_voided');
    }
    if (apply.length > 0) {
      const results = await store.applyCompletions(tenantId, apply, clock.now());
      logger.info(
        { campaignId: ref.campaignId, settled: results.filter((r) => r.ok).length },
        'lease.settled_from_db',
      );
      for (const [i, r] of results.entries()) {
        if (r.ok && apply[i]!.disposition.kind === 'dnc') {
          const lead = await db.leads.get(tenantId, apply[i]!.leadId);
          if (lead) await suppress(tenantId, [lead.phone], 'outcome');
        }
      }
    }
    return { reclaim, voided };
  }

  let maintenance: ReturnType<typeof startMaintenance> | undefined;
  let heartbeat: NodeJS.Timeout | undefined;
  let supervisor: { stop(): void } | undefined;

  const gateway: Gateway = {
    deps,
    io,
    hub,
    metrics,
    campaigns,
    dispatcher,
    completions,
    offerFields,
    tenantGap,
    registry,
    heldCalls,
    get ready() {
      return started && !draining;
    },
    async start(port, host) {
      // Registered before any campaign is rebuilt or any device connects: a gateway that may hold
      // calls is always on the roll.
      await registry?.start();
      await campaigns.start();
      maintenance = startMaintenance({
        store,
        clock,
        campaigns: () => campaigns.list(),
        intervalMs: config.RECLAIM_INTERVAL_MS,
        settleExpired,
        onReclaimed: (ref, leases) => {
          hub.revoked(ref.tenantId, leases, 'expired');
          dispatcher.trigger(ref);
        },
        onPromoted: (ref) => dispatcher.trigger(ref),
        onError: (err, ref) => {
          if (ref && (isEngineError(err, 'CAMPAIGN_UNKNOWN') || isEngineError(err, 'CAMPAIGN_STALE'))) {
            campaigns.recover(ref).catch((e: unknown) => logger.error({ err: e }, 'campaign.recover_failed'));
          } else {
            logger.error({ err, campaignId: ref?.campaignId }, 'maintenance.failed');
          }
        },
      });
      heartbeat = setInterval(() => {
        hub.extendHeld().catch((err: unknown) => logger.error({ err }, 'lease.heartbeat_failed'));
      }, config.LEASE_HEARTBEAT_MS);
      heartbeat.unref();
      handler = deps.http ? deps.http(gateway) : (_req, res) => res.writeHead(404).end();
      supervisor = deps.supervisor?.(gateway);
      await new Promise<void>((resolve, reject) => {
        httpServer.once('error', reject);
        httpServer.listen(port, host ?? config.HOST, () => resolve());
      });
      started = true;
      for (const ref of campaigns.list()) dispatcher.trigger(ref);
      const address = httpServer.address() as AddressInfo;
      logger.info({ port: address.port, host: address.address }, 'gateway.listening');
      return address;
    },
    async health() {
      const checks: Record<string, string> = {};
      let ok = true;
      for (const c of deps.checks ?? []) {
        try {
          await Promise.race([
            c.check(),
            new Promise((_, reject) => setTimeout(() => reject(new Error('timeout')), 2_000).unref()),
          ]);
          checks[c.name] = 'ok';
        } catch (err) {
          ok = false;
          checks[c.name] = err instanceof Error ? err.message : 'failed';
        }
      }
      return { ok, checks };
    },
    async addLeads(tenantId, campaignId, leads) {
      const ref = await campaigns.active(tenantId, campaignId);
      if (!ref) throw new GatewayError('CAMPAIGN_UNKNOWN');
      return addLeads({ db, store, clock, logger }, ref, leads, () => dispatcher.trigger(ref));
    },
    async leadIntake(tenantId, campaignId) {
      const ref = await campaigns.active(tenantId, campaignId);
      if (!ref) throw new GatewayError('CAMPAIGN_UNKNOWN');
      return openLeadIntake({ db, store, clock, logger }, ref, () => dispatcher.trigger(ref));
    },
    suppress,
    async stop() {
      if (draining) return;
      draining = true;
      const deadline = Date.now() + config.SHUTDOWN_TIMEOUT_MS;
      logger.info('gateway.draining');
      clearInterval(heartbeat);
      dispatcher.stop();
      await maintenance?.stop();
      supervisor?.stop();
      await hub.drain(deadline - 1_000);
      await completions.drain();
      // Off the roll once its calls are drained, while it can still answer: no rebuild waits for
      // a gateway that stopped.
      await registry?.stop().catch((err: unknown) => logger.warn({ err }, 'gateway.unregister_failed'));
      await io.close();
      logger.info('gateway.stopped');
    },
  };
  return gateway;
}
