// The consent ledger and what it promises, each test named after a promise; real Redis and
// Postgres behind the admin API.
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALWAYS_OPEN } from '../../engine/calling-window.js';
import { asAgentId, asDeviceId, asTenantId, campaignRef } from '../../engine/ids.js';
import { createConsentService } from '../../gateway/privacy/consent.js';
import { queuePositions } from '../../gateway/privacy/explain.js';
import { AdminGateway } from '../support/admin-gateway.js';

const CONSENTED = '+447700900301';
const UNCONSENTED = '+447700900302';
const SMS_ONLY = '+447700900303';
const EXPIRING = '+447700900304';
const OPTING_OUT = '+447700900305';

async function waitUntil(check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('the consent ledger', () => {
  let g: AdminGateway;
  let owner: string;
  let oz: string;
  const api = () => request(g.url);
  const ids = new Map<string, string>();
  const promo = campaignRef('acme', 'promo');

  const record = (phone: string, channel: string, extra: Record<string, unknown> = {}) =>
    api()
      .post('/api/v1/tenants/acme/privacy/consents')
      .set('Authorization', owner)
      .send({ phone, channel, source: 'web form', evidenceRef: 'form-17', ...extra });
  const add = async (campaign: string, phone: string) => {
    const res = await api()
      .post(`/api/v1/tenants/acme/campaigns/${campaign}/leads`)
      .set('Authorization', owner)
      .send({ leads: [{ phone, name: 'Lin', timeZone: 'Europe/London' }] })
      .expect(200);
    const id = (res.body as { rows: { leadId: string }[] }).rows[0]!.leadId;
    ids.set(`${campaign}:${phone}`, id);
    return id;
  };
  const explain = async (leadId: string) =>
    (await api().get(`/api/v1/tenants/acme/leads/${leadId}/explain`).set('Authorization', owner).expect(200))
      .body as {
      heldBy: string | null;
      predicates: { name: string; pass: boolean; detail: Record<string, unknown> }[];
    };
  const inQueue = async (leadId: string) => queuePositions(await g.store.store.snapshot(promo)).has(leadId);

  beforeAll(async () => {
    g = await AdminGateway.start({ redis: true });
    await g.seedTenant('acme', [{ id: 'boss', role: 'owner' }]);
    await g.seedTenant('other', [{ id: 'oz', role: 'owner' }]);
    const login = (tenantId: string, id: string) => g.bearer(tenantId, id);
    owner = await login('acme', 'boss');
    oz = await login('other', 'oz');
    for (const c of ['promo', 'care']) {
      await api()
        .put(`/api/v1/tenants/acme/campaigns/${c}`)
        .set('Authorization', owner)
        .send({ name: c, status: 'active', window: ALWAYS_OPEN })
        .expect(200);
    }
    await api()
      .put('/api/v1/tenants/acme/campaigns/promo/privacy')
      .set('Authorization', owner)
      .send({ kind: 'marketing' })
      .expect(200);
  });
  afterAll(async () => {
    await g.stop();
  });

  it('records consent per number and channel with source, time, expiry and evidence, keyed by hash only', async () => {
    const given = new Date(Date.now() - 60_000).toISOString();
    const res = await record(CONSENTED, 'voice', { givenAt: given }).expect(201);
    expect((res.body as { consent: unknown }).consent).toMatchObject({
      channel: 'voice',
      source: 'web form',
      evidenceRef: 'form-17',
      givenAt: Date.parse(given),
      expiresAt: null,
      live: true,
    });
    await record(SMS_ONLY, 'sms').expect(201);
    await record(CONSENTED, 'whatsapp', { expiresAt: '2020-01-01T00:00:00Z' }).expect(400); // before givenAt
    await record(CONSENTED, 'fax').expect(400);
    const list = await api()
      .post('/api/v1/tenants/acme/privacy/consents/list')
      .set('Authorization', owner)
      .send({ phone: CONSENTED })
      .expect(200);
    expect((list.body as { consents: { channel: string }[] }).consents.map((c) => c.channel)).toEqual([
      'voice',
    ]);
    const { rows } = await g.db.knex.raw<{ rows: unknown[] }>(`SELECT * FROM consents`);
    expect(JSON.stringify(rows)).not.toContain(CONSENTED.slice(1));
  });

  it('a marketing campaign offers only leads with live voice consent; the others are held, and explain says consent', async () => {
    const yes = await add('promo', CONSENTED);
    const no = await add('promo', UNCONSENTED);
    const sms = await add('promo', SMS_ONLY);
    await waitUntil(async () => !(await inQueue(no)) && !(await inQueue(sms)), 10_000);
    expect(await inQueue(yes)).toBe(true);
    expect((await explain(no)).heldBy).toBe('consent');
    expect((await explain(sms)).heldBy).toBe('consent');
    expect((await explain(yes)).heldBy).toBeNull();
    // What an agent is offered: the consented lead, then nothing.
    const agent = { agentId: asAgentId('boss'), deviceId: asDeviceId('d1') };
    const lease = await g.store.store.lease(promo, agent, Date.now(), 60_000);
    expect(lease?.lead.id).toBe(yes);
    await g.store.store.reject(
      asTenantId('acme'),
      { leaseId: lease!.leaseId, agentId: agent.agentId },
      Date.now(),
    );
    // A service campaign needs no consent.
    const care = await add('care', UNCONSENTED);
    const e = await explain(care);
    expect(e.heldBy).toBeNull();
    expect(e.predicates.find((p) => p.name === 'consent')!.detail).toMatchObject({ required: false });
  });

  it('recording voice consent queues a held lead again at once', async () => {
    const no = ids.get(`promo:${UNCONSENTED}`)!;
    const res = await record(UNCONSENTED, 'voice').expect(201);
    expect((res.body as { released: number }).released).toBe(1);
    expect(await inQueue(no)).toBe(true);
    expect((await explain(no)).heldBy).toBeNull();
  });

  it('consent that expires holds its lead at the next sweep', async () => {
    await record(EXPIRING, 'voice', { expiresAt: new Date(Date.now() + 1_500).toISOString() }).expect(201);
    const id = await add('promo', EXPIRING);
    const service = createConsentService(g.gateway);
    await service.sweep(true);
    expect(await inQueue(id)).toBe(true);
    await new Promise((r) => setTimeout(r, 1_600));
    expect((await explain(id)).heldBy).toBe('consent'); // explain sees it at once ...
    await service.sweep(true);
    expect(await inQueue(id)).toBe(false); // ... and the sweep takes it out of the queue
  });

  it('an opt-out on any channel reaches the do-not-call list for every channel and revokes queued entries and live leases', async () => {
    await record(OPTING_OUT, 'voice').expect(201);
    await record(OPTING_OUT, 'sms').expect(201);
    const inPromo = await add('promo', OPTING_OUT);
    const inCare = await add('care', OPTING_OUT);
    const care = campaignRef('acme', 'care');
    // A live lease on the care lead: drain care's queue until that lead is offered.
    const agent = { agentId: asAgentId('boss'), deviceId: asDeviceId('d2') };
    let lease = await g.store.store.lease(care, agent, Date.now(), 60_000);
    while (lease && lease.lead.id !== inCare) {
      await g.store.store.reject(
        asTenantId('acme'),
        { leaseId: lease.leaseId, agentId: agent.agentId },
        Date.now(),
      );
      await g.store.store.eraseNumbers(care, [lease.lead.phone]);
      lease = await g.store.store.lease(care, agent, Date.now(), 60_000);
    }
    expect(lease?.lead.id).toBe(inCare);

    const res = await api()
      .post('/api/v1/tenants/acme/privacy/consents/withdraw')
      .set('Authorization', owner)
      .send({ phone: OPTING_OUT, channel: 'sms' })
      .expect(200);
    expect(res.body).toMatchObject({ withdrawn: 2 });
    expect(await g.db.dnc.has('acme', OPTING_OUT)).toBe(true);
    expect(await inQueue(inPromo)).toBe(false);
    const careQueue = queuePositions(await g.store.store.snapshot(care));
    expect(careQueue.get(inCare)?.where ?? 'absent').not.toBe('leased'); // revoked for routing
    const list = await api()
      .post('/api/v1/tenants/acme/privacy/consents/list')
      .set('Authorization', owner)
      .send({ phone: OPTING_OUT })
      .expect(200);
    const consents = (list.body as { consents: { live: boolean; withdrawnAt: number | null }[] }).consents;
    expect(consents).toHaveLength(2);
    expect(consents.every((c) => !c.live && c.withdrawnAt !== null)).toBe(true);
    expect((await explain(inPromo)).heldBy).toBe('lead'); // removed, and listed
  });

  it('another tenant can neither record, list nor withdraw our consents, nor set our campaigns', async () => {
    await api()
      .post('/api/v1/tenants/acme/privacy/consents')
      .set('Authorization', oz)
      .send({ phone: CONSENTED, channel: 'voice', source: 'x' })
      .expect(403);
    await api()
      .post('/api/v1/tenants/acme/privacy/consents/list')
      .set('Authorization', oz)
      .send({ phone: CONSENTED })
      .expect(403);
    await api()
      .post('/api/v1/tenants/acme/privacy/consents/withdraw')
      .set('Authorization', oz)
      .send({ phone: CONSENTED })
      .expect(403);
    await api()
      .put('/api/v1/tenants/acme/campaigns/promo/privacy')
      .set('Authorization', oz)
      .send({ kind: 'service' })
      .expect(403);
    // Their own ledger has nothing for the number.
    const list = await api()
      .post('/api/v1/tenants/other/privacy/consents/list')
      .set('Authorization', oz)
      .send({ phone: CONSENTED })
      .expect(200);
    expect((list.body as { consents: unknown[] }).consents).toEqual([]);
  });
});
