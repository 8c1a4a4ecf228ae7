// The tenant-wide gap reservations (gateway/calls/tenant-gap.ts) beside each store: in this
// process for the memory store, in Redis for the Redis store, on a Redis Cluster too (the key's
// hash tag is the tenant's, so one SET decides whatever slots the campaigns live on).
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { asTenantId } from '../../engine/ids.js';
import { gapReservationsFor } from '../../gateway/calls/tenant-gap.js';
import type { GapReservations } from '../../gateway/calls/tenant-gap.js';
import { startRedisCluster } from '../support/redis-servers.js';
import type { RedisCluster } from '../support/redis-servers.js';
import { makeStore, TEST_LEASE_IDS, useRedisCluster } from '../support/stores.js';
import type { StoreKind, TestStore } from '../support/stores.js';

const ACME = asTenantId('acme');
const BETA = asTenantId('beta');
const PHONE = '+14155550100';
const GAP = 60_000;

const leaseOf = (tenantId: string, campaignId: string, counter: number) =>
  TEST_LEASE_IDS.format({ tenantId, campaignId, epoch: 'e1', counter, leadId: 'L1', agentId: 'a0' });

describe.each<StoreKind>(['memory', 'redis', 'cluster'])('tenant gap reservations: %s', (kind) => {
  let cluster: RedisCluster | undefined;
  let store: TestStore;
  let gap: GapReservations;
  beforeAll(async () => {
    if (kind !== 'cluster') return;
    cluster = await startRedisCluster(3);
    useRedisCluster(cluster.nodes);
  });
  afterAll(async () => {
    useRedisCluster(null);
    await cluster?.stop();
  });
  beforeEach(async () => {
    store = await makeStore(kind);
    gap = gapReservationsFor(store.store);
  });
  afterEach(async () => {
    await store.dispose();
  });

  it('one campaign’s call holds the number against the tenant’s other campaigns until the gap ends', async () => {
    const now = Date.now();
    const c1 = leaseOf('acme', 'C1', 1);
    expect(await gap.reserve(ACME, PHONE, c1, GAP, now)).toEqual({ ok: true });
    // A retried accept of the same lease keeps it.
    expect(await gap.reserve(ACME, PHONE, c1, GAP, now)).toEqual({ ok: true });
    const refused = await gap.reserve(ACME, PHONE, leaseOf('acme', 'C2', 1), GAP, now);
    expect(refused.ok).toBe(false);
    if (!refused.ok) {
      expect(refused.until).toBeGreaterThan(now + GAP - 5_000);
      expect(refused.until).toBeLessThanOrEqual(now + GAP);
    }
    // Another tenant's campaign with the same number is not held.
    expect(await gap.reserve(BETA, PHONE, leaseOf('beta', 'C2', 1), GAP, now)).toEqual({ ok: true });
  });

  it('a later call of the same campaign takes the reservation over', async () => {
    const now = Date.now();
    expect(await gap.reserve(ACME, PHONE, leaseOf('acme', 'C1', 1), GAP, now)).toEqual({ ok: true });
    const next = leaseOf('acme', 'C1', 2);
    expect(await gap.reserve(ACME, PHONE, next, GAP, now)).toEqual({ ok: true });
    // Now held by the later call: another campaign is still refused, the later call is not.
    expect((await gap.reserve(ACME, PHONE, leaseOf('acme', 'C2', 1), GAP, now)).ok).toBe(false);
    expect(await gap.reserve(ACME, PHONE, next, GAP, now)).toEqual({ ok: true });
  });

  it('the reservation ends with its gap, and erasure deletes it', async () => {
    expect(await gap.reserve(ACME, PHONE, leaseOf('acme', 'C1', 1), 200, Date.now())).toEqual({ ok: true });
    await new Promise((r) => setTimeout(r, 300));
    expect(await gap.reserve(ACME, PHONE, leaseOf('acme', 'C2', 1), GAP, Date.now())).toEqual({ ok: true });
    await gap.erase(ACME, [PHONE]);
    expect(await gap.reserve(ACME, PHONE, leaseOf('acme', 'C3', 1), GAP, Date.now())).toEqual({ ok: true });
  });
});
