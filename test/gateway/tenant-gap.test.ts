// The minimum gap between calls to one number across all of a tenant's campaigns
// (gateway/calls/tenant-gap.ts): a real gateway, real Redis (the file's own key prefix) and real
// Postgres. Each campaign's own rules only see its own calls; the tenant-wide reservation, made
// before an offer is sent and extended to the gap at its accept, is what keeps a second campaign
// from dialling the number inside the gap: its offer of the number is never sent.
import { randomUUID } from 'node:crypto';
import { createClient } from 'redis';
import { afterEach, describe, expect, it } from 'vitest';
import type { Clock } from '../../engine/clock.js';
import type { CallingRulesInput } from '../../engine/calling-rules.js';
import { asTenantId } from '../../engine/ids.js';
import type { CampaignRef } from '../../engine/ids.js';
import { tenantGapKey } from '../../engine/keys.js';
import { callingRulesSchema } from '../../engine/calling-rules.js';
import { zoneKey } from '../../engine/calling-window.js';
import type { AgentId, LeadId } from '../../engine/ids.js';
import {
  createTenantGap,
  memoryGapReservations,
  OFFER_MARGIN_MS,
  redisGapReservations,
} from '../../gateway/calls/tenant-gap.js';
import type { GapReservations } from '../../gateway/calls/tenant-gap.js';
import { silentLogger } from '../../gateway/logger.js';
import { createRights } from '../../gateway/privacy/rights.js';
import type { OfferPayload } from '../../gateway/protocol/schemas.js';
import { call, FAST, next, TestGateway } from '../support/gateway.js';
import type { Device } from '../support/gateway.js';
import { redisKeysHolding } from '../support/redis-scan.js';
import { makeStore, REDIS_URL, TEST_LEASE_IDS } from '../support/stores.js';

const HOUR = 3_600_000;
const MINUTE = 60_000;
const PHONE = '+442079400000'; // TestGateway.leads' first number
const GAP_RULES: CallingRulesInput = { packs: [{ name: 'every number', minGapMs: HOUR }] };
const OFFER_TTL_MS = Number(FAST.OFFER_TTL_MS);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

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

/** Every frame of `event` the device gets within `ms` (an offer is acknowledged, not accepted). */
function collect(device: Device, event: 'call:offer' | 'call:revoked', ms: number): Promise<unknown[]> {
  const seen: unknown[] = [];
  device.on(event, (...args: unknown[]) => {
    seen.push(args[0]);
    const ack = args[1];
    if (typeof ack === 'function') (ack as (res: object) => void)({});
  });
  return new Promise((resolve) => setTimeout(() => resolve(seen), ms));
}

async function readyAndOffer(device: Device, campaignId: string): Promise<OfferPayload> {
  const offered = next(device, 'call:offer');
  expect(await call(device, 'agent:ready', { campaignId })).toMatchObject({ ok: true });
  const [offer, ack] = await offered;
  ack({});
  return offer;
}

/**
 * Ready, and take the offer in its acknowledgement (the device dials at once). A status sent after
 * it runs after the accept (a session's events run one at a time): its answer says the call is on.
 */
async function readyAndTake(device: Device, campaignId: string): Promise<OfferPayload> {
  const offered = next(device, 'call:offer');
  expect(await call(device, 'agent:ready', { campaignId })).toMatchObject({ ok: true });
  const [offer, ack] = await offered;
  ack({ accept: true });
  expect(await call(device, 'call:status', { leaseId: offer.leaseId, status: 'ringing' })).toMatchObject({
    ok: true,
  });
  return offer;
}

/** The reservation at `key` is `leaseId`'s, for more than `minTtl` ms and at most the gap. */
async function heldFor(key: string, leaseId: string, minTtl: number): Promise<void> {
  const [holder, ttl] = await withRedis(async (c) => [await c.get(key), await c.pTTL(key)] as const);
  expect(holder).toBe(leaseId);
  expect(ttl).toBeGreaterThan(minTtl);
  expect(ttl).toBeLessThanOrEqual(HOUR);
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

  it('a number another campaign’s call holds is never offered, even to a device accepting in the acknowledgement: its lead waits for the gap’s end and the agent gets another lead; another tenant is not affected', async () => {
    const clock = movableClock();
    g = await TestGateway.start({ clock });
    for (const t of ['acme', 'beta']) {
      await g.seedTenant(t, 2);
      await g.campaign(t, 'C1', { callingRules: GAP_RULES });
      await g.campaign(t, 'C2', { callingRules: GAP_RULES });
      await g.leads(t, 'C1', 1);
    }
    await g.leads('acme', 'C2', 2); // the number, then another
    await g.leads('beta', 'C2', 1);

    // Agent A takes campaign 1's call to the number in the offer's acknowledgement (the fast path).
    const a = await g.connect('acme', 0);
    const first = await readyAndTake(a, 'C1');
    expect(first.lead.phone).toBe(PHONE);
    const acceptedAt = clock.now();
    const key = tenantGapKey(g.store.prefix, 'acme', PHONE.slice(1));
    await heldFor(key, first.leaseId, HOUR - MINUTE);

    // Campaign 2 knows nothing of that call and leases the number to agent B, but the offer is
    // held back: B's device is offered the next lead instead and is told nothing of the number.
    const b = await g.connect('acme', 1);
    const offers = collect(b, 'call:offer', 1_500);
    const revoked = collect(b, 'call:revoked', 1_500);
    expect(await call(b, 'agent:ready', { campaignId: 'C2' })).toMatchObject({ ok: true });
    const seen = (await offers) as OfferPayload[];
    expect(seen.map((o) => o.lead.phone)).toEqual(['+442079400001']);
    expect(await revoked).toEqual([]);
    const other = seen[0]!;

    // The number's lead is back in campaign 2, due when the reservation ends, under no lease but
    // the other lead's.
    const snap = await g.store.store.snapshot(refOf('acme', 'C2'));
    expect(Object.values(snap.leases)).toHaveLength(1);
    expect(snap.scheduled).toHaveLength(1);
    const due = snap.scheduled[0]![1];
    expect(due).toBeGreaterThan(acceptedAt + HOUR - 5_000);
    expect(due).toBeLessThanOrEqual(clock.now() + HOUR);
    // The reservation is still campaign 1's call's.
    await heldFor(key, first.leaseId, HOUR - MINUTE);
    // B's call to the other number goes ahead; campaign 1's call goes on undisturbed.
    expect(await call(b, 'call:accept', { leaseId: other.leaseId })).toMatchObject({ ok: true });
    expect(
      await call(b, 'call:complete', { leaseId: other.leaseId, outcome: 'answered', durationSec: 5 }),
    ).toMatchObject({ ok: true });
    expect(
      await call(a, 'call:complete', { leaseId: first.leaseId, outcome: 'answered', durationSec: 20 }),
    ).toMatchObject({ ok: true });

    // The same number in another tenant: its first campaign calls it, acme's reservation does
    // not hold it; its second campaign's agent is offered nothing.
    const x = await g.connect('beta', 0);
    const y = await g.connect('beta', 1);
    const bx = await readyAndTake(x, 'C1');
    expect(bx.lead.phone).toBe(PHONE);
    await heldFor(tenantGapKey(g.store.prefix, 'beta', PHONE.slice(1)), bx.leaseId, HOUR - MINUTE);
    const none = collect(y, 'call:offer', 600);
    expect(await call(y, 'agent:ready', { campaignId: 'C2' })).toMatchObject({ ok: true });
    expect(await none).toEqual([]);
    expect(await withRedis((c) => c.get(key))).toBe(first.leaseId);

    // Once the gap has passed, campaign 2 dials the number.
    clock.jump(HOUR + MINUTE);
    await withRedis((c) => c.del(key)); // Redis's own clock did not move: let the reservation end
    const later = await readyAndOffer(b, 'C2');
    expect(later.lead.phone).toBe(PHONE);
    expect(await call(b, 'call:accept', { leaseId: later.leaseId })).toMatchObject({ ok: true });
    await heldFor(key, later.leaseId, HOUR - MINUTE);
  });

  it('an offer accepted after its reservation lapsed and another campaign’s call took the number is withdrawn at accept', async () => {
    g = await TestGateway.start();
    await g.seedTenant('acme', 2);
    await g.campaign('acme', 'C1', { callingRules: GAP_RULES });
    await g.campaign('acme', 'C2', { callingRules: GAP_RULES });
    await g.leads('acme', 'C1', 1);
    await g.leads('acme', 'C2', 1);

    // Agent B is offered the number by campaign 2: held for the offer's lifetime only.
    const b = await g.connect('acme', 1);
    const second = await readyAndOffer(b, 'C2');
    expect(second.lead.phone).toBe(PHONE);
    const key = tenantGapKey(g.store.prefix, 'acme', PHONE.slice(1));
    const [holder, ttl] = await withRedis(async (c) => [await c.get(key), await c.pTTL(key)] as const);
    expect(holder).toBe(second.leaseId);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(OFFER_TTL_MS + OFFER_MARGIN_MS);

    // The reservation lapses (as for an offer accepted very late) and campaign 1's call takes it.
    await withRedis((c) => c.del(key));
    const a = await g.connect('acme', 0);
    const first = await readyAndOffer(a, 'C1');
    const acceptedAt = Date.now();
    expect(await call(a, 'call:accept', { leaseId: first.leaseId })).toMatchObject({ ok: true });
    await heldFor(key, first.leaseId, HOUR - MINUTE);

    // B's accept finds the number taken: the offer is withdrawn, the device told.
    const revoked = next(b, 'call:revoked');
    const state = next(b, 'agent:state');
    expect(await call(b, 'call:accept', { leaseId: second.leaseId })).toMatchObject({
      ok: false,
      error: { code: 'NUMBER_GAP', retryable: false },
    });
    expect((await revoked)[0]).toEqual({ leaseId: second.leaseId, reason: 'gap' });
    expect((await state)[0]).toMatchObject({ state: 'paused', reason: 'gap' });
    const snap = await g.store.store.snapshot(refOf('acme', 'C2'));
    expect(Object.keys(snap.leases)).toEqual([]);
    expect(snap.scheduled).toHaveLength(1);
    expect(snap.scheduled[0]![1]).toBeGreaterThan(acceptedAt + HOUR - 5_000);
    expect(await withRedis((c) => c.get(key))).toBe(first.leaseId);
  });

  it('a declined offer holds the number for other campaigns only until its offer’s lifetime ends, not for the gap', async () => {
    g = await TestGateway.start();
    await g.seedTenant('acme', 2);
    await g.campaign('acme', 'C1', { callingRules: GAP_RULES });
    await g.campaign('acme', 'C2', { callingRules: GAP_RULES });
    await g.leads('acme', 'C1', 1);
    await g.leads('acme', 'C2', 1);
    const a = await g.connect('acme', 0);
    const first = await readyAndOffer(a, 'C1');
    expect(first.lead.phone).toBe(PHONE);
    expect(await call(a, 'call:reject', { leaseId: first.leaseId })).toMatchObject({ ok: true });
    const key = tenantGapKey(g.store.prefix, 'acme', PHONE.slice(1));
    const readAt = Date.now();
    const [holder, ttl] = await withRedis(async (c) => [await c.get(key), await c.pTTL(key)] as const);
    expect(holder).toBe(first.leaseId);
    expect(ttl).toBeLessThanOrEqual(OFFER_TTL_MS + OFFER_MARGIN_MS);
    // The reservation ends no earlier than this (its TTL was read at or after readAt).
    const reservedUntil = readAt + ttl;

    // Meanwhile campaign 2's agent is not offered the number; its lead is due when the offer's
    // reservation ends. Accepted the moment it arrives, in the offer's acknowledgement (the
    // number is then reserved for the gap at once: no poll can see the moment between).
    const b = await g.connect('acme', 1);
    let offeredAt = 0;
    const offered = next(b, 'call:offer', 15_000).then(([offer, ack]) => {
      offeredAt = Date.now();
      ack({ accept: true });
      return offer;
    });
    const revoked = collect(b, 'call:revoked', 1_000);
    const askedAt = Date.now();
    expect(await call(b, 'agent:ready', { campaignId: 'C2' })).toMatchObject({ ok: true });
    expect(await revoked).toEqual([]);
    const snap = await g.store.store.snapshot(refOf('acme', 'C2'));
    expect(snap.scheduled).toHaveLength(1);
    expect(snap.scheduled[0]![1]).toBeLessThanOrEqual(askedAt + OFFER_TTL_MS + OFFER_MARGIN_MS);

    // Then it is, once the reservation has ended: the number is campaign 2's to call, reserved
    // for the gap at its accept.
    const second = await offered;
    expect(second.lead.phone).toBe(PHONE);
    expect(offeredAt).toBeGreaterThanOrEqual(reservedUntil);
    expect(await call(b, 'call:status', { leaseId: second.leaseId, status: 'ringing' })).toMatchObject({
      ok: true,
    });
    await heldFor(key, second.leaseId, HOUR - MINUTE);
  });

  it('with the memory store (one process), a number another campaign’s call holds is never offered either', async () => {
    g = await TestGateway.start({ store: 'memory' });
    await g.seedTenant('acme', 2);
    await g.campaign('acme', 'C1', { callingRules: GAP_RULES });
    await g.campaign('acme', 'C2', { callingRules: GAP_RULES });
    await g.leads('acme', 'C1', 1);
    await g.leads('acme', 'C2', 1);
    const a = await g.connect('acme', 0);
    const first = await readyAndTake(a, 'C1');
    expect(first.lead.phone).toBe(PHONE);

    const b = await g.connect('acme', 1);
    const offers = collect(b, 'call:offer', 800);
    const revoked = collect(b, 'call:revoked', 800);
    const ready = await call(b, 'agent:ready', { campaignId: 'C2' });
    expect(ready).toMatchObject({ ok: true, state: { state: 'ready' } });
    expect(await offers).toEqual([]);
    expect(await revoked).toEqual([]);
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

const leaseOf = (campaignId: string, counter: number) =>
  TEST_LEASE_IDS.format({ tenantId: 'acme', campaignId, epoch: 'e1', counter, leadId: 'L1', agentId: 'a0' });
const ACME = asTenantId('acme');

describe.each(['memory', 'redis'] as const)('gap reservations, an offer’s then its accept’s: %s', (kind) => {
  let reservations: GapReservations;
  let done: () => Promise<void>;
  afterEach(async () => {
    await done();
  });
  const start = async () => {
    if (kind === 'memory') {
      reservations = memoryGapReservations();
      done = () => Promise.resolve();
      return;
    }
    const client = createClient({ url: REDIS_URL });
    await client.connect();
    const prefix = `test:${randomUUID().slice(0, 8)}:`;
    reservations = redisGapReservations(client, prefix);
    done = async () => {
      await client.unlink(tenantGapKey(prefix, ACME, PHONE.slice(1)));
      await client.close();
    };
  };

  it('the accept extends its offer’s reservation to the gap; an offer whose reservation lapsed and was taken is refused at accept', async () => {
    await start();
    const now = Date.now();
    const offered = leaseOf('C1', 1);
    expect(await reservations.reserve(ACME, PHONE, offered, 5_000, now, HOUR)).toEqual({ ok: true });
    const early = await reservations.reserve(ACME, PHONE, leaseOf('C2', 1), HOUR, now);
    expect(early).toMatchObject({ ok: false });
    if (!early.ok) expect(early.until).toBeLessThanOrEqual(now + 5_000);
    expect(await reservations.reserve(ACME, PHONE, offered, HOUR, now)).toEqual({ ok: true });
    const later = await reservations.reserve(ACME, PHONE, leaseOf('C2', 2), HOUR, now);
    expect(later).toMatchObject({ ok: false });
    if (!later.ok) expect(later.until).toBeGreaterThan(now + HOUR - MINUTE);

    // An offer held for 200 ms, accepted after another campaign's call took the number.
    await reservations.erase(ACME, [PHONE]);
    const late = leaseOf('C3', 1);
    expect(await reservations.reserve(ACME, PHONE, late, 200, Date.now())).toEqual({ ok: true });
    await sleep(300);
    expect(await reservations.reserve(ACME, PHONE, leaseOf('C2', 3), HOUR, Date.now())).toEqual({ ok: true });
    expect((await reservations.reserve(ACME, PHONE, late, HOUR, Date.now())).ok).toBe(false);
  });

  it('a later offer of the same campaign takes the reservation over without shortening it', async () => {
    await start();
    const now = Date.now();
    expect(await reservations.reserve(ACME, PHONE, leaseOf('C1', 1), HOUR, now)).toEqual({ ok: true });
    expect(await reservations.reserve(ACME, PHONE, leaseOf('C1', 2), 5_000, now, HOUR)).toEqual({ ok: true });
    const other = await reservations.reserve(ACME, PHONE, leaseOf('C2', 1), HOUR, now);
    expect(other).toMatchObject({ ok: false });
    if (!other.ok) expect(other.until).toBeGreaterThan(now + HOUR - MINUTE);
  });
});

describe('the tenant gap’s cost', () => {
  it('a campaign without a gap rule asks nothing of the reservations, at offer or accept', async () => {
    const store = await makeStore('memory');
    try {
      const inner = memoryGapReservations();
      let asked = 0;
      const counting: GapReservations = {
        reserve: (...args) => {
          asked++;
          return inner.reserve(...args);
        },
        erase: (...args) => inner.erase(...args),
        holder: (...args) => inner.holder(...args),
      };
      let rules = callingRulesSchema.parse({
        packs: [{ name: 'cap', maxCalls: [{ count: 3, periodMs: 24 * HOUR }] }],
      });
      const gap = createTenantGap({
        reservations: counting,
        store: store.store,
        rulesOf: () => Promise.resolve(rules),
        leadOf: () => Promise.reject(new Error('the lead is known')),
        logger: silentLogger,
      });
      const lead = {
        id: 'L1' as LeadId,
        phone: PHONE,
        name: 'Lead 0',
        timeZone: zoneKey('Europe/London'),
        priority: 0,
        attempts: 0,
        pinnedAgentId: null,
        fields: {},
      };
      const call = {
        tenantId: ACME,
        campaignId: 'C1',
        leaseId: leaseOf('C1', 1),
        agentId: 'a0' as AgentId,
        lead,
      };
      const now = Date.now();
      expect(await gap.beforeOffer({ ...call, expiresAt: now + 3_000 }, now)).toEqual({ ok: true });
      expect(await gap.beforeAccept(call, now)).toEqual({ ok: true });
      expect(asked).toBe(0);
      // With a gap, each step asks once.
      rules = callingRulesSchema.parse({ packs: [{ name: 'gap', minGapMs: HOUR }] });
      expect(await gap.beforeOffer({ ...call, expiresAt: now + 3_000 }, now)).toEqual({ ok: true });
      expect(await gap.beforeAccept(call, now)).toEqual({ ok: true });
      expect(asked).toBe(2);
    } finally {
      await store.dispose();
    }
  });

  it('a campaign’s gap is worked out once per rules object and zone, and new rules count at once', async () => {
    const store = await makeStore('memory');
    try {
      let reads = 0;
      /** The rules, counting every walk of their packs. */
      const counted = (input: CallingRulesInput) =>
        new Proxy(callingRulesSchema.parse(input), {
          get(target, key, receiver) {
            if (key === 'packs') reads++;
            return Reflect.get(target, key, receiver) as unknown;
          },
        });
      let rules = counted(GAP_RULES);
      const gap = createTenantGap({
        reservations: memoryGapReservations(),
        store: store.store,
        rulesOf: () => Promise.resolve(rules),
        leadOf: () => Promise.reject(new Error('the lead is known')),
        logger: silentLogger,
      });
      const lead = (zone: string) => ({
        id: 'L1' as LeadId,
        phone: PHONE,
        name: 'Lead 0',
        timeZone: zoneKey(zone),
        priority: 0,
        attempts: 0,
        pinnedAgentId: null,
        fields: {},
      });
      const callOf = (n: number, zone: string) => ({
        tenantId: ACME,
        campaignId: 'C1',
        leaseId: leaseOf('C1', n),
        agentId: 'a0' as AgentId,
        lead: lead(zone),
      });
      const now = Date.now();
      const offerAndAccept = async (n: number, zone: string) => {
        const c = callOf(n, zone);
        expect(await gap.beforeOffer({ ...c, expiresAt: now + 3_000 }, now)).toEqual({ ok: true });
        expect(await gap.beforeAccept(c, now)).toEqual({ ok: true });
      };
      await offerAndAccept(1, 'Europe/London');
      expect(reads).toBeGreaterThan(0);
      reads = 0;
      // The same rules and zone: nothing walked again, at offer or accept.
      await offerAndAccept(2, 'Europe/London');
      expect(reads).toBe(0);
      // Another zone is its own entry.
      await offerAndAccept(3, 'America/New_York');
      expect(reads).toBeGreaterThan(0);
      // New rules (a campaign edited): the next offer holds to them, here no gap, so another
      // campaign may take the number at once.
      rules = counted({ packs: [{ name: 'cap', maxCalls: [{ count: 3, periodMs: 24 * HOUR }] }] });
      await gap.erase(ACME, [PHONE]);
      await offerAndAccept(4, 'Europe/London');
      const other = { ...callOf(5, 'Europe/London'), campaignId: 'C2', leaseId: leaseOf('C2', 5) };
      rules = counted(GAP_RULES);
      expect(await gap.beforeOffer({ ...other, expiresAt: now + 3_000 }, now)).toEqual({ ok: true });
    } finally {
      await store.dispose();
    }
  });
});
