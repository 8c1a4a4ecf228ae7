// The minimum gap between calls to one number across all of a tenant's campaigns
// (gateway/calls/tenant-gap.ts): a real gateway, real Redis (the file's own key prefix) and real
// Postgres. Each campaign's own rules only see its own calls; the tenant-wide reservation made at
// accept is what keeps a second campaign from dialling the number inside the gap.
import { createClient } from 'redis';
import { afterEach, describe, expect, it } from 'vitest';
import type { Clock } from '../../engine/clock.js';
import type { CallingRulesInput } from '../../engine/calling-rules.js';
import { asTenantId } from '../../engine/ids.js';
import type { CampaignRef } from '../../engine/ids.js';
import { tenantGapKey } from '../../engine/keys.js';
import { createRights } from '../../gateway/privacy/rights.js';
import type { OfferPayload } from '../../gateway/protocol/schemas.js';
import { call, next, TestGateway } from '../support/gateway.js';
import type { Device } from '../support/gateway.js';
import { redisKeysHolding } from '../support/redis-scan.js';
import { REDIS_URL } from '../support/stores.js';

const HOUR = 3_600_000;
const MINUTE = 60_000;
const PHONE = '+442079400000'; // TestGateway.leads' first number
const GAP_RULES: CallingRulesInput = { packs: [{ name: 'every number', minGapMs: HOUR }] };

const refOf = (tenantId: string, campaignId: string) =>
  ({ tenantId: asTenantId(tenantId), campaignId }) as CampaignRef;

/** A clock that reads `at` now and runs on in real time; `jump` moves it. */
function movableClock(): Clock & { jump(ms: number): void } {
  let offset = 0;
  return {
    now: () => Date.now() + offset,
    jump: (ms: number) => {
      offset += ms;
    },
  };
}

/** Every frame of `event` the device gets within `ms`. */
function collect(device: Device, event: 'call:offer' | 'call:revoked', ms: number): Promise<unknown[]> {
  const seen: unknown[] = [];
  device.on(event, (...args: unknown[]) => seen.push(args[0]));
  return new Promise((resolve) => setTimeout(() => resolve(seen), ms));
}

async function readyAndOffer(device: Device, campaignId: string): Promise<OfferPayload> {
  const offered = next(device, 'call:offer');
  expect(await call(device, 'agent:ready', { campaignId })).toMatchObject({ ok: true });
  const [offer, ack] = await offered;
  ack({});
  return offer;
}

async function withRedis<T>(work: (client: ReturnType<typeof createClient>) => Promise<T>): Promise<T> {
  const client = createClient({ url: REDIS_URL });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.close();
  }
}

describe('the minimum gap across a tenant’s campaigns', () => {
  let g: TestGateway | undefined;
  afterEach(async () => {
    await g?.stop();
    g = undefined;
  });

  it('a second campaign’s offer of a number called inside the gap is withdrawn at accept and its lead waits for the gap’s end; another tenant is not affected', async () => {
    const clock = movableClock();
    g = await TestGateway.start({ clock });
    for (const t of ['acme', 'beta']) {
      await g.seedTenant(t, 2);
      await g.campaign(t, 'C1', { callingRules: GAP_RULES });
      await g.campaign(t, 'C2', { callingRules: GAP_RULES });
      await g.leads(t, 'C1', 1);
      await g.leads(t, 'C2', 1);
    }

    // Agent A takes campaign 1's call to the number.
    const a = await g.connect('acme', 0);
    const first = await readyAndOffer(a, 'C1');
    expect(first.lead.phone).toBe(PHONE);
    const acceptedAt = clock.now();
    expect(await call(a, 'call:accept', { leaseId: first.leaseId })).toMatchObject({
      ok: true,
      state: { state: 'dialing' },
    });
    const key = tenantGapKey(g.store.prefix, 'acme', PHONE.slice(1));
    const [holder, ttl] = await withRedis(async (c) => [await c.get(key), await c.pTTL(key)] as const);
    expect(holder).toBe(first.leaseId);
    expect(ttl).toBeGreaterThan(HOUR - MINUTE);
    expect(ttl).toBeLessThanOrEqual(HOUR);

    // Campaign 2 knows nothing of that call, so it offers the number to agent B: the accept is refused.
    const b = await g.connect('acme', 1);
    const second = await readyAndOffer(b, 'C2');
    expect(second.lead.phone).toBe(PHONE);
    const revoked = next(b, 'call:revoked');
    const state = next(b, 'agent:state');
    expect(await call(b, 'call:accept', { leaseId: second.leaseId })).toMatchObject({
      ok: false,
      error: { code: 'NUMBER_GAP', retryable: false },
    });
    expect((await revoked)[0]).toEqual({ leaseId: second.leaseId, reason: 'gap' });
    expect((await state)[0]).toMatchObject({ state: 'paused', reason: 'gap' });

    // The lead is back in campaign 2, due when the reservation ends, and not under any lease.
    const snap = await g.store.store.snapshot(refOf('acme', 'C2'));
    expect(Object.keys(snap.leases)).toEqual([]);
    expect(snap.scheduled).toHaveLength(1);
    const due = snap.scheduled[0]![1];
    expect(due).toBeGreaterThan(acceptedAt + HOUR - 5_000);
    expect(due).toBeLessThanOrEqual(clock.now() + HOUR);
    // Ready again, agent B is offered nothing meanwhile.
    const nothing = collect(b, 'call:offer', 600);
    expect(await call(b, 'agent:ready', { campaignId: 'C2' })).toMatchObject({ ok: true });
    expect(await nothing).toEqual([]);
    // Campaign 1's call goes on undisturbed.
    expect(
      await call(a, 'call:complete', { leaseId: first.leaseId, outcome: 'answered', durationSec: 20 }),
    ).toMatchObject({ ok: true });

    // The same number in another tenant: both of its campaigns call it.
    const x = await g.connect('beta', 0);
    const y = await g.connect('beta', 1);
    const bx = await readyAndOffer(x, 'C1');
    expect(await call(x, 'call:accept', { leaseId: bx.leaseId })).toMatchObject({ ok: true });
    const by = await readyAndOffer(y, 'C2');
    expect(by.lead.phone).toBe(PHONE);
    // Only beta's own reservation could refuse this: acme's does not.
    expect(await call(y, 'call:accept', { leaseId: by.leaseId })).toMatchObject({
      ok: false,
      error: { code: 'NUMBER_GAP' },
    });
    await withRedis(async (c) => {
      expect(await c.get(tenantGapKey(g!.store.prefix, 'beta', PHONE.slice(1)))).toBe(bx.leaseId);
      expect(await c.get(key)).toBe(first.leaseId);
    });

    // Once the gap has passed, campaign 2 dials the number.
    clock.jump(HOUR + MINUTE);
    await withRedis((c) => c.del(key)); // Redis's own clock did not move: let the reservation end
    const later = await readyAndOffer(b, 'C2');
    expect(later.lead.phone).toBe(PHONE);
    expect(await call(b, 'call:accept', { leaseId: later.leaseId })).toMatchObject({ ok: true });
  });

  it('with the memory store (one process), an offer accepted in its acknowledgement is withdrawn the same way', async () => {
    g = await TestGateway.start({ store: 'memory' });
    await g.seedTenant('acme', 2);
    await g.campaign('acme', 'C1', { callingRules: GAP_RULES });
    await g.campaign('acme', 'C2', { callingRules: GAP_RULES });
    await g.leads('acme', 'C1', 1);
    await g.leads('acme', 'C2', 1);
    const a = await g.connect('acme', 0);
    const first = await readyAndOffer(a, 'C1');
    expect(await call(a, 'call:accept', { leaseId: first.leaseId })).toMatchObject({ ok: true });

    const b = await g.connect('acme', 1);
    const offered = next(b, 'call:offer');
    expect(await call(b, 'agent:ready', { campaignId: 'C2' })).toMatchObject({ ok: true });
    const [second, ack] = await offered;
    expect(second.lead.phone).toBe(PHONE);
    const revoked = next(b, 'call:revoked');
    const state = next(b, 'agent:state');
    ack({ accept: true });
    expect((await revoked)[0]).toEqual({ leaseId: second.leaseId, reason: 'gap' });
    expect((await state)[0]).toMatchObject({ state: 'paused', reason: 'gap' });
    const snap = await g.store.store.snapshot(refOf('acme', 'C2'));
    expect(Object.keys(snap.leases)).toEqual([]);
    expect(snap.scheduled).toHaveLength(1);
    expect(snap.scheduled[0]![1]).toBeGreaterThan(Date.now() + HOUR - MINUTE);
  });

  it('a number in two tenants is reserved in each tenant’s own slot', async () => {
    g = await TestGateway.start();
    for (const t of ['acme', 'beta']) {
      await g.seedTenant(t, 1);
      await g.campaign(t, 'C1', { callingRules: GAP_RULES });
      await g.leads(t, 'C1', 1);
    }
    const a = await g.connect('acme', 0);
    const b = await g.connect('beta', 0);
    const oa = await readyAndOffer(a, 'C1');
    const ob = await readyAndOffer(b, 'C1');
    expect(await call(a, 'call:accept', { leaseId: oa.leaseId })).toMatchObject({ ok: true });
    expect(await call(b, 'call:accept', { leaseId: ob.leaseId })).toMatchObject({ ok: true });
    const acme = tenantGapKey(g.store.prefix, 'acme', PHONE.slice(1));
    const beta = tenantGapKey(g.store.prefix, 'beta', PHONE.slice(1));
    expect(acme).toContain('{t:acme}');
    await withRedis(async (c) => {
      expect(await c.get(acme)).toBe(oa.leaseId);
      expect(await c.get(beta)).toBe(ob.leaseId);
    });
  });

  it('without a gap rule nothing is reserved and both campaigns dial the number', async () => {
    g = await TestGateway.start();
    await g.seedTenant('acme', 2);
    // A cap but no gap: the per-number rules apply, the tenant-wide reservation does not.
    const capOnly: CallingRulesInput = {
      packs: [{ name: 'cap', maxCalls: [{ count: 3, periodMs: 24 * HOUR }] }],
    };
    await g.campaign('acme', 'C1', { callingRules: capOnly });
    await g.campaign('acme', 'C2');
    await g.leads('acme', 'C1', 1);
    await g.leads('acme', 'C2', 1);
    const a = await g.connect('acme', 0);
    const b = await g.connect('acme', 1);
    const oa = await readyAndOffer(a, 'C1');
    expect(await call(a, 'call:accept', { leaseId: oa.leaseId })).toMatchObject({ ok: true });
    const ob = await readyAndOffer(b, 'C2');
    expect(ob.lead.phone).toBe(oa.lead.phone);
    expect(await call(b, 'call:accept', { leaseId: ob.leaseId })).toMatchObject({ ok: true });
    const keys = await withRedis(async (c) => {
      const found: string[] = [];
      for await (const batch of c.scanIterator({ MATCH: `${g!.store.prefix}{t:*`, COUNT: 1000 }))
        found.push(...batch);
      return found;
    });
    expect(keys).toEqual([]);
  });

  it('erasure deletes the number’s reservation', async () => {
    g = await TestGateway.start();
    await g.seedTenant('acme', 1);
    await g.campaign('acme', 'C1', { callingRules: GAP_RULES });
    await g.leads('acme', 'C1', 1);
    const a = await g.connect('acme', 0);
    const offer = await readyAndOffer(a, 'C1');
    expect(await call(a, 'call:accept', { leaseId: offer.leaseId })).toMatchObject({ ok: true });
    const pattern = `${g.store.prefix}{t:*`;
    expect(await redisKeysHolding([PHONE.slice(1)], pattern)).toEqual([
      tenantGapKey(g.store.prefix, 'acme', PHONE.slice(1)),
    ]);
    await createRights(g.gateway).erase(asTenantId('acme'), PHONE, { actor: 'boss', now: Date.now() });
    expect(await redisKeysHolding([PHONE.slice(1)], `${g.store.prefix}*`)).toEqual([]);
  });

  it('within one campaign the behaviour is unchanged: its own rules decide its next call, an earlier reservation of its own never refuses it', async () => {
    const clock = movableClock();
    g = await TestGateway.start({ clock });
    await g.seedTenant('acme', 1);
    await g.campaign('acme', 'C1', { callingRules: GAP_RULES });
    await g.leads('acme', 'C1', 1);
    const a = await g.connect('acme', 0);
    const first = await readyAndOffer(a, 'C1');
    expect(await call(a, 'call:accept', { leaseId: first.leaseId })).toMatchObject({ ok: true });
    // busy: retried after 15 minutes; the campaign's gap holds the number for the hour.
    expect(
      await call(a, 'call:complete', { leaseId: first.leaseId, outcome: 'busy', durationSec: 0 }),
    ).toMatchObject({ ok: true });
    clock.jump(20 * MINUTE);
    const early = collect(a, 'call:offer', 600);
    expect(await call(a, 'agent:ready', { campaignId: 'C1' })).toMatchObject({ ok: true });
    expect(await early).toEqual([]);
    expect(await call(a, 'agent:pause', { reason: 'lunch' })).toMatchObject({ ok: true });

    // Past the campaign's gap by its own clock, while Redis still holds the first call's
    // reservation (its clock did not move): the campaign's next call goes ahead and takes it over.
    clock.jump(45 * MINUTE);
    const second = await readyAndOffer(a, 'C1');
    expect(second.lead.phone).toBe(PHONE);
    expect(await call(a, 'call:accept', { leaseId: second.leaseId })).toMatchObject({
      ok: true,
      state: { state: 'dialing' },
    });
    const key = tenantGapKey(g.store.prefix, 'acme', PHONE.slice(1));
    expect(await withRedis((c) => c.get(key))).toBe(second.leaseId);
  });
});
