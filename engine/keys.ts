// Every Redis key name the engine uses is built here. A campaign's keys share the hash tag
// `{c:<tenant>:<campaign>}`, so one campaign lives on one Redis Cluster slot and a script may
// touch all of them; campaigns spread across the cluster. Scripts build the per-bucket keys from
// `base` with the same suffixes (redis/lua/includes/keys.lua), checked by a unit test.
import type { CampaignRef } from './ids.js';

export interface CampaignKeys {
  /** Prefix shared by every key of the campaign; ends with ':' */
  readonly base: string;
  /** hash: config (policies `o:<code>`, window JSON, version, epoch, counters) */
  readonly cfg: string;
  /** hash: zone key -> zone index */
  readonly zones: string;
  /** hash: zone index -> zone key */
  readonly zoneNames: string;
  /** hash: zone index -> encoded calling-window intervals */
  readonly windows: string;
  /** zset: scheduled members by due time (ms) */
  readonly scheduled: string;
  /** set: agents that have pinned callbacks */
  readonly pinnedAgents: string;
  /** hash: lease counter -> lease record (live and tombstones) */
  readonly leases: string;
  /**
   * zset: every lease counter by time: a live lease by its expiry (ms), a tombstone
   * (expired-and-requeued, revoked, void, done) by TOMBSTONE_BAND + its purge time (ms)
   */
  readonly leaseExpiry: string;
  /** zset: legacy tombstones (written before they moved into leaseExpiry); only purged now */
  readonly tombstones: string;
  /**
   * zset: ready agents by idle-since (ms); an agent that was granted a lease sits in the busy
   * band, AGENT_BUSY_BAND + the lease's counter, and is busy while that lease is live
   */
  readonly agents: string;
  /** hash: ready agent -> device */
  readonly agentDevices: string;
  /** hash: agent -> field of a lease a rebuild attached to it (busy while that lease is live) */
  readonly agentLeases: string;
  /**
   * hash: lead member -> counter of its lease once that lease is no longer live but still the
   * lead's (expired-and-requeued, void, revoked) and of adopted/attached leases; a live lease is
   * found from its lead through leaseExpiry
   */
  readonly leaseOf: string;
  /** set: phone digits this campaign must never queue again (do-not-call, erased) */
  readonly suppressed: string;
  /** hash: zone index -> encoded calling-rule limits (engine/calling-rules.ts; lua/includes/rules.lua) */
  readonly zoneLimits: string;
  /** hash: phone digits -> the number's call history under the calling rules */
  readonly numberHistory: string;
  /** string: the token of the process rebuilding the campaign (a lock with an expiry; one rebuild at a time) */
  readonly rebuildLock: string;
  /** zset: ready members of one zone, by order score */
  ready(zoneIndex: number): string;
  /** zset: an agent's pinned callbacks by due time */
  pinned(agentId: string): string;
  /** hash: member -> packed lead record, for one bucket of members */
  records(bucket: number): string;
  /** hash: phone digits -> member, for one bucket of phones (cfg pb of them; lua/includes/keys.lua) */
  phoneBucket(bucket: number): string;
  /** hash: phone digits -> member, by the last 4 digits (campaigns created before pb existed) */
  phones(bucket: string): string;
}

/** Tombstones sit in leaseExpiry at this score plus their purge time (ms): above every expiry. */
export const TOMBSTONE_BAND = 2 ** 50;

/** An agent holding a lease sits in the agents zset at this score plus the lease's counter. */
export const AGENT_BUSY_BAND = 2 ** 50;

export function campaignKeys(prefix: string, ref: CampaignRef): CampaignKeys {
  const base = `${prefix}{c:${ref.tenantId}:${ref.campaignId}}:`;
  return {
    base,
    cfg: `${base}cfg`,
    zones: `${base}tz`,
    zoneNames: `${base}tzn`,
    windows: `${base}tw`,
    scheduled: `${base}s`,
    pinnedAgents: `${base}pa`,
    leases: `${base}l`,
    leaseExpiry: `${base}lx`,
    tombstones: `${base}lt`,
    agents: `${base}a`,
    agentDevices: `${base}ad`,
    agentLeases: `${base}al`,
    leaseOf: `${base}lm`,
    suppressed: `${base}x`,
    zoneLimits: `${base}tl`,
    numberHistory: `${base}nh`,
    rebuildLock: `${base}rb`,
    ready: (zoneIndex) => `${base}r:${zoneIndex}`,
    pinned: (agentId) => `${base}p:${agentId}`,
    records: (bucket) => `${base}d:${bucket}`,
    phoneBucket: (bucket) => `${base}h:${bucket}`,
    phones: (bucket) => `${base}n:${bucket}`,
  };
}

export interface CachedCampaignKeys {
  readonly keys: CampaignKeys;
  /** campaignKeySet(keys): what every script takes as KEYS. */
  readonly set: readonly string[];
}

/**
 * Each campaign's keys and key set, built once per campaign instead of once per script call (in
 * the loop bench's open loop, campaignKeys was 2.9 % of the gateway's allocation). Looked up by
 * tenant then campaign, so a hit allocates nothing. Bounded: past `limit` campaigns it starts
 * again empty.
 */
export class CampaignKeyCache {
  readonly #byTenant = new Map<string, Map<string, CachedCampaignKeys>>();
  #size = 0;

  constructor(
    readonly prefix: string,
    readonly limit = 10_000,
  ) {}

  get(ref: CampaignRef): CachedCampaignKeys {
    let campaigns = this.#byTenant.get(ref.tenantId);
    const hit = campaigns?.get(ref.campaignId);
    if (hit) return hit;
    if (this.#size >= this.limit) {
      this.#byTenant.clear();
      this.#size = 0;
      campaigns = undefined;
    }
    if (!campaigns) {
      campaigns = new Map();
      this.#byTenant.set(ref.tenantId, campaigns);
    }
    const keys = campaignKeys(this.prefix, ref);
    const entry = { keys, set: Object.freeze(campaignKeySet(keys)) };
    campaigns.set(ref.campaignId, entry);
    this.#size++;
    return entry;
  }

  /** How many campaigns it holds. */
  get size(): number {
    return this.#size;
  }
}

/** Pattern matching every key of a campaign (for SCAN when dropping it). */
export function campaignKeyPattern(prefix: string, ref: CampaignRef): string {
  const escape = (s: string) => s.replace(/[*?[\]\\]/g, (c) => `\\${c}`);
  return `${escape(prefix)}\\{c:${ref.tenantId}:${ref.campaignId}\\}:*`;
}

/** The campaign key set scripts take as KEYS[1..14], in the order redis/lua/includes/campaign-keys.lua binds. */
export const CAMPAIGN_KEY_SET = [
  'cfg',
  'zones',
  'zoneNames',
  'windows',
  'scheduled',
  'pinnedAgents',
  'leases',
  'leaseExpiry',
  'tombstones',
  'agents',
  'agentDevices',
  'agentLeases',
  'leaseOf',
  'suppressed',
] as const satisfies readonly (keyof CampaignKeys)[];

export function campaignKeySet(k: CampaignKeys): string[] {
  return CAMPAIGN_KEY_SET.map((name) => k[name]);
}

/**
 * string: a number's tenant-wide gap reservation (gateway/calls/tenant-gap.ts): the lease id of
 * the call that reserved it, expiring when the gap of that call's rules ends. The hash tag
 * `{t:<tenant>}` puts every campaign's reservation of the tenant's numbers on one Redis Cluster
 * slot, so one SET decides between two campaigns whatever slots the campaigns live on.
 */
export function tenantGapKey(prefix: string, tenantId: string, phoneDigits: string): string {
  return `${prefix}{t:${tenantId}}:gap:${phoneDigits}`;
}

/**
 * sorted set: the gateways alive (gateway/gateway-registry.ts), member the gateway's id, score
 * when its registration expires (epoch ms, Redis's clock). One key for the whole deployment, not
 * per campaign: its hash tag `{gateways}` names one Redis Cluster slot, and every command on it
 * names only it.
 */
export function gatewayRegistryKey(prefix: string): string {
  return `${prefix}{gateways}`;
}
