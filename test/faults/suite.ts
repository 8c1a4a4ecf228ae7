// The fault suite's world: a private Redis (or, for scenarios that need one, a private Redis
// Cluster of 3 masters and 3 replicas), a private Postgres database behind a cuttable proxy,
// two real gateway processes (gateway/main.ts) sharing them, floors of simulated devices in
// child processes, and the observer that hears everything. Everything it starts, it ends
// (dispose), whatever happened.
import { randomBytes } from 'node:crypto';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createDatabase } from '../../db/index.js';
import { createRedisQueueStore } from '../../engine/redis/redis-queue-store.js';
import type { CampaignRef } from '../../engine/ids.js';
import { campaignKeys } from '../../engine/keys.js';
import { RECORD_BUCKET_SIZE, seqOf } from '../../engine/lead.js';
import { leaseIdsFrom } from '../../gateway/auth/lease-ids.js';
import type {
  AckMode,
  FloorAgent,
  FloorCommand,
  FloorEvent,
  FloorOptions,
  OutcomeWeight,
} from './floor-protocol.js';
import { GatewayProcess } from './gateway-process.js';
import type { Observer } from './observer.js';
import { startRedisCluster } from '../support/redis-servers.js';
import type { RedisCluster } from '../support/redis-servers.js';
import type { AttemptRow, EndState, LeadRow } from './observer.js';
import { CuttableProxy, killGroup, PrivateDatabase, PrivateRedis, sleep, track } from './services.js';
import { freePort } from '../support/ports.js';

export const SECRET = 'faults-device-token-secret-faults-device-token';
const ADMIN_TOKEN = 'faults-admin-token-faults-admin-token';
export const KEY_PREFIX = 'fx:';

/** Short timings so expiry, grace and reclaim happen within a scenario. */
export const TIMINGS = {
  OFFER_TTL_MS: 3_000,
  OFFER_ACK_TIMEOUT_MS: 1_000,
  CALL_TTL_MS: 12_000,
  LEASE_HEARTBEAT_MS: 1_000,
  RECONNECT_GRACE_MS: 1_500,
  RECLAIM_INTERVAL_MS: 200,
  SHUTDOWN_TIMEOUT_MS: 2_000,
} as const;

/** The longest retry delay of the scenarios' campaigns (below). */
export const RETRY_DELAY_MAX_MS = 1_000;

export const OUTCOMES: readonly OutcomeWeight[] = [
  { outcome: 'answered', weight: 45 },
  { outcome: 'no_answer', weight: 25 },
  { outcome: 'busy', weight: 15 },
  { outcome: 'sale', weight: 10 },
  { outcome: 'dnc', weight: 5 },
];

export class Floor {
  private constructor(
    private readonly child: ChildProcess,
    readonly agents: readonly FloorAgent[],
  ) {}

  static start(options: FloorOptions, observer: Observer): Floor {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', 'test/faults/floor.ts', JSON.stringify(options)],
      {
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
        detached: true,
      },
    );
    track(child);
    child.on('message', (e: FloorEvent) => observer.record(e));
    return new Floor(child, options.agents);
  }

  private send(cmd: FloorCommand): void {
    if (this.child.connected) this.child.send(cmd);
  }

  drain(): void {
    this.send({ cmd: 'drain' });
  }

  /** SIGSTOP: the process (sockets and all) stops answering; its TCP connections stay open. */
  freeze(): void {
    if (this.child.pid) process.kill(-this.child.pid, 'SIGSTOP');
  }

  thaw(): void {
    if (this.child.pid) process.kill(-this.child.pid, 'SIGCONT');
  }

  async dispose(): Promise<void> {
    if (this.child.pid && this.child.exitCode === null) {
      try {
        process.kill(-this.child.pid, 'SIGCONT');
      } catch {
        // gone
      }
    }
    await killGroup(this.child, 'SIGKILL');
  }
}

export interface TenantSetup {
  readonly tenantId: string;
  readonly campaignId: string;
  readonly agents: { agentId: string; deviceId: string; token: string }[];
  readonly phones: string[];
}

export class FaultSuite {
  readonly gateways: GatewayProcess[] = [];
  readonly floors: Floor[] = [];
  readonly logDir: string;
  private constructor(
    private readonly lone: PrivateRedis | null,
    /** The Redis Cluster of a suite started with `{ cluster: true }` (masters first). */
    readonly cluster: RedisCluster | null,
    readonly db: PrivateDatabase,
    readonly proxy: CuttableProxy,
  ) {
    this.logDir = mkdtempSync(join(tmpdir(), 'dialhub-faults-'));
  }

  /** The lone private Redis (every scenario but the cluster ones). */
  get redis(): PrivateRedis {
    if (!this.lone) throw new Error('this fault suite runs on a Redis Cluster');
    return this.lone;
  }

  /**
   * Start everything; on a failure part way, end what did start. With `cluster`, the gateways
   * run on a private Redis Cluster (REDIS_CLUSTER_NODES) instead of one Redis.
   */
  static async start(options: { cluster?: boolean } = {}): Promise<FaultSuite> {
    const started: { stop(): Promise<void> }[] = [];
    try {
      const redis = options.cluster ? null : await PrivateRedis.start();
      if (redis) started.push(redis);
      const cluster = options.cluster ? await startRedisCluster(3, 1) : null;
      if (cluster) started.push(cluster);
      const db = await PrivateDatabase.create();
      started.push({ stop: () => db.drop() });
      const proxy = await CuttableProxy.start(5432);
      started.push(proxy);
      const suite = new FaultSuite(redis, cluster, db, proxy);
      started.push({ stop: () => suite.dispose() });
      for (let i = 0; i < 2; i++) {
        const dataDir = join(suite.logDir, `data${i}`);
        mkdirSync(dataDir);
        const env: Record<string, string> = {
          NODE_ENV: 'test',
          HOST: '127.0.0.1',
          LOG_LEVEL: 'info',
          ...(cluster ? { REDIS_CLUSTER_NODES: cluster.nodes.join(',') } : { REDIS_URL: redis!.url }),
          REDIS_KEY_PREFIX: KEY_PREFIX,
          DATABASE_URL: db.url(proxy.port),
          DATA_DIR: dataDir,
          DEVICE_TOKEN_SECRET: SECRET,
          ADMIN_TOKEN,
          SEED_DEMO: 'false',
          ...Object.fromEntries(Object.entries(TIMINGS).map(([k, v]) => [k, String(v)])),
        };
        const g = new GatewayProcess({
          port: await freePort(),
          env,
          logFile: join(suite.logDir, `gateway${i}.log`),
        });
        suite.gateways.push(g);
      }
      // Migrated once here, so the gateways start side by side (their own migrate is a no-op).
      const db0 = createDatabase({ url: db.url(5432) });
      try {
        await db0.migrate();
      } finally {
        await db0.close();
      }
      await Promise.all(suite.gateways.map((g) => g.start()));
      return suite;
    } catch (err) {
      for (const s of started.reverse()) await s.stop().catch(() => undefined);
      throw err;
    }
  }

  get urls(): string[] {
    return this.gateways.map((g) => g.url);
  }

  /** Each tenant's owner access token: the operator token only creates tenants and owners. */
  readonly #owners = new Map<string, string>();

  async admin<T = unknown>(method: string, path: string, body?: unknown): Promise<T> {
    const tenant = /^\/tenants\/([^/]+)\//.exec(path)?.[1];
    const bearer = (tenant && this.#owners.get(tenant)) ?? ADMIN_TOKEN;
    for (let attempt = 0; ; attempt++) {
      const g = this.gateways.find((x) => x.running);
      if (!g) throw new Error('no gateway running');
      const res = await fetch(`${g.url}/api/v1${path}`, {
        method,
        headers: { authorization: `Bearer ${bearer}`, 'content-type': 'application/json' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      }).catch((err: unknown) => err as Error);
      if (res instanceof Error || res.status >= 500) {
        if (attempt >= 20)
          throw new Error(
            `admin ${method} ${path} failed: ${res instanceof Error ? res.message : res.status}`,
          );
        await sleep(250);
        continue;
      }
      const json = (await res.json()) as T;
      if (!res.ok) throw new Error(`admin ${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
      return json;
    }
  }

  /** A tenant with its agents and devices, one campaign and its leads. */
  async setupTenant(tenantId: string, agents: number, leads: number): Promise<TenantSetup> {
    const campaignId = 'c1';
    await this.admin('PUT', `/tenants/${tenantId}`, { name: tenantId, plan: { deviceLimit: agents + 5 } });
    // The operator creates the tenant and its first owner; the owner does the rest.
    const password = randomBytes(18).toString('base64url');
    const email = `owner@${tenantId}.invalid`;
    await this.admin('POST', `/tenants/${tenantId}/users`, {
      id: 'owner',
      name: 'Fault suite owner',
      role: 'owner',
      email,
      password,
    });
    const { accessToken } = await this.admin<{ accessToken: string }>('POST', '/auth/login', {
      tenantId,
      email,
      password,
    });
    this.#owners.set(tenantId, accessToken);
    const list: TenantSetup['agents'] = [];
    for (let i = 0; i < agents; i++) {
      const agentId = `a${i}`;
      const deviceId = `d${i}`;
      await this.admin('PUT', `/tenants/${tenantId}/agents/${agentId}`, { name: `Agent ${i}` });
      const { token } = await this.admin<{ token: string }>(
        'PUT',
        `/tenants/${tenantId}/devices/${deviceId}`,
        {
          agentId,
          platform: 'android',
        },
      );
      list.push({ agentId, deviceId, token });
    }
    await this.admin('PUT', `/tenants/${tenantId}/campaigns/${campaignId}`, {
      name: campaignId,
      status: 'active',
      window: { rules: [{ days: [1, 2, 3, 4, 5, 6, 7], from: '00:00', to: '24:00' }] },
      dispositions: {
        no_answer: { final: false, retryDelayMs: RETRY_DELAY_MAX_MS, maxAttempts: 3 },
        busy: { final: false, retryDelayMs: 600, maxAttempts: 3 },
        sale: { final: true, contact: true },
      },
    });
    const phones = Array.from({ length: leads }, (_, i) => `+4420794${String(i).padStart(5, '0')}`);
    for (let i = 0; i < leads; i += 5_000) {
      const batch = phones.slice(i, i + 5_000).map((phone, j) => ({
        phone,
        name: `Lead ${i + j}`,
        timeZone: 'Europe/London',
      }));
      await this.admin('POST', `/tenants/${tenantId}/campaigns/${campaignId}/leads`, { leads: batch });
    }
    return { tenantId, campaignId, agents: list, phones };
  }

  startFloor(
    setup: TenantSetup,
    observer: Observer,
    agents: readonly { agentId: string; deviceId: string; token: string }[],
    options: Partial<Omit<FloorOptions, 'agents'>> & { ackModes?: readonly AckMode[] } = {},
  ): Floor {
    const modes = options.ackModes ?? ['ack-accept', 'accept-event'];
    const floor = Floor.start(
      {
        urls: this.urls,
        campaignId: setup.campaignId,
        failover: false,
        callMs: [200, 700],
        ackDelayMs: 1_500,
        outcomes: OUTCOMES,
        completeTimeoutMs: 4_000,
        impatientShare: 0,
        seed: 1,
        ...options,
        agents: agents.map((a, i) => ({
          ...a,
          home: i % this.gateways.length,
          ackMode: modes[i % modes.length]!,
        })),
      },
      observer,
    );
    this.floors.push(floor);
    return floor;
  }

  /** Which gateway each agent last connected to. */
  static gatewayOf(observer: Observer): Map<string, number> {
    const at = new Map<string, number>();
    for (const e of observer.of('connect')) at.set(e.agentId, e.gateway);
    return at;
  }

  async queueStats(setup: TenantSetup): Promise<{ leased: number; ready: number; scheduled: number } | null> {
    const res = await this.admin<{ queue: { leased: number; ready: number; scheduled: number } | null }>(
      'GET',
      `/tenants/${setup.tenantId}/campaigns/${setup.campaignId}/stats`,
    );
    return res.queue;
  }

  /** Drain the floors (finish calls, pause), then wait until no lease is left in Redis. */
  async drain(
    setup: TenantSetup,
    observer: Observer,
    floors: readonly Floor[],
    timeoutMs: number,
  ): Promise<void> {
    for (const f of floors) f.drain();
    const agents = floors.flatMap((f) => f.agents.map((a) => a.agentId));
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const lastByAgent = new Map<string, string>();
      for (const e of observer.history)
        if ('agentId' in e && e.kind !== 'disconnect') lastByAgent.set(e.agentId, e.kind);
      const drained = agents.every((a) => lastByAgent.get(a) === 'drained');
      const stats = drained ? await this.queueStats(setup).catch(() => null) : null;
      if (drained && stats && stats.leased === 0) return;
      if (Date.now() > deadline) {
        const undrained = agents.filter((a) => lastByAgent.get(a) !== 'drained');
        const last = undrained.slice(0, 3).map((a) =>
          observer.history
            .filter((e) => 'agentId' in e && e.agentId === a)
            .slice(-6)
            .map((e) => JSON.stringify(e))
            .join(' '),
        );
        throw new Error(
          `drain timed out: ${undrained.length} agents busy, leases ${JSON.stringify(stats)}; last events: ${last.join(' || ')}`,
        );
      }
      await sleep(250);
    }
  }

  /** What Postgres and Redis hold for the campaign once drained. */
  async endState(setup: TenantSetup): Promise<EndState> {
    const attempts = (
      await this.db.pool.query<AttemptRow & { completed_at: Date }>(
        `SELECT lease_id, lead_id::text AS lead_id, agent_id, outcome, disposition, late, voided, completed_at
           FROM call_attempts WHERE tenant_id = $1 AND campaign_id = $2`,
        [setup.tenantId, setup.campaignId],
      )
    ).rows.map((r) => ({ ...r, completed_at: new Date(r.completed_at).getTime() }));
    const leads = (
      await this.db.pool.query<LeadRow>(
        'SELECT id::text AS id, phone, status FROM leads WHERE tenant_id = $1 AND campaign_id = $2',
        [setup.tenantId, setup.campaignId],
      )
    ).rows;
    // Read the queue as any gateway would: same prefix, same lease id key.
    const store = await createRedisQueueStore({
      ...(this.cluster ? { clusterNodes: this.cluster.nodes } : { url: this.redis.url }),
      keyPrefix: KEY_PREFIX,
      leaseIds: leaseIdsFrom(SECRET),
    });
    try {
      const ref = { tenantId: setup.tenantId, campaignId: setup.campaignId } as CampaignRef;
      const snap = await store.snapshot(ref);
      const members = [
        ...Object.values(snap.ready).flat(),
        ...snap.scheduled.map(([m]) => m),
        ...Object.values(snap.pinned).flatMap((list) => list.map(([m]) => m)),
      ];
      const queued = new Set(members.map((m) => snap.records[m] ?? `?${m}`));
      const recorded = new Set(Object.values(snap.records));
      // Where a lead sits whose queue membership disagrees with Postgres: raw, for diagnosis.
      const stuck: Record<string, string> = {};
      const k = campaignKeys(KEY_PREFIX, ref);
      for (const [member, leadId] of Object.entries(snap.records)) {
        const isQueued = leads.find((l) => l.id === leadId)?.status === 'queued';
        if (queued.has(leadId) === isQueued) continue;
        const field = await store.client.hGet(k.leaseOf, member);
        const lease = field ? await store.client.hGet(k.leases, field) : null;
        const expiry = field ? await store.client.zScore(k.leaseExpiry, field) : null;
        const tomb = field ? await store.client.zScore(k.tombstones, field) : null;
        const all = await store.client.hGetAll(k.leases);
        const history = Object.entries(all)
          .filter(([, raw]) => raw.split('\x1f')[1] === member)
          .map(([f, raw]) => `${f}=${raw.replaceAll('\x1f', '|')}`);
        const zsets: string[] = [];
        // (A cluster client has no keyspace-wide SCAN: the raw sorted sets are left out there.)
        for await (const batch of this.cluster
          ? []
          : store.client.scanIterator({ MATCH: `${k.base}*`, COUNT: 1000 })) {
          for (const key of batch) {
            if ((await store.client.type(key)) !== 'zset') continue;
            const score = await store.client.zScore(key, member);
            if (score !== null) zsets.push(`${key.slice(k.base.length)}=${score}`);
          }
        }
        const zoneNames = await store.client.hGetAll(k.zoneNames);
        const rec = await store.client.hGet(
          k.records(Math.floor(seqOf(member) / RECORD_BUCKET_SIZE)),
          member,
        );
        stuck[leadId] = JSON.stringify({
          member,
          field,
          lease,
          expiry,
          tomb,
          history,
          zsets,
          zoneNames,
          rec,
        });
      }
      return { attempts, leads, queued, recorded, stuck, liveLeases: Object.keys(snap.leases).length };
    } finally {
      await store.close();
    }
  }

  async disposeFloors(): Promise<void> {
    for (const f of this.floors.splice(0)) await f.dispose();
  }

  async dispose(): Promise<void> {
    await this.disposeFloors();
    for (const g of this.gateways) await g.dispose();
    await this.proxy.stop().catch(() => undefined);
    await this.lone?.stop().catch(() => undefined);
    await this.cluster?.stop().catch(() => undefined);
    await this.db.drop().catch(() => undefined);
  }

  /** Keep the logs of a failed run; remove them otherwise. */
  removeLogs(): void {
    rmSync(this.logDir, { recursive: true, force: true });
  }
}
