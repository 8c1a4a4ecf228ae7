// Removing a lead through the admin API: the lead becomes 'removed' (row and history kept, read
// back with GET), leaves the queue wherever it is, a call in progress is revoked for routing, and
// its number is not left suppressed (another lead with it can be queued). Only queued leads;
// owners and admins of the tenant only.
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALWAYS_OPEN } from '../../engine/calling-window.js';
import { asAgentId, asDeviceId } from '../../engine/ids.js';
import type { CampaignId, TenantId } from '../../engine/ids.js';
import { AdminGateway } from '../support/admin-gateway.js';

const phone = (n: number) => `+447911123${String(n).padStart(3, '0')}`;
const ref = { tenantId: 'acme' as TenantId, campaignId: 'spring' as CampaignId };

describe('removing a lead', () => {
  let g: AdminGateway;
  let owner = '';
  let sue = '';
  let oz = '';
  let ids: string[] = [];
  const api = () => request(g.url);

  beforeAll(async () => {
    g = await AdminGateway.start();
    await g.seedTenant('acme', [
      { id: 'boss', role: 'owner' },
      { id: 'sue', role: 'supervisor' },
    ]);
    await g.seedTenant('other', [{ id: 'oz', role: 'owner' }]);
    const login = (tenantId: string, id: string) => g.bearer(tenantId, id);
    owner = await login('acme', 'boss');
    sue = await login('acme', 'sue');
    oz = await login('other', 'oz');
    await api()
      .put('/api/v1/tenants/acme/campaigns/spring')
      .set('Authorization', owner)
      .send({ name: 'Spring', status: 'active', window: ALWAYS_OPEN })
      .expect(200);
    await api()
      .post('/api/v1/tenants/acme/campaigns/spring/leads')
      .set('Authorization', owner)
      .send({
        leads: [1, 2, 3].map((n) => ({ phone: phone(n), timeZone: 'Europe/London', priority: 10 - n })),
      })
      .expect(200);
    const list = await api().get('/api/v1/tenants/acme/campaigns/spring/leads').set('Authorization', owner);
    ids = (list.body as { items: { id: string }[] }).items.map((l) => l.id);
  });
  afterAll(async () => {
    await g?.stop();
  });

  it('takes a queued lead out of the queue, keeps its row, and leaves its number free', async () => {
    const res = await api()
      .delete(`/api/v1/tenants/acme/leads/${ids[1]}`)
      .set('Authorization', owner)
      .expect(200);
    expect(res.body).toEqual({ removed: true, leadId: ids[1], revokedCall: false });
    const read = await api()
      .get(`/api/v1/tenants/acme/leads/${ids[1]}`)
      .set('Authorization', owner)
      .expect(200);
    expect(read.body).toMatchObject({ lead: { status: 'removed', phone: phone(2) }, attempts: [] });
    const snap = await g.gateway.deps.store.snapshot(ref);
    expect(Object.values(snap.records).sort()).toEqual([ids[0], ids[2]].sort());
    expect(snap.suppressed).toEqual([]);
    const again = await api()
      .post('/api/v1/tenants/acme/campaigns/spring/leads')
      .set('Authorization', owner)
      .send({ leads: [{ phone: phone(2), timeZone: 'Europe/London' }] })
      .expect(200);
    expect(again.body).toMatchObject({ queued: 1 });
    const twice = await api()
      .delete(`/api/v1/tenants/acme/leads/${ids[1]}`)
      .set('Authorization', owner)
      .expect(409);
    expect(twice.body).toMatchObject({ error: { code: 'LEAD_NOT_QUEUED' } });
    await api().delete('/api/v1/tenants/acme/leads/999999').set('Authorization', owner).expect(404);
  });

  it('revokes a call in progress for routing; the lead never comes back', async () => {
    const lease = await g.gateway.deps.store.lease(
      ref,
      { agentId: asAgentId('al'), deviceId: asDeviceId('d1') },
      Date.now(),
      60_000,
    );
    expect(lease?.lead.id).toBe(ids[0]);
    const res = await api()
      .delete(`/api/v1/tenants/acme/leads/${ids[0]}`)
      .set('Authorization', owner)
      .expect(200);
    expect(res.body).toEqual({ removed: true, leadId: ids[0], revokedCall: true });
    expect(await g.gateway.deps.store.peekLease(ref.tenantId, lease!.leaseId, Date.now())).toMatchObject({
      state: 'r',
      live: false,
    });
    const ready = await g.gateway.deps.store.snapshot(ref);
    expect(Object.values(ready.ready).flat()).not.toContain(ids[0]);
  });

  it('only owners and admins of the tenant remove leads', async () => {
    for (const who of [sue, oz]) {
      const res = await api()
        .delete(`/api/v1/tenants/acme/leads/${ids[2]}`)
        .set('Authorization', who)
        .expect(403);
      expect(JSON.stringify(res.body)).not.toMatch(/7911/);
    }
    expect((await g.db.leads.get('acme', ids[2]!))?.status).toBe('queued');
    const audit = await api().get('/api/v1/tenants/acme/audit').set('Authorization', owner).expect(200);
    const items = (audit.body as { items: { action: string; subject: string }[] }).items;
    expect(items).toEqual(
      expect.arrayContaining([expect.objectContaining({ action: 'lead.remove', subject: ids[1] })]),
    );
  });
});
