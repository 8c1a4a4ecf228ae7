// The queue on a 3-master Redis Cluster started from redis-server: campaigns spread across the
// cluster's masters by their hash tag, a tenant-wide operation over several campaigns runs
// without CROSSSLOT, and a gateway process (gateway/main.ts) runs a call end to end on it with
// REDIS_CLUSTER_NODES.
import { createClient } from 'redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALWAYS_OPEN } from '../../engine/calling-window.js';
import { parseCampaignConfig } from '../../engine/campaign.js';
import { asAgentId, asDeviceId, asTenantId, campaignRef } from '../../engine/ids.js';
import { campaignKeys } from '../../engine/keys.js';
import { call, next } from '../support/gateway.js';
import { connectDevice, seedFloor, startGatewayProcesses } from '../support/gateway-processes.js';
import type { GatewayProcesses } from '../support/gateway-processes.js';
import { createTestDatabase } from '../support/postgres.js';
import type { TestDatabase } from '../support/postgres.js';
import { startRedisCluster } from '../support/redis-servers.js';
import type { RedisCluster } from '../support/redis-servers.js';
import { makeStore, useRedisCluster } from '../support/stores.js';
import type { TestStore } from '../support/stores.js';

const T0 = Date.UTC(2026, 0, 5, 12, 0);

describe('Redis Cluster', () => {
  let cluster: RedisCluster;
  beforeAll(async () => {
    cluster = await startRedisCluster(3);
    useRedisCluster(cluster.nodes);
  }, 60_000);
  afterAll(async () => {
    useRedisCluster(null);
    await cluster?.stop();
  });

  describe('the queue store', () => {
    let t: TestStore;
    beforeAll(async () => {
      t = await makeStore('cluster');
    });
    afterAll(async () => {
      await t?.dispose();
    });

    it('spreads campaigns across every master, and a tenant-wide completion spans them', async () => {
      const tenant = asTenantId('spread');
      const refs = Array.from({ length: 12 }, (_, i) => campaignRef('spread', `c${i}`));
      const config = parseCampaignConfig({ window: ALWAYS_OPEN });
      const leases = [];
      for (const [i, ref] of refs.entries()) {
        await t.store.defineCampaign(ref, config, T0);
        await t.store.enqueue(
          ref,
          [
            {
              id: `L${i}`,
              phone: `+4477009${String(i).padStart(5, '0')}`,
              name: 'x',
              timeZone: 'Europe/London',
            },
          ],
          T0,
        );
        const lease = await t.store.lease(
          ref,
          { agentId: asAgentId(`a${i}`), deviceId: asDeviceId(`d${i}`) },
          T0,
          5_000,
        );
        expect(lease).not.toBeNull();
        leases.push(lease!);
      }
      // Which master holds each campaign's config key.
      const holders = new Set<number>();
      for (const ref of refs) {
        const key = campaignKeys(t.prefix, ref).cfg;
        for (const [n, url] of cluster.nodes.entries()) {
          const c = createClient({ url });
          await c.connect();
          try {
            if ((await c.sendCommand(['EXISTS', key]).catch(() => 0)) === 1) holders.add(n);
          } finally {
            await c.close();
          }
        }
      }
      expect(holders.size).toBe(3);
      // One call, twelve campaigns on three masters: each campaign's script runs on its own node.
      const results = await t.store.complete(
        tenant,
        leases.map((l) => ({ leaseId: l.leaseId, outcome: 'answered' })),
        T0 + 1_000,
      );
      expect(results.map((r) => r.ok)).toEqual(leases.map(() => true));
    });
  });

  describe('a gateway process with REDIS_CLUSTER_NODES', () => {
    let pg: TestDatabase;
    let floor: GatewayProcesses;
    beforeAll(async () => {
      pg = await createTestDatabase();
      await seedFloor(pg, 'onc', 'c1', 1);
      await pg.db.leads.insertBatch('onc', 'c1', [
        { phone: '+442079400001', name: 'Ada Lovelace', timeZone: 'Europe/London' },
      ]);
      floor = await startGatewayProcesses(1, pg, { REDIS_CLUSTER_NODES: cluster.nodes.join(',') });
    }, 90_000);
    afterAll(async () => {
      await floor?.stop();
      await pg?.dispose();
    });

    it('rebuilds the campaign on the cluster and runs a call from offer to stored outcome', async () => {
      const device = await connectDevice(floor.gateways[0]!.url, 'onc', 0);
      try {
        const offered = next(device, 'call:offer');
        expect(await call(device, 'agent:ready', { campaignId: 'c1' })).toMatchObject({ ok: true });
        const [offer, ack] = await offered;
        ack({ accept: true });
        expect(offer.lead.name).toBe('Ada Lovelace');
        const done = await call(device, 'call:complete', {
          leaseId: offer.leaseId,
          outcome: 'answered',
          durationSec: 30,
        });
        expect(done).toMatchObject({ ok: true, duplicate: false });
        expect(await pg.db.leads.countByStatus('onc', 'c1')).toMatchObject({ queued: 0 });
      } finally {
        device.disconnect();
      }
    });
  });
});
