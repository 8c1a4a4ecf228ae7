import { describe, expect, it } from 'vitest';
import { ALWAYS_OPEN } from '../../engine/calling-window.js';
import { parseCampaignConfig } from '../../engine/campaign.js';
import { ManualClock } from '../../engine/clock.js';
import { asAgentId, asDeviceId, campaignRef } from '../../engine/ids.js';
import type { CampaignRef } from '../../engine/ids.js';
import { startMaintenance } from '../../engine/maintenance.js';
import { MemoryQueueStore } from '../../engine/memory/memory-queue-store.js';
import type { ReclaimedLease } from '../../engine/queue-store.js';

const T0 = Date.UTC(2026, 0, 5, 12);
const DAY = 86_400_000;
const agent = { agentId: asAgentId('a1'), deviceId: asDeviceId('d1') };

async function setup() {
  const store = new MemoryQueueStore();
  const clock = new ManualClock(T0);
  const ref = campaignRef('acme', 'm');
  await store.defineCampaign(ref, parseCampaignConfig({ window: ALWAYS_OPEN }), T0);
  return { store, clock, ref };
}

describe('maintenance', () => {
  it('reclaims expired leases in batches and reports them for revocation', async () => {
    const { store, clock, ref } = await setup();
    await store.enqueue(
      ref,
      Array.from({ length: 25 }, (_, i) => ({
        id: `L${i}`,
        phone: `+1555000${String(i).padStart(4, '0')}`,
        timeZone: 'UTC',
      })),
      T0,
    );
    const agents = Array.from({ length: 25 }, (_, i) => ({
      agentId: asAgentId(`a${i}`),
      deviceId: asDeviceId(`d${i}`),
    }));
    await store.setAgentsReady(ref, agents, T0);
    expect((await store.dispatch(ref, T0, 25, 1_000)).leases).toHaveLength(25);
    const seen: ReclaimedLease[] = [];
    const m = startMaintenance(
      { store, clock, campaigns: () => [ref], batch: 10, onReclaimed: (_r, l) => seen.push(...l) },
      false,
    );
    await m.tick();
    expect(seen).toHaveLength(0);
    clock.advance(1_000);
    await m.tick();
    expect(seen).toHaveLength(25);
    expect((await store.stats(ref, clock.now())).ready).toBe(25);
    await m.stop();
  });

  it('lets the caller settle expired leases before they are reclaimed', async () => {
    const { store, clock, ref } = await setup();
    await store.enqueue(
      ref,
      [
        { id: 'L1', phone: '+15550001111', timeZone: 'UTC' },
        { id: 'L2', phone: '+15550002222', timeZone: 'UTC' },
      ],
      T0,
    );
    const two = [agent, { agentId: asAgentId('a2'), deviceId: asDeviceId('d2') }];
    await store.setAgentsReady(ref, two, T0);
    const [first, second] = (await store.dispatch(ref, T0, 2, 1_000)).leases;
    const reclaimed: string[] = [];
    const m = startMaintenance(
      {
        store,
        clock,
        campaigns: () => [ref],
        // As if Postgres already held the outcome of the first lease.
        settleExpired: async (_ref, expired) => {
          expect(expired.map((l) => [l.leaseId, l.state])).toEqual([
            [first!.leaseId, 'o'],
            [second!.leaseId, 'o'],
          ]);
          await store.complete(ref.tenantId, [{ leaseId: first!.leaseId, outcome: 'answered' }], clock.now());
          return { reclaim: [second!.leaseId], voided: [] };
        },
        onReclaimed: (_r, leases) => reclaimed.push(...leases.map((l) => l.leaseId)),
      },
      false,
    );
    clock.advance(1_000);
    await m.tick();
    expect(reclaimed).toEqual([second!.leaseId]);
    expect(await store.stats(ref, clock.now())).toMatchObject({ ready: 1, leased: 0 });
  });

  it('promotes retries that fell due and says so', async () => {
    const { store, clock, ref } = await setup();
    await store.enqueue(ref, [{ id: 'L1', phone: '+15550001111', timeZone: 'UTC', dueAt: T0 + 60_000 }], T0);
    const promoted: number[] = [];
    const m = startMaintenance(
      { store, clock, campaigns: () => [ref], onPromoted: (_r, n) => promoted.push(n) },
      false,
    );
    await m.tick();
    clock.advance(60_000);
    await m.tick();
    expect(promoted).toEqual([1]);
    expect((await store.stats(ref, clock.now())).ready).toBe(1);
  });

  it('keeps calling windows computed ahead, so leads stay dialable week after week', async () => {
    const { store, clock, ref } = await setup();
    await store.enqueue(ref, [{ id: 'L1', phone: '+15550001111', timeZone: 'UTC' }], T0);
    const m = startMaintenance({ store, clock, campaigns: () => [ref], windowRefreshMs: DAY }, false);
    for (let day = 0; day < 20; day++) {
      clock.advance(DAY);
      await m.tick();
    }
    expect((await store.lease(ref, agent, clock.now(), 1_000))?.lead.id).toBe('L1');
  });

  it('without the refresh, stale windows close rather than dial on old hours', async () => {
    const { store, ref } = await setup();
    await store.enqueue(ref, [{ id: 'L1', phone: '+15550001111', timeZone: 'UTC' }], T0);
    expect(await store.lease(ref, agent, T0 + 20 * DAY, 1_000)).toBeNull();
  });

  it('reports a failing campaign and carries on with the others', async () => {
    const { store, clock, ref } = await setup();
    const missing: CampaignRef = campaignRef('acme', 'gone');
    const errors: unknown[] = [];
    await store.enqueue(ref, [{ id: 'L1', phone: '+15550001111', timeZone: 'UTC', dueAt: T0 + 1 }], T0);
    const promoted: number[] = [];
    const m = startMaintenance(
      {
        store,
        clock,
        campaigns: () => [missing, ref],
        onError: (e) => errors.push(e),
        onPromoted: (_r, n) => promoted.push(n),
      },
      false,
    );
    clock.advance(1);
    await m.tick();
    expect(errors).toHaveLength(1);
    expect(promoted).toEqual([1]);
  });

  it('keeps promoting due leads and refreshing windows while the system of record is unreachable', async () => {
    const { store, clock, ref } = await setup();
    await store.enqueue(
      ref,
      [
        { id: 'L1', phone: '+15550001111', timeZone: 'UTC' },
        { id: 'L2', phone: '+15550002222', timeZone: 'UTC', dueAt: T0 + 1_000 },
      ],
      T0,
    );
    await store.setAgentsReady(ref, [agent], T0);
    expect((await store.dispatch(ref, T0, 1, 500)).leases).toHaveLength(1);
    const errors: unknown[] = [];
    const promoted: number[] = [];
    const m = startMaintenance(
      {
        store,
        clock,
        campaigns: () => [ref],
        windowRefreshMs: DAY,
        // Postgres is down: the expired lease cannot be settled, so it must stay leased...
        settleExpired: () => Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:5432')),
        onError: (e) => errors.push(e),
        onPromoted: (_r, n) => promoted.push(n),
      },
      false,
    );
    clock.advance(1_000);
    await m.tick();
    expect(errors).toHaveLength(1);
    // ...but the rest of the campaign's upkeep does not wait for it.
    expect(promoted).toEqual([1]);
    const stats = await store.stats(ref, clock.now());
    expect(stats.leased).toBe(1);
    expect(stats.ready).toBe(1);
    for (let day = 0; day < 20; day++) {
      clock.advance(DAY);
      await m.tick();
    }
    expect(
      (await store.lease(ref, { agentId: asAgentId('a2'), deviceId: asDeviceId('d2') }, clock.now(), 500))
        ?.lead.id,
    ).toBe('L2');
    await m.stop();
  });
});
