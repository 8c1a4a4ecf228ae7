// Callbacks through the admin API, on real Redis and Postgres: scheduling one for a lead, moving
// it (time, agent, anyone), cancelling it, listing a campaign's due and upcoming callbacks. Each
// change is in Postgres (the callback and its lead's wait) and in the live queue at once, is
// refused with nothing changed while the lead is on a call, is audited, and is for supervisors
// and above of the tenant only.
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALWAYS_OPEN } from '../../engine/calling-window.js';
import { asAgentId, asDeviceId } from '../../engine/ids.js';
import type { CampaignId, TenantId } from '../../engine/ids.js';
import type { QueueSnapshot } from '../../engine/queue-store.js';
import { AdminGateway } from '../support/admin-gateway.js';

const phone = (n: number) => `+447911124${String(n).padStart(3, '0')}`;
const ref = { tenantId: 'acme' as TenantId, campaignId: 'spring' as CampaignId };
const HOUR = 3_600_000;

interface CallbackView {
  id: string;
  leadId: string;
  agentId: string | null;
  dueAt: string;
  status: string;
}
type Answer = { body: unknown };
const cb = (r: Answer) => (r.body as { callback: CallbackView }).callback;
const page = (r: Answer) => r.body as { items: CallbackView[]; next: string | null };
const err = (r: Answer) => (r.body as { error: { code: string; retryable: boolean } }).error;

/** Where the queue holds a lead: ready, scheduled (with due), pinned (agent, due), or absent. */
function whereIs(snap: QueueSnapshot, leadId: string): string {
  const member = Object.entries(snap.records).find(([, id]) => id === leadId)?.[0];
  if (member === undefined) return 'absent';
  if (Object.values(snap.ready).some((m) => m.includes(member))) return 'ready';
  const scheduled = snap.scheduled.find(([m]) => m === member);
  if (scheduled) return `scheduled@${scheduled[1]}`;
  for (const [agent, items] of Object.entries(snap.pinned)) {
    const hit = items.find(([m]) => m === member);
    if (hit) return `pinned:${agent}@${hit[1]}`;
  }
  return Object.values(snap.leases).some((l) => l.member === member) ? 'leased' : 'nowhere';
}

describe('callbacks through the admin API', () => {
  let g: AdminGateway;
  let owner = '';
  let sue = '';
  let ann = '';
  let oz = '';
  let ids: string[] = [];
  const api = () => request(g.url);
  const where = async (leadId: string) => whereIs(await g.gateway.deps.store.snapshot(ref), leadId);
  const schedule = (leadId: string, at: number, agentId?: string, who = sue) =>
    api()
      .post('/api/v1/tenants/acme/campaigns/spring/callbacks')
      .set('Authorization', who)
      .send({ leadId, at: new Date(at).toISOString(), ...(agentId ? { agentId } : {}) });

  beforeAll(async () => {
    g = await AdminGateway.start();
    await g.seedTenant('acme', [
      { id: 'boss', role: 'owner' },
      { id: 'sue', role: 'supervisor' },
      { id: 'ann', role: 'agent' },
      { id: 'bob', role: 'agent' },
    ]);
    await g.seedTenant('other', [{ id: 'oz', role: 'owner' }]);
    owner = await g.bearer('acme', 'boss');
    sue = await g.bearer('acme', 'sue');
    ann = await g.bearer('acme', 'ann');
    oz = await g.bearer('other', 'oz');
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
      .send({ leads: [1, 2, 3, 4, 5, 6].map((n) => ({ phone: phone(n), timeZone: 'Europe/London' })) })
      .expect(200);
    const list = await api().get('/api/v1/tenants/acme/campaigns/spring/leads').set('Authorization', owner);
    ids = (list.body as { items: { id: string }[] }).items.map((l) => l.id);
  });
  afterAll(async () => {
    await g?.stop();
  });

  it('schedules a callback for one agent: Postgres, the queue, the list and the audit log agree', async () => {
    const at = Date.now() + HOUR;
    const res = await schedule(ids[0]!, at, 'ann').expect(201);
    expect(cb(res)).toMatchObject({
      campaignId: 'spring',
      leadId: ids[0],
      agentId: 'ann',
      dueAt: new Date(at).toISOString(),
      status: 'pending',
      source: 'api',
    });
    const lead = await g.db.leads.get('acme', ids[0]!);
    expect(lead).toMatchObject({ status: 'queued', dueAt: at, pinnedAgentId: 'ann' });
    expect(await where(ids[0]!)).toBe(`pinned:ann@${at}`);
    const upcoming = await api()
      .get('/api/v1/tenants/acme/campaigns/spring/callbacks?when=upcoming')
      .set('Authorization', sue)
      .expect(200);
    expect(page(upcoming).items.map((c) => c.id)).toContain(cb(res).id);
    const due = await api()
      .get('/api/v1/tenants/acme/campaigns/spring/callbacks?when=due')
      .set('Authorization', sue)
      .expect(200);
    expect(page(due).items).toEqual([]);
    const audit = await g.db.audit.list('acme', { limit: 5 });
    expect(audit.find((e) => e.action === 'callback.create')).toMatchObject({
      actor: 'sue',
      subject: cb(res).id,
    });
    // Scheduling again replaces it: a lead waits for one time.
    const again = await schedule(ids[0]!, at + HOUR).expect(201);
    expect(await where(ids[0]!)).toBe(`scheduled@${at + HOUR}`);
    await api()
      .get(`/api/v1/tenants/acme/callbacks/${cb(res).id}`)
      .set('Authorization', sue)
      .expect(200)
      .expect((r) => expect(cb(r).status).toBe('cancelled'));
    await api()
      .delete(`/api/v1/tenants/acme/callbacks/${cb(again).id}`)
      .set('Authorization', sue)
      .expect(200);
  });

  it('moves a callback to another time and agent, then to anyone now: the queue follows at once', async () => {
    const at = Date.now() + 2 * HOUR;
    const created = await schedule(ids[1]!, at, 'ann').expect(201);
    const id = cb(created).id;
    const moved = await api()
      .patch(`/api/v1/tenants/acme/callbacks/${id}`)
      .set('Authorization', sue)
      .send({ at: new Date(at + HOUR).toISOString(), agentId: 'bob' })
      .expect(200);
    expect(cb(moved)).toMatchObject({ agentId: 'bob', dueAt: new Date(at + HOUR).toISOString() });
    expect(await where(ids[1]!)).toBe(`pinned:bob@${at + HOUR}`);
    expect(await g.db.leads.get('acme', ids[1]!)).toMatchObject({ dueAt: at + HOUR, pinnedAgentId: 'bob' });
    // To anyone, due a minute ago: dialable now by anyone.
    await api()
      .patch(`/api/v1/tenants/acme/callbacks/${id}`)
      .set('Authorization', sue)
      .send({ at: new Date(Date.now() - 60_000).toISOString(), agentId: null })
      .expect(200);
    expect(await where(ids[1]!)).toBe('ready');
    const due = await api()
      .get('/api/v1/tenants/acme/campaigns/spring/callbacks?when=due')
      .set('Authorization', sue)
      .expect(200);
    expect(page(due).items).toEqual([expect.objectContaining({ id, agentId: null })]);
    await api().delete(`/api/v1/tenants/acme/callbacks/${id}`).set('Authorization', sue).expect(200);
    await api()
      .patch(`/api/v1/tenants/acme/callbacks/${id}`)
      .set('Authorization', sue)
      .send({ agentId: 'ann' })
      .expect(404)
      .expect((r) => expect(err(r).code).toBe('CALLBACK_UNKNOWN'));
  });

  it('lists pending callbacks in due order, by agent, in pages', async () => {
    const t = Date.now() + 5 * HOUR;
    const made: string[] = [];
    for (const [i, agent] of [
      [2, 'ann'],
      [3, 'bob'],
      [4, 'ann'],
    ] as const) {
      made.push(cb(await schedule(ids[i]!, t + i * 60_000, agent).expect(201)).id);
    }
    const first = await api()
      .get('/api/v1/tenants/acme/campaigns/spring/callbacks?limit=2')
      .set('Authorization', sue)
      .expect(200);
    expect(page(first).items.map((c) => c.id)).toEqual(made.slice(0, 2));
    expect(page(first).next).toEqual(expect.any(String));
    const second = await api()
      .get(`/api/v1/tenants/acme/campaigns/spring/callbacks?limit=2&after=${page(first).next as string}`)
      .set('Authorization', sue)
      .expect(200);
    expect(page(second)).toEqual({ items: [expect.objectContaining({ id: made[2] })], next: null });
    const anns = await api()
      .get('/api/v1/tenants/acme/campaigns/spring/callbacks?agentId=ann')
      .set('Authorization', sue)
      .expect(200);
    expect(page(anns).items.map((c) => c.id)).toEqual([made[0], made[2]]);
    for (const id of made) {
      const res = await api()
        .delete(`/api/v1/tenants/acme/callbacks/${id}`)
        .set('Authorization', sue)
        .expect(200);
      expect(cb(res).status).toBe('cancelled');
    }
    // Cancelled: the leads stay queued, due now for anyone.
    for (const i of [2, 3, 4]) {
      expect(await where(ids[i]!)).toBe('ready');
      expect(await g.db.leads.get('acme', ids[i]!)).toMatchObject({
        status: 'queued',
        dueAt: null,
        pinnedAgentId: null,
      });
    }
  });

  it('refuses a lead on a call with LEAD_BUSY and changes nothing, anywhere', async () => {
    const lease = await g.gateway.deps.store.lease(
      ref,
      { agentId: asAgentId('ann'), deviceId: asDeviceId('d-ann') },
      Date.now(),
      60_000,
    );
    expect(lease).not.toBeNull();
    const leadId = lease!.lead.id;
    const before = await g.db.leads.get('acme', leadId);
    const res = await schedule(leadId, Date.now() + HOUR).expect(409);
    expect(err(res)).toMatchObject({ code: 'LEAD_BUSY', retryable: true });
    expect(await g.db.leads.get('acme', leadId)).toEqual(before);
    const list = await api().get('/api/v1/tenants/acme/campaigns/spring/callbacks').set('Authorization', sue);
    expect(page(list).items.filter((c) => c.leadId === leadId)).toEqual([]);
    // Once the call is given back, it is taken.
    await g.gateway.deps.store.reject(
      'acme' as TenantId,
      { leaseId: lease!.leaseId, agentId: asAgentId('ann') },
      Date.now(),
    );
    const ok = await schedule(leadId, Date.now() + HOUR).expect(201);
    await api()
      .delete(`/api/v1/tenants/acme/callbacks/${cb(ok).id}`)
      .set('Authorization', sue)
      .expect(200);
  });

  it('is for supervisors and above of the tenant, and checks its input', async () => {
    const at = Date.now() + HOUR;
    for (const [who, code] of [
      [ann, 'FORBIDDEN'],
      [oz, 'FORBIDDEN'],
    ] as const) {
      expect(err(await schedule(ids[5]!, at, undefined, who).expect(403)).code).toBe(code);
      await api()
        .get('/api/v1/tenants/acme/campaigns/spring/callbacks')
        .set('Authorization', who)
        .expect(403);
    }
    // Another tenant's route is refused before anything is read.
    await api().get('/api/v1/tenants/other/campaigns/spring/callbacks').set('Authorization', sue).expect(403);
    // A lead of another campaign, an unknown lead, an unknown agent, a time too far, a bad body.
    await api()
      .post('/api/v1/tenants/acme/campaigns/autumn/callbacks')
      .set('Authorization', sue)
      .send({ leadId: ids[5], at: new Date(at).toISOString() })
      .expect(404);
    await schedule('99999999', at).expect(404);
    expect(err(await schedule(ids[5]!, at, 'nobody').expect(400)).code).toBe('INPUT_INVALID');
    expect(err(await schedule(ids[5]!, Date.now() + 400 * 24 * HOUR).expect(400)).code).toBe(
      'CALLBACK_INVALID',
    );
    const bad = await api()
      .post('/api/v1/tenants/acme/campaigns/spring/callbacks')
      .set('Authorization', sue)
      .send({ leadId: ids[5], at: 'tomorrow' })
      .expect(400);
    expect(err(bad)).toMatchObject({
      code: 'PAYLOAD_INVALID',
      issues: [expect.objectContaining({ path: 'at' })],
    });
    await api().get('/api/v1/tenants/acme/callbacks/424242').set('Authorization', sue).expect(404);
    // A removed lead takes no callback.
    await api().delete(`/api/v1/tenants/acme/leads/${ids[5]}`).set('Authorization', owner).expect(200);
    expect(err(await schedule(ids[5]!, at).expect(409)).code).toBe('LEAD_NOT_QUEUED');
    expect(await where(ids[5]!)).toBe('absent');
  });
});
