// A rebuild after Redis lost a campaign's keys restores the numbers' calling-rules history from
// Postgres (the call attempts) and, for the calls in progress that it attaches again, from the
// sessions holding them: a call accepted but not completed counts from the moment the queue
// recorded its accept, once, whether Redis kept its history or not.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CampaignRef } from '../../engine/ids.js';
import { call, next, TestGateway } from '../support/gateway.js';
import type { Device } from '../support/gateway.js';
import { deleteKeysAtOnce } from '../support/stores.js';

const T = 'inprog';
const HOUR = 3_600_000;

describe('a call in progress at a rebuild', () => {
  let g: TestGateway;
  beforeAll(async () => {
    g = await TestGateway.start();
    await g.seedTenant(T, 1);
  });
  afterAll(async () => {
    await g.stop();
  });

  async function acceptOne(device: Device, campaignId: string) {
    const offered = next(device, 'call:offer');
    expect(await call(device, 'agent:ready', { campaignId })).toMatchObject({ ok: true });
    const [offer, ack] = await offered;
    ack({});
    expect(await call(device, 'call:accept', { leaseId: offer.leaseId })).toMatchObject({ ok: true });
    return offer;
  }

  const historyOf = async (ref: CampaignRef, phone: string) =>
    (await g.store.store.snapshot(ref)).numbers[phone]?.calls ?? [];

  it('counts at its accept time after Redis lost the history, once when Redis kept it, and by its attempt once completed', async () => {
    const C = 'gap';
    const ref = await g.campaign(T, C, {
      callingRules: {
        packs: [{ name: 'every number', minGapMs: HOUR, maxCalls: [{ count: 2, periodMs: 24 * HOUR }] }],
      },
    });
    await g.leads(T, C, 1);
    const device = await g.connect(T, 0);
    const offer = await acceptOne(device, C);
    const phone = offer.lead.phone;
    const recorded = await historyOf(ref, phone);
    expect(recorded).toHaveLength(1);

    // Redis loses the campaign mid-call: the rebuild attaches the call again and counts it at the
    // very time the queue had recorded.
    expect(await deleteKeysAtOnce(`${g.store.prefix}{c:${T}:${C}}:*`)).toBeGreaterThan(3);
    await g.gateway.campaigns.recover(ref);
    expect(await historyOf(ref, phone)).toEqual(recorded);
    // ... so the number stays held for the gap: a probe agent is offered nothing an hour early.
    const probe = { agentId: 'a9' as never, deviceId: 'd9' as never };
    const t = Date.now();
    expect((await g.store.store.snapshot(ref)).leases).not.toEqual({});

    // A rebuild of a queue that kept the history does not count the call twice.
    await g.gateway.campaigns.rebuild(ref);
    expect(await historyOf(ref, phone)).toEqual(recorded);

    // Completed (a retry), the call is an attempt in Postgres; after another loss the attempt
    // counts, and the session no longer holds the call, so it is one call still.
    expect(
      await call(device, 'call:complete', { leaseId: offer.leaseId, outcome: 'busy', durationSec: 0 }),
    ).toMatchObject({ ok: true });
    expect(await deleteKeysAtOnce(`${g.store.prefix}{c:${T}:${C}}:*`)).toBeGreaterThan(3);
    await g.gateway.campaigns.recover(ref);
    const after = await historyOf(ref, phone);
    expect(after).toHaveLength(1);
    expect(Math.abs(after[0]! - recorded[0]!)).toBeLessThan(5_000);
    await g.store.store.promote(ref, t + HOUR - 60_000, 100);
    expect(await g.store.store.lease(ref, probe, t + HOUR - 60_000, 5_000)).toBeNull();
    await g.store.store.promote(ref, t + HOUR + 60_000, 100);
    expect((await g.store.store.lease(ref, probe, t + HOUR + 60_000, 5_000))?.lead.id).toBe(offer.lead.id);
  });
});
