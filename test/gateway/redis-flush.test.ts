// Redis is the hot queue, Postgres the system of record: when Redis loses everything mid-run,
// the gateway notices (the engine no longer knows an active campaign) and rebuilds the queue
// from Postgres. Every queued lead comes back, in order; completed ones do not; the calling
// rules' history of the numbers comes back from the call attempts.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CampaignRef } from '../../engine/ids.js';
import { call, next, TestGateway, until } from '../support/gateway.js';
import { deleteKeysAtOnce } from '../support/stores.js';

const T = 'flush';
const C = 'c1';
const HOUR = 3_600_000;

describe('Redis flushed mid-run', () => {
  let g: TestGateway;
  let ref: CampaignRef;
  beforeAll(async () => {
    g = await TestGateway.start();
    await g.seedTenant(T, 2);
    ref = await g.campaign(T, C);
    await g.leads(T, C, 500);
  });
  afterAll(async () => {
    await g.stop();
  });

  it('rebuilds every queued lead from Postgres, and only those', async () => {
    const device = await g.connect(T, 0);
    device.on('call:offer', (_offer, ack) => ack({ accept: true }));
    const done: string[] = [];
    for (let i = 0; i < 20; i++) {
      const offered = next(device, 'call:offer');
      await call(device, 'agent:ready', { campaignId: C });
      const [offer] = await offered;
      const res = await call(device, 'call:complete', {
        leaseId: offer.leaseId,
        outcome: 'answered',
        durationSec: 1,
      });
      expect(res.ok).toBe(true);
      done.push(offer.lead.id);
    }
    expect((await g.store.store.stats(ref, Date.now())).ready).toBe(480);

    expect(await deleteKeysAtOnce(`${g.store.prefix}*`)).toBeGreaterThan(10);

    // The reaper's next pass finds the campaign gone and rebuilds it.
    await until(
      async () =>
        (await g.store.store.hasCampaign(ref)) && (await g.store.store.stats(ref, Date.now())).ready === 480,
      10_000,
    );
    const snap = await g.store.store.snapshot(ref);
    const queued = Object.values(snap.ready)
      .flat()
      .map((m) => snap.records[m]!);
    expect(queued.some((id) => done.includes(id))).toBe(false);
    expect(queued).toEqual([...queued].sort((a, b) => Number(a) - Number(b))); // first in, first out still
    expect((await g.db.leads.countByStatus(T, C)).queued).toBe(480);

    // And calls flow again.
    const offered = next(device, 'call:offer');
    expect(await call(device, 'agent:ready', { campaignId: C })).toMatchObject({ ok: true });
    const [offer] = await offered;
    expect(offer.lead.id).toBe(queued[0]);
  });

  it('rebuilds a campaign whose keys were partly deleted, instead of failing every call for ever', async () => {
    const device = await g.connect(T, 1);
    device.on('call:offer', (_offer, ack) => ack({ accept: true }));
    const before = (await g.store.store.stats(ref, Date.now())).ready;
    expect(before).toBeGreaterThan(400);
    // The lead records alone (as a careless DEL, a partial restore or an eviction would leave it):
    // the config says the campaign exists, the scripts cannot read its leads.
    expect(await deleteKeysAtOnce(`${g.store.prefix}{c:${T}:${C}}:d:*`)).toBeGreaterThan(0);
    const offered = next(device, 'call:offer');
    const answer = await call(device, 'agent:ready', { campaignId: C });
    expect(answer, JSON.stringify(answer)).toMatchObject({ ok: true });
    const [offer] = await offered;
    expect(offer.lead.phone).toMatch(/^\+/);
    expect(
      await call(device, 'call:complete', { leaseId: offer.leaseId, outcome: 'answered', durationSec: 1 }),
    ).toMatchObject({ ok: true, duplicate: false });
    // Rebuilt from Postgres: every queued lead is back but the one just completed.
    const snap = await g.store.store.snapshot(ref);
    const queued = new Set(
      Object.values(snap.ready)
        .flat()
        .map((m) => snap.records[m]!),
    );
    expect(queued.has(offer.lead.id)).toBe(false);
    expect(queued.size).toBeGreaterThanOrEqual(before - 2);
  });
  it("restores the calling rules' history: a number called under a cap of one a day stays held", async () => {
    const R = 'capped';
    const capped = await g.campaign(T, R, {
      callingRules: { packs: [{ name: 'once a day', maxCalls: [{ count: 1, periodMs: 86_400_000 }] }] },
    });
    await g.leads(T, R, 1, 900);
    const device = await g.connect(T, 0);
    const offered = next(device, 'call:offer');
    await call(device, 'agent:ready', { campaignId: R });
    const [offer, ack] = await offered;
    ack({ accept: true });
    await until(
      async () => (await g.store.store.peekLease(capped.tenantId, offer.leaseId, Date.now())).state === 'a',
    );
    expect(
      await call(device, 'call:complete', { leaseId: offer.leaseId, outcome: 'no_answer', durationSec: 0 }),
    ).toMatchObject({ ok: true, disposition: expect.stringMatching(/^retry:/) as unknown });
    const before = (await g.store.store.snapshot(capped)).numbers[offer.lead.phone];
    expect(before?.calls).toHaveLength(1);

    // The history's read from Postgres is slowed down (the window a busy database opens): the
    // rebuilt queue must not be leased from before the history is back.
    const outcomes = g.db.outcomes;
    const recentCalls = outcomes.recentCalls.bind(outcomes);
    outcomes.recentCalls = async (...args) => {
      await new Promise((r) => setTimeout(r, 1_000));
      return recentCalls(...args);
    };
    const probe = { agentId: 'a9' as never, deviceId: 'd9' as never };
    const t = Date.now();
    try {
      expect(await deleteKeysAtOnce(`${g.store.prefix}{c:${T}:${R}}:*`)).toBeGreaterThan(3);
      // The first lease the rebuilt queue grants or refuses as the rules say (a day after the
      // call, the number is still within its cap of one a day at 23 h).
      let first: string | undefined;
      await until(
        async () => {
          try {
            await g.store.store.promote(capped, t + 23 * HOUR, 100);
            first = (await g.store.store.lease(capped, probe, t + 23 * HOUR, 5_000))?.lead.id ?? 'none';
            return true;
          } catch (e) {
            const code = (e as { code?: string }).code;
            if (code === 'CAMPAIGN_STALE' || code === 'CAMPAIGN_UNKNOWN') return false;
            throw e;
          }
        },
        10_000,
        5,
      );
      expect(first).toBe('none');
    } finally {
      outcomes.recentCalls = recentCalls;
    }
    // The call comes back from its attempt row (started = completed less its talk time).
    const after = (await g.store.store.snapshot(capped)).numbers[offer.lead.phone];
    expect(after?.calls).toHaveLength(1);
    expect(Math.abs(after!.calls[0]! - before!.calls[0]!)).toBeLessThan(5_000);
    // And it is offered again once a day has passed since that call.
    await g.store.store.promote(capped, t + 25 * HOUR, 100);
    expect((await g.store.store.lease(capped, probe, t + 25 * HOUR, 5_000))?.lead.id).toBe(offer.lead.id);
  });
});
