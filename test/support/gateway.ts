// A real gateway for tests: real Redis (own key prefix) or the memory store, real Postgres (own
// schema), listening on port 0, with socket.io-client devices that speak the real protocol.
import { io as connect } from 'socket.io-client';
import type { Socket } from 'socket.io-client';
import { systemClock } from '../../engine/clock.js';
import type { Clock } from '../../engine/clock.js';
import { ALWAYS_OPEN } from '../../engine/calling-window.js';
import type { CampaignConfigInput } from '../../engine/campaign.js';
import { parseCampaignConfig } from '../../engine/campaign.js';
import { asTenantId } from '../../engine/ids.js';
import type { CampaignRef, TenantId } from '../../engine/ids.js';
import type { NewLead } from '../../db/index.js';
import { createDeviceTokens } from '../../gateway/auth/device-token.js';
import { loadConfig } from '../../gateway/config.js';
import type { ConfigInput } from '../../gateway/config.js';
import { createGateway } from '../../gateway/gateway.js';
import type { Gateway, GatewayDeps } from '../../gateway/gateway.js';
import { silentLogger } from '../../gateway/logger.js';
import type { Logger } from '../../gateway/logger.js';
import type { AgentClientEvents, AgentServerEvents } from '../../gateway/protocol/events.js';
import { AGENT_NAMESPACE } from '../../gateway/protocol/events.js';
import { createTestDatabase } from './postgres.js';
import type { TestDatabase } from './postgres.js';
import { makeStore } from './stores.js';
import type { StoreKind, TestStore } from './stores.js';

export type Device = Socket<AgentServerEvents, AgentClientEvents>;

export const TEST_SECRET = 'test-secret-test-secret-test-secret!';

/** Short timings so expiry, grace and timeouts happen within a test. */
export const FAST: ConfigInput = {
  OFFER_TTL_MS: '3000',
  OFFER_ACK_TIMEOUT_MS: '1000',
  CALL_TTL_MS: '6000',
  LEASE_HEARTBEAT_MS: '1000',
  RECONNECT_GRACE_MS: '1500',
  RECLAIM_INTERVAL_MS: '100',
};

export interface TestGatewayOptions {
  readonly store?: StoreKind;
  readonly config?: ConfigInput;
  readonly clock?: Clock;
  readonly logger?: Logger;
  /** Share an existing store/database (several gateways on one Redis and Postgres). */
  readonly shared?: { store: TestStore; pg: TestDatabase };
  readonly adapter?: GatewayDeps['adapter'];
  readonly supervisor?: GatewayDeps['supervisor'];
  readonly http?: GatewayDeps['http'];
  /** Listen on this port (default 0: any free one), e.g. a gateway started again where one stopped. */
  readonly port?: number;
}

export class TestGateway {
  readonly devices: Device[] = [];
  private constructor(
    readonly gateway: Gateway,
    readonly url: string,
    readonly store: TestStore,
    readonly pg: TestDatabase,
    private readonly owned: boolean,
  ) {}

  static async start(options: TestGatewayOptions = {}): Promise<TestGateway> {
    const store =
      options.shared?.store ?? (await makeStore(options.store ?? 'redis', { newEpoch: undefined }));
    const pg = options.shared?.pg ?? (await createTestDatabase());
    const config = loadConfig({
      HOST: '127.0.0.1',
      PORT: '0',
      LOG_LEVEL: 'silent',
      ...FAST,
      ...options.config,
    });
    const gateway = createGateway({
      config,
      store: store.store,
      clock: options.clock ?? systemClock,
      db: pg.db,
      logger: options.logger ?? silentLogger,
      tokens: createDeviceTokens(TEST_SECRET),
      ...(options.adapter ? { adapter: options.adapter } : {}),
      ...(options.supervisor ? { supervisor: options.supervisor } : {}),
      ...(options.http ? { http: options.http } : {}),
    });
    const address = await gateway.start(options.port ?? 0, '127.0.0.1');
    return new TestGateway(gateway, `http://127.0.0.1:${address.port}`, store, pg, !options.shared);
  }

  get db() {
    return this.pg.db;
  }

  /** A tenant with agents a0..a(n-1), each with one registered device d0..d(n-1). */
  async seedTenant(tenantId: string, agents: number, deviceLimit = agents + 5): Promise<TenantId> {
    const tid = asTenantId(tenantId);
    await this.db.tenants.create({ id: tenantId, name: `Tenant ${tenantId}`, plan: { deviceLimit } });
    for (let i = 0; i < agents; i++) {
      await this.db.users.create({ tenantId, id: `a${i}`, name: `Agent ${i}`, role: 'agent' });
      await this.db.devices.register({
        tenantId,
        id: `d${i}`,
        userId: `a${i}`,
        label: `Phone ${i}`,
        platform: 'android',
      });
    }
    return tid;
  }

  async campaign(
    tenantId: string,
    campaignId: string,
    config: Partial<CampaignConfigInput> = {},
  ): Promise<CampaignRef> {
    const parsed = parseCampaignConfig({ window: ALWAYS_OPEN, ...config });
    await this.db.campaigns.upsert({
      tenantId,
      id: campaignId,
      name: campaignId,
      status: 'active',
      config: parsed,
    });
    const ref = { tenantId: asTenantId(tenantId), campaignId: campaignId as CampaignRef['campaignId'] };
    await this.gateway.campaigns.define(ref, parsed);
    return ref;
  }

  async leads(tenantId: string, campaignId: string, count: number, from = 0, extra: Partial<NewLead> = {}) {
    const leads: NewLead[] = Array.from({ length: count }, (_, i) => ({
      phone: `+4420794${String(from + i).padStart(5, '0')}`,
      name: `Lead ${from + i}`,
      timeZone: 'Europe/London',
      ...extra,
    }));
    return this.gateway.addLeads(asTenantId(tenantId), campaignId, leads);
  }

  token(tenantId: string, agent: number, device = agent): Promise<string> {
    return createDeviceTokens(TEST_SECRET).issue({
      tenantId: asTenantId(tenantId),
      agentId: `a${agent}` as never,
      deviceId: `d${device}` as never,
    });
  }

  /** Connect agent aN's device dN; resolves once connected (rejects with the connect error). */
  async connect(
    tenantId: string,
    agent: number,
    opts: {
      device?: number;
      leaseId?: string;
      /**
       * Called with the socket before it connects: listen here for what the gateway sends at once
       * (call:resumed). Listened for after the connect, it may already have been handled: the
       * connect packet and the next frame can arrive in one read on a busy machine.
       */
      before?: (socket: Device) => void;
    } = {},
  ): Promise<Device> {
    const device = opts.device ?? agent;
    const token = await this.token(tenantId, agent, device);
    const socket: Device = connect(`${this.url}${AGENT_NAMESPACE}`, {
      transports: ['websocket'],
      reconnection: false,
      forceNew: true,
      auth: { token, deviceId: `d${device}`, ...(opts.leaseId ? { leaseId: opts.leaseId } : {}) },
    });
    this.devices.push(socket);
    opts.before?.(socket);
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', () => resolve());
      socket.once('connect_error', (err) => reject(err));
    });
    return socket;
  }

  /**
   * Connect a device that resumes its call (auth.leaseId), listening for `call:resumed` before it
   * connects (see `before`); resolves with the device and that event's payload.
   */
  async resume(
    tenantId: string,
    agent: number,
    leaseId: string,
  ): Promise<{ device: Device; resumed: Parameters<AgentServerEvents['call:resumed']>[0] }> {
    let resuming: ReturnType<typeof next<'call:resumed'>> | undefined;
    const device = await this.connect(tenantId, agent, {
      leaseId,
      before: (s) => {
        resuming = next(s, 'call:resumed');
      },
    });
    const [resumed] = await resuming!;
    return { device, resumed };
  }

  async stop(): Promise<void> {
    for (const d of this.devices) d.disconnect();
    await this.gateway.stop();
    if (this.owned) {
      await this.store.dispose();
      await this.pg.dispose();
    }
  }
}

/** Resolve with the next `event` the device receives (fails after `ms`). */
export function next<E extends keyof AgentServerEvents>(
  socket: Device,
  event: E,
  ms = 5_000,
): Promise<Parameters<AgentServerEvents[E]>> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${event} within ${ms} ms`)), ms);
    socket.once(event, ((...args: Parameters<AgentServerEvents[E]>) => {
      clearTimeout(timer);
      resolve(args);
    }) as never);
  });
}

/** Emit a client event and resolve with its acknowledgement. */
export function call<E extends keyof AgentClientEvents>(
  socket: Device,
  event: E,
  payload: unknown,
): Promise<Parameters<Parameters<AgentClientEvents[E]>[1]>[0]> {
  const timed = socket.timeout(5_000) as unknown as { emitWithAck(ev: string, p: unknown): Promise<unknown> };
  return timed.emitWithAck(event, payload) as never;
}

export async function until(check: () => Promise<boolean> | boolean, ms = 5_000, every = 25): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${ms} ms`);
    await new Promise((r) => setTimeout(r, every));
  }
}
