// Campaigns through the admin API: a PATCH changes only the fields it names and the live queue
// follows it (a window that closes closes in the engine, a pause leaves routing, a resume comes
// back); DELETE archives: nothing more is offered or queued, the queue leaves Redis, the rows and
// their reads stay; an archived campaign is read-only. Another tenant and lesser roles are refused.
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALWAYS_OPEN } from '../../engine/calling-window.js';
import type { CampaignId, TenantId } from '../../engine/ids.js';
import { AdminGateway } from '../support/admin-gateway.js';

const phone = (n: number) => `+447700900${String(n).padStart(3, '0')}`;
const ref = { tenantId: 'acme' as TenantId, campaignId: 'spring' as CampaignId };

describe('campaigns: edit and archive', () => {
  let g: AdminGateway;
  let owner = '';
  let sue = '';
  let oz = '';
  const api = () => request(g.url);
  const C = '/api/v1/tenants/acme/campaigns/spring';

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
      .put(C)
      .set('Authorization', owner)
      .send({ name: 'Spring', status: 'active', window: ALWAYS_OPEN })
      .expect(200);
    await api()
      .post(`${C}/leads`)
      .set('Authorization', owner)
      .send({ leads: [1, 2, 3].map((n) => ({ phone: phone(n), timeZone: 'Europe/London' })) })
      .expect(200);
  });
  afterAll(async () => {
    await g?.stop();
  });

  it('a PATCH changes only the fields it names and answers the campaign as GET shows it', async () => {
    const res = await api().patch(C).set('Authorization', owner).send({ name: 'Spring sale' }).expect(200);
    expect(res.body).toMatchObject({
      campaign: { id: 'spring', name: 'Spring sale', status: 'active', window: ALWAYS_OPEN },
    });
    const read = await api().get(C).set('Authorization', owner).expect(200);
    expect(read.body).toMatchObject({
      campaign: { name: 'Spring sale', status: 'active', window: ALWAYS_OPEN },
    });
    // Field names are the PUT's; an unknown one, or nothing at all, names the field at fault.
    const bad = await api().patch(C).set('Authorization', owner).send({ windw: ALWAYS_OPEN }).expect(400);
    expect(bad.body).toMatchObject({ error: { code: 'PAYLOAD_INVALID' } });
    await api().patch(C).set('Authorization', owner).send({}).expect(400);
    const badHours = await api()
      .patch(C)
      .set('Authorization', owner)
      .send({ window: { rules: [{ days: [1], from: '18:00', to: '09:00' }] } })
      .expect(400);
    expect(JSON.stringify(badHours.body)).toMatch(/window/);
    await api()
      .patch('/api/v1/tenants/acme/campaigns/nope')
      .set('Authorization', owner)
      .send({ name: 'x' })
      .expect(404);
  });

  it("a window change reaches the engine's campaign at once, and back", async () => {
    await api()
      .patch(C)
      .set('Authorization', owner)
      .send({ window: { rules: [] } })
      .expect(200);
    let stats = await g.gateway.deps.store.stats(ref, Date.now());
    expect(stats.zones.map((z) => z.open)).toEqual([false]);
    await api().patch(C).set('Authorization', owner).send({ window: ALWAYS_OPEN }).expect(200);
    stats = await g.gateway.deps.store.stats(ref, Date.now());
    expect(stats.zones.map((z) => z.open)).toEqual([true]);
    expect(stats.ready).toBe(3);
  });

  it('a pause takes the campaign out of routing, a resume brings it back', async () => {
    await api().patch(C).set('Authorization', owner).send({ status: 'paused' }).expect(200);
    expect(g.gateway.campaigns.isLive(ref)).toBe(false);
    expect(await g.gateway.campaigns.active(ref.tenantId, ref.campaignId)).toBeNull();
    await api().patch(C).set('Authorization', owner).send({ status: 'active' }).expect(200);
    expect(g.gateway.campaigns.isLive(ref)).toBe(true);
    expect((await g.gateway.deps.store.stats(ref, Date.now())).ready).toBe(3);
  });

  it('only owners and admins of the tenant edit or archive; nothing leaks to others', async () => {
    for (const who of [sue, oz]) {
      const patch = await api().patch(C).set('Authorization', who).send({ name: 'Mine' }).expect(403);
      expect(JSON.stringify(patch.body)).not.toMatch(/Spring/);
      await api().delete(C).set('Authorization', who).expect(403);
    }
    await api().delete('/api/v1/tenants/other/campaigns/spring').set('Authorization', owner).expect(403);
    expect((await g.db.campaigns.get('acme', 'spring'))?.status).toBe('active');
  });

  it('DELETE archives: no more offers or leads, the queue leaves Redis, rows and reads stay', async () => {
    const res = await api().delete(C).set('Authorization', owner).expect(200);
    expect(res.body).toMatchObject({ campaign: { id: 'spring', status: 'archived' } });
    expect(g.gateway.campaigns.isLive(ref)).toBe(false);
    expect(await g.gateway.deps.store.hasCampaign(ref)).toBe(false);
    // Reads still work.
    const read = await api().get(C).set('Authorization', sue).expect(200);
    expect(read.body).toMatchObject({ campaign: { status: 'archived' } });
    const leads = await api().get(`${C}/leads`).set('Authorization', owner).expect(200);
    expect((leads.body as { items: unknown[] }).items).toHaveLength(3);
    const stats = await api().get(`${C}/stats`).set('Authorization', sue).expect(200);
    expect(stats.body).toMatchObject({ queue: null, leads: { queued: 3 } });
    // Nothing more is queued, edited or rebuilt.
    await api()
      .post(`${C}/leads`)
      .set('Authorization', owner)
      .send({ leads: [{ phone: phone(9), timeZone: 'Europe/London' }] })
      .expect(404);
    const edit = await api().patch(C).set('Authorization', owner).send({ status: 'active' }).expect(409);
    expect(edit.body).toMatchObject({ error: { code: 'CAMPAIGN_ARCHIVED' } });
    await api().post(`${C}/rebuild`).set('Authorization', owner).expect(404);
    // Archiving again is harmless.
    await api().delete(C).set('Authorization', owner).expect(200);
    const audit = await api().get('/api/v1/tenants/acme/audit').set('Authorization', owner).expect(200);
    const actions = (audit.body as { items: { action: string; subject: string }[] }).items.map(
      (i) => i.action,
    );
    expect(actions).toEqual(expect.arrayContaining(['campaign.patch', 'campaign.archive']));
  });
});
