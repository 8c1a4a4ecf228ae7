// Editing a lead through the admin API (PATCH /leads/:id), on real Redis and Postgres: name,
// custom fields, number (normalised as imports do, its zone derived) and time zone, priority and
// due time. Postgres and the live queue change together or not at all; a lead on a call is
// refused LEAD_BUSY and never edited under the call; owners and admins of the tenant only.
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALWAYS_OPEN } from '../../engine/calling-window.js';
import { asAgentId, asDeviceId } from '../../engine/ids.js';
import type { CampaignId, TenantId } from '../../engine/ids.js';
import type { Lease } from '../../engine/lease.js';
import { AdminGateway } from '../support/admin-gateway.js';

const phone = (n: number) => `+447911125${String(n).padStart(3, '0')}`;
const ref = { tenantId: 'acme' as TenantId, campaignId: 'spring' as CampaignId };
const HOUR = 3_600_000;

interface LeadView {
  id: string;
  phone: string;
  name: string;
  timeZone: unknown;
  priority: number;
  dueAt: string | null;
  fields: Record<string, string>;
}
type Answer = { body: unknown };
const leadOf = (r: Answer) => (r.body as { lead: LeadView }).lead;
const err = (r: Answer) => (r.body as { error: { code: string; retryable: boolean } }).error;

describe('editing a lead', () => {
  let g: AdminGateway;
  let owner = '';
  let sue = '';
  let oz = '';
  let ids: string[] = [];
  const api = () => request(g.url);
  const patch = (leadId: string, body: object, who = owner) =>
    api().patch(`/api/v1/tenants/acme/leads/${leadId}`).set('Authorization', who).send(body);
  const store = () => g.gateway.deps.store;
  const leaseNext = async (agent = 'ann'): Promise<Lease> => {
    const l = await store().lease(
      ref,
      { agentId: asAgentId(agent), deviceId: asDeviceId(`d-${agent}`) },
      Date.now(),
      60_000,
    );
    expect(l).not.toBeNull();
    return l!;
  };
  const giveBack = (l: Lease) =>
    store().reject('acme' as TenantId, { leaseId: l.leaseId, agentId: l.agentId }, Date.now());

  beforeAll(async () => {
    g = await AdminGateway.start();
    await g.seedTenant(
      'acme',
      [
        { id: 'boss', role: 'owner' },
        { id: 'sue', role: 'supervisor' },
      ],
      10,
      { defaultCountry: 'GB' },
    );
    await g.seedTenant('other', [{ id: 'oz', role: 'owner' }]);
    owner = await g.bearer('acme', 'boss');
    sue = await g.bearer('acme', 'sue');
    oz = await g.bearer('other', 'oz');
    await api()
      .put('/api/v1/tenants/acme/campaigns/spring')
      .set('Authorization', owner)
      .send({ name: 'Spring', status: 'active', window: ALWAYS_OPEN })
      .expect(200);
    await api()
      .post('/api/v1/tenants/acme/campaigns/spring/leads')
      .set('Authorization', owner)
      .send({
        leads: [1, 2, 3, 4, 5].map((n) => ({
          phone: phone(n),
          name: `Lead ${n}`,
          timeZone: 'Europe/London',
          fields: { crm: `C${n}` },
        })),
      })
      .expect(200);
    const list = await api().get('/api/v1/tenants/acme/campaigns/spring/leads').set('Authorization', owner);
    ids = (list.body as { items: { id: string }[] }).items.map((l) => l.id);
  });
  afterAll(async () => {
    await g?.stop();
  });

  it('edits name, fields and number (national format, zone derived) and re-prioritizes: the queue offers the edit', async () => {
    const res = await patch(ids[2]!, {
      phone: '07911 125099',
      name: 'Renamed',
      fields: { crm: null, note: 'vip' },
      priority: 9,
    }).expect(200);
    expect(leadOf(res)).toMatchObject({
      id: ids[2],
      phone: '+447911125099',
      name: 'Renamed',
      priority: 9,
      fields: { note: 'vip' },
      status: 'queued',
    });
    expect(await g.db.leads.get('acme', ids[2]!)).toMatchObject({
      phone: '+447911125099',
      // The zones a UK mobile may ring in (libphonenumber's data): dialled when all are open.
      timeZone: ['Europe/Guernsey', 'Europe/Isle_of_Man', 'Europe/London'],
      fields: { note: 'vip' },
    });
    // The queue holds the edit: it is offered first (priority 9), as edited.
    const l = await leaseNext();
    expect(l.lead).toMatchObject({
      id: ids[2],
      phone: '+447911125099',
      name: 'Renamed',
      priority: 9,
      fields: { note: 'vip' },
      timeZone: 'Europe/Guernsey,Europe/Isle_of_Man,Europe/London',
    });
    await giveBack(l);
    // The old number is free again in the campaign; the new one is the edited lead's.
    const again = await api()
      .post('/api/v1/tenants/acme/campaigns/spring/leads')
      .set('Authorization', owner)
      .send({
        leads: [
          { phone: phone(3), timeZone: 'Europe/London' },
          { phone: '+447911125099', timeZone: 'Europe/London' },
        ],
      })
      .expect(200);
    // (A number queued already is that lead: the row answers it, as a retried import would.)
    expect(again.body).toMatchObject({
      queued: 1,
      alreadyQueued: 1,
      rows: [{ status: 'queued' }, { status: 'already_queued', leadId: ids[2] }],
    });
    const audit = await g.db.audit.list('acme', { limit: 5 });
    const entry = audit.find((e) => e.action === 'lead.patch');
    expect(entry).toMatchObject({ actor: 'boss', subject: ids[2] });
    expect(entry?.details).toMatchObject({ fields: ['phone', 'name', 'timeZone', 'priority', 'fields'] });
    expect(JSON.stringify(entry)).not.toMatch(/7911|Renamed|vip/);
  });

  it('moves a lead to a later due time and back to now', async () => {
    const at = Date.now() + HOUR;
    await patch(ids[0]!, { dueAt: new Date(at).toISOString() }).expect(200);
    expect(await g.db.leads.get('acme', ids[0]!)).toMatchObject({ dueAt: at });
    const snap = await store().snapshot(ref);
    const member = Object.entries(snap.records).find(([, id]) => id === ids[0])![0];
    expect(snap.scheduled).toContainEqual([member, at]);
    // A callback for one agent, then due now: the callback is cancelled, the lead is for anyone.
    const cb = await api()
      .post('/api/v1/tenants/acme/campaigns/spring/callbacks')
      .set('Authorization', owner)
      .send({ leadId: ids[0], at: new Date(at + HOUR).toISOString(), agentId: 'sue' })
      .expect(201);
    expect(await g.db.leads.get('acme', ids[0]!)).toMatchObject({ dueAt: at + HOUR, pinnedAgentId: 'sue' });
    await patch(ids[0]!, { dueAt: null }).expect(200);
    const callbackId = (cb.body as { callback: { id: string } }).callback.id;
    expect((await g.db.callbacks.get('acme', callbackId))?.status).toBe('cancelled');
    expect((await store().snapshot(ref)).pinned).toEqual({});
    const after = await store().snapshot(ref);
    expect(after.scheduled.map(([m]) => m)).not.toContain(member);
    expect(Object.values(after.ready).flat()).toContain(member);
    expect(await g.db.leads.get('acme', ids[0]!)).toMatchObject({ dueAt: null, pinnedAgentId: null });
  });

  it('refuses to edit a lead on a call (LEAD_BUSY) and changes nothing, in Postgres or the queue', async () => {
    const l = await leaseNext();
    const before = await g.db.leads.get('acme', l.lead.id);
    const busy = await patch(l.lead.id, { phone: '+447911125088' }).expect(409);
    expect(err(busy)).toMatchObject({ code: 'LEAD_BUSY', retryable: true });
    expect(err(await patch(l.lead.id, { name: 'Not now' }).expect(409)).code).toBe('LEAD_BUSY');
    expect(await g.db.leads.get('acme', l.lead.id)).toEqual(before);
    const snap = await store().snapshot(ref);
    expect(snap.phones).toHaveProperty(l.lead.phone);
    expect(snap.phones).not.toHaveProperty('+447911125088');
    await giveBack(l);
    await patch(l.lead.id, { name: 'Now' }).expect(200);
  });

  it('refuses a taken, listed or malformed number, a finished lead, and other roles and tenants', async () => {
    expect(err(await patch(ids[1]!, { phone: phone(4) }).expect(409)).code).toBe('CONFLICT');
    await api()
      .post('/api/v1/tenants/acme/dnc')
      .set('Authorization', owner)
      .send({ phones: ['+447911125077'] })
      .expect(200);
    expect(err(await patch(ids[1]!, { phone: '+447911125077' }).expect(400)).code).toBe('INPUT_INVALID');
    expect(err(await patch(ids[1]!, { phone: '12' }).expect(400)).code).toBe('LEAD_INVALID');
    expect(err(await patch(ids[1]!, {}).expect(400)).code).toBe('PAYLOAD_INVALID');
    expect(err(await patch(ids[1]!, { priority: 256 }).expect(400)).code).toBe('PAYLOAD_INVALID');
    expect(err(await patch(ids[1]!, { timeZone: 'Mars/Olympus' }).expect(400)).code).toBe('PAYLOAD_INVALID');
    expect(err(await patch(ids[1]!, { name: 'x' }, sue).expect(403)).code).toBe('FORBIDDEN');
    expect(err(await patch(ids[1]!, { name: 'x' }, oz).expect(403)).code).toBe('FORBIDDEN');
    await patch('99999999', { name: 'x' }).expect(404);
    // Nothing of those reached the lead.
    expect(await g.db.leads.get('acme', ids[1]!)).toMatchObject({ phone: phone(2), name: 'Lead 2' });
    await api().delete(`/api/v1/tenants/acme/leads/${ids[1]}`).set('Authorization', owner).expect(200);
    expect(err(await patch(ids[1]!, { name: 'x' }).expect(409)).code).toBe('LEAD_NOT_QUEUED');
  });
});
