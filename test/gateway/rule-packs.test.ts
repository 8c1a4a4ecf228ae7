// The tenant's rule-pack library (/rule-packs): owners and admins write, supervisors read, agents
// and other tenants are refused (another tenant can neither read a pack nor use it in a
// campaign); pages follow a cursor; a campaign uses library packs by id next to its own; a change
// to a library pack changes what the engine's lease allows in every campaign using it (a cap of
// one call a day holds the second call of a number); a pack in use is not deleted
// (RULE_PACK_IN_USE, naming the campaigns); every write is in the audit log.
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALWAYS_OPEN } from '../../engine/calling-window.js';
import type { AgentId, CampaignId, DeviceId, TenantId } from '../../engine/ids.js';
import { createRulePackRepository } from '../../db/index.js';
import { AdminGateway } from '../support/admin-gateway.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const phone = (n: number) => `+447700900${String(n).padStart(3, '0')}`;
const acme = 'acme' as TenantId;
const spring = { tenantId: acme, campaignId: 'spring' as CampaignId };
const agent = { agentId: 'ann' as AgentId, deviceId: 'd1' as DeviceId };

/** The answers' fields these tests read. */
interface Answer {
  error: { code: string; message: string; issues?: unknown };
  rulePack: { id: string; pack: Record<string, unknown> };
  campaigns: string[];
  items: { id: string }[];
  next: string | null;
  campaign: { rulePackIds: string[]; effectiveCallingRules: { packs: unknown[] } };
}
const body = (r: { body: unknown }): Answer => r.body as Answer;

describe('rule-pack library', () => {
  let g: AdminGateway;
  const auth: Record<string, string> = {};
  const api = () => request(g.url);
  const P = '/api/v1/tenants/acme/rule-packs';
  const C = '/api/v1/tenants/acme/campaigns/spring';
  let capId = '';

  beforeAll(async () => {
    g = await AdminGateway.start();
    await g.seedTenant('acme', [
      { id: 'boss', role: 'owner' },
      { id: 'ada', role: 'admin' },
      { id: 'sue', role: 'supervisor' },
      { id: 'al', role: 'agent' },
    ]);
    await g.seedTenant('other', [{ id: 'oz', role: 'owner' }]);
    for (const [t, u] of [
      ['acme', 'boss'],
      ['acme', 'ada'],
      ['acme', 'sue'],
      ['acme', 'al'],
      ['other', 'oz'],
    ] as const)
      auth[u] = await g.bearer(t, u);
  });
  afterAll(async () => {
    await g?.stop();
  });

  it('owners and admins write, supervisors read, agents and other tenants are refused', async () => {
    const created = await api()
      .post(P)
      .set('Authorization', auth.ada!)
      .send({ name: 'every number', maxCalls: [{ count: 5, periodMs: DAY }] })
      .expect(201);
    expect(created.body).toMatchObject({
      rulePack: {
        id: expect.stringMatching(/^\d+$/) as unknown,
        pack: { name: 'every number', minGapMs: 0 },
      },
      campaigns: [],
    });
    capId = body(created).rulePack.id;

    // The pack schema a campaign's inline packs use: bad input names the field; names are unique.
    const bad = await api()
      .post(P)
      .set('Authorization', auth.boss!)
      .send({ name: 'x', maxCalls: [{ count: 0, periodMs: DAY }] })
      .expect(400);
    expect(body(bad).error.code).toBe('PAYLOAD_INVALID');
    expect(JSON.stringify(body(bad).error.issues)).toMatch(/maxCalls/);
    const twice = await api()
      .post(P)
      .set('Authorization', auth.boss!)
      .send({ name: 'every number' })
      .expect(409);
    expect(body(twice).error.code).toBe('CONFLICT');

    const read = await api().get(`${P}/${capId}`).set('Authorization', auth.sue!).expect(200);
    expect(body(read).rulePack.pack.maxCalls).toEqual([{ count: 5, periodMs: DAY }]);
    await api().get(P).set('Authorization', auth.sue!).expect(200);
    await api().post(P).set('Authorization', auth.sue!).send({ name: 'sue' }).expect(403);
    await api().patch(`${P}/${capId}`).set('Authorization', auth.sue!).send({ minGapMs: 0 }).expect(403);
    await api().delete(`${P}/${capId}`).set('Authorization', auth.sue!).expect(403);
    await api().get(P).set('Authorization', auth.al!).expect(403);
    await api().get(`${P}/${capId}`).set('Authorization', auth.al!).expect(403);

    // Another tenant: refused on acme's paths, and acme's pack is not in its own library.
    await api().get(`${P}/${capId}`).set('Authorization', auth.oz!).expect(403);
    await api().get(P).set('Authorization', auth.oz!).expect(403);
    const elsewhere = await api()
      .get(`/api/v1/tenants/other/rule-packs/${capId}`)
      .set('Authorization', auth.oz!)
      .expect(404);
    expect(body(elsewhere).error.code).toBe('RULE_PACK_UNKNOWN');
    await api()
      .patch(`/api/v1/tenants/other/rule-packs/${capId}`)
      .set('Authorization', auth.oz!)
      .send({ minGapMs: 1 })
      .expect(404);
    await api()
      .delete(`/api/v1/tenants/other/rule-packs/${capId}`)
      .set('Authorization', auth.oz!)
      .expect(404);
    const use = await api()
      .put('/api/v1/tenants/other/campaigns/theirs')
      .set('Authorization', auth.oz!)
      .send({ name: 'Theirs', status: 'active', window: ALWAYS_OPEN, rulePackIds: [capId] })
      .expect(404);
    expect(body(use).error.code).toBe('RULE_PACK_UNKNOWN');
    expect(await g.db.campaigns.get('other', 'theirs')).toBeUndefined();
    expect((await api().get('/api/v1/tenants/other/rule-packs').set('Authorization', auth.oz!)).body).toEqual(
      {
        items: [],
        next: null,
      },
    );
  });

  it('lists in id order, a page at a time', async () => {
    const ids = [capId];
    for (const name of ['p2', 'p3', 'p4']) {
      const r = await api().post(P).set('Authorization', auth.boss!).send({ name }).expect(201);
      ids.push(body(r).rulePack.id);
    }
    const seen: string[] = [];
    let after: string | null = null;
    let pages = 0;
    do {
      const page: Answer = body(
        await api()
          .get(P)
          .query({ limit: 3, ...(after === null ? {} : { after }) })
          .set('Authorization', auth.sue!)
          .expect(200),
      );
      seen.push(...page.items.map((i) => i.id));
      after = page.next;
      pages++;
    } while (after !== null);
    expect(pages).toBe(2);
    expect(seen).toEqual(ids);
  });

  it("a change to a library pack changes what the engine's lease allows in every campaign using it", async () => {
    const inline = { name: 'uk hours', zones: ['Europe/London'], holidays: [] };
    const put = await api()
      .put(C)
      .set('Authorization', auth.boss!)
      .send({
        name: 'Spring',
        status: 'active',
        window: ALWAYS_OPEN,
        callingRules: { packs: [inline] },
        rulePackIds: [capId],
      })
      .expect(200);
    expect(body(put).campaign).toMatchObject({
      callingRules: { packs: [{ name: 'uk hours' }] },
      rulePackIds: [capId],
      effectiveCallingRules: {
        packs: [{ name: 'uk hours' }, { name: 'every number', maxCalls: [{ count: 5, periodMs: DAY }] }],
      },
    });
    // A read answers the same rules as the write did.
    const read = await api().get(C).set('Authorization', auth.boss!).expect(200);
    expect(body(read).campaign).toMatchObject({
      callingRules: { packs: [{ name: 'uk hours' }] },
      rulePackIds: [capId],
      effectiveCallingRules: body(put).campaign.effectiveCallingRules,
    });
    await api()
      .post(`${C}/leads`)
      .set('Authorization', auth.boss!)
      .send({ leads: [1, 2].map((n) => ({ phone: phone(n), timeZone: 'Europe/London' })) })
      .expect(200);

    // Each number called once (busy: due again after 15 minutes).
    const store = g.gateway.deps.store;
    const t = Date.now();
    for (let i = 0; i < 2; i++) {
      const lease = await store.lease(spring, agent, t, 60_000);
      expect(lease).not.toBeNull();
      await store.accept(acme, { leaseId: lease!.leaseId, agentId: agent.agentId }, t, 60_000);
      const [done] = await store.complete(acme, [{ leaseId: lease!.leaseId, outcome: 'busy' }], t + 1000);
      expect(done?.ok).toBe(true);
    }
    // Under five a day, a number is offered again an hour later (a declined offer costs nothing).
    await store.promote(spring, t + HOUR, 100);
    const again = await store.lease(spring, agent, t + HOUR, 60_000);
    expect(again).not.toBeNull();
    await store.reject(acme, { leaseId: again!.leaseId, agentId: agent.agentId }, t + HOUR);

    // One call a day: the library pack changes, the campaign is defined again, the lease holds.
    const patched = await api()
      .patch(`${P}/${capId}`)
      .set('Authorization', auth.ada!)
      .send({ maxCalls: [{ count: 1, periodMs: DAY }] })
      .expect(200);
    expect(patched.body).toMatchObject({
      rulePack: { pack: { name: 'every number', maxCalls: [{ count: 1, periodMs: DAY }] } },
      campaigns: ['spring'],
    });
    const stored = await g.db.campaigns.get('acme', 'spring');
    expect(stored?.config.callingRules?.packs[1]?.maxCalls).toEqual([{ count: 1, periodMs: DAY }]);
    await store.promote(spring, t + 2 * HOUR, 100);
    expect(await store.lease(spring, agent, t + 2 * HOUR, 60_000)).toBeNull();
    await store.promote(spring, t + DAY + HOUR, 100);
    const nextDay = await store.lease(spring, agent, t + DAY + HOUR, 60_000);
    expect([phone(1), phone(2)]).toContain(nextDay?.lead.phone);
    await store.reject(acme, { leaseId: nextDay!.leaseId, agentId: agent.agentId }, t + DAY + HOUR);

    // A change a using campaign cannot take is refused whole, naming it; the pack stays as it was.
    const refused = await api()
      .patch(`${P}/${capId}`)
      .set('Authorization', auth.ada!)
      .send({ lockout: { outcomes: ['not_ours'], durationMs: DAY } })
      .expect(400);
    expect(body(refused).error).toMatchObject({ code: 'CAMPAIGN_INVALID' });
    expect(body(refused).error.message).toMatch(/spring/);
    const kept = await api().get(`${P}/${capId}`).set('Authorization', auth.sue!).expect(200);
    expect(kept.body).toMatchObject({
      rulePack: { pack: { maxCalls: [{ count: 1, periodMs: DAY }] } },
      campaigns: ['spring'],
    });
    expect(body(kept).rulePack.pack.lockout).toBeUndefined();

    // A campaign edit that names neither keeps both its own packs and its library links.
    const renamed = await api()
      .patch(C)
      .set('Authorization', auth.boss!)
      .send({ name: 'Spring 2' })
      .expect(200);
    expect(body(renamed).campaign).toMatchObject({
      rulePackIds: [capId],
      callingRules: { packs: [{ name: 'uk hours' }] },
    });
    const again2 = await api()
      .put(C)
      .set('Authorization', auth.boss!)
      .send({ name: 'Spring', status: 'active', window: ALWAYS_OPEN })
      .expect(200);
    expect(body(again2).campaign.rulePackIds).toEqual([capId]);
    expect(body(again2).campaign.effectiveCallingRules.packs).toHaveLength(2);
  });

  it('a pack in use is not deleted: RULE_PACK_IN_USE names the campaigns', async () => {
    await api()
      .put('/api/v1/tenants/acme/campaigns/autumn')
      .set('Authorization', auth.boss!)
      .send({ name: 'Autumn', status: 'paused', window: ALWAYS_OPEN, rulePackIds: [capId] })
      .expect(200);
    const inUse = await api().delete(`${P}/${capId}`).set('Authorization', auth.boss!).expect(409);
    expect(body(inUse).error.code).toBe('RULE_PACK_IN_USE');
    expect(body(inUse).error.message).toMatch(/autumn, spring/);
    expect(
      body(await api().get(`${P}/${capId}`).set('Authorization', auth.sue!).expect(200)).campaigns,
    ).toEqual(['autumn', 'spring']);

    // Out of spring's links (its own packs stay), autumn archived: then it goes.
    const unlinked = await api()
      .patch(C)
      .set('Authorization', auth.boss!)
      .send({ rulePackIds: [] })
      .expect(200);
    expect(body(unlinked).campaign).toMatchObject({
      rulePackIds: [],
      callingRules: { packs: [{ name: 'uk hours' }] },
      effectiveCallingRules: { packs: [{ name: 'uk hours' }] },
    });
    await api().delete('/api/v1/tenants/acme/campaigns/autumn').set('Authorization', auth.boss!).expect(200);
    await api().delete(`${P}/${capId}`).set('Authorization', auth.boss!).expect(204);
    const gone = await api().get(`${P}/${capId}`).set('Authorization', auth.sue!).expect(404);
    expect(body(gone).error.code).toBe('RULE_PACK_UNKNOWN');

    // Unlinked, the number is held by nothing but its own packs: offered an hour after its call.
    const t = Date.now();
    await g.gateway.deps.store.promote(spring, t + 2 * HOUR, 100);
    expect(await g.gateway.deps.store.lease(spring, agent, t + 2 * HOUR, 60_000)).not.toBeNull();

    const actions = (await g.db.audit.list('acme', { limit: 100 })).map((e) => `${e.action} ${e.subject}`);
    expect(actions).toEqual(
      expect.arrayContaining([
        `rule_pack.create ${capId}`,
        `rule_pack.update ${capId}`,
        `rule_pack.delete ${capId}`,
      ]),
    );
  });

  it("a tenant's deletion takes its packs and links with it", async () => {
    await g.db.tenants.create({ id: 'gone', name: 'Gone', plan: { deviceLimit: 1 } });
    await g.db.campaigns.upsert({
      tenantId: 'gone',
      id: 'c',
      name: 'c',
      status: 'paused',
      config: { window: ALWAYS_OPEN },
    });
    const packs = createRulePackRepository(g.db.knex);
    const pack = await packs.create('gone', { name: 'p' });
    expect(await packs.link('gone', 'c', undefined, [pack.id])).toBe(true);
    expect(await packs.usedBy('gone', pack.id)).toEqual(['c']);
    await g.db.knex('tenants').where({ id: 'gone' }).delete();
    expect(await g.db.knex('rule_packs').where({ tenant_id: 'gone' })).toEqual([]);
    expect(await g.db.knex('campaign_rule_packs').where({ tenant_id: 'gone' })).toEqual([]);
  });

  it('is in the OpenAPI document', async () => {
    const doc = (await api().get('/api/v1/openapi.json').set('Authorization', auth.boss!).expect(200))
      .body as {
      paths: Record<string, Record<string, unknown>>;
    };
    expect(Object.keys(doc.paths['/api/v1/tenants/{tenantId}/rule-packs'] ?? {}).sort()).toEqual([
      'get',
      'post',
    ]);
    expect(Object.keys(doc.paths['/api/v1/tenants/{tenantId}/rule-packs/{packId}'] ?? {}).sort()).toEqual([
      'delete',
      'get',
      'patch',
    ]);
  });
});
