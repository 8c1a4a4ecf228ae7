// Which campaigns are live, and keeping the engine's queues in step with Postgres. Postgres is the
// system of record; the engine's queues can be rebuilt from it at any time. A campaign is rebuilt
// when this gateway starts and finds the engine without it or stale (Redis restarted or failed
// over since the queue's epoch began, so it may have gone back in time), on demand, and whenever
// the engine answers CAMPAIGN_UNKNOWN or CAMPAIGN_STALE for a campaign Postgres says is active.
import type { Clock } from '../../engine/clock.js';
import { lockoutOutcomes, rulesReachMs } from '../../engine/calling-rules.js';
import type { CampaignConfig } from '../../engine/campaign.js';
import type { AgentId, CampaignRef, DeviceId, TenantId } from '../../engine/ids.js';
import type { HeldLease, QueueStore, RebuildResult, RestoredCalls } from '../../engine/queue-store.js';
import type { HeldCallInfo } from '../agent/agent-session.js';
import type { Database } from '../../db/index.js';
import type { Logger } from '../logger.js';
import { heartbeat } from '../config.js';
import type { Config } from '../config.js';
import { leadInputOf } from '../leads/lead-input.js';

/** A campaign's lease lengths (ms): how long an offer waits, how long an accepted call's lease lives between heartbeats. */
export interface LeaseTtls {
  readonly offerTtlMs: number;
  readonly callTtlMs: number;
}

/**
 * The shortest lease lengths a campaign may set under this deployment's timing, the rules config.ts
 * holds CALL_TTL_MS and OFFER_TTL_MS to: a call lease outlives two heartbeats, the reconnect grace
 * and twice the time a silent device takes to be noticed; an offer outlives its acknowledgement.
 */
export function leaseTtlFloors(config: Config): LeaseTtls {
  const { pingIntervalMs, pingTimeoutMs } = heartbeat(config);
  return {
    offerTtlMs: config.OFFER_ACK_TIMEOUT_MS + 1,
    callTtlMs: Math.max(
      2 * config.LEASE_HEARTBEAT_MS,
      config.RECONNECT_GRACE_MS + 1,
      2 * (pingIntervalMs + pingTimeoutMs),
    ),
  };
}

/** A campaign's own lease lengths as Postgres holds them (null: the deployment's). */
interface OwnTtls {
  readonly offerTtlMs: number | null;
  readonly callTtlMs: number | null;
}

export interface CampaignRegistry {
  /** Load every active campaign; define it in the engine, rebuilding any the engine lacks. */
  start(): Promise<void>;
  /** The tenant's campaign if active (cached; a miss asks Postgres). */
  active(tenantId: TenantId, campaignId: string): Promise<CampaignRef | null>;
  list(): CampaignRef[];
  /** Active and known to this gateway: dispatch only these. */
  isLive(ref: CampaignRef): boolean;
  /**
   * After an admin change: store config, define it in the engine (a new campaign starts empty) and
   * trigger a dispatch (an edit can open a window; a resume brings ready agents back).
   */
  define(ref: CampaignRef, config: CampaignConfig, ttls?: OwnTtls): Promise<void>;
  /**
   * The campaign's lease lengths: its own where set, else the deployment's (also for a campaign
   * this gateway does not know). Every gateway follows an edit (onChanged, refresh).
   */
  ttls(ref: CampaignRef): LeaseTtls;
  /** The configuration of a campaign live on this gateway (undefined: not live here). */
  config(ref: CampaignRef): CampaignConfig | undefined;
  forget(ref: CampaignRef): void;
  /**
   * Another gateway changed the campaign's status or configuration: read it again from Postgres
   * and follow it here (live with its configuration, or forgotten). Reading the system of record
   * rather than trusting the message makes it idempotent and order-free; calls for one campaign
   * run one at a time, so two quick changes settle on the last.
   */
  refresh(ref: CampaignRef): Promise<void>;
  rebuild(ref: CampaignRef): Promise<RebuildResult>;
  /** The engine lost a campaign, or it went stale: define and rebuild it once, however many callers noticed. */
  recover(ref: CampaignRef): Promise<void>;
}

const key = (ref: { tenantId: string; campaignId: string }) => `${ref.tenantId}\x00${ref.campaignId}`;

export function createCampaignRegistry(deps: {
  db: Database;
  store: QueueStore;
  clock: Clock;
  logger: Logger;
  onRebuilt?: (ref: CampaignRef) => void;
  /** A campaign was defined or edited: anything may match now. */
  onDefined?: (ref: CampaignRef) => void;
  /** A campaign stopped being active (paused or archived). */
  onForgotten?: (ref: CampaignRef) => void;
  /** This gateway changed a campaign (define or forget): every other gateway must refresh it. */
  onChanged?: (ref: CampaignRef) => void;
  /**
   * The calls in progress of a campaign on every gateway alive (gateway-registry.ts): a rebuild
   * attaches them again. Rejects (UNAVAILABLE, retryable) when a gateway did not answer: the
   * rebuild does not happen, and the campaign stays unknown or stale to the queue (nothing is
   * offered from it) until a later attempt hears every gateway.
   */
  heldCalls?: (ref: CampaignRef) => Promise<readonly HeldCallInfo[]>;
  /** The deployment's lease lengths (OFFER_TTL_MS, CALL_TTL_MS), for campaigns without their own. */
  defaults?: LeaseTtls;
  /** The shortest a campaign's own may be (leaseTtlFloors); a shorter one is raised to it. */
  floors?: LeaseTtls;
}): CampaignRegistry {
  const { db, store, clock, logger } = deps;
  const live = new Map<string, { ref: CampaignRef; config: CampaignConfig; ttls?: OwnTtls | undefined }>();
  const defaults: LeaseTtls = deps.defaults ?? { offerTtlMs: 15_000, callTtlMs: 90_000 };
  const own = (c: { offerTtlMs: number | null; callTtlMs: number | null }): OwnTtls => ({
    offerTtlMs: c.offerTtlMs,
    callTtlMs: c.callTtlMs,
  });
  const recovering = new Map<string, Promise<void>>();
  const pending = new Map<string, Promise<void>>();
  const refreshing = new Map<string, Promise<void>>();

  /** A call in progress the rebuild attaches again, taken when the queue recorded it. */
  interface StartedCall {
    readonly leaseId: string;
    readonly phone: string;
    readonly acceptedAt: number;
  }

  /** The calls in progress a rebuild attaches again, and those of them with a known start. */
  interface Held {
    readonly leases: HeldLease[];
    readonly started: StartedCall[];
  }

  /**
   * The held calls whose leads the system of record still holds as queued in this campaign, and
   * those of them that were accepted at a known time (calls in progress, for the calling rules).
   * Asked before a campaign the queue lost is defined again: when a gateway cannot be heard, the
   * campaign stays unknown (every later dispatch, ready and maintenance round tries again), never
   * defined empty and left so.
   */
  async function held(ref: CampaignRef): Promise<Held> {
    const calls = (await deps.heldCalls?.(ref)) ?? [];
    const out: HeldLease[] = [];
    const started: StartedCall[] = [];
    for (const c of calls) {
      const id = store.leaseIds.verify(c.leaseId, ref.tenantId, c.agentId);
      if (!id) continue;
      const lead = await db.leads.get(ref.tenantId, id.leadId);
      if (!lead || lead.status !== 'queued' || lead.campaignId !== ref.campaignId) continue;
      out.push({
        leaseId: c.leaseId,
        agentId: c.agentId as AgentId,
        deviceId: c.deviceId as DeviceId,
        phase: c.phase,
        expiresAt: c.expiresAt,
        lead: leadInputOf(lead),
      });
      if (c.phase !== 'offered' && c.acceptedAt !== undefined)
        started.push({ leaseId: c.leaseId, phone: lead.phone, acceptedAt: c.acceptedAt });
    }
    return { leases: out, started };
  }

  /**
   * The calling rules' history of the campaign's numbers (calls, lockouts) from the call attempts
   * in Postgres, for a queue that lost it: without it a rebuilt queue would let a number's call
   * cap or gap start again from nothing. Calls in progress are not in Postgres yet: those the
   * rebuild attached again count from the moment the queue recorded their accept (the very time
   * the lost history held, so a history Redis kept is not counted twice), unless their outcome
   * is committed already (then the attempt counts). Read by the rebuild once the leads are queued
   * and written before it ends.
   */
  async function historyOf(ref: CampaignRef, inProgress: readonly StartedCall[]): Promise<RestoredCalls[]> {
    const campaign = await db.campaigns.get(ref.tenantId, ref.campaignId);
    const rules = campaign?.config.callingRules;
    if (!rules) return [];
    const reach = rulesReachMs(rules);
    if (reach === 0) return [];
    const now = clock.now();
    const lockouts = lockoutOutcomes(rules);
    const byPhone = new Map<string, { phone: string; calls: number[]; lockouts: number[] }>();
    for (const c of await db.outcomes.recentCalls(ref.tenantId, ref.campaignId, now - reach)) {
      let n = byPhone.get(c.phone);
      if (!n) byPhone.set(c.phone, (n = { phone: c.phone, calls: [], lockouts: [] }));
      n.calls.push(c.startedAt);
      if (lockouts.has(c.outcome)) n.lockouts.push(c.completedAt);
    }
    const onRecord =
      inProgress.length === 0
        ? new Map<string, unknown>()
        : await db.outcomes.lookupLeases(
            ref.tenantId,
            inProgress.map((c) => c.leaseId),
          );
    for (const c of inProgress) {
      if (onRecord.has(c.leaseId) || c.acceptedAt <= now - reach) continue;
      let n = byPhone.get(c.phone);
      if (!n) byPhone.set(c.phone, (n = { phone: c.phone, calls: [], lockouts: [] }));
      n.calls.push(c.acceptedAt);
    }
    return [...byPhone.values()];
  }

  /**
   * Rebuild the campaign's queue from Postgres. `seen` is the store's count of ended rebuilds the
   * caller knows to be too few: a rebuild another caller (or gateway) ended since makes this one
   * read nothing, unless the queue is stale again or went back in time.
   */
  async function rebuild(ref: CampaignRef, asked?: Held, seen?: number): Promise<RebuildResult> {
    const started = Date.now();
    const calls = asked ?? (await held(ref));
    let restored = 0;
    const result = await store.rebuild(
      ref,
      db.leads.streamQueued(ref.tenantId, ref.campaignId),
      clock.now(),
      {
        held: calls.leases,
        history: async () => {
          const numbers = await historyOf(ref, calls.started);
          restored = numbers.length;
          return numbers;
        },
        ...(seen === undefined ? {} : { unlessRebuiltSince: seen }),
      },
    );
    logger.info(
      { tenantId: ref.tenantId, campaignId: ref.campaignId, ...result, restored, ms: Date.now() - started },
      'campaign.rebuilt',
    );
    deps.onRebuilt?.(ref);
    return result;
  }

  /**
   * Define the campaign in the queue, and rebuild it when the queue did not know it or may have
   * lost writes. Asking every gateway for its calls takes time (a registry round): whatever
   * rebuild another caller ends meanwhile makes this one read nothing (`seen`), so a queue already
   * leasing is not reset (every ready and dispatch refused CAMPAIGN_STALE while it reads Postgres
   * again, for nothing).
   */
  async function ensure(ref: CampaignRef, config: CampaignConfig): Promise<void> {
    const seen = await store.rebuilds(ref);
    const calls = seen === null ? await held(ref) : undefined;
    const { stale } = await store.defineCampaign(ref, config, clock.now());
    if (stale) logger.warn({ tenantId: ref.tenantId, campaignId: ref.campaignId }, 'campaign.queue_stale');
    if (seen === null || stale) await rebuild(ref, calls, seen ?? 0);
  }

  return {
    async start() {
      for (const c of await db.campaigns.listActive()) {
        const ref = { tenantId: c.tenantId, campaignId: c.campaignId };
        live.set(key(ref), { ref, config: c.config, ttls: own(c) });
        await ensure(ref, c.config);
      }
    },
    async active(tenantId, campaignId) {
      const hit = live.get(key({ tenantId, campaignId }));
      if (hit) return hit.ref;
      const c = await db.campaigns.get(tenantId, campaignId);
      if (!c || c.status !== 'active') return null;
      const ref = { tenantId: c.tenantId, campaignId: c.id };
      // Known to this gateway only once the engine has it: a concurrent caller waits for the same
      // definition rather than using a campaign the engine has not got yet.
      const k = key(ref);
      let defining = pending.get(k);
      if (!defining) {
        defining = ensure(ref, c.config)
          .then(() => {
            live.set(k, { ref, config: c.config, ttls: own(c) });
          })
          .finally(() => pending.delete(k));
        pending.set(k, defining);
      }
      await defining;
      return ref;
    },
    list() {
      return [...live.values()].map((v) => v.ref);
    },
    isLive(ref) {
      return live.has(key(ref));
    },
    async define(ref, config, ttls) {
      live.set(key(ref), { ref, config, ttls });
      await ensure(ref, config);
      deps.onDefined?.(ref);
      deps.onChanged?.(ref);
    },
    ttls(ref) {
      // Raised to the floors: a deployment whose timing changed since a campaign was set
      // never runs a lease shorter than its heartbeats.
      const t = live.get(key(ref))?.ttls;
      return {
        offerTtlMs: Math.max(t?.offerTtlMs ?? defaults.offerTtlMs, deps.floors?.offerTtlMs ?? 0),
        callTtlMs: Math.max(t?.callTtlMs ?? defaults.callTtlMs, deps.floors?.callTtlMs ?? 0),
      };
    },
    config(ref) {
      return live.get(key(ref))?.config;
    },
    forget(ref) {
      if (live.delete(key(ref))) deps.onForgotten?.(ref);
      // Told even when this gateway never had it: others may.
      deps.onChanged?.(ref);
    },
    refresh(ref) {
      const k = key(ref);
      const previous = refreshing.get(k) ?? Promise.resolve();
      const next = previous.then(async () => {
        const c = await db.campaigns.get(ref.tenantId, ref.campaignId);
        if (c && c.status === 'active') {
          const known = live.has(k);
          live.set(k, { ref, config: c.config, ttls: own(c) });
          // The gateway that made the change defined it in the engine; a gateway that had it
          // already only needs to look for new matches (a resume, a window that opened).
          if (!known) await ensure(ref, c.config);
          deps.onDefined?.(ref);
        } else if (live.delete(k)) {
          deps.onForgotten?.(ref);
        }
      });
      // The chain goes on past a failed refresh (its caller hears of the failure).
      const settled: Promise<void> = next
        .catch(() => undefined)
        .finally(() => {
          if (refreshing.get(k) === settled) refreshing.delete(k);
        });
      refreshing.set(k, settled);
      return next;
    },
    rebuild: (ref) => rebuild(ref),
    recover(ref) {
      const k = key(ref);
      let p = recovering.get(k);
      if (!p) {
        p = (async () => {
          // What made the caller recover (a call refused CAMPAIGN_UNKNOWN or CAMPAIGN_STALE) may
          // have been seen before a rebuild that has ended by now: the count read here would
          // already include it. So any ended rebuild of this queue (the count is 0 for a queue
          // defined since, and a queue stale again or gone back in time is rebuilt whatever the
          // count) makes this recovery read nothing: it asks with a count of 0.
          const entry =
            live.get(k) ??
            (await db.campaigns
              .get(ref.tenantId, ref.campaignId)
              .then((c) =>
                c && c.status === 'active' ? { ref, config: c.config, ttls: own(c) } : undefined,
              ));
          if (!entry) return;
          logger.warn({ tenantId: ref.tenantId, campaignId: ref.campaignId }, 'campaign.lost_by_engine');
          const calls = await held(ref);
          await store.defineCampaign(ref, entry.config, clock.now());
          await rebuild(ref, calls, 0);
          live.set(k, entry);
        })().finally(() => recovering.delete(k));
        recovering.set(k, p);
      }
      return p;
    },
  };
}
