// Custom lead fields within the tenant's limits (plan.leadFields: maxCount, maxValueLength): the
// limit holds on every write path — leads added through the API, a CSV import, a rectification —
// because the leads table's triggers refuse what breaks it (migration 0012); the refusal names the
// limit, never a value; leads added as JSON and a CSV import reject such a row with its reason (the
// rest is added); a tenant without limits keeps the global ones. Real Postgres, real Redis.
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALWAYS_OPEN } from '../../engine/calling-window.js';
import { AdminGateway, TEST_ADMIN_TOKEN } from '../support/admin-gateway.js';

const THREE = { a: '1', b: '2', c: '3' };

describe('custom lead fields within the tenant limits', () => {
  let g: AdminGateway;
  const bearer = new Map<string, string>();
  const api = () => request(g.url);

  beforeAll(async () => {
    g = await AdminGateway.start({ redis: true });
    for (const t of ['tight', 'loose']) {
      await g.seedTenant(t, [{ id: 'boss', role: 'owner' }]);
      bearer.set(t, await g.bearer(t, 'boss'));
      await api()
        .put(`/api/v1/tenants/${t}/campaigns/spring`)
        .set('Authorization', bearer.get(t)!)
        .send({ name: 'spring', status: 'active', window: ALWAYS_OPEN })
        .expect(200);
    }
    await g.db
      .knex('tenants')
      .where({ id: 'tight' })
      .update({ plan: JSON.stringify({ deviceLimit: 10, leadFields: { maxCount: 2, maxValueLength: 10 } }) });
  });
  afterAll(async () => {
    await g.stop();
  });

  const add = (tenant: string, phone: string, fields: Record<string, string>) =>
    api()
      .post(`/api/v1/tenants/${tenant}/campaigns/spring/leads`)
      .set('Authorization', bearer.get(tenant)!)
      .send({ leads: [{ phone, name: 'Ada', timeZone: 'Europe/London', fields }] });

  const overLimit = async (tenant: string) => {
    const { rows } = await g.db.knex.raw<{ rows: { n: string }[] }>(
      `SELECT count(*) AS n FROM leads WHERE tenant_id = ?
          AND ((SELECT count(*) FROM jsonb_object_keys(fields)) > 2
               OR EXISTS (SELECT 1 FROM jsonb_each_text(fields) e WHERE length(e.value) > 10))`,
      [tenant],
    );
    return Number(rows[0]!.n);
  };

  it("a tenant's plan takes its limits, validated", async () => {
    const put = (id: string, leadFields: unknown) =>
      api()
        .put(`/api/v1/tenants/${id}`)
        .set('Authorization', `Bearer ${TEST_ADMIN_TOKEN}`)
        .send({ name: id, plan: { deviceLimit: 1, leadFields } });
    await put('bad', { maxCount: 501, maxValueLength: 10 }).expect(400);
    await put('bad', { maxCount: 2 }).expect(400);
    const ok = await put('third', { maxCount: 2, maxValueLength: 10 }).expect(201);
    expect(ok.body).toMatchObject({ tenant: { plan: { leadFields: { maxCount: 2, maxValueLength: 10 } } } });
    // The retention period goes the same way (it was refused by the route before).
    await api()
      .put('/api/v1/tenants/fourth')
      .set('Authorization', `Bearer ${TEST_ADMIN_TOKEN}`)
      .send({ name: 'fourth', plan: { deviceLimit: 1, retentionDays: 30 } })
      .expect(201);
  });

  it('leads added through the API: a row over the limit is rejected on its own, naming it, and the rest are added', async () => {
    const res = await api()
      .post('/api/v1/tenants/tight/campaigns/spring/leads')
      .set('Authorization', bearer.get('tight')!)
      .send({
        leads: [
          { phone: '+447700900101', name: 'Ada', timeZone: 'Europe/London', fields: THREE },
          { phone: '+447700900102', name: 'Bea', timeZone: 'Europe/London', fields: { a: 'x'.repeat(11) } },
          {
            phone: '+447700900103',
            name: 'Cal',
            timeZone: 'Europe/London',
            fields: { a: '1', b: 'ten chars!' },
          },
          { phone: '+447700900105', name: 'Dee', timeZone: 'Europe/London' },
          { phone: '+447700900103', name: 'Cal again', timeZone: 'Europe/London' },
        ],
      })
      .expect(200);
    const body = res.body as {
      queued: number;
      overPlan: number;
      duplicates: number;
      rows: Record<string, unknown>[];
    };
    expect(body).toMatchObject({ queued: 2, overPlan: 2, duplicates: 1 });
    expect(body.rows).toEqual([
      { index: 0, status: 'rejected', code: 'FIELDS_OVER_PLAN' },
      { index: 1, status: 'rejected', code: 'FIELD_OVER_PLAN', field: 'a' },
      expect.objectContaining({ index: 2, status: 'queued' }),
      expect.objectContaining({ index: 3, status: 'queued' }),
      // Indexes are the batch's own, also the row a duplicate repeats.
      expect.objectContaining({ index: 4, status: 'duplicate', duplicateOfRow: 2 }),
    ]);
    // The value over the limit is not echoed.
    expect(JSON.stringify(body)).not.toContain('xxxxxxxxxxx');
    // Every row over the limit: nothing added, each rejected.
    const none = await add('tight', '+447700900106', THREE).expect(200);
    expect(none.body).toMatchObject({
      queued: 0,
      overPlan: 1,
      rows: [{ index: 0, code: 'FIELDS_OVER_PLAN' }],
    });
    // A tenant without limits keeps the global ones.
    await add('loose', '+447700900104', THREE).expect(200);
    expect(await overLimit('tight')).toBe(0);
    expect(await overLimit('loose')).toBe(1);
    const queued = await g.db.knex('leads').where({ tenant_id: 'tight' }).orderBy('id').pluck('phone');
    expect(queued).toEqual(['+447700900103', '+447700900105']);
  });

  it('a CSV import rejects the rows over the limit, naming it, and imports the rest', async () => {
    const csv = [
      'phone,name,a,b,c',
      '+442079460031,Bea,1,2,3', // three fields: over maxCount 2
      '+442079460032,Cy,eleven chars,,', // a value of 12 characters: over maxValueLength 10
      '+442079460033,Di,1,2,', // within
    ].join('\n');
    const res = await api()
      .post('/api/v1/tenants/tight/campaigns/spring/imports')
      .set('Authorization', bearer.get('tight')!)
      .set('Content-Type', 'text/csv')
      .send(csv);
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ import: { status: 'done', queued: 1, rejected: 2 } });
    const id = (res.body as { import: { id: string } }).import.id;
    const rejects = await api()
      .get(`/api/v1/tenants/tight/imports/${id}/rejects`)
      .set('Authorization', bearer.get('tight')!)
      .expect(200);
    const list = (rejects.body as { items: { row: number; code: string; column: string }[] }).items;
    expect(list.map((r) => [r.row, r.code, r.column])).toEqual([
      [2, 'FIELDS_OVER_PLAN', ''],
      [3, 'FIELD_OVER_PLAN', 'a'],
    ]);
    expect(await overLimit('tight')).toBe(0);
    const { rows } = await g.db.knex.raw<{ rows: { phone: string }[] }>(
      `SELECT phone FROM leads WHERE tenant_id = 'tight' AND phone LIKE '+44207946003%' ORDER BY phone`,
    );
    expect(rows.map((r) => r.phone)).toEqual(['+442079460033']);
    // The other tenant, without limits, takes the same file whole.
    const loose = await api()
      .post('/api/v1/tenants/loose/campaigns/spring/imports')
      .set('Authorization', bearer.get('loose')!)
      .set('Content-Type', 'text/csv')
      .send(csv)
      .expect(201);
    expect(loose.body).toMatchObject({ import: { queued: 3, rejected: 0 } });
  });

  it('a rectification cannot push a lead over the limit', async () => {
    const res = await api()
      .post('/api/v1/tenants/tight/privacy/rectifications')
      .set('Authorization', bearer.get('tight')!)
      .send({ phone: '+447700900103', fields: { c: '3' } });
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ error: { code: 'LEAD_INVALID' } });
    // Replacing one field by another stays within it.
    await api()
      .post('/api/v1/tenants/tight/privacy/rectifications')
      .set('Authorization', bearer.get('tight')!)
      .send({ phone: '+447700900103', fields: { b: null, c: '3' } })
      .expect(200);
    expect(await overLimit('tight')).toBe(0);
  });
});
