// "Why not dialled?": each rule's result for a lead now and the moment it is next dialable, and a
// campaign counted by the first rule holding each lead back; against real Redis and Postgres.
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALWAYS_OPEN } from '../../engine/calling-window.js';
import type { CallingWindow } from '../../engine/calling-window.js';
import { asAgentId, asDeviceId, campaignRef } from '../../engine/ids.js';
import { AdminGateway } from '../support/admin-gateway.js';

const HOUR = 3_600_000;

interface Predicate {
  name: string;
  pass: boolean;
  detail: Record<string, unknown>;
}
interface Explanation {
  leadId: string;
  dialableNow: boolean;
  heldBy: string | null;
  nextDialableAt: string | null;
  predicates: Predicate[];
}

/** A window open one hour a day, starting two hours from now (UTC wall clock). */
function laterHour(now: number): { window: CallingWindow; opensAt: number } {
  const hour = (new Date(now).getUTCHours() + 2) % 24;
  const hh = String(hour).padStart(2, '0');
  const to = hour === 23 ? '24:00' : `${String(hour + 1).padStart(2, '0')}:00`;
  const day = new Date(now);
  day.setUTCHours(hour, 0, 0, 0);
  const opensAt = day.getTime() > now ? day.getTime() : day.getTime() + 24 * HOUR;
  return { window: { rules: [{ days: [1, 2, 3, 4, 5, 6, 7], from: `${hh}:00`, to }] }, opensAt };
}

describe('why not dialled', () => {
  let g: AdminGateway;
  let owner: string;
  let sue: string;
  let oz: string;
  const api = () => request(g.url);
  const lead = async (campaign: string, phone: string, timeZone: string | string[] = 'Europe/London') => {
    const res = await api()
      .post(`/api/v1/tenants/acme/campaigns/${campaign}/leads`)
      .set('Authorization', owner)
      .send({ leads: [{ phone, name: 'Grace', timeZone }] })
      .expect(200);
    return (res.body as { rows: { leadId: string }[] }).rows[0]!.leadId;
  };
  const campaign = (id: string, window: CallingWindow, status = 'active') =>
    api()
      .put(`/api/v1/tenants/acme/campaigns/${id}`)
      .set('Authorization', owner)
      .send({ name: id, status, window })
      .expect(200);
  const explain = async (leadId: string, who = sue) =>
    (await api().get(`/api/v1/tenants/acme/leads/${leadId}/explain`).set('Authorization', who).expect(200))
      .body as Explanation;
  const predicate = (e: Explanation, name: string) => e.predicates.find((p) => p.name === name)!;

  beforeAll(async () => {
    g = await AdminGateway.start({ redis: true });
    await g.seedTenant('acme', [
      { id: 'boss', role: 'owner' },
      { id: 'sue', role: 'supervisor' },
      { id: 'ann', role: 'agent' },
    ]);
    await g.seedTenant('other', [{ id: 'oz', role: 'owner' }]);
    const login = (tenantId: string, id: string) => g.bearer(tenantId, id);
    owner = await login('acme', 'boss');
    sue = await login('acme', 'sue');
    oz = await login('other', 'oz');
    await campaign('open', ALWAYS_OPEN);
  });
  afterAll(async () => {
    await g.stop();
  });

  it('a lead that nothing holds back is dialable now, every rule passing', async () => {
    const id = await lead('open', '+447700900101');
    const e = await explain(id);
    expect(e.dialableNow).toBe(true);
    expect(e.heldBy).toBeNull();
    expect(e.predicates.every((p) => p.pass)).toBe(true);
    expect(predicate(e, 'queue').detail.where).toBe('ready');
    expect(Date.parse(e.nextDialableAt!)).toBeLessThanOrEqual(Date.now());
    expect(JSON.stringify(e)).not.toContain('900101'); // no number in the answer
  });

  it('a closed calling window holds the lead until its next opening, zone by zone', async () => {
    const now = Date.now();
    const { window, opensAt } = laterHour(now);
    await campaign('later', window);
    const id = await lead('later', '+447700900102', 'UTC');
    const e = await explain(id);
    expect(e.heldBy).toBe('calling_window');
    expect(e.nextDialableAt).toBe(new Date(opensAt).toISOString());
    const zones = predicate(e, 'calling_window').detail.zones as { zone: string; open: boolean }[];
    expect(zones).toEqual([{ zone: 'UTC', open: false, nextOpenAt: new Date(opensAt).toISOString() }]);
  });

  it('a number in two zones whose windows never overlap is never dialable, and says so per zone', async () => {
    const id = await lead('later', '+447700900103', ['UTC', 'Asia/Tokyo']);
    const e = await explain(id);
    expect(e.heldBy).toBe('calling_window');
    expect(e.nextDialableAt).toBeNull();
    const zones = predicate(e, 'calling_window').detail.zones as { zone: string; nextOpenAt: string }[];
    expect(zones.map((z) => z.zone).sort()).toEqual(['Asia/Tokyo', 'UTC']);
    expect(zones.every((z) => z.nextOpenAt !== null)).toBe(true); // each alone opens; never both
  });

  it('a number on the do-not-call list is held for good', async () => {
    const id = await lead('open', '+447700900104');
    await api()
      .post('/api/v1/tenants/acme/dnc')
      .set('Authorization', owner)
      .send({ phones: ['+447700900104'] })
      .expect(200);
    const e = await explain(id);
    expect(e.heldBy).toBe('lead'); // taken out of the queue (status removed) ...
    expect(predicate(e, 'dnc')).toMatchObject({ pass: false, detail: { listed: true } }); // ... because listed
    expect(e.nextDialableAt).toBeNull();
  });

  it('a paused campaign holds its leads until it is resumed', async () => {
    await campaign('pausing', ALWAYS_OPEN);
    const id = await lead('pausing', '+447700900105');
    await campaign('pausing', ALWAYS_OPEN, 'paused');
    const e = await explain(id);
    expect(e.heldBy).toBe('campaign');
    expect(predicate(e, 'campaign').detail.status).toBe('paused');
    expect(e.nextDialableAt).toBeNull();
  });

  it('a lead under a lease names the agent and the lease, and is not dialable meanwhile', async () => {
    await campaign('leasing', ALWAYS_OPEN);
    const id = await lead('leasing', '+447700900106');
    const lease = await g.store.store.lease(
      campaignRef('acme', 'leasing'),
      { agentId: asAgentId('ann'), deviceId: asDeviceId('d1') },
      Date.now(),
      60_000,
    );
    expect(lease?.lead.id).toBe(id);
    const e = await explain(id);
    expect(e.heldBy).toBe('lease');
    expect(predicate(e, 'lease').detail).toMatchObject({ leased: true, agentId: 'ann', phase: 'offered' });
    expect(e.nextDialableAt).toBeNull();
  });

  it('a campaign summary counts leads by the first rule that holds them back', async () => {
    const res = await api()
      .get('/api/v1/tenants/acme/campaigns/later/explain')
      .set('Authorization', sue)
      .expect(200);
    expect(res.body).toMatchObject({ campaignId: 'later', leads: 2, dialableNow: 0 });
    expect((res.body as { heldBy: Record<string, number> }).heldBy).toMatchObject({
      calling_window: 2,
      dnc: 0,
      lead: 0,
    });
    const open = await api()
      .get('/api/v1/tenants/acme/campaigns/open/explain')
      .set('Authorization', sue)
      .expect(200);
    expect(open.body).toMatchObject({ leads: 2, dialableNow: 1, heldBy: { lead: 1 } });
  });

  it('another tenant cannot ask about our leads or campaigns, and an agent cannot either', async () => {
    const id = await lead('open', '+447700900107');
    await api().get(`/api/v1/tenants/acme/leads/${id}/explain`).set('Authorization', oz).expect(403);
    await api().get('/api/v1/tenants/acme/campaigns/open/explain').set('Authorization', oz).expect(403);
    // Their own tenant holds no such lead.
    await api().get(`/api/v1/tenants/other/leads/${id}/explain`).set('Authorization', oz).expect(404);
    await api().get('/api/v1/tenants/other/campaigns/open/explain').set('Authorization', oz).expect(404);
  });
});
