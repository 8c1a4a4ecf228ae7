// Redis-specific promises of the Redis store, beyond the shared contract.
import { createClient, RESP_TYPES } from 'redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALWAYS_OPEN } from '../../engine/calling-window.js';
import { parseCampaignConfig } from '../../engine/campaign.js';
import { asAgentId, asDeviceId, asTenantId, campaignRef } from '../../engine/ids.js';
import { campaignKeys } from '../../engine/keys.js';
import type { CampaignKeys } from '../../engine/keys.js';
import type { RedisQueueStore } from '../../engine/redis/redis-queue-store.js';
import { countingEpoch, makeStore, REDIS_URL } from '../support/stores.js';
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
    const [lease] = (await store.dispatch(ref, T0, 1, 5_000)).leases;
    await store.complete(asTenantId('acme'), [{ leaseId: lease!.leaseId, outcome: 'busy' }], T0);

    const k = campaignKeys(t.prefix, ref);
    const fixed = new Set(Object.values(k).filter((v): v is string => typeof v === 'string' && v !== k.base));
    const dynamic = [/r:\d+$/, /p:[A-Za-z0-9_-]+$/, /d:\d+$/, /h:\d+$/];
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

  it('drops a campaign with everything it held, every key of it, without searching the keyspace', async () => {
    const other = campaignRef('acme', 'to-drop');
    const base = campaignKeys(t.prefix, other).base;
    await store.defineCampaign(other, parseCampaignConfig({ window: ALWAYS_OPEN }), T0);
    await store.enqueue(
      other,
      [
        ...Array.from({ length: 300 }, (_, i) => ({
          id: `X${i}`,
          phone: `+4477009${String(i).padStart(5, '0')}`,
          timeZone: 'UTC',
        })),
        { id: 'Y1', phone: '+447700800001', timeZone: 'Europe/London', dueAt: T0 + 60_000 },
        { id: 'Y2', phone: '+447700800002', timeZone: 'UTC', pinnedAgentId: asAgentId('a9') },
      ],
      T0,
    );
    await store.setAgentsReady(other, [{ agentId: asAgentId('a1'), deviceId: asDeviceId('d1') }], T0);
    const [lease] = (await store.dispatch(other, T0, 1, 5_000)).leases;
    await store.removeNumbers(other, [lease!.lead.phone, '+447700900007'], T0);
    await store.complete(asTenantId('acme'), [{ leaseId: lease!.leaseId, outcome: 'answered' }], T0);
    const client = createClient({ url: REDIS_URL });
    await client.connect();
    const keysOf = async () => {
      const keys: string[] = [];
      for await (const batch of client.scanIterator({ MATCH: `${base}*`, COUNT: 1000 })) keys.push(...batch);
      return keys;
    };
    try {
      expect((await keysOf()).length).toBeGreaterThan(10);
      await store.dropCampaign(other);
      expect(await keysOf()).toEqual([]);
      expect(await store.hasCampaign(other)).toBe(false);
      expect(await store.hasCampaign(ref)).toBe(true);
    } finally {
      await client.close();
    }
  });

  it('grows the phone index with the campaign: a few buckets for a few leads, each small', async () => {
    const growing = campaignRef('acme', 'phone-index');
    const k = campaignKeys(t.prefix, growing);
    const leads = (from: number, n: number) =>
      Array.from({ length: n }, (_, i) => ({
        id: `G${from + i}`,
        phone: `+44770${String(1_000_000 + (from + i) * 7919).padStart(7, '0')}`,
        timeZone: 'UTC',
      }));
    const client = createClient({ url: REDIS_URL });
    await client.connect();
    try {
      await store.defineCampaign(growing, parseCampaignConfig({ window: ALWAYS_OPEN }), T0);
      expect(await client.hGet(k.cfg, 'pb')).toBe('1');
      await store.enqueue(growing, leads(0, 10), T0);
      expect(await client.hGet(k.cfg, 'pb')).toBe('1');
      // Grown in steps (one bucket split at a time), every number still found where it now lives.
      for (let from = 10; from < 1000; from += 330) {
        await store.enqueue(growing, leads(from, 330), T0);
        const again = await store.enqueue(growing, leads(0, from + 330), T0);
        expect(again.alreadyQueued).toHaveLength(from + 330);
      }
      const buckets = Number(await client.hGet(k.cfg, 'pb'));
      expect(buckets).toBe(Math.ceil(1000 / 64));
      const sizes = await Promise.all(
        Array.from({ length: buckets }, (_, b) => client.hLen(k.phoneBucket(b))),
      );
      expect(sizes.reduce((a, b) => a + b, 0)).toBe(1000);
      expect(Math.max(...sizes)).toBeLessThanOrEqual(128);
      const snap = await store.snapshot(growing);
      expect(Object.keys(snap.phones)).toHaveLength(1000);
      const removed = await store.removeNumbers(growing, [leads(500, 1)[0]!.phone], T0);
      expect(removed.map((r) => r.leadId)).toEqual(['G500']);
    } finally {
      await client.close();
      await store.dropCampaign(growing);
    }
  });

  describe('when Redis may have lost writes (restart, failover)', () => {
    const lost = campaignRef('acme', 'lost-writes');
    const a = (i: number) => ({ agentId: asAgentId(`a${i}`), deviceId: asDeviceId(`d${i}`) });
    const T = asTenantId('acme');

    /** A store of its own (epochs counted) and a plain client to play the lost writes with. */
    async function withOwnStore(
      run: (
        store: RedisQueueStore,
        client: ReturnType<typeof createClient>,
        k: CampaignKeys,
      ) => Promise<void>,
    ): Promise<void> {
      const own = await makeStore('redis', { newEpoch: countingEpoch });
      const client = createClient({ url: REDIS_URL });
      await client.connect();
      try {
        await run(own.store as RedisQueueStore, client, campaignKeys(own.prefix, lost));
      } finally {
        await client.close();
        await own.dispose();
      }
    }

    it('stops leasing until the queue is rebuilt, then never issues a lease id again', async () => {
      await withOwnStore(async (store, client, k) => {
        await store.defineCampaign(lost, parseCampaignConfig({ window: ALWAYS_OPEN }), T0);
        const leads = Array.from({ length: 6 }, (_, i) => ({
          id: `R${i}`,
          phone: `+44770090010${i}`,
          timeZone: 'UTC',
        }));
        await store.enqueue(lost, leads, T0);
        const before = await store.lease(lost, a(1), T0, 60_000);
        const counterBefore = await client.hGet(k.cfg, 'lseq');
        // Two more leases, then Redis "restarts" from data a moment old: the counter goes back
        // and the server has a new run id.
        const gone = [await store.lease(lost, a(2), T0, 60_000), await store.lease(lost, a(3), T0, 60_000)];
        await client.hSet(k.cfg, { lseq: counterBefore!, rid: 'a-run-that-is-gone' });
        await client.hDel(k.leases, ['2', '3']);

        await expect(store.lease(lost, a(4), T0, 60_000)).rejects.toMatchObject({ code: 'CAMPAIGN_STALE' });
        await expect(store.dispatch(lost, T0, 5, 60_000)).rejects.toMatchObject({ code: 'CAMPAIGN_STALE' });
        expect(await store.defineCampaign(lost, parseCampaignConfig({ window: ALWAYS_OPEN }), T0)).toEqual({
          stale: true,
        });

        // Rebuilt from the system of record: a new epoch, so the counter issued again names new ids.
        await store.rebuild(lost, [leads.slice(3)], T0);
        const after = [await store.lease(lost, a(5), T0, 60_000), await store.lease(lost, a(6), T0, 60_000)];
        const ids = [before, ...gone, ...after].map((l) => l!.leaseId);
        expect(new Set(ids).size).toBe(ids.length);
        expect(after.map((l) => l!.leaseId.split('.')[2])).toEqual(['2', '3']);
        // The lease that survived is still the same lease under its old epoch.
        const [done] = await store.complete(T, [{ leaseId: before!.leaseId, outcome: 'answered' }], T0);
        expect(done).toMatchObject({ ok: true, leadId: 'R0' });
        // The lost ones are unknown here (their outcomes go through adoption).
        const [lostOne] = await store.complete(T, [{ leaseId: gone[0]!.leaseId, outcome: 'answered' }], T0);
        expect(lostOne).toMatchObject({ ok: false, code: 'LEASE_UNKNOWN' });
      });
    });

    it('rebuilds a queue that went back in time even when a rebuild ended since the caller saw the need', async () => {
      await withOwnStore(async (store, client, k) => {
        const leads = [{ id: 'B1', phone: '+447700900301', timeZone: 'UTC' }];
        await store.defineCampaign(lost, parseCampaignConfig({ window: ALWAYS_OPEN }), T0);
        await store.rebuild(lost, [leads], T0);
        expect(await store.rebuilds(lost)).toBe(1);
        // A failover no script has noticed yet (the run id changed, nothing marked stale): the
        // rebuild that ended is no reason to skip this one.
        await client.hSet(k.cfg, { rid: 'a-run-that-is-gone' });
        const r = await store.rebuild(lost, [leads], T0, { unlessRebuiltSince: 0 });
        expect(r).toMatchObject({ waited: false, enqueued: 1 });
        expect(await store.rebuilds(lost)).toBe(2);
        expect(await client.hGet(k.cfg, 'stale')).toBeNull();
        // Marked stale (and the rebuild that cleared it long done): it runs too.
        await client.hSet(k.cfg, { stale: '1' });
        expect(await store.rebuild(lost, [leads], T0, { unlessRebuiltSince: 0 })).toMatchObject({
          waited: false,
        });
        expect((await store.lease(lost, a(1), T0, 60_000))?.lead.id).toBe('B1');
      });
    });

    it('adopts no completion from a queue that went back in time until it is rebuilt, so a counter issued again cannot overwrite the claim', async () => {
      await withOwnStore(async (store, client, k) => {
        await store.defineCampaign(lost, parseCampaignConfig({ window: ALWAYS_OPEN }), T0);
        const leads = Array.from({ length: 4 }, (_, i) => ({
          id: `G${i}`,
          phone: `+44770090040${i}`,
          timeZone: 'UTC',
        }));
        await store.enqueue(lost, leads, T0);
        await store.lease(lost, a(1), T0, 60_000);
        // Redis snapshots here, leases once more, crashes and restarts from the snapshot: every
        // key as it was (the second lease gone, its lead queued again), under a new run id.
        const binary = client.withTypeMapping({ [RESP_TYPES.BLOB_STRING]: Buffer });
        const keys: string[] = [];
        for await (const batch of client.scanIterator({ MATCH: `${k.base}*`, COUNT: 1000 }))
          keys.push(...batch);
        const snapshot = await Promise.all(keys.map(async (key) => [key, await binary.dump(key)] as const));
        const gone = await store.lease(lost, a(2), T0, 60_000);
        expect(gone?.lead.id).toBe('G1');
        await client.unlink(keys);
        for (const [key, dump] of snapshot) await client.restore(key, 0, dump, { REPLACE: true });
        await client.hSet(k.cfg, { rid: 'a-run-that-is-gone' });

        // The call on the lost lease ends: its completion is adopted (the gateway verified the id
        // and found the lead queued in the system of record). Refused until the queue is rebuilt,
        // as every lease is, then adopted under the lease's own epoch.
        const orphan = {
          leaseId: gone!.leaseId,
          agentId: asAgentId('a2'),
          deviceId: asDeviceId('d2'),
          leadId: 'G1',
          phone: leads[1]!.phone,
          outcome: 'busy',
        };
        let adopted = await store.adoptCompletions(T, [orphan], T0 + 1_000, 30_000);
        if (!adopted[0]!.ok && adopted[0]!.code === 'CAMPAIGN_STALE') {
          await store.rebuild(lost, [leads], T0 + 1_000);
          adopted = await store.adoptCompletions(T, [orphan], T0 + 1_000, 30_000);
        }
        expect(adopted[0]).toMatchObject({ ok: true, leadId: 'G1' });
        // Whoever sees the restart next rebuilds (if the completion did not), and leasing goes on:
        // the counter the lost lease had is issued again, in a new epoch.
        const leaseOrRebuild = async (i: number) => {
          try {
            return await store.lease(lost, a(i), T0 + 1_000, 60_000);
          } catch (err) {
            expect(err).toMatchObject({ code: 'CAMPAIGN_STALE' });
            await store.rebuild(lost, [leads], T0 + 1_000);
            return store.lease(lost, a(i), T0 + 1_000, 60_000);
          }
        };
        const again = [await leaseOrRebuild(3), await leaseOrRebuild(4)];
        expect(again.map((l) => l?.lead.id).sort()).toEqual(['G2', 'G3']);
        const counters = [gone!, ...again.map((l) => l!)].map((l) => l.leaseId.split('.')[2]);
        expect(counters.filter((c) => c === counters[0])).toHaveLength(2);

        // The outcome committed, the adopted claim is applied: the lead waits for its retry.
        const [applied] = await store.applyCompletions(
          T,
          [
            {
              leaseId: gone!.leaseId,
              agentId: asAgentId('a2'),
              outcome: 'busy',
              attempts: 1,
              disposition: { kind: 'retry', dueAt: T0 + 61_000 },
              leadId: 'G1',
              late: true,
            },
          ],
          T0 + 1_100,
        );
        expect(applied).toMatchObject({ ok: true, leadId: 'G1' });
        expect(Object.values((await store.snapshot(lost)).records).sort()).toEqual(['G0', 'G1', 'G2', 'G3']);
        expect((await store.lease(lost, a(5), T0 + 62_000, 60_000))?.lead.id).toBe('G1');
      });
    });

    it('never offers a lead whose number is in the suppression set, whatever the queue says', async () => {
      const other = campaignRef('acme', 'suppressed-at-lease');
      const client = createClient({ url: REDIS_URL });
      await client.connect();
      try {
        await store.defineCampaign(other, parseCampaignConfig({ window: ALWAYS_OPEN }), T0);
        await store.enqueue(
          other,
          [
            { id: 'S1', phone: '+447700900201', timeZone: 'UTC', priority: 9 },
            { id: 'S2', phone: '+447700900202', timeZone: 'UTC' },
          ],
          T0,
        );
        // As a queue restored from an older copy could: the number is listed, the lead still queued.
        await client.sAdd(campaignKeys(t.prefix, other).suppressed, '447700900201');
        const l = await store.lease(other, a(1), T0, 60_000);
        expect(l?.lead.id).toBe('S2');
        expect(Object.values((await store.snapshot(other)).records)).toEqual(['S2']);
      } finally {
        await client.close();
      }
    });
  });
});
