// Reports through the admin API: call attempts by date range, campaign and agent as JSON or CSV,
// and totals per agent and per campaign (calls, contacts as the campaign's dispositions count
// them, talk time, outcomes by code) over a range. Supervisors read them; agents and another
// tenant are refused.
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALWAYS_OPEN } from '../../engine/calling-window.js';
import { AdminGateway } from '../support/admin-gateway.js';

const phone = (n: number) => `+447911123${String(n).padStart(3, '0')}`;
const DAY = '2026-11-02';
const at = (hhmm: string) => new Date(`${DAY}T${hhmm}:00Z`);

describe('reports: attempts and totals', () => {
  let g: AdminGateway;
  let sue = '';
  let al = '';
  let oz = '';
  const api = () => request(g.url);

  beforeAll(async () => {
    g = await AdminGateway.start();
    await g.seedTenant('acme', [
      { id: 'boss', role: 'owner' },
      { id: 'sue', role: 'supervisor' },
      { id: 'al', role: 'agent' },
    ]);
    await g.seedTenant('other', [{ id: 'oz', role: 'owner' }]);
    const login = (tenantId: string, id: string) => g.bearer(tenantId, id);
    const owner = await login('acme', 'boss');
    sue = await login('acme', 'sue');
    al = await login('acme', 'al');
    oz = await login('other', 'oz');
    for (const c of ['spring', 'autumn']) {
      await api()
        .put(`/api/v1/tenants/acme/campaigns/${c}`)
        .set('Authorization', owner)
        .send({ name: c, status: 'active', window: ALWAYS_OPEN })
        .expect(200);
    }
    const leadIds: string[] = [];
    for (const [c, n] of [
      ['spring', 1],
      ['autumn', 2],
    ] as const) {
      await api()
        .post(`/api/v1/tenants/acme/campaigns/${c}/leads`)
        .set('Authorization', owner)
        .send({ leads: [{ phone: phone(n), timeZone: 'Europe/London' }] })
        .expect(200);
      const list = await api().get(`/api/v1/tenants/acme/campaigns/${c}/leads`).set('Authorization', owner);
      leadIds.push((list.body as { items: { id: string }[] }).items[0]!.id);
    }
    // Attempts as the outcome writer stores them (answered counts as a contact; no_answer does not).
    const row = (
      n: number,
      campaign: string,
      lead: string,
      agent: string,
      outcome: string,
      sec: number,
      when: Date,
    ) => ({
      tenant_id: 'acme',
      lease_id: `lease-${n}`,
      campaign_id: campaign,
      lead_id: lead,
      agent_id: agent,
      device_id: 'd1',
      outcome,
      disposition: outcome === 'answered' ? 'final' : 'retry',
      attempts: n,
      duration_sec: sec,
      notes: n === 1 ? '=SUM(A1), said "call later"' : null,
      completed_at: when,
    });
    await g.db
      .knex('call_attempts')
      .insert([
        row(1, 'spring', leadIds[0]!, 'al', 'answered', 120, at('09:00')),
        row(2, 'spring', leadIds[0]!, 'al', 'no_answer', 0, at('10:00')),
        row(3, 'autumn', leadIds[1]!, 'bo', 'answered', 60, at('11:00')),
        row(4, 'autumn', leadIds[1]!, 'bo', 'busy', 0, new Date('2026-10-01T11:00:00Z')),
      ]);
  });
  afterAll(async () => {
    await g?.stop();
  });

  const range = `from=${DAY}T00:00:00Z&to=${DAY}T23:59:59Z`;

  it('lists attempts by date range, campaign and agent', async () => {
    const all = await api()
      .get(`/api/v1/tenants/acme/attempts?${range}`)
      .set('Authorization', sue)
      .expect(200);
    expect((all.body as { items: { leaseId: string }[] }).items.map((a) => a.leaseId)).toEqual([
      'lease-1',
      'lease-2',
      'lease-3',
    ]);
    const bo = await api()
      .get(`/api/v1/tenants/acme/attempts?agentId=bo&campaignId=autumn`)
      .set('Authorization', sue)
      .expect(200);
    expect((bo.body as { items: { leaseId: string }[] }).items.map((a) => a.leaseId)).toEqual([
      'lease-3',
      'lease-4',
    ]);
    const bad = await api()
      .get(`/api/v1/tenants/acme/attempts?from=${DAY}T10:00:00Z&to=${DAY}T09:00:00Z`)
      .set('Authorization', sue)
      .expect(400);
    expect(JSON.stringify(bad.body)).toMatch(/from/);
    await api().get('/api/v1/tenants/acme/attempts?from=yesterday').set('Authorization', sue).expect(400);
  });

  it('downloads attempts as CSV, cells safe for a spreadsheet', async () => {
    const res = await api()
      .get(`/api/v1/tenants/acme/attempts?format=csv&campaignId=spring&${range}`)
      .set('Authorization', sue)
      .expect(200);
    expect(res.headers['content-type']).toMatch(/^text\/csv/);
    const lines = res.text
      .replace(/^\ufeff/, '')
      .trimEnd()
      .split('\r\n');
    expect(lines[0]).toBe(
      'id,completedAt,campaignId,leadId,agentId,deviceId,outcome,disposition,durationSec,callbackAt,tags,notes',
    );
    expect(lines).toHaveLength(3);
    expect(lines[1]).toContain(`,${at('09:00').toISOString()},spring,`);
    expect(lines[1]).toMatch(/,answered,final,120,,,"'=SUM\(A1\), said ""call later"""$/);
  });

  it('totals per agent and per campaign over a range', async () => {
    const agents = await api()
      .get(`/api/v1/tenants/acme/reports/agents?${range}`)
      .set('Authorization', sue)
      .expect(200);
    expect(agents.body).toEqual({
      from: `${DAY}T00:00:00.000Z`,
      to: `${DAY}T23:59:59.000Z`,
      items: [
        { id: 'al', calls: 2, contacts: 1, talkSec: 120, outcomes: { answered: 1, no_answer: 1 } },
        { id: 'bo', calls: 1, contacts: 1, talkSec: 60, outcomes: { answered: 1 } },
      ],
      total: { calls: 3, contacts: 2, talkSec: 180, outcomes: { answered: 2, no_answer: 1 } },
    });
    const campaigns = await api()
      .get(
        `/api/v1/tenants/acme/reports/campaigns?from=2026-09-01T00:00:00Z&to=2026-12-01T00:00:00Z&agentId=bo`,
      )
      .set('Authorization', sue)
      .expect(200);
    expect((campaigns.body as { items: unknown[] }).items).toEqual([
      { id: 'autumn', calls: 2, contacts: 1, talkSec: 60, outcomes: { answered: 1, busy: 1 } },
    ]);
  });

  it('agents and another tenant are refused, and learn nothing', async () => {
    for (const path of ['attempts', 'reports/agents', 'reports/campaigns']) {
      for (const who of [al, oz]) {
        const res = await api()
          .get(`/api/v1/tenants/acme/${path}?${range}`)
          .set('Authorization', who)
          .expect(403);
        expect(JSON.stringify(res.body)).not.toMatch(/spring|autumn|lease-/);
      }
    }
    const theirs = await api()
      .get(`/api/v1/tenants/other/reports/agents?${range}`)
      .set('Authorization', oz)
      .expect(200);
    expect((theirs.body as { items: unknown[] }).items).toEqual([]);
  });
});
