// Interleavings found in review, kept as regression tests: do-not-call reaching every queue
// whatever happens around it, and leases that survive drops, retries, heartbeats and shutdown.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CampaignRef, TenantId } from '../../engine/ids.js';
import type { QueueStore } from '../../engine/queue-store.js';
import { call, next, TestGateway } from '../support/gateway.js';
import type { Device } from '../support/gateway.js';
import { createTestDatabase } from '../support/postgres.js';
import type { TestDatabase } from '../support/postgres.js';
import { makeStore } from '../support/stores.js';
import type { TestStore } from '../support/stores.js';

const T = 'acme';
const PHONE = '+442079400000'; // the first number TestGateway.leads hands out
const tenant = T as TenantId;
const refOf = (campaignId: string) => ({ tenantId: tenant, campaignId }) as CampaignRef;

/** A store whose `complete` can be made to fail once, or to run a hook after it. */
function instrument(real: QueueStore) {
  const hooks = { failNextComplete: false, afterComplete: undefined as (() => void) | undefined };
  const store = new Proxy(real, {
    get(target, prop) {
      const value = Reflect.get(target, prop) as unknown;
      if (prop === 'complete') {
        return async (...args: Parameters<QueueStore['complete']>) => {
          if (hooks.failNextComplete) {
            hooks.failNextComplete = false;
            throw new Error('ECONNRESET (simulated)');
          }
          const result = await target.complete(...args);
          const after = hooks.afterComplete;
          hooks.afterComplete = undefined;
          after?.();
          return result;
        };
      }
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
  return { store, hooks };
}

async function takeCall(device: Device, campaignId: string) {
  const offered = next(device, 'call:offer');
  await call(device, 'agent:ready', { campaignId });
  const [offer, ack] = await offered;
  ack({ accept: true });
  return offer;
}

/** Resolves with the offer a ready device gets within `ms`, or null. */
async function offerWithin(device: Device, campaignId: string, ms = 1_000) {
  const got = next(device, 'call:offer', ms).catch(() => null);
  await call(device, 'agent:ready', { campaignId });
  return got;
}

describe('do-not-call reaches every queue of the tenant', () => {
  let real: TestStore;
  let pg: TestDatabase;
  let g: TestGateway;
  let hooks: ReturnType<typeof instrument>['hooks'];

  beforeEach(async () => {
    real = await makeStore('redis', { newEpoch: undefined });
    pg = await createTestDatabase();
    const instrumented = instrument(real.store);
    hooks = instrumented.hooks;
    g = await TestGateway.start({ shared: { store: { ...real, store: instrumented.store }, pg } });
    await g.seedTenant(T, 2);
    await g.campaign(T, 'A');
    await g.campaign(T, 'B');
  });
  afterEach(async () => {
    await g.stop();
    await real.dispose();
    await pg.dispose();
  });

  it('including a campaign paused at the time, once it is resumed', async () => {
    await g.leads(T, 'A', 1);
    await g.leads(T, 'B', 1); // the same number
    const b = (await g.db.campaigns.get(T, 'B'))!;
    await g.db.campaigns.upsert({ tenantId: T, id: 'B', name: 'B', status: 'paused', config: b.config });
    g.gateway.campaigns.forget(refOf('B'));

    const d0 = await g.connect(T, 0);
    const offer = await takeCall(d0, 'A');
    expect(
      await call(d0, 'call:complete', { leaseId: offer.leaseId, outcome: 'dnc', durationSec: 3 }),
    ).toMatchObject({
      ok: true,
    });

    await g.db.campaigns.upsert({ tenantId: T, id: 'B', name: 'B', status: 'active', config: b.config });
    await g.gateway.campaigns.define(refOf('B'), b.config);
    expect(await offerWithin(await g.connect(T, 1), 'B')).toBeNull();
  });

  it('when the completion is retried after the queue failed to apply it', async () => {
    await g.leads(T, 'A', 1);
    await g.leads(T, 'B', 1);
    const d0 = await g.connect(T, 0);
    const offer = await takeCall(d0, 'A');
    hooks.failNextComplete = true;
    const payload = { leaseId: offer.leaseId, outcome: 'dnc', durationSec: 3 };
    // Saved in Postgres: the device hears so even though the queue step failed.
    expect(await call(d0, 'call:complete', payload)).toMatchObject({ ok: true, duplicate: false });
    expect(await call(d0, 'call:complete', payload)).toMatchObject({ ok: true, duplicate: true });
    expect(await offerWithin(await g.connect(T, 1), 'B')).toBeNull();
  });

  it('when the number is listed while an import of it is under way', async () => {
    const imports = g.db.imports;
    const original = imports.scrubBatch.bind(imports);
    // The DNC addition lands between the import's scrub (its one read) and its enqueue.
    imports.scrubBatch = async (tenantId, campaignId, phones, further) => {
      const scrub = await original(tenantId, campaignId, phones, further);
      await g.gateway.suppress(tenant, [PHONE], 'api');
      return scrub;
    };
    try {
      const added = await g.leads(T, 'A', 1);
      expect(added).toMatchObject({ queued: 0, suppressed: 1 });
    } finally {
      imports.scrubBatch = original;
    }
    expect(await offerWithin(await g.connect(T, 0), 'A')).toBeNull();
  });

  it('without a heartbeat revoking the call whose outcome is being saved', async () => {
    await g.leads(T, 'A', 1);
    const d0 = await g.connect(T, 0);
    const offer = await takeCall(d0, 'A');
    await new Promise((r) => setTimeout(r, 100));
    const seen: string[] = [];
    d0.on('call:revoked', () => seen.push('call:revoked'));
    hooks.afterComplete = () => void g.gateway.hub.extendHeld(); // the heartbeat fires right now
    expect(
      await call(d0, 'call:complete', { leaseId: offer.leaseId, outcome: 'dnc', durationSec: 3 }),
    ).toMatchObject({
      ok: true,
    });
    await new Promise((r) => setTimeout(r, 100));
    expect(seen).toEqual([]);
  });
});

describe('leases across drops and shutdown', () => {
  let g: TestGateway;
  beforeEach(async () => {
    g = await TestGateway.start({ config: { SHUTDOWN_TIMEOUT_MS: '4000' } });
    await g.seedTenant(T, 2);
    await g.campaign(T, 'A');
  });
  afterEach(async () => {
    await g.stop();
  });

  it('accepts the late outcome of a call whose device was away past the grace period', async () => {
    await g.leads(T, 'A', 1);
    const d0 = await g.connect(T, 0);
    const offer = await takeCall(d0, 'A');
    await new Promise((r) => setTimeout(r, 200));
    d0.disconnect(); // a long tunnel; the call goes on
    await new Promise((r) => setTimeout(r, 2_000)); // grace is 1,500 ms in FAST
    const back = await g.connect(T, 0, { leaseId: offer.leaseId });
    const done = await call(back, 'call:complete', {
      leaseId: offer.leaseId,
      outcome: 'answered',
      durationSec: 60,
    });
    expect(done).toMatchObject({ ok: true, duplicate: false });
    expect(await g.store.store.stats(refOf('A'), Date.now())).toMatchObject({ ready: 0, leased: 0 });
  });

  it('does not let the unanswered offer of a dropped connection take back the call it resumed', async () => {
    await g.leads(T, 'A', 1);
    const d0 = await g.connect(T, 0);
    const offered = next(d0, 'call:offer');
    await call(d0, 'agent:ready', { campaignId: 'A' });
    const [offer] = await offered; // the ack never goes out: the connection drops
    d0.disconnect();
    await new Promise((r) => setTimeout(r, 100));
    const back = await g.connect(T, 0, { leaseId: offer.leaseId });
    expect(await call(back, 'call:accept', { leaseId: offer.leaseId })).toMatchObject({ ok: true });
    await new Promise((r) => setTimeout(r, 1_200)); // past the old offer's ack timeout
    expect(await offerWithin(await g.connect(T, 1), 'A')).toBeNull();
    const done = await call(back, 'call:complete', {
      leaseId: offer.leaseId,
      outcome: 'answered',
      durationSec: 5,
    });
    expect(done).toMatchObject({ ok: true });
  });

  it('offers nothing new while draining', async () => {
    await g.leads(T, 'A', 5);
    const busy = await g.connect(T, 0);
    const lease = await takeCall(busy, 'A');
    const idle = await g.connect(T, 1);
    const offers: string[] = [];
    const stopping = g.gateway.stop();
    await new Promise((r) => setTimeout(r, 50));
    busy.on('call:offer', (o) => offers.push(o.leaseId));
    idle.on('call:offer', (o) => offers.push(o.leaseId));
    // While the call in progress keeps the gateway draining: no one is made ready ...
    expect(await call(idle, 'agent:ready', { campaignId: 'A' })).toMatchObject({
      ok: false,
      error: { code: 'UNAVAILABLE' },
    });
    // ... and the call's outcome is saved, without the ready it asked for.
    const done = await call(busy, 'call:complete', {
      leaseId: lease.leaseId,
      outcome: 'answered',
      durationSec: 1,
      ready: true,
    });
    expect(done).toMatchObject({ ok: true, state: { state: 'wrap_up' } });
    await stopping;
    expect(offers).toEqual([]);
    expect(await g.store.store.stats(refOf('A'), Date.now())).toMatchObject({ ready: 4, leased: 0 });
  });
});
