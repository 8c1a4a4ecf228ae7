// The periodic work (lease reaper with its settle against Postgres, scheduled-lead promoter,
// calling-window refresh) runs on every gateway at once, with no lock: three gateways on one
// Redis and one Postgres, their maintenance ticking every 50 ms on one shared clock. Each
// gateway's store is wrapped to record what its reaper and promoter moved, and to hold their
// calls at a barrier until all three have read the same due work, so the race is forced rather
// than hoped for: every expired lease is requeued by exactly one gateway (the others' identical
// calls find it gone, even after its lead was leased again), no lead is lost or queued twice,
// and every due lead is promoted exactly once.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../engine/clock.js';
import { asAgentId, asDeviceId } from '../../engine/ids.js';
import type { CampaignRef } from '../../engine/ids.js';
import type { LeadInput } from '../../engine/lead.js';
import type { QueueStore, ReadyAgent } from '../../engine/queue-store.js';
import { sharedAdapter } from '../support/adapter.js';
import { TestGateway, until } from '../support/gateway.js';
import { createTestDatabase } from '../support/postgres.js';
import type { TestDatabase } from '../support/postgres.js';
import { makeStore } from '../support/stores.js';
import type { TestStore } from '../support/stores.js';

const T = 'periodic';
const GATEWAYS = 3;
const N = 40;

/** A barrier: calls wait until `parties` have arrived, then each waits for its own release. */
class Barrier {
  readonly arrived: number[] = [];
  readonly #releases = new Map<number, () => void>();
  readonly #all: Promise<void>;
  #allArrived = () => undefined as void;
  constructor(readonly parties: number) {
    this.#all = new Promise((r) => (this.#allArrived = r));
  }
  wait(gw: number): Promise<void> {
    this.arrived.push(gw);
    const mine = new Promise<void>((r) => this.#releases.set(gw, r));
    if (this.arrived.length === this.parties) this.#allArrived();
    return mine;
  }
  /** Every party has arrived (or `ms` passed: then the test fails on what arrived). */
  async full(ms = 5_000): Promise<void> {
    await Promise.race([this.#all, new Promise((r) => setTimeout(r, ms))]);
    expect(this.arrived.length, 'gateways that reached the barrier').toBe(this.parties);
  }
  release(gw: number): void {
    this.#releases.get(gw)?.();
  }
}

interface Recorder {
  /** Lease ids this gateway's reaper requeued. */
  readonly reclaimed: string[];
  /** Leads this gateway's promoter moved. */
  promoted: number;
  /** Times its reaper was handed a non-empty round of expired leases to requeue. */
  reclaimRounds: number;
}

describe('periodic work on three gateways at once', () => {
  const clock = new ManualClock(Date.UTC(2026, 0, 5, 12));
  const shared = sharedAdapter('periodic-work');
  const gateways: TestGateway[] = [];
  const recorders: Recorder[] = [];
  const barriers: {
    reclaim: Barrier | null;
    /** Held: promote calls for this campaign at or after this time. */
    promote: { barrier: Barrier; campaignId: string; from: number } | null;
  } = { reclaim: null, promote: null };
  let base: TestStore;
  let pg: TestDatabase;
  let store: QueueStore;

  /** Gateway `gw`'s view of the shared store: recorded, and held at the armed barriers. */
  function wrapped(gw: number): QueueStore {
    const rec: Recorder = { reclaimed: [], promoted: 0, reclaimRounds: 0 };
    recorders.push(rec);
    return new Proxy(store, {
      get(target, prop) {
        if (prop === 'reclaim')
          return async (...args: Parameters<QueueStore['reclaim']>) => {
            const only = args[3];
            if (only && only.length > 0) {
              rec.reclaimRounds++;
              if (barriers.reclaim) await barriers.reclaim.wait(gw);
            }
            const out = await target.reclaim(...args);
            rec.reclaimed.push(...out.map((l) => l.leaseId));
            return out;
          };
        if (prop === 'promote')
          return async (...args: Parameters<QueueStore['promote']>) => {
            const held = barriers.promote;
            if (held && args[0].campaignId === held.campaignId && args[1] >= held.from)
              await held.barrier.wait(gw);
            const n = await target.promote(...args);
            rec.promoted += n;
            return n;
          };
        const value: unknown = Reflect.get(target, prop, target);
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    });
  }

  beforeAll(async () => {
    base = await makeStore('redis', { newEpoch: undefined });
    store = base.store;
    pg = await createTestDatabase();
    for (let i = 0; i < GATEWAYS; i++)
      gateways.push(
        await TestGateway.start({
          shared: { store: { ...base, store: wrapped(i) }, pg },
          clock,
          config: { RECLAIM_INTERVAL_MS: '50' },
          adapter: await shared.adapter(),
        }),
      );
    await gateways[0]!.seedTenant(T, 0);
  }, 60_000);
  afterAll(async () => {
    for (const g of gateways) await g.stop();
    await shared.close();
    await base?.dispose();
    await pg?.dispose();
  });

  const leads = (n: number, from: number, extra: Partial<LeadInput> = {}): LeadInput[] =>
    Array.from({ length: n }, (_, i) => ({
      id: `L${from + i}`,
      phone: `+1555${String(from + i).padStart(7, '0')}`,
      name: `Lead ${from + i}`,
      timeZone: 'America/Chicago',
      ...extra,
    }));
  const agents = (n: number, group: string): ReadyAgent[] =>
    Array.from({ length: n }, (_, i) => ({
      agentId: asAgentId(`${group}${i}`),
      deviceId: asDeviceId(`${group}d${i}`),
    }));

  /** A campaign every gateway routes (and so maintains). */
  async function campaign(id: string): Promise<CampaignRef> {
    const ref = await gateways[0]!.campaign(T, id);
    const config = (await pg.db.campaigns.get(T, id))!.config;
    for (const g of gateways.slice(1)) await g.gateway.campaigns.define(ref, config);
    return ref;
  }

  /** Every lead the queue holds, where: ready (by member, counted), scheduled, or leased. */
  async function where(ref: CampaignRef) {
    const snap = await store.snapshot(ref);
    const ready = Object.values(snap.ready).flat();
    const leased = Object.values(snap.leases).map((l) => l.member);
    const scheduled = snap.scheduled.map(([m]) => m);
    return { ready, leased, scheduled, leases: snap.leases, all: [...ready, ...leased, ...scheduled] };
  }

  it('an expired lease is requeued by exactly one gateway, even when its lead is leased again meanwhile', async () => {
    const ref = await campaign('reap');
    await store.enqueue(ref, leads(N, 0), clock.now());
    const first = await store.readyAndDispatch(ref, agents(N, 'r'), clock.now(), N, 1_000);
    expect(first.leases).toHaveLength(N);
    const expired = first.leases.map((l) => l.leaseId as string);
    for (const r of recorders) r.reclaimed.length = 0;

    // All three reapers read the same expired round and settle it against Postgres; then gateway
    // 1's requeue lands, the leads are leased again, and only then do gateways 2 and 3 requeue
    // the very same (now stale) lease ids.
    barriers.reclaim = new Barrier(GATEWAYS);
    clock.advance(2_000);
    await barriers.reclaim.full();
    const [firstIn, ...late] = barriers.reclaim.arrived as [number, ...number[]];
    barriers.reclaim.release(firstIn);
    await until(() => recorders[firstIn]!.reclaimed.length === N, 3_000, 10);
    const again = await store.readyAndDispatch(ref, agents(N, 's'), clock.now(), N, 60_000);
    expect(again.leases).toHaveLength(N);
    for (const gw of late) barriers.reclaim.release(gw);
    barriers.reclaim = null;
    await until(() => late.every((gw) => recorders[gw]!.reclaimRounds > 0), 3_000, 10);
    // A few more rounds of every reaper on the same clock: nothing more is due.
    await new Promise((r) => setTimeout(r, 200));

    expect([...recorders[firstIn]!.reclaimed].sort()).toEqual([...expired].sort());
    for (const gw of late) expect(recorders[gw]!.reclaimed, `gateway ${gw + 1} requeued`).toEqual([]);
    // The second leases stand: every lead leased once, none back in the queue.
    const mid = await where(ref);
    expect(mid.ready).toEqual([]);
    expect(new Set(mid.leased).size).toBe(N);
    expect(Object.keys(mid.leases).sort()).toEqual(again.leases.map((l) => l.leaseId as string).sort());

    // Those expire too: requeued once each, by whichever gateway gets there; no lead lost.
    for (const r of recorders) r.reclaimed.length = 0;
    clock.advance(61_000);
    await until(async () => Object.keys((await where(ref)).leases).length === 0, 5_000, 20);
    await new Promise((r) => setTimeout(r, 200));
    const all = recorders.flatMap((r) => r.reclaimed);
    expect(all.sort()).toEqual(again.leases.map((l) => l.leaseId as string).sort());
    const end = await where(ref);
    expect(end.ready).toHaveLength(N);
    expect(new Set(end.all).size).toBe(N);
  });

  it('a due lead is promoted by exactly one gateway', async () => {
    const ref = await campaign('promote');
    const due = clock.now() + 5_000;
    await store.enqueue(ref, leads(N, 1_000, { dueAt: due }), clock.now());
    expect((await where(ref)).scheduled).toHaveLength(N);
    for (const r of recorders) r.promoted = 0;

    // The three promoters are held until each is about to move the same due leads, then let go
    // at once (a gateway's tick is never overlapped by its next one: one call each).
    const barrier = new Barrier(GATEWAYS);
    barriers.promote = { barrier, campaignId: ref.campaignId, from: due };
    clock.set(due + 1);
    await barrier.full();
    barriers.promote = null;
    for (const gw of [0, 1, 2]) barrier.release(gw);
    await until(async () => (await where(ref)).scheduled.length === 0, 3_000, 10);
    await new Promise((r) => setTimeout(r, 200));

    expect(recorders.reduce((sum, r) => sum + r.promoted, 0)).toBe(N);
    const end = await where(ref);
    expect(end.ready).toHaveLength(N);
    expect(new Set(end.ready).size).toBe(N);
    expect(end.scheduled).toEqual([]);
  });
});
