// Callbacks do not wait for ever for one agent: an agent-only callback not taken within the
// campaign's hand-over delay after it fell due moves to anyone, and one whose agent was deleted
// moves at once. Real Redis and Postgres.
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALWAYS_OPEN } from '../../engine/calling-window.js';
import { asAgentId, asDeviceId, asTenantId, campaignRef } from '../../engine/ids.js';
import type { CampaignRef } from '../../engine/ids.js';
import { runCallbackHandover } from '../../gateway/privacy/callback-handover.js';
import { AdminGateway, TEST_PASSWORD } from '../support/admin-gateway.js';

const ACME = asTenantId('acme');
const agent = (id: string) => ({ agentId: asAgentId(id), deviceId: asDeviceId(`${id}-phone`) });

describe('callback hand-over', () => {
  let g: AdminGateway;
  let owner: string;
  const api = () => request(g.url);

  /** Queue a lead, have `agentId` call it and ask for an agent-only callback at `at`. */
  async function callbackFor(campaign: string, phone: string, agentId: string, at: number): Promise<string> {
    await api()
      .post(`/api/v1/tenants/acme/campaigns/${campaign}/leads`)
      .set('Authorization', owner)
      .send({ leads: [{ phone, name: 'Kim', timeZone: 'Europe/London' }] })
      .expect(200);
    const ref = campaignRef('acme', campaign);
    const lease = (await g.store.store.lease(ref, agent(agentId), Date.now(), 60_000))!;
    const now = Date.now();
    const [done] = await g.store.store.complete(
      ACME,
      [
        {
          leaseId: lease.leaseId,
          agentId: asAgentId(agentId),
          outcome: 'callback',
          callback: { at, scope: 'agent' },
        },
      ],
      now,
    );
    if (!done?.ok) throw new Error('completion refused');
    await g.db.outcomes.write({
      tenantId: 'acme',
      campaignId: campaign,
      leadId: done.leadId,
      leaseId: lease.leaseId,
      agentId,
      deviceId: `${agentId}-phone`,
      outcome: 'callback',
      disposition: done.disposition,
      attempts: done.attempts,
      late: false,
      durationSec: 30,
      callback: { at, scope: 'agent' },
      completedAt: now,
    });
    return done.leadId;
  }
  const due = async (leadId: string) =>
    (
      (
        await api()
          .get(`/api/v1/tenants/acme/leads/${leadId}/explain`)
          .set('Authorization', owner)
          .expect(200)
      ).body as { predicates: { name: string; detail: Record<string, unknown> }[] }
    ).predicates.find((p) => p.name === 'due')!.detail;
  const tryLease = (ref: CampaignRef, id: string) => g.store.store.lease(ref, agent(id), Date.now(), 60_000);

  beforeAll(async () => {
    g = await AdminGateway.start({ redis: true });
    await g.seedTenant('acme', [
      { id: 'boss', role: 'owner' },
      { id: 'ann', role: 'agent' },
      { id: 'bob', role: 'agent' },
      { id: 'cara', role: 'agent' },
    ]);
    owner = `Bearer ${
      (
        (
          await api()
            .post('/api/v1/auth/login')
            .send({ tenantId: 'acme', email: 'boss@acme.test', password: TEST_PASSWORD })
            .expect(200)
        ).body as { accessToken: string }
      ).accessToken
    }`;
    for (const c of ['spring', 'autumn']) {
      await api()
        .put(`/api/v1/tenants/acme/campaigns/${c}`)
        .set('Authorization', owner)
        .send({ name: c, status: 'active', window: ALWAYS_OPEN })
        .expect(200);
    }
    await api()
      .put('/api/v1/tenants/acme/campaigns/spring/privacy')
      .set('Authorization', owner)
      .send({ callbackHandoverMin: 0 })
      .expect(200);
  });
  afterAll(async () => {
    await g.stop();
  });

  it('an agent-only callback not taken within the hand-over delay after it fell due moves to anyone', async () => {
    const spring = campaignRef('acme', 'spring');
    const leadId = await callbackFor('spring', '+447700900401', 'ann', Date.now() + 600);
    expect(await runCallbackHandover(g.gateway)).toBe(0); // not due yet
    await new Promise((r) => setTimeout(r, 700));
    expect(await tryLease(spring, 'bob')).toBeNull(); // due, but pinned to ann
    expect(await due(leadId)).toMatchObject({ kind: 'callback', onlyAgentId: 'ann' });

    expect(await runCallbackHandover(g.gateway)).toBe(1);
    const row = await g.db
      .knex('callbacks')
      .where({ tenant_id: 'acme', lead_id: leadId })
      .first<{ agent_id: string | null }>('agent_id');
    expect(row?.agent_id).toBeNull();
    expect(await due(leadId)).toMatchObject({ kind: 'callback', onlyAgentId: null });
    const lease = await tryLease(spring, 'bob');
    expect(lease?.lead.id).toBe(leadId);
    const audit = await g.db.audit.list('acme');
    expect(audit.some((a) => a.action === 'callback.handover' && a.actor === 'system')).toBe(true);
  });

  it('a callback for a deleted agent moves to anyone at once, keeping its time', async () => {
    const at = Date.now() + 3_600_000;
    const leadId = await callbackFor('autumn', '+447700900402', 'cara', at);
    expect(await runCallbackHandover(g.gateway)).toBe(0); // autumn has no hand-over delay, cara exists
    await g.db.users.remove('acme', 'cara');
    expect(await runCallbackHandover(g.gateway)).toBe(1);
    const d = await due(leadId);
    expect(d).toMatchObject({ kind: 'callback', onlyAgentId: null });
    expect(Date.parse(d.dueAt as string)).toBe(at);
    const snapshot = await g.store.store.snapshot(campaignRef('acme', 'autumn'));
    expect(Object.keys(snapshot.pinned)).toEqual([]);
    expect(snapshot.scheduled.map(([, due]) => due)).toEqual([at]);
  });
});
