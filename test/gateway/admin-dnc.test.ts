// The do-not-call list through the admin API: numbers are normalised as lead imports normalise
// theirs on add, check and remove (`+4407700900123` is the listed `+447700900123`); removing a
// number lets the engine queue and offer it again (every campaign's suppression set), leads the
// listing removed stay removed; a CSV of numbers is imported with per-row counts and rejects.
// Another tenant and lesser roles are refused.
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALWAYS_OPEN } from '../../engine/calling-window.js';
import type { CampaignId, TenantId } from '../../engine/ids.js';
import { AdminGateway, TEST_PASSWORD } from '../support/admin-gateway.js';

const phone = (n: number) => `+447700900${String(n).padStart(3, '0')}`;
const ref = { tenantId: 'acme' as TenantId, campaignId: 'spring' as CampaignId };

describe('the do-not-call list: normalise, remove, import', () => {
  let g: AdminGateway;
  let owner = '';
  let sue = '';
  let oz = '';
  const api = () => request(g.url);
  const D = '/api/v1/tenants/acme/dnc';

  beforeAll(async () => {
    g = await AdminGateway.start();
    await g.seedTenant('acme', [
      { id: 'boss', role: 'owner' },
      { id: 'sue', role: 'supervisor' },
    ]);
    await g.db.tenants.create({ id: 'uk', name: 'UK', plan: { deviceLimit: 1, defaultCountry: 'GB' } });
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
      .send({ leads: [1, 2, 3].map((n) => ({ phone: phone(n), timeZone: 'Europe/London' })) })
      .expect(200);
  });
  afterAll(async () => {
    await g?.stop();
  });

  it('normalises numbers on add, check and remove: +4407700900123 is the listed +447700900123', async () => {
    const add = await api()
      .post(D)
      .set('Authorization', owner)
      .send({ phones: ['+44 (0)7700 900001'] })
      .expect(200);
    expect(add.body).toEqual({ removed: 1 });
    expect(await g.db.dnc.has('acme', phone(1))).toBe(true);
    const check = await api()
      .get(`${D}/${encodeURIComponent('+4407700900001')}`)
      .set('Authorization', owner);
    expect(check.body).toEqual({ phone: phone(1), listed: true });
    const bad = await api()
      .post(D)
      .set('Authorization', owner)
      .send({ phones: [phone(4), '+10000000'] });
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ error: { code: 'PAYLOAD_INVALID', issues: [{ path: 'phones.1' }] } });
    expect(await g.db.dnc.has('acme', phone(4))).toBe(false); // nothing of a refused request
  });

  it("DELETE takes a number off the list and out of the engine's suppression; the removed lead stays removed", async () => {
    const snapshot = await g.gateway.deps.store.snapshot(ref);
    expect(snapshot.suppressed).toEqual([phone(1)]);
    const res = await api()
      .delete(`${D}/${encodeURIComponent('+4407700900001')}`)
      .set('Authorization', owner)
      .expect(200);
    expect(res.body).toEqual({ removed: true, phone: phone(1) });
    expect(await g.db.dnc.has('acme', phone(1))).toBe(false);
    expect((await g.gateway.deps.store.snapshot(ref)).suppressed).toEqual([]);
    // The lead the listing removed did not come back ...
    const leads = await api()
      .get('/api/v1/tenants/acme/campaigns/spring/leads?status=removed')
      .set('Authorization', owner)
      .expect(200);
    expect((leads.body as { items: { phone: string }[] }).items.map((l) => l.phone)).toEqual([phone(1)]);
    expect((await g.gateway.deps.store.stats(ref, Date.now())).ready).toBe(2);
    // ... but the number can be queued again, and is.
    const again = await api()
      .post('/api/v1/tenants/acme/campaigns/spring/leads')
      .set('Authorization', owner)
      .send({ leads: [{ phone: phone(1), timeZone: 'Europe/London' }] })
      .expect(200);
    expect(again.body).toMatchObject({ queued: 1 });
    expect((await g.gateway.deps.store.stats(ref, Date.now())).ready).toBe(3);
    // Not listed (any more): 404 DNC_UNKNOWN.
    const gone = await api()
      .delete(`${D}/${encodeURIComponent(phone(1))}`)
      .set('Authorization', owner)
      .expect(404);
    expect(gone.body).toMatchObject({ error: { code: 'DNC_UNKNOWN' } });
    await api().delete(`${D}/not-a-number`).set('Authorization', owner).expect(400);
    const audit = await api().get('/api/v1/tenants/acme/audit').set('Authorization', owner).expect(200);
    const entries = (audit.body as { items: { action: string }[] }).items;
    expect(entries.map((i) => i.action)).toContain('dnc.remove');
    expect(JSON.stringify(entries)).not.toMatch(/7700/);
  });

  it("reads national formats in the tenant plan's default country", async () => {
    await g.db.users.create({
      tenantId: 'uk',
      id: 'ukboss',
      name: 'UK Boss',
      role: 'owner',
      email: 'ukboss@uk.test',
      passwordHash: (await g.db.users.credentials('acme', 'boss'))!.passwordHash,
    });
    const login = await api()
      .post('/api/v1/auth/login')
      .send({ tenantId: 'uk', email: 'ukboss@uk.test', password: TEST_PASSWORD })
      .expect(200);
    const uk = `Bearer ${(login.body as { accessToken: string }).accessToken}`;
    const add = await api()
      .post('/api/v1/tenants/uk/dnc')
      .set('Authorization', uk)
      .send({ phones: ['07700 900777'] })
      .expect(200);
    expect(add.body).toEqual({ removed: 0 });
    expect(await g.db.dnc.has('uk', phone(777))).toBe(true);
    await api().delete('/api/v1/tenants/uk/dnc/07700900777').set('Authorization', uk).expect(200);
  });

  it('imports a CSV of numbers with per-row counts and rejects', async () => {
    const csv = [
      'Name;Mobile',
      `Ann;${phone(2)}`,
      'Bob;+44 7700 900010',
      'Cy;+4407700900010',
      'Dee;not a number',
      'Eve;',
      `Fay;${phone(11)}`,
    ].join('\r\n');
    await api()
      .post(D)
      .set('Authorization', owner)
      .send({ phones: [phone(11)] })
      .expect(200);
    const res = await api()
      .post(`${D}/imports`)
      .set('Authorization', owner)
      .set('Content-Type', 'text/csv')
      .send(Buffer.from(`\ufeff${csv}\r\n`))
      .expect(201);
    expect(res.body).toEqual({
      rows: 6,
      listed: 2,
      alreadyListed: 1,
      duplicates: 1,
      rejected: 2,
      leadsRemoved: 1,
      rejects: [
        { row: 5, code: 'PHONE_INVALID', value: 'not a number' },
        { row: 6, code: 'PHONE_MISSING', value: '' },
      ],
    });
    for (const n of [2, 10, 11]) expect(await g.db.dnc.has('acme', phone(n))).toBe(true);
    expect((await g.gateway.deps.store.snapshot(ref)).suppressed).toEqual(
      expect.arrayContaining([phone(2), phone(10)]),
    );
    const wrongType = await api()
      .post(`${D}/imports`)
      .set('Authorization', owner)
      .set('Content-Type', 'application/xml')
      .send('<x/>')
      .expect(415);
    expect(wrongType.body).toMatchObject({ error: { code: 'UNSUPPORTED_MEDIA_TYPE' } });
  });

  it('only owners and admins of the tenant; another tenant learns nothing', async () => {
    for (const who of [sue, oz]) {
      await api()
        .delete(`${D}/${encodeURIComponent(phone(2))}`)
        .set('Authorization', who)
        .expect(403);
      await api()
        .post(`${D}/imports`)
        .set('Authorization', who)
        .set('Content-Type', 'text/csv')
        .send('phone\n+447700900050\n')
        .expect(403);
    }
    expect(await g.db.dnc.has('acme', phone(2))).toBe(true);
    expect(await g.db.dnc.has('acme', phone(50))).toBe(false);
  });
});
