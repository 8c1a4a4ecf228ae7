// The data-subject rights API: access and portability (JSON and CSV), rectification (audited,
// queued copies replaced), erasure, and the requests' record with deadlines; owners and admins
// only, each tenant its own.
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALWAYS_OPEN } from '../../engine/calling-window.js';
import { campaignRef } from '../../engine/ids.js';
import { AdminGateway } from '../support/admin-gateway.js';

const NUMBER = '+447700900321';

describe('the data-subject rights API', () => {
  let g: AdminGateway;
  let owner: string;
  let sue: string;
  let oz: string;
  const api = () => request(g.url);

  beforeAll(async () => {
    g = await AdminGateway.start({ redis: true });
    await g.seedTenant('acme', [
      { id: 'boss', role: 'owner' },
      { id: 'sue', role: 'supervisor' },
    ]);
    await g.seedTenant('other', [{ id: 'oz', role: 'owner' }]);
    const login = (tenantId: string, id: string) => g.bearer(tenantId, id);
    owner = await login('acme', 'boss');
    sue = await login('acme', 'sue');
    oz = await login('other', 'oz');
    for (const c of ['spring', 'autumn']) {
      await api()
        .put(`/api/v1/tenants/acme/campaigns/${c}`)
        .set('Authorization', owner)
        .send({ name: c, status: 'active', window: ALWAYS_OPEN })
        .expect(200);
      await api()
        .post(`/api/v1/tenants/acme/campaigns/${c}/leads`)
        .set('Authorization', owner)
        .send({
          leads: [
            { phone: NUMBER, name: 'Ada Lovelace', timeZone: 'Europe/London', fields: { plan: 'gold' } },
          ],
        })
        .expect(200);
    }
  });
  afterAll(async () => {
    await g.stop();
  });

  it('answers access with everything held about the number, as JSON and as CSV', async () => {
    const res = await api()
      .post('/api/v1/tenants/acme/privacy/access')
      .set('Authorization', owner)
      .send({ phone: NUMBER })
      .expect(200);
    const body = res.body as {
      phone: string;
      leads: { campaignId: string; name: string }[];
      erased: boolean;
    };
    expect(body.phone).toBe(NUMBER);
    expect(body.leads.map((l) => l.campaignId).sort()).toEqual(['autumn', 'spring']);
    expect(body.leads[0]!.name).toBe('Ada Lovelace');
    expect(body.erased).toBe(false);
    const csv = await api()
      .post('/api/v1/tenants/acme/privacy/access')
      .set('Authorization', owner)
      .send({ phone: NUMBER, format: 'csv' })
      .expect(200);
    expect(csv.headers['content-type']).toMatch(/^text\/csv/);
    const lines = csv.text.trim().split('\r\n');
    expect(lines[0]).toBe('record,id,campaign_id,lead_id,at,data');
    expect(lines.filter((l) => l.startsWith('lead,'))).toHaveLength(2);
    expect(lines.some((l) => l.startsWith('rights_request,'))).toBe(true); // the first access request
    expect(csv.text).toContain('Ada Lovelace');
  });

  it('rectifies every lead of the number, audits the fields changed, and replaces the queued copies', async () => {
    const res = await api()
      .post('/api/v1/tenants/acme/privacy/rectifications')
      .set('Authorization', owner)
      .send({ phone: NUMBER, name: 'Ada King', fields: { plan: null, note: 'prefers mornings' } })
      .expect(200);
    const body = res.body as { leads: { leadId: string; changed: string[] }[]; request: { kind: string } };
    expect(body.request.kind).toBe('rectification');
    expect(body.leads).toHaveLength(2);
    for (const l of body.leads) {
      expect([...l.changed].sort()).toEqual(['fields.note', 'fields.plan', 'name']);
      const lead = await g.db.leads.get('acme', l.leadId);
      expect(lead).toMatchObject({ name: 'Ada King', fields: { note: 'prefers mornings' } });
    }
    const audit = await g.db.audit.list('acme', { limit: 20 });
    const rectified = audit.filter((e) => e.action === 'lead.rectify');
    expect(rectified).toHaveLength(2);
    expect(JSON.stringify(rectified)).not.toContain('Ada King');
    // The queue offers the corrected lead.
    const offered = await g.gateway.deps.store.lease(
      campaignRef('acme', 'spring'),
      { agentId: 'x' as never, deviceId: 'y' as never },
      Date.now(),
      5_000,
    );
    expect(offered?.lead).toMatchObject({
      phone: NUMBER,
      name: 'Ada King',
      fields: { note: 'prefers mornings' },
    });
    // Limits hold: a field past the import limit is refused, nothing changes.
    await api()
      .post('/api/v1/tenants/acme/privacy/rectifications')
      .set('Authorization', owner)
      .send({ phone: NUMBER, fields: { note: 'x'.repeat(1001) } })
      .expect(400);
  });

  it('erases, and lists requests with their deadlines, overdue ones apart', async () => {
    const res = await api()
      .post('/api/v1/tenants/acme/privacy/erasures')
      .set('Authorization', owner)
      .send({ phone: NUMBER })
      .expect(200);
    expect(res.body).toMatchObject({ leads: 2, request: { kind: 'erasure', status: 'completed' } });
    const after = await api()
      .post('/api/v1/tenants/acme/privacy/access')
      .set('Authorization', owner)
      .send({ phone: NUMBER })
      .expect(200);
    expect(after.body).toMatchObject({ leads: [], attempts: [], erased: true });

    // A request received 40 days ago and still open is overdue.
    const hash = await g.db.privacy.keys.hashOf('acme', '+447700900999');
    const old = await g.db.privacy.requests.open('acme', {
      kind: 'erasure',
      subjectHash: hash,
      actor: 'boss',
      receivedAt: Date.now() - 40 * 86_400_000,
    });
    const all = (
      await api().get('/api/v1/tenants/acme/privacy/requests').set('Authorization', owner).expect(200)
    ).body as { items: { id: string; kind: string; dueAt: number; receivedAt: number; overdue: boolean }[] };
    expect(all.items.map((r) => r.kind)).toEqual([
      'access',
      'access',
      'rectification',
      'erasure',
      'access',
      'erasure',
    ]);
    for (const r of all.items)
      expect(new Date(r.dueAt).getUTCMonth()).toBe((new Date(r.receivedAt).getUTCMonth() + 1) % 12);
    const overdue = (
      await api()
        .get('/api/v1/tenants/acme/privacy/requests?overdue=true')
        .set('Authorization', owner)
        .expect(200)
    ).body as { items: { id: string }[] };
    expect(overdue.items.map((r) => r.id)).toEqual([old.id]);
  });

  it('is for owners and admins of the tenant only', async () => {
    for (const [path, body] of [
      ['access', { phone: NUMBER }],
      ['erasures', { phone: NUMBER }],
      ['rectifications', { phone: NUMBER, name: 'X' }],
    ] as const) {
      const bySue = await api()
        .post(`/api/v1/tenants/acme/privacy/${path}`)
        .set('Authorization', sue)
        .send(body);
      expect(bySue.status).toBe(403);
      const byOz = await api()
        .post(`/api/v1/tenants/acme/privacy/${path}`)
        .set('Authorization', oz)
        .send(body);
      expect(byOz.status).toBe(403);
    }
    await api().get('/api/v1/tenants/acme/privacy/requests').set('Authorization', oz).expect(403);
    // Another tenant's own requests list holds none of acme's.
    const theirs = (
      await api().get('/api/v1/tenants/other/privacy/requests').set('Authorization', oz).expect(200)
    ).body as { items: unknown[] };
    expect(theirs.items).toEqual([]);
    // Bad input: a clear code, nothing written.
    const bad = await api()
      .post('/api/v1/tenants/acme/privacy/erasures')
      .set('Authorization', owner)
      .send({ phone: '07700 900321' });
    expect(bad.status).toBe(400);
    expect((bad.body as { error: { code: string } }).error.code).toBe('PAYLOAD_INVALID');
  });

  it("corrects a queued lead in place: the number's calling-rules history (caps, gap) is kept", async () => {
    const phone = '+447700900654';
    await api()
      .put('/api/v1/tenants/acme/campaigns/capped')
      .set('Authorization', owner)
      .send({
        name: 'capped',
        status: 'active',
        window: ALWAYS_OPEN,
        dispositions: { busy: { final: false, retryDelayMs: 0 } },
        callingRules: { packs: [{ name: 'cap', maxCalls: [{ count: 2, periodMs: 86_400_000 }] }] },
      })
      .expect(200);
    await api()
      .post('/api/v1/tenants/acme/campaigns/capped/leads')
      .set('Authorization', owner)
      .send({ leads: [{ phone, name: 'Grace', timeZone: 'Europe/London' }] })
      .expect(200);
    const ref = campaignRef('acme', 'capped');
    const store = g.gateway.deps.store;
    const agent = { agentId: 'a1' as never, deviceId: 'd1' as never };
    const now = Date.now();
    const lease = await store.lease(ref, agent, now, 60_000);
    await store.accept(ref.tenantId, { leaseId: lease!.leaseId, agentId: agent.agentId }, now, 60_000);
    const [done] = await store.complete(
      ref.tenantId,
      [{ leaseId: lease!.leaseId, outcome: 'busy' }],
      now + 1,
    );
    expect(done?.ok).toBe(true);
    const before = (await store.snapshot(ref)).numbers[phone];
    expect(before?.calls).toHaveLength(1);
    await api()
      .post('/api/v1/tenants/acme/privacy/rectifications')
      .set('Authorization', owner)
      .send({ phone, name: 'Grace Hopper' })
      .expect(200);
    // The history that counts against the cap is the same after the correction.
    expect((await store.snapshot(ref)).numbers[phone]).toEqual(before);
    const again = await store.lease(ref, agent, now + 2, 60_000);
    expect(again?.lead).toMatchObject({ phone, name: 'Grace Hopper' });
  });
});
