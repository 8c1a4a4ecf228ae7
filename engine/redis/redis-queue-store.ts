// The Redis QueueStore: each operation is one Lua script call (see ./lua), so each is atomic on
// the campaign's slot. Commands issued in the same tick are pipelined by node-redis; batch
// operations (dispatch, claim, apply, extend) carry many items per script call. Lease ids are
// formatted and signed here (engine/lease.ts) from what the scripts return.
import { randomUUID } from 'node:crypto';
import { createClient, createCluster } from '@redis/client';
import calculateSlot from 'cluster-key-slot';
import type { CampaignConfig } from '../campaign.js';
import { callingWindowSchema } from '../calling-window.js';
import {
  callingRulesSchema,
  computeZone,
  decodeHistory,
  lockoutOutcomes,
  NO_RULES,
  zonePlanArg,
} from '../calling-rules.js';
import type { CallingRules } from '../calling-rules.js';
import type { CallingWindow, ZoneKey } from '../calling-window.js';
import { decodeCompletionResult } from '../completion.js';
import { encodePolicy } from '../disposition.js';
import { prepareBatch } from '../enqueue-batch.js';
import {
  codeFromStatus,
  EngineError,
  errorFromStatus,
  SCRIPT_STATUS,
  STATUS_DUPLICATE,
  STATUS_OK,
} from '../errors.js';
import type { AgentId, CampaignRef, DeviceId, LeadId, TenantId } from '../ids.js';
import { AGENT_BUSY_BAND, CampaignKeyCache, campaignKeyPattern } from '../keys.js';
import type { CampaignKeys } from '../keys.js';
import { decodeLeadRecord, RECORD_BUCKET_SIZE } from '../lead.js';
import type { LeadInput } from '../lead.js';
import {
  counterOfField,
  decodeLeaseRecord,
  LEASE_REPLY_FIELDS,
  leaseFromReply,
  LIVE_STATES,
  PHASE_OF_STATE,
  processLeaseIds,
  randomEpoch,
} from '../lease.js';
import type { Lease, LeaseId, LeaseIds, LeaseRecordState } from '../lease.js';
import type {
  CommittedCompletion,
  Completion,
  CompletionInput,
  DefineResult,
  Dispatched,
  EnqueueResult,
  ExpiredLease,
  RebuildOptions,
  ItemResult,
  LeadUpdateResult,
  LeaseExtension,
  LeaseRef,
  LeaseView,
  OrphanCompletion,
  PhaseChange,
  QueueSnapshot,
  QueueStats,
  QueueStore,
  ReadyAgent,
  ReadyAndDispatched,
  RebuildResult,
  ReclaimedLease,
  RemovedLead,
  UnsuppressResult,
  RestoredCalls,
} from '../queue-store.js';
import { REBUILD_WAITED } from '../queue-store.js';
import {
  checkAgents,
  checkCommit,
  checkHeld,
  checkCompletion,
  checkLeaseRef,
  checkPhones,
  checkSession,
  checkTtl,
  groupByCampaign,
} from '../store-input.js';
import type { CheckedCommit, CheckedCompletion } from '../store-input.js';
import { followFailovers } from './cluster-failover.js';
import { checkEvictionPolicy } from './eviction-policy.js';
import { buildScripts } from './scripts.js';
import type { ScriptArg, ScriptName } from './scripts.js';

/** rebuildReset's answer when a rebuild ended after the caller saw the need for its own. */
const REBUILT_SINCE = -100;

export interface RedisQueueStoreOptions {
  /** redis://host:port; default redis://127.0.0.1:6379 */
  readonly url?: string;
  /**
   * Redis Cluster: redis:// URLs of some of its nodes (the client finds the rest). A campaign's
   * keys carry one hash tag, so each script runs on the one node that owns the campaign's slot.
   * When given, `url` and `database` are not used.
   */
  readonly clusterNodes?: readonly string[];
  /**
   * Refuse to start unless every node's maxmemory-policy cannot evict queue keys
   * (eviction-policy.ts). Default true.
   */
  readonly checkEvictionPolicy?: boolean;
  readonly database?: number;
  /** Prefix of every key (isolates deployments and test files); default 'dh:' */
  readonly keyPrefix?: string;
  /** How long done and expired leases are remembered (duplicate / late completions). Default 15 min. */
  readonly tombstoneRetentionMs?: number;
  /** Due scheduled leads promoted inside each lease/dispatch before picking. Default 256. */
  readonly promoteInline?: number;
  /** Epoch generator for new campaigns (tests pin it). */
  readonly newEpoch?: () => string;
  /** Lease id signing, shared by every gateway of a deployment; default a key of this process. */
  readonly leaseIds?: LeaseIds;
  /**
   * A command Redis has not answered after this long fails (ms), and commands fail at once while
   * the connection is down rather than queueing without bound: callers answer with a retryable
   * error. Default 5000; 0 waits for ever.
   */
  readonly commandTimeoutMs?: number;
}

function newClient(url: string, database: number | undefined, commandTimeoutMs: number) {
  return createClient({
    url,
    ...(database === undefined ? {} : { database }),
    scripts: buildScripts(),
    disableOfflineQueue: commandTimeoutMs > 0,
    ...(commandTimeoutMs > 0 ? { commandOptions: { timeout: commandTimeoutMs } } : {}),
  });
}

type Client = ReturnType<typeof newClient>;

/** The store's cluster client; like every cluster client of ours it follows failovers. */
function newCluster(nodes: readonly string[], commandTimeoutMs: number) {
  const cluster = createCluster({
    rootNodes: nodes.map((url) => ({ url })),
    defaults: { disableOfflineQueue: commandTimeoutMs > 0 },
    scripts: buildScripts(),
  });
  followFailovers(cluster, nodes);
  return cluster;
}

type ClusterClient = ReturnType<typeof newCluster>;

interface CachedConfig {
  readonly version: string;
  readonly window: CallingWindow;
  readonly rules: CallingRules;
}

/**
 * cfg `win`: the window and calling rules as JSON, read back to compute zone plans. Campaigns
 * defined before calling rules hold the bare window.
 */
function parseStoredPlan(json: string): { window: CallingWindow; rules: CallingRules } {
  const parsed = JSON.parse(json) as Record<string, unknown>;
  if ('window' in parsed) {
    return {
      window: callingWindowSchema.parse(parsed.window),
      rules: callingRulesSchema.parse(parsed.callingRules ?? {}),
    };
  }
  return { window: callingWindowSchema.parse(parsed), rules: NO_RULES };
}

/** Histories looked at per trimHistory script call (HSCAN COUNT). */
const TRIM_SCAN_COUNT = 500;
/** Numbers per restoreHistory call (a rebuild restores a campaign's in chunks). */
const RESTORE_CHUNK = 1_000;
const timesArg = (ts: readonly number[]): string => ts.map((t) => String(Math.trunc(t))).join(',');

const DEFAULT_RETENTION_MS = 15 * 60_000;

export async function createRedisQueueStore(options: RedisQueueStoreOptions = {}): Promise<RedisQueueStore> {
  const timeoutMs = options.commandTimeoutMs ?? 5_000;
  let store: RedisQueueStore;
  if (options.clusterNodes && options.clusterNodes.length > 0) {
    const cluster = newCluster(options.clusterNodes, timeoutMs);
    cluster.on('error', () => undefined); // reconnects on its own; callers see failed commands
    await cluster.connect();
    // The cluster client has the single-node client's typed commands, each routed to the node
    // owning its first key; the few that differ (TIME, SCAN, closing) go through `cluster`.
    store = new RedisQueueStore(cluster as unknown as Client, options, cluster);
  } else {
    const client = newClient(options.url ?? 'redis://127.0.0.1:6379', options.database, timeoutMs);
    client.on('error', () => undefined); // reconnects on its own; callers see failed commands
    await client.connect();
    store = new RedisQueueStore(client, options);
  }
  if (options.checkEvictionPolicy !== false) {
    try {
      await store.checkEvictionPolicy();
    } catch (err) {
      await store.close();
      throw err;
    }
  }
  return store;
}

const asArray = (reply: unknown): unknown[] => reply as unknown[];

const STATE_OF_LETTER: Record<string, 'offered' | 'accepted'> = { o: 'offered' };

/** A rebuild's lock lives this long (ms) past its last sign of life (each chunk read). */
const REBUILD_LOCK_MS = 30_000;
/** How often a gateway waiting for another's rebuild looks whether it ended (ms). */
const REBUILD_WAIT_MS = 50;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Script faults mark a campaign stale at most this often (see RedisQueueStore#scriptFault). */
const SCRIPT_FAULT_COOLDOWN_MS = 60_000;

export class RedisQueueStore implements QueueStore {
  readonly kind = 'redis' as const;
  readonly #client: Client;
  readonly #cluster: ClusterClient | undefined;
  readonly #prefix: string;
  readonly #keyCache: CampaignKeyCache;
  readonly #retention: number;
  readonly #promoteInline: number;
  readonly #newEpoch: () => string;
  readonly #ids: LeaseIds;
  readonly #timeoutMs: number;
  readonly #configs = new Map<string, CachedConfig>();
  /** When each campaign was last marked stale for a script fault (see #scriptFault). */
  readonly #faultedAt = new Map<string, number>();

  constructor(client: Client, options: RedisQueueStoreOptions, cluster?: ClusterClient) {
    this.#client = client;
    this.#cluster = cluster;
    this.#timeoutMs = options.commandTimeoutMs ?? 5_000;
    this.#prefix = options.keyPrefix ?? 'dh:';
    this.#keyCache = new CampaignKeyCache(this.#prefix);
    this.#retention = options.tombstoneRetentionMs ?? DEFAULT_RETENTION_MS;
    // A tombstone must outlive the call that writes it (reclaim purges in the same step).
    if (!Number.isInteger(this.#retention) || this.#retention < 1_000) {
      throw new RangeError('tombstoneRetentionMs must be an integer of at least 1000');
    }
    this.#promoteInline = options.promoteInline ?? 256;
    this.#newEpoch = options.newEpoch ?? randomEpoch;
    this.#ids = options.leaseIds ?? processLeaseIds();
  }

  /** The underlying client, for the server clock (TIME) and health checks. */
  get client(): Client {
    return this.#client;
  }

  get leaseIds(): LeaseIds {
    return this.#ids;
  }

  /** The prefix of every key of this store (keys.ts), for keys kept beside the queue's. */
  get keyPrefix(): string {
    return this.#prefix;
  }

  async serverTime(): Promise<readonly [number, number]> {
    const reply = (this.#cluster
      ? await this.#cluster.sendCommand(undefined, true, ['TIME'])
      : await this.#client.sendCommand(['TIME'])) as unknown as [string, string];
    return [Number(reply[0]), Number(reply[1])];
  }

  /** Whether this store runs on a Redis Cluster. */
  get clustered(): boolean {
    return this.#cluster !== undefined;
  }

  /** Every master's maxmemory-policy must keep queue keys (eviction-policy.ts); throws otherwise. */
  async checkEvictionPolicy(): Promise<void> {
    if (!this.#cluster) {
      const { host, port } = this.#client.options?.socket as { host?: string; port?: number };
      checkEvictionPolicy(`${host ?? '?'}:${port ?? '?'}`, await this.#client.info('memory'));
      return;
    }
    for (const master of this.#cluster.masters) {
      const node = await this.#cluster.nodeClient(master);
      checkEvictionPolicy(`${master.host}:${master.port}`, await node.info('memory'));
    }
  }

  /**
   * SCAN for a campaign's keys: on a cluster, only the master owning the campaign's slot holds
   * them (one hash tag), so only it is scanned.
   */
  async *#scan(ref: CampaignRef, match: string): AsyncGenerator<string[]> {
    const node = this.#cluster
      ? await this.#cluster.nodeClient(this.#cluster.getSlotMaster(calculateSlot(this.#keys(ref).cfg)))
      : this.#client;
    for await (const keys of node.scanIterator({ MATCH: match, COUNT: 1000 })) yield keys;
  }

  #keys(ref: CampaignRef): CampaignKeys {
    return this.#keyCache.get(ref).keys;
  }

  async #campaign(name: ScriptName, ref: CampaignRef, args: readonly ScriptArg[]): Promise<unknown> {
    const call = this.#client[name](this.#keyCache.get(ref).set, args);
    if (this.#timeoutMs <= 0) return call;
    // node-redis times a command out only while it waits to be written; a server that stops
    // answering after it was sent would hold the caller for ever. The script may still run: every
    // operation a caller retries after a timeout is idempotent (or fenced by its lease id).
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            Object.assign(new Error(`Redis did not answer ${name} within ${this.#timeoutMs} ms`), {
              name: 'TimeoutError',
            }),
          ),
        this.#timeoutMs,
      );
    });
    try {
      return await Promise.race([call, timeout]);
    } catch (err) {
      throw await this.#scriptFault(name, ref, err);
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * A script that fails at run time (not with one of its status codes) met data it cannot read:
   * a campaign's keys partly deleted by hand, a broken restore, a key evicted despite the
   * documented noeviction. Retrying cannot help, and every later call would fail the same way, so
   * the campaign is marked stale: the gateway rebuilds it from Postgres, as after a Redis restart.
   * At most once a minute per campaign, so a script bug cannot turn into a rebuild loop (the raw
   * error is passed on, answered INTERNAL).
   */
  async #scriptFault(name: ScriptName, ref: CampaignRef, err: unknown): Promise<unknown> {
    const message = err instanceof Error ? err.message : '';
    if (!/user_script|Error running script|attempt to /.test(message)) return err;
    const k = this.#keys(ref);
    const now = Date.now();
    const last = this.#faultedAt.get(k.base);
    if (last !== undefined && now - last < SCRIPT_FAULT_COOLDOWN_MS) return err;
    this.#faultedAt.set(k.base, now);
    try {
      // Only a campaign that still has its config can be stale; without it the next call says
      // CAMPAIGN_UNKNOWN and the gateway rebuilds anyway.
      if ((await this.#client.exists(k.cfg)) === 1) await this.#client.hSet(k.cfg, 'stale', '1');
    } catch {
      return err;
    }
    this.#configs.delete(k.base);
    return new EngineError('CAMPAIGN_STALE', `${name} failed on damaged campaign data; rebuilding`, {
      campaignId: ref.campaignId,
    });
  }

  #leaseId(ref: CampaignRef, epoch: string, field: string, leadId: string, agentId: string): LeaseId {
    return this.#ids.format({
      tenantId: ref.tenantId,
      campaignId: ref.campaignId,
      epoch,
      counter: counterOfField(field),
      leadId,
      agentId,
    });
  }

  async #config(ref: CampaignRef, refresh = false): Promise<CachedConfig> {
    const k = this.#keys(ref);
    const cached = this.#configs.get(k.base);
    if (cached && !refresh) return cached;
    const [version, win] = await this.#client.hmGet(k.cfg, ['v', 'win']);
    if (!version || !win)
      throw new EngineError('CAMPAIGN_UNKNOWN', undefined, { campaignId: ref.campaignId });
    const config = { version, ...parseStoredPlan(win) };
    this.#configs.set(k.base, config);
    return config;
  }

  async defineCampaign(ref: CampaignRef, config: CampaignConfig, now: number): Promise<DefineResult> {
    const k = this.#keys(ref);
    const zones = Object.keys(await this.#client.hGetAll(k.zones)) as ZoneKey[];
    const policies = Object.entries(config.dispositions);
    const rules = config.callingRules ?? NO_RULES;
    const lockouts = lockoutOutcomes(rules);
    const plan = JSON.stringify({ window: config.window, callingRules: rules });
    const args: ScriptArg[] = [this.#newEpoch(), plan, policies.length];
    // The lockout flag rides on the outcome's policy (includes/disposition.lua).
    for (const [code, policy] of policies)
      args.push(code, encodePolicy(policy) + (lockouts.has(code) ? ',1' : ''));
    args.push(zones.length);
    for (const zone of zones) args.push(zone, zonePlanArg(computeZone(config.window, rules, zone, now)));
    const [version, , closed, stale] = asArray(await this.#campaign('defineCampaign', ref, args));
    this.#configs.set(k.base, { version: String(version), window: config.window, rules });
    if (Number(closed) > 0) await this.refreshWindows(ref, now);
    return { stale: Number(stale) === 1 };
  }

  async dropCampaign(ref: CampaignRef): Promise<void> {
    const k = this.#keys(ref);
    this.#configs.delete(k.base);
    // Every key it may hold is known from its config and indexes: no SCAN (redis/lua/dropCampaign.lua).
    await this.#campaign('dropCampaign', ref, [k.base]);
  }

  async hasCampaign(ref: CampaignRef): Promise<boolean> {
    return (await this.#client.exists(this.#keys(ref).cfg)) === 1;
  }

  async rebuilds(ref: CampaignRef): Promise<number | null> {
    const [seq, rg] = await this.#client.hmGet(this.#keys(ref).cfg, ['seq', 'rg']);
    return seq === null || seq === undefined ? null : Number(rg ?? 0);
  }

  async enqueue(ref: CampaignRef, leads: readonly LeadInput[], now: number): Promise<EnqueueResult> {
    for (let attempt = 0; ; attempt++) {
      const config = await this.#config(ref, attempt > 0);
      const batch = prepareBatch(leads, config.window, now, config.rules);
      const args: ScriptArg[] = [this.#keys(ref).base, now, config.version, batch.zones.length];
      for (const [zone, plan] of batch.zones) args.push(zone, zonePlanArg(plan));
      args.push(batch.leads.length);
      for (const p of batch.leads) {
        const l = p.lead;
        args.push(
          l.id,
          p.phoneDigits,
          l.name,
          p.zoneRef + 1,
          l.priority,
          l.dueAt ?? '',
          l.attempts,
          l.pinnedAgentId ?? '',
          p.fieldsJson,
        );
      }
      const reply = await this.#campaign('enqueue', ref, args);
      if (reply === SCRIPT_STATUS.CONFIG_STALE && attempt < 3) continue;
      if (typeof reply === 'number') throw errorFromStatus(reply, { campaignId: ref.campaignId });
      const [queued, dupCount, alreadyCount, ...skipped] = asArray(reply).map(Number);
      const idOf = (i: number) => batch.leads[i - 1]!.lead.id;
      return {
        enqueued: queued!,
        duplicates: skipped.slice(0, dupCount).map(idOf),
        alreadyQueued: skipped.slice(dupCount, dupCount! + alreadyCount!).map(idOf),
        suppressed: skipped.slice(dupCount! + alreadyCount!).map(idOf),
      };
    }
  }

  async updateLead(ref: CampaignRef, phone: string, lead: LeadInput, now: number): Promise<LeadUpdateResult> {
    const [oldDigits] = checkPhones([phone]);
    for (let attempt = 0; ; attempt++) {
      const config = await this.#config(ref, attempt > 0);
      const batch = prepareBatch([lead], config.window, now, config.rules);
      const p = batch.leads[0]!;
      const [zone, plan] = batch.zones[0]!;
      const reply = await this.#campaign('updateLead', ref, [
        this.#keys(ref).base,
        now,
        config.version,
        zone,
        zonePlanArg(plan),
        oldDigits!,
        p.lead.id,
        p.phoneDigits,
        p.lead.name,
        p.lead.priority,
        p.lead.dueAt ?? '',
        p.lead.pinnedAgentId ?? '',
        p.fieldsJson,
      ]);
      if (reply === SCRIPT_STATUS.CONFIG_STALE && attempt < 3) continue;
      if (typeof reply === 'number') throw errorFromStatus(reply, { campaignId: ref.campaignId });
      return String(reply) as LeadUpdateResult;
    }
  }

  async setAgentsReady(
    ref: CampaignRef,
    agents: readonly ReadyAgent[],
    now: number,
  ): Promise<readonly ItemResult<{ agentId: AgentId }>[]> {
    checkAgents(agents);
    const args: ScriptArg[] = [now];
    for (const a of agents) args.push(a.agentId, a.deviceId, a.session ?? '');
    const reply = await this.#campaign('setAgentsReady', ref, args);
    if (typeof reply === 'number') throw errorFromStatus(reply, { campaignId: ref.campaignId });
    return asArray(reply).map((s, i) => {
      const agentId = agents[i]!.agentId;
      return s === STATUS_OK ? { ok: true, agentId } : itemError(Number(s));
    });
  }

  async setAgentNotReady(ref: CampaignRef, agentId: AgentId, session?: string): Promise<boolean> {
    checkSession(session);
    return (await this.#campaign('setAgentNotReady', ref, [agentId, session ?? ''])) === 1;
  }

  async lease(ref: CampaignRef, agent: ReadyAgent, now: number, offerTtlMs: number): Promise<Lease | null> {
    checkAgents([agent]);
    checkTtl(offerTtlMs, 'offerTtlMs');
    const reply = await this.#campaign('leaseNext', ref, [
      this.#keys(ref).base,
      now,
      offerTtlMs,
      agent.agentId,
      agent.deviceId,
      this.#promoteInline,
    ]);
    if (typeof reply === 'number') throw errorFromStatus(reply, { campaignId: ref.campaignId });
    const f = asArray(reply);
    return f.length > 1 ? leaseFromReply(this.#ids, ref.tenantId, ref.campaignId, String(f[0]), f, 1) : null;
  }

  async dispatch(ref: CampaignRef, now: number, maxPairs: number, offerTtlMs: number): Promise<Dispatched> {
    const { leases, nextOpenAt } = await this.readyAndDispatch(ref, [], now, maxPairs, offerTtlMs);
    return { leases, nextOpenAt };
  }

  async readyAndDispatch(
    ref: CampaignRef,
    agents: readonly ReadyAgent[],
    now: number,
    maxPairs: number,
    offerTtlMs: number,
  ): Promise<ReadyAndDispatched> {
    checkTtl(offerTtlMs, 'offerTtlMs');
    checkAgents(agents);
    if (!Number.isInteger(maxPairs) || maxPairs < 1)
      throw new RangeError('maxPairs must be a positive integer');
    const args: ScriptArg[] = [
      this.#keys(ref).base,
      now,
      offerTtlMs,
      maxPairs,
      this.#promoteInline,
      agents.length,
    ];
    for (const a of agents) args.push(a.agentId, a.deviceId, a.session ?? '');
    const reply = await this.#campaign('dispatch', ref, args);
    if (typeof reply === 'number') throw errorFromStatus(reply, { campaignId: ref.campaignId });
    const f = asArray(reply);
    const epoch = String(f[0]);
    const nextOpenAt = f[1] === '' ? null : Number(f[1]);
    const ready = agents.map((a, i): ItemResult<{ agentId: AgentId }> =>
      Number(f[2 + i]) === STATUS_OK ? { ok: true, agentId: a.agentId } : itemError(Number(f[2 + i])),
    );
    const leases: Lease[] = [];
    for (let o = 2 + agents.length; o < f.length; o += LEASE_REPLY_FIELDS) {
      leases.push(leaseFromReply(this.#ids, ref.tenantId, ref.campaignId, epoch, f, o));
    }
    return { ready, leases, nextOpenAt };
  }

  async accept(tenantId: TenantId, lease: LeaseRef, now: number, ttlMs: number): Promise<LeaseExtension> {
    const [res] = await this.acceptMany(tenantId, [lease], now, ttlMs);
    if (!res!.ok) throw new EngineError(res!.code, undefined, { leaseId: lease.leaseId });
    return { leaseId: res!.leaseId, expiresAt: res!.expiresAt };
  }

  acceptMany(
    tenantId: TenantId,
    leases: readonly LeaseRef[],
    now: number,
    ttlMs: number,
  ): Promise<readonly ItemResult<LeaseExtension>[]> {
    return this.#renew('accept', tenantId, leases, now, ttlMs);
  }

  extend(
    tenantId: TenantId,
    leases: readonly LeaseRef[],
    now: number,
    ttlMs: number,
  ): Promise<readonly ItemResult<LeaseExtension>[]> {
    return this.#renew('extend', tenantId, leases, now, ttlMs);
  }

  setPhase(
    tenantId: TenantId,
    changes: readonly PhaseChange[],
    now: number,
    ttlMs: number,
  ): Promise<readonly ItemResult<LeaseExtension>[]> {
    return this.#renew('phase', tenantId, changes, now, ttlMs);
  }

  expire(
    tenantId: TenantId,
    leases: readonly LeaseRef[],
    now: number,
  ): Promise<readonly ItemResult<LeaseExtension>[]> {
    return this.#renew('expire', tenantId, leases, now, 1);
  }

  /** Accept, extend, advance or expire: one script call per campaign, one result per lease, in order. */
  async #renew(
    mode: 'accept' | 'extend' | 'expire' | 'phase',
    tenantId: TenantId,
    leases: readonly (LeaseRef & { phase?: PhaseChange['phase'] })[],
    now: number,
    ttlMs: number,
  ): Promise<readonly ItemResult<LeaseExtension>[]> {
    checkTtl(ttlMs, 'ttlMs');
    const results = new Array<ItemResult<LeaseExtension>>(leases.length);
    const checked = leases.map((l) => {
      try {
        const phase = l.phase === 'on_call' ? 'n' : l.phase === 'wrap_up' ? 'w' : '';
        return { ...checkLeaseRef(tenantId, l.leaseId), agentId: l.agentId, leaseId: l.leaseId, phase };
      } catch (err) {
        return err as EngineError;
      }
    });
    checked.forEach((c, i) => {
      if (c instanceof EngineError) results[i] = { ok: false, code: c.code, message: c.message };
    });
    await Promise.all(
      groupByCampaign(checked).map(async ({ ref, entries }) => {
        const args: ScriptArg[] = [this.#keys(ref).base, mode, now, ttlMs, entries.length];
        for (const { item } of entries)
          args.push(item.lease.epoch, item.lease.counter, item.agentId, item.phase);
        const f = asArray(await this.#campaign('renewLeases', ref, args));
        if (typeof (f as unknown) === 'number') {
          for (const { index } of entries) results[index] = itemError(f as unknown as number);
          return;
        }
        entries.forEach(({ index, item }, j) => {
          const status = Number(f[j * 2]);
          results[index] =
            status === STATUS_OK
              ? { ok: true, leaseId: item.leaseId as LeaseId, expiresAt: Number(f[j * 2 + 1]) }
              : itemError(status);
        });
      }),
    );
    return results;
  }

  async reject(tenantId: TenantId, lease: LeaseRef, _now: number): Promise<void> {
    const { ref, lease: id } = checkLeaseRef(tenantId, lease.leaseId);
    const status = Number(
      await this.#campaign('rejectLease', ref, [this.#keys(ref).base, id.epoch, id.counter, lease.agentId]),
    );
    if (status !== STATUS_OK) throw errorFromStatus(status, { leaseId: lease.leaseId });
  }

  complete(
    tenantId: TenantId,
    items: readonly CompletionInput[],
    now: number,
  ): Promise<readonly ItemResult<Completion>[]> {
    return this.#claim(tenantId, items, now, 'direct', this.#retention);
  }

  claimCompletions(
    tenantId: TenantId,
    items: readonly CompletionInput[],
    now: number,
    holdMs: number,
  ): Promise<readonly ItemResult<Completion>[]> {
    checkTtl(holdMs, 'holdMs');
    return this.#claim(tenantId, items, now, 'claim', holdMs);
  }

  #claim(
    tenantId: TenantId,
    items: readonly CompletionInput[],
    now: number,
    mode: 'claim' | 'direct',
    span: number,
  ): Promise<readonly ItemResult<Completion>[]> {
    return this.#perCampaign<CheckedCompletion>(
      items.map((item) => checkCompletion(tenantId, item, now)),
      'claimLeases',
      (ref, list) => {
        const args: ScriptArg[] = [this.#keys(ref).base, now, mode, span, list.length];
        for (const item of list) {
          args.push(
            item.lease.epoch,
            item.lease.counter,
            item.agentId,
            item.outcome,
            item.callback ? item.callback.at : '',
            item.callback ? item.callback.scope : '',
            item.completedAt,
          );
        }
        return args;
      },
      (f, j, item) => completionResult(item.leaseId, f, j * 3),
    );
  }

  adoptCompletions(
    tenantId: TenantId,
    items: readonly OrphanCompletion[],
    now: number,
    holdMs: number,
  ): Promise<readonly ItemResult<Completion>[]> {
    checkTtl(holdMs, 'holdMs');
    const checked = items.map((item) => {
      const c = checkCompletion(tenantId, item, now);
      if (c instanceof EngineError) return c;
      // Only a lease this deployment granted to this agent for this lead is adopted.
      if (!this.#ids.verify(item.leaseId, tenantId, item.agentId) || c.lease.leadId !== item.leadId) {
        return new EngineError('LEASE_UNKNOWN', undefined, { leaseId: item.leaseId.slice(0, 100) });
      }
      try {
        checkAgents([{ agentId: item.agentId, deviceId: item.deviceId }]);
        const [digits] = checkPhones([item.phone]);
        return { ...c, deviceId: item.deviceId, leadId: item.leadId, digits: digits! };
      } catch (err) {
        return err as EngineError;
      }
    });
    return this.#perCampaign(
      checked,
      'adoptLeases',
      (ref, list) => {
        const args: ScriptArg[] = [this.#keys(ref).base, now, holdMs, list.length];
        for (const item of list) {
          args.push(
            item.lease.epoch,
            item.lease.counter,
            item.leadId,
            item.digits,
            item.agentId,
            item.deviceId,
            item.outcome,
            item.callback ? item.callback.at : '',
            item.callback ? item.callback.scope : '',
          );
        }
        for (const item of list) args.push(item.completedAt);
        return args;
      },
      (f, j, item) => completionResult(item.leaseId, f, j * 3),
    );
  }

  applyCompletions(
    tenantId: TenantId,
    items: readonly CommittedCompletion[],
    now: number,
  ): Promise<readonly ItemResult<Completion>[]> {
    return this.#perCampaign<CheckedCommit>(
      items.map((item) => checkCommit(tenantId, item)),
      'applyLeases',
      (ref, list) => {
        const args: ScriptArg[] = [this.#keys(ref).base, now, this.#retention, list.length];
        for (const item of list) args.push(item.lease.epoch, item.lease.counter, item.agentId, item.result);
        return args;
      },
      (f, j, item) => {
        const status = Number(f[j * 2]);
        return status === STATUS_OK || status === STATUS_DUPLICATE
          ? {
              ok: true,
              ...decodeCompletionResult(
                item.leaseId as LeaseId,
                String(f[j * 2 + 1]),
                status === STATUS_DUPLICATE,
                '',
              ),
            }
          : itemError(status);
      },
    );
  }

  /**
   * Run a completion script once per campaign over the items that passed their checks: `args`
   * builds the script's arguments for one campaign's items, `read` turns the flat reply into one
   * result per item. Failed checks answer their own item; order is kept.
   */
  async #perCampaign<T extends { ref: CampaignRef; leaseId: string }>(
    checked: readonly (T | EngineError)[],
    script: ScriptName,
    args: (ref: CampaignRef, items: readonly T[]) => ScriptArg[],
    read: (f: readonly unknown[], j: number, item: T) => ItemResult<Completion>,
  ): Promise<ItemResult<Completion>[]> {
    const results = new Array<ItemResult<Completion>>(checked.length);
    checked.forEach((c, i) => {
      if (c instanceof EngineError) results[i] = { ok: false, code: c.code, message: c.message };
    });
    await Promise.all(
      groupByCampaign(checked).map(async ({ ref, entries }) => {
        const items = entries.map((e) => e.item);
        const f = asArray(await this.#campaign(script, ref, args(ref, items)));
        entries.forEach(({ index, item }, j) => {
          results[index] = read(f, j, item);
        });
      }),
    );
    return results;
  }

  async expiredLeases(ref: CampaignRef, now: number, limit: number): Promise<readonly ExpiredLease[]> {
    const reply = await this.#campaign('expiredLeases', ref, [this.#keys(ref).base, now, limit]);
    if (typeof reply === 'number') throw errorFromStatus(reply, { campaignId: ref.campaignId });
    const f = asArray(reply);
    const out: ExpiredLease[] = [];
    for (let o = 1; o < f.length; o += 6) {
      const leadId = String(f[o + 4]);
      const agentId = String(f[o + 2]);
      out.push({
        leaseId: this.#leaseId(ref, String(f[o + 5]), String(f[o]), leadId, agentId),
        state: String(f[o + 1]) as LeaseRecordState,
        leadId: leadId as LeadId,
        agentId: agentId as AgentId,
        deviceId: String(f[o + 3]) as DeviceId,
      });
    }
    return out;
  }

  async peekLease(tenantId: TenantId, leaseId: string, now: number): Promise<LeaseView> {
    const { ref, lease: id } = checkLeaseRef(tenantId, leaseId);
    const f = asArray(await this.#campaign('peekLease', ref, [this.#keys(ref).base, id.epoch, id.counter]));
    const status = Number(f[0]);
    if (status !== STATUS_OK) throw errorFromStatus(status, { leaseId });
    const r = decodeLeaseRecord(String(f[1]));
    const leadId = String(f[2]);
    const live = LIVE_STATES.has(r.state) && r.at > now;
    return {
      leaseId: leaseId as LeaseId,
      state: r.state,
      live,
      phase: live ? (PHASE_OF_STATE[r.state] ?? null) : null,
      leadId: leadId === '' ? null : (leadId as LeadId),
      agentId: r.agent as AgentId,
      deviceId: r.device as DeviceId,
      at: r.at,
    };
  }

  async agentLease(ref: CampaignRef, agentId: AgentId, now: number): Promise<LeaseView | null> {
    const k = this.#keys(ref);
    const [score, attached, current] = await Promise.all([
      this.#client.zScore(k.agents, agentId),
      this.#client.hGet(k.agentLeases, agentId),
      this.#client.hGet(k.cfg, 'epoch'),
    ]);
    if (!current) throw new EngineError('CAMPAIGN_UNKNOWN', undefined, { campaignId: ref.campaignId });
    // The lease its busy score names (granted), else one a rebuild attached to it.
    return (
      (score !== null && score >= AGENT_BUSY_BAND
        ? await this.#agentLeaseView(ref, agentId, String(score - AGENT_BUSY_BAND), current, now)
        : null) ?? (attached ? await this.#agentLeaseView(ref, agentId, attached, current, now) : null)
    );
  }

  async #agentLeaseView(
    ref: CampaignRef,
    agentId: AgentId,
    field: string,
    current: string,
    now: number,
  ): Promise<LeaseView | null> {
    const k = this.#keys(ref);
    const sep = field.indexOf(':');
    const epoch = sep < 0 ? current : field.slice(0, sep);
    const f = asArray(await this.#campaign('peekLease', ref, [k.base, epoch, counterOfField(field)]));
    if (Number(f[0]) !== STATUS_OK) return null;
    const r = decodeLeaseRecord(String(f[1]));
    const leadId = String(f[2]);
    // The busy score names the agent's latest lease also once it ended: only a live one is held,
    // and not one claimed after it had freed the agent (expired and requeued, or revoked).
    const freed = r.state === 'c' && (r.aux === 'x' || r.aux === 'r');
    if (leadId === '' || r.agent !== agentId || !LIVE_STATES.has(r.state) || freed) return null;
    const live = r.at > now;
    return {
      leaseId: this.#leaseId(ref, epoch, field, leadId, agentId),
      state: r.state,
      live,
      phase: live ? (PHASE_OF_STATE[r.state] ?? null) : null,
      leadId: leadId as LeadId,
      agentId,
      deviceId: r.device as DeviceId,
      at: r.at,
    };
  }

  reclaim(
    ref: CampaignRef,
    now: number,
    limit: number,
    only?: readonly string[],
  ): Promise<readonly ReclaimedLease[]> {
    return this.#reclaim(ref, now, limit, 'expired', only);
  }

  voidClaims(ref: CampaignRef, now: number, leaseIds: readonly string[]): Promise<readonly ReclaimedLease[]> {
    if (leaseIds.length === 0) return Promise.resolve([]);
    return this.#reclaim(ref, now, leaseIds.length, 'void', leaseIds);
  }

  async #reclaim(
    ref: CampaignRef,
    now: number,
    limit: number,
    mode: 'expired' | 'void',
    only: readonly string[] | undefined,
  ): Promise<readonly ReclaimedLease[]> {
    let fields: string[] = [];
    if (only && only.length > 0) {
      const epoch = await this.#client.hGet(this.#keys(ref).cfg, 'epoch');
      if (!epoch) throw new EngineError('CAMPAIGN_UNKNOWN', undefined, { campaignId: ref.campaignId });
      fields = only.flatMap((leaseId) => {
        try {
          const id = checkLeaseRef(ref.tenantId, leaseId).lease;
          if (id.campaignId !== ref.campaignId) return [];
          return [id.epoch === epoch ? String(id.counter) : `${id.epoch}:${id.counter}`];
        } catch {
          return [];
        }
      });
    }
    const reply = await this.#campaign('reclaimLeases', ref, [
      this.#keys(ref).base,
      now,
      limit,
      this.#retention,
      mode,
      only ? 'listed' : 'all',
      ...fields,
    ]);
    if (typeof reply === 'number') throw errorFromStatus(reply, { campaignId: ref.campaignId });
    const f = asArray(reply);
    const out: ReclaimedLease[] = [];
    for (let o = 1; o < f.length; o += 6) {
      const agentId = String(f[o + 1]);
      const leadId = String(f[o + 3]);
      out.push({
        leaseId: this.#leaseId(ref, String(f[o + 5]), String(f[o]), leadId, agentId),
        agentId: agentId as AgentId,
        deviceId: String(f[o + 2]) as DeviceId,
        leadId: leadId as LeadId,
        state: STATE_OF_LETTER[String(f[o + 4])] ?? 'accepted',
      });
    }
    return out;
  }

  async promote(ref: CampaignRef, now: number, limit: number): Promise<number> {
    const reply = Number(await this.#campaign('promoteDue', ref, [this.#keys(ref).base, now, limit]));
    if (reply < 0) throw errorFromStatus(reply, { campaignId: ref.campaignId });
    return reply;
  }

  async removeNumbers(
    ref: CampaignRef,
    phones: readonly string[],
    now: number,
  ): Promise<readonly RemovedLead[]> {
    const digits = checkPhones(phones);
    const reply = await this.#campaign('removeNumbers', ref, [
      this.#keys(ref).base,
      now,
      this.#retention,
      ...digits,
    ]);
    if (typeof reply === 'number') throw errorFromStatus(reply, { campaignId: ref.campaignId });
    return this.#removedLeads(ref, asArray(reply));
  }

  /** The reply of removeNumbers and eraseNumbers: epoch, then 6 fields per lead. */
  #removedLeads(ref: CampaignRef, f: readonly unknown[]): RemovedLead[] {
    const out: RemovedLead[] = [];
    for (let o = 1; o < f.length; o += 6) {
      const field = String(f[o + 2]);
      const leadId = String(f[o + 1]);
      const agentId = String(f[o + 3]);
      out.push({
        phone: `+${String(f[o])}`,
        leadId: leadId as LeadId,
        revoked:
          field === ''
            ? null
            : {
                leaseId: this.#leaseId(ref, String(f[o + 5]), field, leadId, agentId),
                agentId: agentId as AgentId,
                deviceId: String(f[o + 4]) as DeviceId,
              },
      });
    }
    return out;
  }

  async eraseNumbers(ref: CampaignRef, phones: readonly string[]): Promise<readonly RemovedLead[]> {
    const digits = checkPhones(phones);
    const reply = await this.#campaign('eraseNumbers', ref, [this.#keys(ref).base, ...digits]);
    if (typeof reply === 'number') throw errorFromStatus(reply, { campaignId: ref.campaignId });
    return this.#removedLeads(ref, asArray(reply));
  }

  // unsuppressNumbers.lua
  async unsuppressNumbers(ref: CampaignRef, phones: readonly string[]): Promise<UnsuppressResult> {
    const digits = checkPhones(phones);
    const reply = await this.#campaign('unsuppressNumbers', ref, [this.#keys(ref).base, ...digits]);
    if (typeof reply === 'number') throw errorFromStatus(reply, { campaignId: ref.campaignId });
    const f = asArray(reply);
    return { removed: Number(f[1]), held: f.slice(2).map((d) => `+${String(d)}`) };
  }

  async trimHistory(ref: CampaignRef, now: number): Promise<number> {
    const base = this.#keys(ref).base;
    let cursor = '0';
    let dropped = 0;
    do {
      const reply = await this.#campaign('trimHistory', ref, [base, now, cursor, TRIM_SCAN_COUNT]);
      if (typeof reply === 'number') throw errorFromStatus(reply, { campaignId: ref.campaignId });
      const f = asArray(reply);
      cursor = String(f[0]);
      dropped += Number(f[1]);
    } while (cursor !== '0');
    return dropped;
  }

  async restoreHistory(ref: CampaignRef, numbers: readonly RestoredCalls[], now: number): Promise<number> {
    const digits = checkPhones(numbers.map((n) => n.phone));
    let written = 0;
    for (let i = 0; i < numbers.length; i += RESTORE_CHUNK) {
      const args: ScriptArg[] = [this.#keys(ref).base, now];
      numbers.slice(i, i + RESTORE_CHUNK).forEach((n, k) => {
        args.push(digits[i + k]!, timesArg(n.calls), timesArg(n.lockouts));
      });
      const reply = Number(await this.#campaign('restoreHistory', ref, args));
      if (reply < 0) throw errorFromStatus(reply, { campaignId: ref.campaignId });
      written += reply;
    }
    return written;
  }

  async refreshWindows(ref: CampaignRef, now: number): Promise<void> {
    const k = this.#keys(ref);
    for (let attempt = 0; ; attempt++) {
      const config = await this.#config(ref, true);
      const zones = Object.keys(await this.#client.hGetAll(k.zones)) as ZoneKey[];
      const args: ScriptArg[] = [config.version, zones.length];
      for (const zone of zones)
        args.push(zone, zonePlanArg(computeZone(config.window, config.rules, zone, now)));
      const reply = Number(await this.#campaign('setWindows', ref, args));
      if (reply === SCRIPT_STATUS.CONFIG_STALE && attempt < 3) continue;
      if (reply < 0) throw errorFromStatus(reply, { campaignId: ref.campaignId });
      return;
    }
  }

  async stats(ref: CampaignRef, now: number): Promise<QueueStats> {
    const reply = await this.#campaign('queueStats', ref, [this.#keys(ref).base, now]);
    if (typeof reply === 'number') throw errorFromStatus(reply, { campaignId: ref.campaignId });
    const f = asArray(reply);
    const zones = [];
    let ready = 0;
    for (let o = 3; o < f.length; o += 3) {
      const count = Number(f[o + 1]);
      ready += count;
      zones.push({ zone: String(f[o]) as ZoneKey, ready: count, open: Number(f[o + 2]) === 1 });
    }
    zones.sort((a, b) => (a.zone < b.zone ? -1 : a.zone > b.zone ? 1 : 0));
    return { ready, scheduled: Number(f[0]), leased: Number(f[1]), readyAgents: Number(f[2]), zones };
  }

  async rebuild(
    ref: CampaignRef,
    source: AsyncIterable<readonly LeadInput[]> | Iterable<readonly LeadInput[]>,
    now: number,
    options: RebuildOptions = {},
  ): Promise<RebuildResult> {
    // One rebuild of a campaign at a time, across every gateway: two at once would each empty the
    // queue, and the first to end would let completions in while the other still queues what it
    // read before they were saved. A gateway that finds one under way waits for it to end and
    // reads nothing: that rebuild read the system of record after whatever made this one ask.
    const lock = this.#keys(ref).rebuildLock;
    const token = randomUUID();
    const c = this.#client;
    if ((await c.set(lock, token, { NX: true, PX: REBUILD_LOCK_MS })) === null) {
      while ((await c.exists(lock)) === 1) await sleep(REBUILD_WAIT_MS);
      return REBUILD_WAITED;
    }
    try {
      return await this.#rebuild(ref, source, now, options, () => c.pExpire(lock, REBUILD_LOCK_MS));
    } finally {
      if ((await c.get(lock)) === token) await c.del(lock);
    }
  }

  async #rebuild(
    ref: CampaignRef,
    source: AsyncIterable<readonly LeadInput[]> | Iterable<readonly LeadInput[]>,
    now: number,
    { held = [], history, unlessRebuiltSince }: RebuildOptions,
    keepLock: () => Promise<unknown>,
  ): Promise<RebuildResult> {
    const base = this.#keys(ref).base;
    const since = unlessRebuiltSince === undefined ? '' : unlessRebuiltSince;
    const kept = Number(await this.#campaign('rebuildReset', ref, [base, this.#newEpoch(), since]));
    if (kept === REBUILT_SINCE) return REBUILD_WAITED;
    if (kept < 0) throw errorFromStatus(kept, { campaignId: ref.campaignId });
    // Nothing is leased or completed until the held calls are attached again (the reset marked
    // the queue stale; attachLeases ends the rebuild).
    const calls = checkHeld(ref, held);
    if (calls.length > 0)
      await this.enqueue(
        ref,
        calls.map((h) => h.lead),
        now,
      );
    // The system of record is read while the queue is still marked stale, so no completion can be
    // applied meanwhile: one that lands during the read is refused CAMPAIGN_STALE and applied after
    // the rebuild, when its lead is queued again, instead of before, when the read could put a
    // lead that had just become final back in the queue (two final outcomes for one lead).
    let enqueued = 0;
    let duplicates = 0;
    let suppressed = 0;
    for await (const chunk of source) {
      await keepLock();
      const r = await this.enqueue(ref, chunk, now);
      enqueued += r.enqueued;
      duplicates += r.duplicates.length + r.alreadyQueued.length;
      suppressed += r.suppressed.length;
    }
    // The queue is still stale (nothing leased): the history goes back before anything can be.
    if (history) {
      const numbers = await history();
      await keepLock();
      if (numbers.length > 0) await this.restoreHistory(ref, numbers, now);
    }
    const args: ScriptArg[] = [base, calls.length];
    for (const h of calls) {
      args.push(h.epoch, h.counter, h.agentId, h.deviceId, h.state, h.expiresAt, h.lead.id, h.digits);
    }
    const reattached = Number(await this.#campaign('attachLeases', ref, args));
    if (reattached < 0) throw errorFromStatus(reattached, { campaignId: ref.campaignId });
    return { enqueued, duplicates, suppressed, keptLeased: kept, reattached, waited: false };
  }

  async snapshot(ref: CampaignRef): Promise<QueueSnapshot> {
    const k = this.#keys(ref);
    const c = this.#client;
    const cfg = await c.hGetAll(k.cfg);
    if (!cfg.seq) throw new EngineError('CAMPAIGN_UNKNOWN', undefined, { campaignId: ref.campaignId });
    const zoneNames = await c.hGetAll(k.zoneNames);
    const withScores = async (key: string): Promise<[string, number][]> =>
      (await c.zRangeWithScores(key, 0, -1)).map((e) => [String(e.value), Number(e.score)]);

    const ready: Record<string, string[]> = {};
    for (const [index, zone] of Object.entries(zoneNames)) {
      const members = await c.zRange(k.ready(Number(index)), 0, -1);
      if (members.length > 0) ready[zone] = members;
    }
    const pinned: Record<string, [string, number][]> = {};
    for (const agent of (await c.sMembers(k.pinnedAgents)).sort())
      pinned[agent] = await withScores(k.pinned(agent));

    const records: Record<string, string> = {};
    const buckets = Math.floor(Number(cfg.seq) / RECORD_BUCKET_SIZE);
    const recordReplies = await Promise.all(
      Array.from({ length: buckets + 1 }, (_, b) => c.hGetAll(k.records(b))),
    );
    for (const bucket of recordReplies) {
      for (const [member, raw] of Object.entries(bucket)) records[member] = decodeLeadRecord(raw).leadId;
    }

    const leases: Record<
      string,
      { state: LeaseRecordState; member: string; agentId: string; expiresAt: number }
    > = {};
    const revoked: Record<string, string> = {};
    const leaseRecords = await c.hGetAll(k.leases);
    for (const [field, raw] of Object.entries(leaseRecords)) {
      const r = decodeLeaseRecord(raw);
      if (r.state === 'r' && records[r.member] !== undefined) {
        revoked[this.#leaseId(ref, r.epoch, field, records[r.member]!, r.agent)] = r.member;
      }
      if (LIVE_STATES.has(r.state)) {
        leases[this.#leaseId(ref, r.epoch, field, records[r.member] ?? '', r.agent)] = {
          state: r.state,
          member: r.member,
          agentId: r.agent,
          expiresAt: r.at,
        };
      }
    }
    // The phone index buckets: cfg pb of them; a campaign created before pb existed has up to
    // 10,000 (n:<last 4 digits>), found by SCAN (O(keys in the database), like any snapshot).
    const phones: Record<string, string> = {};
    const addBuckets = async (keys: readonly string[]) => {
      const buckets = await Promise.all(keys.map((key) => c.hGetAll(key)));
      for (const bucket of buckets) {
        for (const [digits, member] of Object.entries(bucket)) phones[`+${digits}`] = member;
      }
    };
    if (cfg.pb) {
      await addBuckets(Array.from({ length: Number(cfg.pb) }, (_, b) => k.phoneBucket(b)));
    } else {
      for await (const keys of this.#scan(ref, `${campaignKeyPattern(this.#prefix, ref).slice(0, -1)}n:*`)) {
        await addBuckets(keys);
      }
    }
    return {
      records: sortRecord(records),
      ready: sortRecord(ready),
      scheduled: await withScores(k.scheduled),
      pinned,
      leases: sortRecord(leases),
      revoked: sortRecord(revoked),
      agents: (await withScores(k.agents)).filter(([, score]) => score < AGENT_BUSY_BAND),
      phones: sortRecord(phones),
      suppressed: (await c.sMembers(k.suppressed)).map((d) => `+${d}`).sort(),
      numbers: sortRecord(
        Object.fromEntries(
          Object.entries(await c.hGetAll(k.numberHistory)).map(([d, raw]) => [`+${d}`, decodeHistory(raw)]),
        ),
      ),
    };
  }

  async close(): Promise<void> {
    if (this.#cluster) {
      if (this.#cluster.isOpen) await this.#cluster.close();
    } else if (this.#client.isOpen) await this.#client.close();
  }
}

/** One claim or direct completion's reply (3 fields: status, result, dnc digits) as an item result. */
function completionResult(leaseId: string, f: readonly unknown[], o: number): ItemResult<Completion> {
  const status = Number(f[o]);
  return status === STATUS_OK || status === STATUS_DUPLICATE
    ? {
        ok: true,
        ...decodeCompletionResult(
          leaseId as LeaseId,
          String(f[o + 1]),
          status === STATUS_DUPLICATE,
          String(f[o + 2]),
        ),
      }
    : itemError(status);
}

function itemError(status: number): { ok: false; code: EngineError['code']; message: string } {
  const code = codeFromStatus(status);
  return { ok: false, code, message: new EngineError(code).message };
}

function sortRecord<T>(r: Record<string, T>): Record<string, T> {
  return Object.fromEntries(Object.entries(r).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
