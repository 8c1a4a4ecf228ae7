// Races on real Redis: several clients doing the same maintenance or completing against the same
// leases at once. Every operation is one script, so these hold by construction; the tests make
// sure nothing outside the scripts (client batching, reply decoding) breaks that.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALWAYS_OPEN } from '../../engine/calling-window.js';
import { parseCampaignConfig } from '../../engine/campaign.js';
import { asAgentId, asDeviceId, asTenantId, campaignRef } from '../../engine/ids.js';
import type { CampaignRef } from '../../engine/ids.js';
import type { LeadInput } from '../../engine/lead.js';
import type { Lease } from '../../engine/lease.js';
import { createRedisQueueStore } from '../../engine/redis/redis-queue-store.js';
import type { RedisQueueStore } from '../../engine/redis/redis-queue-store.js';
import type { ReadyAgent } from '../../engine/queue-store.js';
import { deleteKeys, fixedEpoch, REDIS_URL, TEST_LEASE_IDS } from '../support/stores.js';

const DATABASE = 2;
const PREFIX = `test:races:${process.pid}:`;
const TENANT = asTenantId('race');
const T0 = Date.UTC(2026, 0, 5, 12);
const TTL = 5_000;

const leads = (n: number, from = 0): LeadInput[] =>
  Array.from({ length: n }, (_, i) => ({
    id: `L${from + i}`,
    phone: `+1555${String(from + i).padStart(7, '0')}`,
    name: `Lead ${from + i}`,
    timeZone: 'America/Chicago',
  }));
const agents = (n: number, group: string): ReadyAgent[] =>
  Array.from({ length: n }, (_, i) => ({
    agentId: asAgentId(`${group}${i}`),
    deviceId: asDeviceId(`${group}d${i}`),
  }));

describe('races on one campaign', () => {
  const stores: RedisQueueStore[] = [];
  let store: RedisQueueStore;

  beforeAll(async () => {
    for (let i = 0; i < 4; i++) {
      stores.push(
        await createRedisQueueStore({
          url: REDIS_URL,
          database: DATABASE,
          keyPrefix: PREFIX,
          newEpoch: fixedEpoch,
          leaseIds: TEST_LEASE_IDS, // every gateway of a deployment signs lease ids with one key
        }),
      );
    }
    store = stores[0]!;
  });
  afterAll(async () => {
    await Promise.all(stores.map((s) => s.close()));
    await deleteKeys(`${PREFIX}*`, DATABASE);
  });

  async function setup(ref: CampaignRef, leadCount: number): Promise<void> {
    await store.defineCampaign(ref, parseCampaignConfig({ window: ALWAYS_OPEN }), T0);
    for (let i = 0; i < leadCount; i += 5_000)
      await store.enqueue(ref, leads(Math.min(5_000, leadCount - i), i), T0);
  }

  async function leaseAll(ref: CampaignRef, group: ReadyAgent[], now: number): Promise<Lease[]> {
    const out: Lease[] = [];
    for (let i = 0; i < group.length; i += 1_000) {
      const chunk = group.slice(i, i + 1_000);
      await store.setAgentsReady(ref, chunk, now);
      out.push(...(await store.dispatch(ref, now, chunk.length, TTL)).leases);
    }
    return out;
  }

  it('several reclaimers over 10,000 expired leases requeue each exactly once', async () => {
    const ref = campaignRef('race', 'reclaim');
    await setup(ref, 10_000);
    const granted = await leaseAll(ref, agents(10_000, 'a'), T0);
    expect(granted).toHaveLength(10_000);

    const reclaimed: string[] = [];
    await Promise.all(
      stores.map(async (s) => {
        for (;;) {
          const batch = await s.reclaim(ref, T0 + TTL, 250);
          if (batch.length === 0) return;
          reclaimed.push(...batch.map((r) => r.leaseId));
        }
      }),
    );
    expect(reclaimed).toHaveLength(10_000);
    expect(new Set(reclaimed).size).toBe(10_000);
    expect(new Set(reclaimed)).toEqual(new Set(granted.map((l) => l.leaseId)));
    const stats = await store.stats(ref, T0 + TTL);
    expect(stats).toMatchObject({ ready: 10_000, leased: 0 });
    const again = await leaseAll(ref, agents(10_000, 'b'), T0 + TTL);
    expect(again.every((l) => l.lead.attempts === 0)).toBe(true);
  });

  it('a stale lease id never changes a newer lease, however the calls interleave', async () => {
    const ref = campaignRef('race', 'stale');
    await setup(ref, 1_000);
    const old = await leaseAll(ref, agents(1_000, 'a'), T0);
    await store.reclaim(ref, T0 + TTL, 1_000);
    const fresh = await leaseAll(ref, agents(1_000, 'b'), T0 + TTL);
    expect(fresh).toHaveLength(1_000);

    const now = T0 + TTL + 1;
    const [staleResults, acceptResults] = await Promise.all([
      Promise.all(
        old.map((l, i) =>
          stores[i % 4]!.complete(TENANT, [{ leaseId: l.leaseId, outcome: 'answered' }], now),
        ),
      ),
      Promise.all(
        fresh.map((l, i) =>
          stores[(i + 1) % 4]!.accept(TENANT, { leaseId: l.leaseId, agentId: l.agentId }, now, 60_000),
        ),
      ),
    ]);
    expect(staleResults.flat().every((r) => !r.ok && r.code === 'LEASE_STALE')).toBe(true);
    expect(acceptResults.every((r) => r.expiresAt === now + 60_000)).toBe(true);
    const snap = await store.snapshot(ref);
    expect(Object.keys(snap.leases)).toHaveLength(1_000);
    expect(Object.values(snap.leases).every((l) => l.state === 'a' && l.agentId.startsWith('b'))).toBe(true);
  });

  it('a late completion and a new lease of the same lead never both win', async () => {
    const ref = campaignRef('race', 'late');
    await setup(ref, 2_000);
    const old = await leaseAll(ref, agents(1_000, 'a'), T0);
    await store.reclaim(ref, T0 + TTL, 1_000);
    const oldLeads = new Set(old.map((l) => l.lead.id));

    // Dispatch takes the requeued leads from the head (100 a round) while late completions come
    // from the tail (50 a round) over other connections; in round 6 both reach for the same leads.
    const now = T0 + TTL + 1;
    const group = agents(1_000, 'b');
    const tail = [...old].reverse();
    const late: Awaited<ReturnType<RedisQueueStore['complete']>>[] = [];
    const newLeases: Lease[] = [];
    for (let round = 0; round < 20; round++) {
      const chunk = group.slice(round * 100, round * 100 + 100);
      const [leased, done] = await Promise.all([
        chunk.length === 0
          ? Promise.resolve([])
          : stores[3]!
              .setAgentsReady(ref, chunk, now)
              .then(async () => (await stores[3]!.dispatch(ref, now, 100, TTL)).leases),
        Promise.all(
          tail
            .slice(round * 50, round * 50 + 50)
            .map((l, i) =>
              stores[i % 3]!.complete(TENANT, [{ leaseId: l.leaseId, outcome: 'answered' }], now),
            ),
        ),
      ]);
      late.push(...done);
      newLeases.push(...leased);
    }
    const completedLate = new Set(late.flat().flatMap((r) => (r.ok ? [r.leadId] : [])));
    const releasedOld = new Set(newLeases.map((l) => l.lead.id).filter((id) => oldLeads.has(id)));
    for (const r of late.flat()) expect(r.ok || r.code === 'LEASE_STALE').toBe(true);
    expect([...completedLate].filter((id) => releasedOld.has(id))).toEqual([]);
    expect(completedLate.size + releasedOld.size).toBe(1_000);
    // Both sides won some leads: the race was real.
    expect(completedLate.size).toBeGreaterThan(0);
    expect(releasedOld.size).toBeGreaterThan(0);
    const stats = await store.stats(ref, now);
    expect(stats.ready + stats.leased).toBe(2_000 - completedLate.size);
  });
});
