// A Redis Cluster failover under gateways (gateway/main.ts with REDIS_CLUSTER_NODES) on a local
// cluster of 3 masters and 3 replicas: the master holding the campaign is killed (SIGKILL), its
// replica takes over, and the gateways carry on: the campaign is found stale (the promoted
// replica's run id differs from the one its epoch began under, and it may lag), rebuilt from
// Postgres under a new epoch, and the agent's next call is offered and stored. node-redis's
// cluster client reads the slot map again only on MOVED/ASK, which a dead master never sends:
// before engine/redis/cluster-failover.ts every command for the dead master's slots failed for ever.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, next } from '../support/gateway.js';
import { connectDevice, seedFloor, startGatewayProcesses } from '../support/gateway-processes.js';
import type { GatewayProcesses } from '../support/gateway-processes.js';
import { createTestDatabase } from '../support/postgres.js';
import type { TestDatabase } from '../support/postgres.js';
import { startRedisCluster } from '../support/redis-servers.js';
import type { RedisCluster, RedisServer } from '../support/redis-servers.js';

const run = promisify(execFile);
const T = 'failover';
const C = 'c1';

async function cli(port: number, ...args: string[]): Promise<string> {
  return (await run('redis-cli', ['-p', String(port), ...args])).stdout;
}

/** The port of the master serving `slot`, as node `askPort` sees the cluster. */
async function masterOf(askPort: number, slot: number): Promise<number | null> {
  for (const line of (await cli(askPort, 'cluster', 'nodes')).split('\n')) {
    const f = line.split(' ');
    if (!f[2]?.includes('master') || f[2].includes('fail')) continue;
    for (const range of f.slice(8)) {
      const [from, to] = range.split('-').map(Number) as [number, number | undefined];
      if (slot >= from && slot <= (to ?? from)) return Number(f[1]!.split(':')[1]!.split('@')[0]);
    }
  }
  return null;
}

describe('a Redis Cluster failover under the gateways', () => {
  let cluster: RedisCluster;
  let pg: TestDatabase;
  let floor: GatewayProcesses;
  beforeAll(async () => {
    cluster = await startRedisCluster(3, 1);
    pg = await createTestDatabase();
    await seedFloor(pg, T, C, 1);
    await pg.db.leads.insertBatch(
      T,
      C,
      ['Ada Lovelace', 'Grace Hopper', 'Edsger Dijkstra'].map((name, i) => ({
        phone: `+44207940000${i + 1}`,
        name,
        timeZone: 'Europe/London',
      })),
    );
    floor = await startGatewayProcesses(2, pg, { REDIS_CLUSTER_NODES: cluster.nodes.join(',') });
  }, 120_000);
  afterAll(async () => {
    await floor?.stop();
    await pg?.dispose();
    await cluster?.stop();
  });

  it("carries on after the campaign's master is killed and its replica takes over", async () => {
    const device = await connectDevice(floor.gateways[0]!.url, T, 0);
    try {
      const first = next(device, 'call:offer');
      expect(await call(device, 'agent:ready', { campaignId: C })).toMatchObject({ ok: true });
      const [offer, ack] = await first;
      ack({ accept: true });
      expect(
        await call(device, 'call:complete', { leaseId: offer.leaseId, outcome: 'answered', durationSec: 9 }),
      ).toMatchObject({ ok: true, duplicate: false });

      // Kill the master that owns the campaign's hash tag.
      const any = cluster.servers[0]!.port;
      const slot = Number((await cli(any, 'cluster', 'keyslot', `{c:${T}:${C}}`)).trim());
      const port = (await masterOf(any, slot))!;
      const master: RedisServer = cluster.servers.find((s) => s.port === port)!;
      const killedAt = Date.now();
      master.kill();
      const witness = cluster.servers.find((s) => s.port !== port)!.port;
      for (;;) {
        const now = await masterOf(witness, slot);
        if (now !== null && now !== port) break;
        if (Date.now() - killedAt > 15_000) throw new Error('no replica took over within 15 s');
        await new Promise((r) => setTimeout(r, 100));
      }
      const failoverMs = Date.now() - killedAt;

      // The agent keeps asking for work, as a device does, until a call comes.
      const second = next(device, 'call:offer', 30_000);
      let got = false;
      void second.then(
        () => (got = true),
        () => undefined,
      );
      while (!got && Date.now() - killedAt < 30_000) {
        await call(device, 'agent:ready', { campaignId: C }).catch(() => null);
        await new Promise((r) => setTimeout(r, 500));
      }
      const [offer2, ack2] = await second;
      ack2({ accept: true });
      const recoveredMs = Date.now() - killedAt;
      // A new epoch: the queue was rebuilt from Postgres, never trusted after the failover.
      expect(offer2.leaseId.split('.')[1]).not.toBe(offer.leaseId.split('.')[1]);
      expect(offer2.lead.name).not.toBe(offer.lead.name);
      expect(
        await call(device, 'call:complete', { leaseId: offer2.leaseId, outcome: 'answered', durationSec: 9 }),
      ).toMatchObject({ ok: true, duplicate: false });
      expect(await pg.db.leads.countByStatus(T, C)).toMatchObject({ queued: 1 });
      process.stdout.write(
        `redis failover: replica took over in ${failoverMs} ms, next call offered at ${recoveredMs} ms\n`,
      );
    } finally {
      device.disconnect();
    }
  }, 90_000);
});
