// A campaign the queue lacks is rebuilt once, however many callers noticed. A gateway's own
// periodic work can find a campaign unknown (or stale) while the admin call that defined it is
// still asking every gateway for its calls; its recovery asks too (a registry round, up to
// seconds), and by the time it gets to rebuild, the definition's rebuild has ended and the queue
// leases. A second rebuild then refused every ready and dispatch CAMPAIGN_STALE while it read
// Postgres again, for nothing (test/cluster/periodic-work failed so in CI: its first dispatch).
// The same when the caller saw the campaign stale during the definition's rebuild and its
// recovery starts only after that rebuild ended (the queue's count of rebuilds, read at the
// recovery's start, then already counts it): the periodic-work test's first dispatch found the
// queue emptied so, the leads it had just queued gone.
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALWAYS_OPEN } from '../../engine/calling-window.js';
import { parseCampaignConfig } from '../../engine/campaign.js';
import { systemClock } from '../../engine/clock.js';
import { asAgentId, asDeviceId, campaignRef } from '../../engine/ids.js';
import type { QueueStore, RebuildResult } from '../../engine/queue-store.js';
import { createCampaignRegistry } from '../../gateway/calls/campaigns.js';
import { createTestDatabase } from '../support/postgres.js';
import type { TestDatabase } from '../support/postgres.js';
import { makeStore } from '../support/stores.js';
import type { TestStore } from '../support/stores.js';

const T = 'rebuild-once';
const ASKING_MS = 300;

describe('a campaign found unknown by two callers at once', () => {
  let base: TestStore;
  let pg: TestDatabase;

  beforeAll(async () => {
    base = await makeStore('redis');
    pg = await createTestDatabase();
    await pg.db.tenants.create({ id: T, name: 'Rebuild once', plan: { deviceLimit: 5 } });
  });
  afterAll(async () => {
    await base?.dispose();
    await pg?.dispose();
  });

  /** The store, its rebuilds recorded, and a campaign registry over it. */
  function recorded() {
    const results: RebuildResult[] = [];
    const store = new Proxy(base.store, {
      get(target, prop) {
        if (prop === 'rebuild')
          return async (...args: Parameters<QueueStore['rebuild']>) => {
            const r = await target.rebuild(...args);
            results.push(r);
            return r;
          };
        const value: unknown = Reflect.get(target, prop, target);
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    });
    const registry = createCampaignRegistry({
      db: pg.db,
      store,
      clock: systemClock,
      logger: pino({ level: 'silent' }),
      // Every gateway asked for its calls: a registry round.
      heldCalls: () => new Promise((r) => setTimeout(() => r([]), ASKING_MS)),
    });
    return { results, store, registry };
  }

  async function activeCampaign(id: string) {
    const config = parseCampaignConfig({ window: ALWAYS_OPEN });
    await pg.db.campaigns.upsert({ tenantId: T, id, name: id, status: 'active', config });
    return { ref: campaignRef(T, id), config };
  }

  it('is rebuilt once: a recovery that asked while the definition rebuilt reads nothing', async () => {
    const { ref, config } = await activeCampaign('c1');
    const { results, store, registry } = recorded();

    const defining = registry.define(ref, config);
    // The periodic work's tick while the definition asks: the queue does not know the campaign.
    await new Promise((r) => setTimeout(r, ASKING_MS / 3));
    expect(await store.hasCampaign(ref)).toBe(false);
    const recovering = registry.recover(ref);
    await defining;
    // Defined and rebuilt: the queue leases while the recovery still asks.
    await store.enqueue(ref, [{ id: 'L1', phone: '+447700900401', timeZone: 'UTC' }], Date.now());
    const agent = { agentId: asAgentId('a1'), deviceId: asDeviceId('d1') };
    const first = await store.readyAndDispatch(ref, [agent], Date.now(), 1, 60_000);
    expect(first.leases.map((l) => l.lead.id)).toEqual(['L1']);
    await recovering;

    expect(results.filter((r) => !r.waited)).toHaveLength(1);
    expect(await store.rebuilds(ref)).toBe(1);
    const snap = await store.snapshot(ref);
    expect(snap.leases[first.leases[0]!.leaseId]).toBeDefined();
  });

  it('is rebuilt once: a recovery of a staleness seen during the definition’s rebuild, started after it, reads nothing', async () => {
    const { ref, config } = await activeCampaign('c2');
    const { results, store, registry } = recorded();
    await registry.define(ref, config);
    expect(await store.rebuilds(ref)).toBe(1);
    // The queue leases; then the recovery of what a call saw while that rebuild ran begins.
    await store.enqueue(ref, [{ id: 'L1', phone: '+447700900402', timeZone: 'UTC' }], Date.now());
    await registry.recover(ref);

    expect(results.filter((r) => !r.waited)).toHaveLength(1);
    expect(await store.rebuilds(ref)).toBe(1);
    const agent = { agentId: asAgentId('a1'), deviceId: asDeviceId('d1') };
    const first = await store.readyAndDispatch(ref, [agent], Date.now(), 1, 60_000);
    expect(first.leases.map((l) => l.lead.id)).toEqual(['L1']);
  });
});
