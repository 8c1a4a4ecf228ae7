// "Why not dialled?" for the calling rules: each rule-pack predicate (holiday, call cap, gap,
// lockout) for a lead now, and the next dialable moment accounting for them; the campaign's rules
// stored and answered by the admin API. Against real Redis and Postgres.
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALWAYS_OPEN } from '../../engine/calling-window.js';
import { asAgentId, asDeviceId, asTenantId, campaignRef } from '../../engine/ids.js';
import { AdminGateway } from '../support/admin-gateway.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

interface Predicate {
  name: string;
  pass: boolean;
  detail: Record<string, unknown>;
}
interface CampaignView {
  campaign: { callingRules: unknown };
}
interface Explanation {
  dialableNow: boolean;
  heldBy: string | null;
  nextDialableAt: string | null;
  predicates: Predicate[];
}

describe('why not dialled: calling rules', () => {
  let g: AdminGateway;
  let owner: string;
  const api = () => request(g.url);
  const lead = async (campaign: string, phone: string, timeZone = 'Europe/London') => {
    const res = await api()
      .post(`/api/v1/tenants/acme/campaigns/${campaign}/leads`)
      .set('Authorization', owner)
      .send({ leads: [{ phone, name: 'Ada', timeZone }] })
      .expect(200);
    return (res.body as { rows: { leadId: string }[] }).rows[0]!.leadId;
  };
  const explain = async (leadId: string) =>
    (await api().get(`/api/v1/tenants/acme/leads/${leadId}/explain`).set('Authorization', owner).expect(200))
      .body as Explanation;
  const predicate = (e: Explanation, name: string) => e.predicates.find((p) => p.name === name)!;

  beforeAll(async () => {
    g = await AdminGateway.start({ redis: true });
    await g.seedTenant('acme', [{ id: 'boss', role: 'owner' }]);
    owner = await g.bearer('acme', 'boss');
  });
  afterAll(async () => {
    await g.stop();
  });

  it("stores a campaign's preset and rule packs, answers them, and refuses a malformed pack", async () => {
    const callingRules = {
      preset: 'us-tcpa',
      packs: [{ name: 'Texas', zones: ['America/Chicago'], preset: 'us-tx', holidays: ['2026-12-25'] }],
    };
    const put = await api()
      .put('/api/v1/tenants/acme/campaigns/us')
      .set('Authorization', owner)
      .send({ name: 'us', status: 'active', window: ALWAYS_OPEN, callingRules })
      .expect(200);
    expect((put.body as CampaignView).campaign.callingRules).toEqual({
      preset: 'us-tcpa',
      packs: [{ ...callingRules.packs[0], maxCalls: [], minGapMs: 0 }],
    });
    // A PUT that does not name them (the admin page's pause button) keeps them.
    const paused = await api()
      .put('/api/v1/tenants/acme/campaigns/us')
      .set('Authorization', owner)
      .send({ name: 'us', status: 'paused', window: ALWAYS_OPEN })
      .expect(200);
    expect((paused.body as CampaignView).campaign.callingRules).toMatchObject({ preset: 'us-tcpa' });
    const patched = await api()
      .patch('/api/v1/tenants/acme/campaigns/us')
      .set('Authorization', owner)
      .send({ callingRules: null })
      .expect(200);
    expect((patched.body as CampaignView).campaign.callingRules).toBeNull();
    const bad = await api()
      .patch('/api/v1/tenants/acme/campaigns/us')
      .set('Authorization', owner)
      .send({ callingRules: { packs: [{ name: 'x', zones: ['Mars/Olympus'], holidays: ['2026-02-30'] }] } })
      .expect(400);
    expect(JSON.stringify(bad.body)).toMatch(/IANA time zone/);
  });

  it('names the cap, the gap and the lockout holding a number back, and when it is next dialable', async () => {
    await api()
      .put('/api/v1/tenants/acme/campaigns/capped')
      .set('Authorization', owner)
      .send({
        name: 'capped',
        status: 'active',
        window: ALWAYS_OPEN,
        dispositions: { abandoned: { final: false } },
        callingRules: {
          packs: [
            {
              name: 'uk',
              zones: ['Europe/London'],
              maxCalls: [{ count: 1, periodMs: DAY }],
              minGapMs: 2 * HOUR,
              lockout: { outcomes: ['abandoned'], durationMs: 3 * DAY },
            },
          ],
        },
      })
      .expect(200);
    const id = await lead('capped', '+447700900201');
    const before = await explain(id);
    expect(before.dialableNow).toBe(true);
    expect(predicate(before, 'call_cap').detail).toEqual({
      caps: [{ count: 1, periodMs: DAY, used: 0, freeAt: null }],
    });

    // One call, abandoned.
    const store = g.store.store;
    const callAt = Date.now();
    const agent = { agentId: asAgentId('ann'), deviceId: asDeviceId('d1') };
    const lease = await store.lease(campaignRef('acme', 'capped'), agent, callAt, 60_000);
    expect(lease?.lead.id).toBe(id);
    await store.accept(
      asTenantId('acme'),
      { leaseId: lease!.leaseId, agentId: agent.agentId },
      callAt,
      60_000,
    );
    const [done] = await store.complete(
      asTenantId('acme'),
      [{ leaseId: lease!.leaseId, outcome: 'abandoned' }],
      callAt + 1000,
    );
    expect(done?.ok).toBe(true);

    const e = await explain(id);
    expect(e.dialableNow).toBe(false);
    expect(e.heldBy).toBe('call_cap');
    expect(predicate(e, 'call_cap')).toMatchObject({
      pass: false,
      detail: { caps: [{ used: 1, freeAt: new Date(callAt + DAY).toISOString() }] },
    });
    expect(predicate(e, 'call_gap')).toMatchObject({
      pass: false,
      detail: { minGapMs: 2 * HOUR, lastCallAt: new Date(callAt).toISOString() },
    });
    const lockedUntil = new Date(callAt + 1000 + 3 * DAY).toISOString();
    expect(predicate(e, 'lockout')).toEqual({ name: 'lockout', pass: false, detail: { lockedUntil } });
    expect(predicate(e, 'holiday').pass).toBe(true);
    // The latest of the three: the lockout.
    expect(e.nextDialableAt).toBe(lockedUntil);
    expect(JSON.stringify(e)).not.toContain('900201');
  });

  it("names another campaign's call holding the number for the tenant-wide gap, and when it lets go", async () => {
    const gapPack = { packs: [{ name: 'gap', minGapMs: 4 * HOUR }] };
    for (const name of ['gap-a', 'gap-b'])
      await api()
        .put(`/api/v1/tenants/acme/campaigns/${name}`)
        .set('Authorization', owner)
        .send({ name, status: 'active', window: ALWAYS_OPEN, callingRules: gapPack })
        .expect(200);
    const phone = '+447700900203';
    const inA = await lead('gap-a', phone);
    const inB = await lead('gap-b', phone);
    expect(predicate(await explain(inB), 'tenant_gap')).toEqual({
      name: 'tenant_gap',
      pass: true,
      detail: { minGapMs: 4 * HOUR, heldByCampaignId: null, until: null },
    });
    // Campaign A's call to the number reserves it for the gap, as its accept does.
    const now = Date.now();
    const reserved = await g.gateway.tenantGap.beforeAccept(
      {
        tenantId: asTenantId('acme'),
        campaignId: 'gap-a',
        leaseId: (await g.store.store.lease(
          campaignRef('acme', 'gap-a'),
          { agentId: asAgentId('ann'), deviceId: asDeviceId('d1') },
          now,
          60_000,
        ))!.leaseId,
        agentId: asAgentId('ann'),
        lead: undefined,
      },
      now,
    );
    expect(reserved.ok).toBe(true);
    const e = await explain(inB);
    expect(e.heldBy).toBe('tenant_gap');
    const held = predicate(e, 'tenant_gap');
    expect(held).toMatchObject({ pass: false, detail: { minGapMs: 4 * HOUR, heldByCampaignId: 'gap-a' } });
    const until = Date.parse(held.detail.until as string);
    expect(until).toBeGreaterThan(now + 4 * HOUR - 60_000);
    expect(until).toBeLessThanOrEqual(Date.now() + 4 * HOUR);
    expect(e.nextDialableAt).toBe(held.detail.until);
    // Campaign A's own lead is not held back by its own call's reservation (its lease is).
    expect(predicate(await explain(inA), 'tenant_gap').pass).toBe(true);
    const summary = await api()
      .get('/api/v1/tenants/acme/campaigns/gap-b/explain')
      .set('Authorization', owner)
      .expect(200);
    expect((summary.body as { heldBy: Record<string, number> }).heldBy.tenant_gap).toBe(1);
    expect(JSON.stringify(e)).not.toContain('900203');
  });

  it('names the holiday closing a zone, and opens after it', async () => {
    const now = Date.now();
    const today = new Date(now).toISOString().slice(0, 10);
    const tomorrow = new Date(now + DAY).toISOString().slice(0, 10);
    await api()
      .put('/api/v1/tenants/acme/campaigns/holiday')
      .set('Authorization', owner)
      .send({
        name: 'holiday',
        status: 'active',
        window: ALWAYS_OPEN,
        callingRules: { packs: [{ name: 'utc', zones: ['UTC'], holidays: [today, tomorrow] }] },
      })
      .expect(200);
    const id = await lead('holiday', '+447700900202', 'UTC');
    const e = await explain(id);
    // The window (which the holiday closes) is the first rule that holds it back.
    expect(e.heldBy).toBe('calling_window');
    const holiday = predicate(e, 'holiday');
    expect(holiday.pass).toBe(false);
    const zones = holiday.detail.zones as { zone: string; date: string; holiday: boolean }[];
    // The explanation's own clock may have passed midnight since `now`; the day it names is closed.
    expect(zones).toHaveLength(1);
    expect(zones[0]).toMatchObject({ zone: 'UTC', holiday: true });
    expect([today, tomorrow]).toContain(zones[0]!.date);
    const dayAfter = Date.parse(`${tomorrow}T00:00:00Z`) + DAY;
    expect(e.nextDialableAt).toBe(new Date(dayAfter).toISOString());
  });
});
