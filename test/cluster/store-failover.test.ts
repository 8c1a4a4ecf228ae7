// Every user of the Redis store's cluster client follows a failover, not only the gateway: the
// store made by createRedisQueueStore({ clusterNodes }) (what tests, the bench and the gateway
// all use) and the plain cluster client of createClusterClient (the gateway's Socket.IO adapter)
// find a killed master's replica on their own. node-redis reads the slot map again only on
// MOVED/ASK, which a dead master never sends, so without engine/redis/cluster-failover.ts every
// command for its slots fails for ever ("The client is offline").
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALWAYS_OPEN } from '../../engine/calling-window.js';
import { parseCampaignConfig } from '../../engine/campaign.js';
import { isEngineError } from '../../engine/errors.js';
import { campaignRef } from '../../engine/ids.js';
import { campaignKeys } from '../../engine/keys.js';
import { createClusterClient } from '../../engine/redis/cluster-failover.js';
import { createRedisQueueStore } from '../../engine/redis/redis-queue-store.js';
import type { RedisQueueStore } from '../../engine/redis/redis-queue-store.js';
import { startRedisCluster } from '../support/redis-servers.js';
import type { RedisCluster } from '../support/redis-servers.js';
import { TEST_LEASE_IDS } from '../support/stores.js';

const run = promisify(execFile);
const ref = campaignRef('acme', 'failover');
const PREFIX = 'sf:';

async function cli(port: number, ...args: string[]): Promise<string> {
  return (await run('redis-cli', ['-p', String(port), ...args])).stdout;
}

/** The port of the live master serving `slot`, as node `askPort` sees the cluster. */
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

/** Retry `op` until it settles with something other than a connection error, or time runs out. */
async function answered(op: () => Promise<unknown>, ms: number): Promise<unknown> {
  const deadline = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      return await op();
    } catch (err) {
      // An engine error is Redis answering (the campaign found stale on the replica).
      if (isEngineError(err)) return err;
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`no answer within ${ms} ms: ${String(last)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe("a cluster client follows a killed master's replica", () => {
  let cluster: RedisCluster;
  let store: RedisQueueStore;
  let plain: ReturnType<typeof createClusterClient>;
  beforeAll(async () => {
    cluster = await startRedisCluster(3, 1);
    store = await createRedisQueueStore({
      clusterNodes: cluster.nodes,
      keyPrefix: PREFIX,
      leaseIds: TEST_LEASE_IDS,
      commandTimeoutMs: 2_000,
    });
    plain = createClusterClient(cluster.nodes);
    plain.on('error', () => undefined);
    await plain.connect();
  }, 60_000);
  afterAll(async () => {
    if (plain?.isOpen) await plain.close().catch(() => undefined);
    await store?.close().catch(() => undefined);
    await cluster?.stop();
  });

  it('the queue store and a plain cluster client answer again once the replica took over', async () => {
    const now = Date.now();
    await store.defineCampaign(ref, parseCampaignConfig({ window: ALWAYS_OPEN }), now);
    expect(await store.hasCampaign(ref)).toBe(true);
    // A key of the campaign's hash tag, so the plain client talks to the same master.
    const key = `${campaignKeys(PREFIX, ref).base}probe`;
    await plain.set(key, 'before');

    const any = cluster.servers[0]!.port;
    const slot = Number((await cli(any, 'cluster', 'keyslot', key)).trim());
    const port = (await masterOf(any, slot))!;
    cluster.servers.find((s) => s.port === port)!.kill();
    const witness = cluster.servers.find((s) => s.port !== port)!.port;
    const killedAt = Date.now();
    for (;;) {
      const owner = await masterOf(witness, slot);
      if (owner !== null && owner !== port) break;
      if (Date.now() - killedAt > 15_000) throw new Error('no replica took over within 15 s');
      await new Promise((r) => setTimeout(r, 100));
    }

    // Within 20 s of the takeover both clients reach the new master (the store may find the
    // campaign stale there: that is Redis answering too).
    await answered(() => store.hasCampaign(ref), 20_000);
    expect(await answered(() => plain.set(key, 'after'), 20_000)).toBe('OK');
    expect(await plain.get(key)).toBe('after');
  }, 90_000);
});
