// Redis-specific promises of the Redis store, beyond the shared contract.
import { createClient } from 'redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALWAYS_OPEN } from '../../engine/calling-window.js';
import { parseCampaignConfig } from '../../engine/campaign.js';
import { asAgentId, asDeviceId, asTenantId, campaignRef } from '../../engine/ids.js';
import { campaignKeys } from '../../engine/keys.js';
import type { RedisQueueStore } from '../../engine/redis/redis-queue-store.js';
import { makeStore, REDIS_URL } from '../support/stores.js';
import type { TestStore } from '../support/stores.js';

const T0 = Date.UTC(2026, 0, 5, 12);
const ref = campaignRef('acme', 'redis-only');

describe('Redis store', () => {
  let t: TestStore;
  let store: RedisQueueStore;
  beforeAll(async () => {
    t = await makeStore('redis');
    store = t.store as RedisQueueStore;
    await store.defineCampaign(ref, parseCampaignConfig({ window: ALWAYS_OPEN }), T0);
  });
  afterAll(async () => {
    await t.dispose();
  });

  it('keeps every key of a campaign under its hash tag, each one a name engine/keys.ts builds', async () => {
    await store.enqueue(
      ref,
      [
        { id: 'L1', phone: '+447700900001', timeZone: 'Europe/London' },
        { id: 'L2', phone: '+447700900002', timeZone: null, dueAt: T0 + 60_000 },
        { id: 'L3', phone: '+447700900003', timeZone: 'UTC', pinnedAgentId: asAgentId('a9') },
      ],
      T0,
    );
    await store.setAgentsReady(ref, [{ agentId: asAgentId('a1'), deviceId: asDeviceId('d1') }], T0);
    await store.setAgentsReady(ref, [{ agentId: asAgentId('a2'), deviceId: asDeviceId('d2') }], T0);
    const [lease] = await store.dispatch(ref, T0, 1, 5_000);
    await store.complete(asTenantId('acme'), [{ leaseId: lease!.leaseId, outcome: 'busy' }], T0);

    const k = campaignKeys(t.prefix, ref);
    const fixed = new Set(Object.values(k).filter((v): v is string => typeof v === 'string' && v !== k.base));
    const dynamic = [/r:\d+$/, /p:[A-Za-z0-9_-]+$/, /d:\d+$/, /n:\d{4}$/];
    const client = createClient({ url: REDIS_URL });
    await client.connect();
    try {
      const keys: string[] = [];
      for await (const batch of client.scanIterator({ MATCH: `${t.prefix}*`, COUNT: 1000 }))
        keys.push(...batch);
      expect(keys.length).toBeGreaterThan(8);
      for (const key of keys) {
        expect(key.startsWith(k.base), key).toBe(true);
        const rest = key.slice(k.base.length);
        expect(
          fixed.has(key) || dynamic.some((re) => re.test(rest) && rest.split(':').length === 2),
          key,
        ).toBe(true);
      }
    } finally {
      await client.close();
    }
  });

  it('still works after the server forgot its scripts (NOSCRIPT falls back to EVAL)', async () => {
    const client = createClient({ url: REDIS_URL });
    await client.connect();
    try {
      await client.scriptFlush();
    } finally {
      await client.close();
    }
    const stats = await store.stats(ref, T0);
    expect(stats.zones.length).toBeGreaterThan(0);
  });

  it('drops a campaign with everything it held', async () => {
    const other = campaignRef('acme', 'to-drop');
    await store.defineCampaign(other, parseCampaignConfig({ window: ALWAYS_OPEN }), T0);
    await store.enqueue(other, [{ id: 'X1', phone: '+447700900009', timeZone: 'UTC' }], T0);
    await store.dropCampaign(other);
    expect(await store.hasCampaign(other)).toBe(false);
    expect(await store.hasCampaign(ref)).toBe(true);
  });
});
