// Which campaigns are live, and keeping the engine's queues in step with Postgres. Postgres is the
// system of record; the engine's queues can be rebuilt from it at any time. A campaign is rebuilt
// when this gateway starts and finds the engine without it or stale (Redis restarted or failed
// over since the queue's epoch began, so it may have gone back in time), on demand, and whenever
// the engine answers CAMPAIGN_UNKNOWN or CAMPAIGN_STALE for a campaign Postgres says is active.
import type { Clock } from '../../engine/clock.js';
import type { CampaignConfig } from '../../engine/campaign.js';
import type { CampaignRef, TenantId } from '../../engine/ids.js';
import type { QueueStore, RebuildResult } from '../../engine/queue-store.js';
import type { Database } from '../../db/index.js';
import type { Logger } from '../logger.js';

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
  define(ref: CampaignRef, config: CampaignConfig): Promise<void>;
  forget(ref: CampaignRef): void;
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
}): CampaignRegistry {
  const { db, store, clock, logger } = deps;
  const live = new Map<string, { ref: CampaignRef; config: CampaignConfig }>();
  const recovering = new Map<string, Promise<void>>();
  const pending = new Map<string, Promise<void>>();

  async function rebuild(ref: CampaignRef): Promise<RebuildResult> {
    const started = Date.now();
    const result = await store.rebuild(ref, db.leads.streamQueued(ref.tenantId, ref.campaignId), clock.now());
    logger.info(
      { tenantId: ref.tenantId, campaignId: ref.campaignId, ...result, ms: Date.now() - started },
      'campaign.rebuilt',
    );
    deps.onRebuilt?.(ref);
    return result;
  }

  async function ensure(ref: CampaignRef, config: CampaignConfig): Promise<void> {
    const known = await store.hasCampaign(ref);
    const { stale } = await store.defineCampaign(ref, config, clock.now());
    if (stale) logger.warn({ tenantId: ref.tenantId, campaignId: ref.campaignId }, 'campaign.queue_stale');
    if (!known || stale) await rebuild(ref);
  }

  return {
    async start() {
      for (const c of await db.campaigns.listActive()) {
        const ref = { tenantId: c.tenantId, campaignId: c.campaignId };
        live.set(key(ref), { ref, config: c.config });
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
            live.set(k, { ref, config: c.config });
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
    async define(ref, config) {
      live.set(key(ref), { ref, config });
      await ensure(ref, config);
      deps.onDefined?.(ref);
    },
    forget(ref) {
      if (live.delete(key(ref))) deps.onForgotten?.(ref);
    },
    rebuild,
    recover(ref) {
      const k = key(ref);
      let p = recovering.get(k);
      if (!p) {
        p = (async () => {
          const entry =
            live.get(k) ??
            (await db.campaigns
              .get(ref.tenantId, ref.campaignId)
              .then((c) => (c && c.status === 'active' ? { ref, config: c.config } : undefined)));
          if (!entry) return;
          logger.warn({ tenantId: ref.tenantId, campaignId: ref.campaignId }, 'campaign.lost_by_engine');
          await store.defineCampaign(ref, entry.config, clock.now());
          await rebuild(ref);
          live.set(k, entry);
        })().finally(() => recovering.delete(k));
        recovering.set(k, p);
      }
      return p;
    },
  };
}
