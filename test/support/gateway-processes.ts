// Several real gateway processes (gateway/main.ts, as deployed) sharing one Redis (or a Redis
// Cluster) and one Postgres schema of the test's own, each on a free port; killed by process
// group in stop(). Devices and supervisors get tokens signed with TEST_SECRET, the processes'
// DEVICE_TOKEN_SECRET.
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { io as connect } from 'socket.io-client';
import { ALWAYS_OPEN } from '../../engine/calling-window.js';
import { parseCampaignConfig } from '../../engine/campaign.js';
import { asTenantId } from '../../engine/ids.js';
import { createDeviceTokens } from '../../gateway/auth/device-token.js';
import { AGENT_NAMESPACE } from '../../gateway/protocol/events.js';
import { GatewayProcess } from '../faults/gateway-process.js';
import type { Device } from './gateway.js';
import { TEST_SECRET } from './gateway.js';
import { freePort } from './ports.js';
import type { TestDatabase } from './postgres.js';

export const OPERATOR_TOKEN = 'operator-token-for-tests-0123456789';

export interface GatewayProcesses {
  readonly gateways: readonly GatewayProcess[];
  readonly ports: readonly number[];
  readonly logDir: string;
  stop(): Promise<void>;
}

export async function startGatewayProcesses(
  n: number,
  pg: TestDatabase,
  redis: { REDIS_URL: string } | { REDIS_CLUSTER_NODES: string },
  extra: Record<string, string> = {},
): Promise<GatewayProcesses> {
  const logDir = await mkdtemp(join(tmpdir(), 'dialhub-gw-'));
  const prefix = `test:${randomUUID().slice(0, 8)}:`;
  const gateways: GatewayProcess[] = [];
  const ports: number[] = [];
  const stop = async () => {
    await Promise.all(gateways.map((g) => g.dispose()));
    await rm(logDir, { recursive: true, force: true });
  };
  try {
    for (let i = 0; i < n; i++) {
      const port = await freePort();
      const g = new GatewayProcess({
        port,
        logFile: join(logDir, `gateway-${i + 1}.log`),
        env: {
          ...redis,
          REDIS_KEY_PREFIX: prefix,
          DATABASE_URL: pg.url,
          DATA_DIR: join(logDir, `data-${i + 1}`),
          DEVICE_TOKEN_SECRET: TEST_SECRET,
          ADMIN_TOKEN: OPERATOR_TOKEN,
          SEED_DEMO: 'false',
          HOST: '127.0.0.1',
          LOG_LEVEL: 'warn',
          RECLAIM_INTERVAL_MS: '200',
          ...extra,
        },
      });
      gateways.push(g);
      ports.push(port);
    }
    // One at a time: the first migrates the schema.
    for (const g of gateways) await g.start(60_000);
    return { gateways, ports, logDir, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** A tenant with agents a0..a(n-1), devices d0..d(n-1), and one active campaign open around the clock. */
export async function seedFloor(pg: TestDatabase, tenantId: string, campaignId: string, agents: number) {
  await pg.db.tenants.create({ id: tenantId, name: tenantId, plan: { deviceLimit: agents + 5 } });
  for (let i = 0; i < agents; i++) {
    await pg.db.users.create({ tenantId, id: `a${i}`, name: `Agent ${i}`, role: 'agent' });
    await pg.db.devices.register({
      tenantId,
      id: `d${i}`,
      userId: `a${i}`,
      label: `Phone ${i}`,
      platform: 'android',
    });
  }
  await pg.db.campaigns.upsert({
    tenantId,
    id: campaignId,
    name: campaignId,
    status: 'active',
    config: parseCampaignConfig({ window: ALWAYS_OPEN }),
  });
}

/** Agent aN's device dN through `url`, pinned to gateway `gw` (1-based, via HAProxy) when given. */
export async function connectDevice(
  url: string,
  tenantId: string,
  agent: number,
  gw?: number,
): Promise<Device> {
  const token = await createDeviceTokens(TEST_SECRET).issue({
    tenantId: asTenantId(tenantId),
    agentId: `a${agent}` as never,
    deviceId: `d${agent}` as never,
  });
  const socket: Device = connect(`${url}${AGENT_NAMESPACE}`, {
    transports: ['websocket'],
    reconnection: false,
    forceNew: true,
    ...(gw ? { query: { gw: String(gw) } } : {}),
    auth: { token, deviceId: `d${agent}` },
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('connect_error', (err) => reject(err));
  });
  return socket;
}
