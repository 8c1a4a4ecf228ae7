// The admin API's reads and its reference: tenants, campaigns, leads (with their attempts), call
// attempts and the do-not-call list, listed in a stable order with cursor pages; and the OpenAPI
// 3.1 document, generated from the routes' schemas, that names every operation the gateway answers
// and whose every reference resolves.
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALWAYS_OPEN } from '../../engine/calling-window.js';
import { OPERATIONS } from '../../gateway/http/openapi.js';
import { WIRE_ERRORS } from '../../gateway/protocol/errors.js';
import { AdminGateway, TEST_ADMIN_TOKEN, TEST_PASSWORD } from '../support/admin-gateway.js';

type Json = Record<string, unknown>;
const phone = (n: number) => `+447700900${String(n).padStart(3, '0')}`;

describe('the admin API: reads and OpenAPI', () => {
  let g: AdminGateway;
  let owner: string;
  let sue: string;
  const api = () => request(g.url);

  beforeAll(async () => {
    g = await AdminGateway.start();
    await g.seedTenant('acme', [
      { id: 'boss', role: 'owner' },
      { id: 'sue', role: 'supervisor' },
    ]);
    await g.seedTenant('other', [{ id: 'oz', role: 'owner' }]);
    const login = async (id: string) =>
      `Bearer ${
        (
          (
            await api()
              .post('/api/v1/auth/login')
              .send({ tenantId: 'acme', email: `${id}@acme.test`, password: TEST_PASSWORD })
              .expect(200)
          ).body as { accessToken: string }
        ).accessToken
      }`;
    owner = await login('boss');
    sue = await login('sue');
    for (const c of ['spring', 'autumn']) {
      await api()
        .put(`/api/v1/tenants/acme/campaigns/${c}`)
        .set('Authorization', owner)
        .send({ name: c, status: 'active', window: ALWAYS_OPEN })
        .expect(200);
    }
    await api()
      .post('/api/v1/tenants/acme/campaigns/spring/leads')
      .set('Authorization', owner)
      .send({
        leads: [1, 2, 3, 4, 5].map((n) => ({
          phone: phone(n),
          name: `Lead ${n}`,
          timeZone: 'Europe/London',
        })),
      })
      .expect(200);
    await api()
      .post('/api/v1/tenants/acme/dnc')
      .set('Authorization', owner)
      .send({ phones: [phone(5), phone(9)] })
      .expect(200);
  });
  afterAll(async () => {
    await g?.stop();
  });

  it('lists leads in import order, page by page, and reads one with its attempts', async () => {
    const first = await api()
      .get('/api/v1/tenants/acme/campaigns/spring/leads?limit=2')
      .set('Authorization', owner)
      .expect(200);
    const p1 = first.body as { items: { id: string; phone: string; status: string }[]; next: string };
    expect(p1.items.map((l) => l.phone)).toEqual([phone(1), phone(2)]);
    const rest = await api()
      .get(`/api/v1/tenants/acme/campaigns/spring/leads?limit=10&after=${p1.next}`)
      .set('Authorization', owner)
      .expect(200);
    const p2 = rest.body as { items: { phone: string; status: string }[]; next: string | null };
    expect(p2.items.map((l) => l.phone)).toEqual([phone(3), phone(4), phone(5)]);
    expect(p2.next).toBeNull();
    expect(p2.items.at(-1)!.status).toBe('removed'); // listed on the do-not-call list
    const removed = await api()
      .get('/api/v1/tenants/acme/campaigns/spring/leads?status=removed')
      .set('Authorization', owner)
      .expect(200);
    expect((removed.body as { items: unknown[] }).items).toHaveLength(1);

    const one = await api()
      .get(`/api/v1/tenants/acme/leads/${p1.items[0]!.id}`)
      .set('Authorization', owner)
      .expect(200);
    expect(one.body).toMatchObject({
      lead: { phone: phone(1), name: 'Lead 1', timeZone: ['Europe/London'] },
      attempts: [],
    });
    // Lead data is for admins; another tenant sees nothing.
    await api().get(`/api/v1/tenants/acme/leads/${p1.items[0]!.id}`).set('Authorization', sue).expect(403);
    await api()
      .get('/api/v1/tenants/acme/campaigns/spring/leads?after=abc')
      .set('Authorization', owner)
      .expect(400);
  });

  it('lists campaigns, reads one, lists attempts and the do-not-call list', async () => {
    const list = await api().get('/api/v1/tenants/acme/campaigns').set('Authorization', sue).expect(200);
    expect((list.body as { items: { id: string }[] }).items.map((c) => c.id)).toEqual(['autumn', 'spring']);
    const one = await api()
      .get('/api/v1/tenants/acme/campaigns/spring')
      .set('Authorization', sue)
      .expect(200);
    expect(one.body).toMatchObject({ campaign: { id: 'spring', status: 'active' } });
    await api().get('/api/v1/tenants/acme/campaigns/nope').set('Authorization', sue).expect(404);
    const attempts = await api()
      .get('/api/v1/tenants/acme/attempts?campaignId=spring')
      .set('Authorization', sue)
      .expect(200);
    expect(attempts.body).toEqual({ items: [], next: null });
    const dnc = await api().get('/api/v1/tenants/acme/dnc?limit=1').set('Authorization', owner).expect(200);
    const page = dnc.body as { items: { phone: string; source: string }[]; next: string };
    expect(page.items).toEqual([expect.objectContaining({ phone: phone(5), source: 'api' })]);
    const next = await api()
      .get(`/api/v1/tenants/acme/dnc?after=${encodeURIComponent(page.next)}`)
      .set('Authorization', owner);
    expect((next.body as { items: { phone: string }[] }).items.map((d) => d.phone)).toEqual([phone(9)]);
    const check = await api()
      .get(`/api/v1/tenants/acme/dnc/${encodeURIComponent(phone(9))}`)
      .set('Authorization', owner);
    expect(check.body).toEqual({ phone: phone(9), listed: true });
  });

  it('tenants: the operator lists them, a user reads only their own', async () => {
    const list = await api()
      .get('/api/v1/tenants')
      .set('Authorization', `Bearer ${TEST_ADMIN_TOKEN}`)
      .expect(200);
    expect((list.body as { items: { id: string }[] }).items.map((t) => t.id)).toEqual(['acme', 'other']);
    await api().get('/api/v1/tenants').set('Authorization', owner).expect(403);
    await api().get('/api/v1/tenants/acme').set('Authorization', sue).expect(200);
    await api().get('/api/v1/tenants/other').set('Authorization', owner).expect(403);
  });

  it('serves an OpenAPI 3.1 document with every operation, every reference resolvable', async () => {
    const res = await api().get('/api/v1/openapi.json').expect(200);
    const doc = res.body as {
      openapi: string;
      paths: Record<string, Record<string, Json>>;
      components: Json;
    };
    expect(doc.openapi).toBe('3.1.0');
    for (const op of OPERATIONS) {
      const path = `/api/v1${op.path.replace(/:([A-Za-z]+)/g, '{$1}')}`;
      expect(doc.paths[path]?.[op.method], `${op.method} ${path}`).toBeDefined();
    }
    const refs = JSON.stringify(doc).match(/"\$ref":"[^"]+"/g) ?? [];
    expect(refs.length).toBeGreaterThan(0);
    for (const ref of refs) {
      const pointer = ref.slice(8, -1).replace(/^#\//, '').split('/');
      let node: unknown = doc;
      for (const part of pointer) node = (node as Json | undefined)?.[part];
      expect(node, ref).toBeDefined();
    }
    const codes = (doc.components.schemas as Json).Error as {
      properties: { error: { properties: { code: { enum: string[] } } } };
    };
    expect(codes.properties.error.properties.code.enum).toEqual(Object.keys(WIRE_ERRORS));
  });

  it('every documented operation is answered by a route (never the catch-all 404)', async () => {
    const values: Record<string, string> = {
      tenantId: 'acme',
      userId: 'sue',
      agentId: 'newagent',
      deviceId: 'dev1',
      keyId: 'AAAAAAAAAAAAAAAA',
      linkId: 'AAAAAAAAAAAAAAAA',
      campaignId: 'spring',
      leadId: '1',
      callbackId: '1',
      importId: '1',
      phone: encodeURIComponent(phone(9)),
    };
    for (const op of OPERATIONS) {
      const path = `/api/v1${op.path.replace(/:([A-Za-z]+)/g, (_m, name: string) => values[name]!)}`;
      // Without a body, as someone allowed: every route answers (success, a validation error, a
      // missing row), none falls through to the catch-all.
      const who = op.who.includes('owner')
        ? owner
        : op.who.includes('operator')
          ? `Bearer ${TEST_ADMIN_TOKEN}`
          : '';
      const req = api()[op.method](path);
      const res = who ? await req.set('Authorization', who) : await req;
      if (who) expect(res.status, `${op.method} ${path}`).not.toBe(401);
      const body = res.body as { error?: { message: string } };
      expect(body.error?.message, `${op.method} ${path}`).not.toBe(WIRE_ERRORS.NOT_FOUND.message);
    }
  });
});
