// A campaign's own lease lengths (offerTtlMs, callTtlMs) and default time zone, set on PUT and
// PATCH, on two gateways sharing one Redis and one Postgres: the offer an agent gets and the call
// lease it accepts last as long as its campaign says, and a PATCH made through one gateway is what
// the other routes with from then on (and a pause made there stops the other's routing).
import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { io as connect } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALWAYS_OPEN } from '../../engine/calling-window.js';
import type { CampaignId, TenantId } from '../../engine/ids.js';
import { AGENT_NAMESPACE } from '../../gateway/protocol/events.js';
import { sharedAdapter } from '../support/adapter.js';
import { AdminGateway, TEST_PASSWORD } from '../support/admin-gateway.js';
import { call, next, until } from '../support/gateway.js';
import type { Device } from '../support/gateway.js';

const ref = { tenantId: 'acme' as TenantId, campaignId: 'spring' as CampaignId };
type Answer = { body: unknown };
interface CampaignBody {
  campaign: {
    offerTtlMs: number | null;
    callTtlMs: number | null;
    defaultTimeZone: string | null;
    status: string;
  };
}
const campaignOf = (r: Answer) => (r.body as CampaignBody).campaign;
const err = (r: Answer) => (r.body as { error: { code: string; message: string } }).error;

describe('per-campaign lease lengths and default zone, across two gateways', () => {
  let a: AdminGateway;
  let b: AdminGateway;
  let owner = '';
  const sockets: Device[] = [];
  const shared = sharedAdapter('campaign-settings');
  let n = 0;

  beforeAll(async () => {
    a = await AdminGateway.start({ adapter: await shared.adapter() });
    b = await AdminGateway.start({ shared: { store: a.store, pg: a.pg }, adapter: await shared.adapter() });
    await a.seedTenant('acme', [
      { id: 'boss', role: 'owner' },
      { id: 'al', role: 'agent' },
    ]);
    owner = await a.bearer('acme', 'boss');
  });
  afterAll(async () => {
    for (const s of sockets) s.disconnect();
    await b?.stop();
    await a?.stop();
    await shared.close();
  });

  const addLead = (g: AdminGateway, body: object = {}) =>
    request(g.url)
      .post('/api/v1/tenants/acme/campaigns/spring/leads')
      .set('Authorization', owner)
      .send({ leads: [{ phone: `+44791112600${n++}`, timeZone: 'Europe/London', ...body }] })
      .expect(200);

  async function agentOn(g: AdminGateway): Promise<Device> {
    const id = randomUUID();
    const login = await request(g.url)
      .post('/api/v1/auth/device-login')
      .send({
        tenantId: 'acme',
        email: 'al@acme.test',
        password: TEST_PASSWORD,
        device: { id, platform: 'android', model: 'Pixel 8', appVersion: '2.4.1' },
      })
      .expect(200);
    const socket: Device = connect(`${g.url}${AGENT_NAMESPACE}`, {
      transports: ['websocket'],
      reconnection: false,
      forceNew: true,
      auth: { token: (login.body as { deviceToken: string }).deviceToken, deviceId: id },
    });
    sockets.push(socket);
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', () => resolve());
      socket.once('connect_error', (e) => reject(e));
    });
    return socket;
  }

  it('sets, reads, clears and resets the settings, and refuses bad ones', async () => {
    const put = await request(a.url)
      .put('/api/v1/tenants/acme/campaigns/spring')
      .set('Authorization', owner)
      .send({
        name: 'Spring',
        status: 'active',
        window: ALWAYS_OPEN,
        offerTtlMs: 120_000,
        callTtlMs: 240_000,
        defaultTimeZone: 'America/New_York',
      })
      .expect(200);
    expect(campaignOf(put)).toMatchObject({
      offerTtlMs: 120_000,
      callTtlMs: 240_000,
      defaultTimeZone: 'America/New_York',
    });
    const read = await request(b.url)
      .get('/api/v1/tenants/acme/campaigns/spring')
      .set('Authorization', owner);
    expect(campaignOf(read)).toMatchObject({ offerTtlMs: 120_000, callTtlMs: 240_000 });
    for (const bad of [{ offerTtlMs: 500 }, { callTtlMs: 7_200_000 }, { defaultTimeZone: 'Mars/Olympus' }]) {
      const res = await request(a.url)
        .patch('/api/v1/tenants/acme/campaigns/spring')
        .set('Authorization', owner)
        .send(bad)
        .expect(400);
      expect(err(res).code).toBe('PAYLOAD_INVALID');
    }
    // Shorter than this deployment's heartbeats allow (here: two 1 s heartbeats, a 1.5 s grace).
    const short = await request(a.url)
      .patch('/api/v1/tenants/acme/campaigns/spring')
      .set('Authorization', owner)
      .send({ callTtlMs: 10_000, offerTtlMs: 1_000 })
      .expect(400);
    expect(err(short).code).toBe('INPUT_INVALID');
    expect(err(short).message).toMatch(/^offerTtlMs: at least 1001 ms/);
    // A replace that does not name them (a pause by a supervisor writes the campaign so) keeps them.
    const c = (await a.db.campaigns.get('acme', 'spring'))!;
    await a.db.campaigns.upsert({
      tenantId: 'acme',
      id: 'spring',
      name: c.name,
      status: 'active',
      config: c.config,
    });
    expect(await a.db.campaigns.get('acme', 'spring')).toMatchObject({
      offerTtlMs: 120_000,
      callTtlMs: 240_000,
    });
  });

  it('offers and holds calls for as long as the campaign says, on the gateway the agent is connected to', async () => {
    const device = await agentOn(b);
    expect(await call(device, 'agent:ready', { campaignId: 'spring' })).toMatchObject({ ok: true });
    const offered = next(device, 'call:offer');
    await addLead(a);
    const [offer, ack] = await offered;
    // The deployment's OFFER_TTL_MS here is 3 s; the campaign's 120 s.
    expect(offer.expiresAt - Date.now()).toBeGreaterThan(60_000);
    expect(offer.expiresAt - Date.now()).toBeLessThanOrEqual(120_000);
    ack({ accept: true });
    await until(
      async () => (await a.store.store.peekLease(ref.tenantId, offer.leaseId, Date.now())).state !== 'o',
    );
    const held = await a.store.store.peekLease(ref.tenantId, offer.leaseId, Date.now());
    // CALL_TTL_MS here is 6 s; the campaign's 240 s.
    expect(held.at - Date.now()).toBeGreaterThan(180_000);
    expect(
      await call(device, 'call:complete', { leaseId: offer.leaseId, outcome: 'answered', durationSec: 3 }),
    ).toMatchObject({ ok: true });
  });

  it('a PATCH through one gateway is what the other routes with', async () => {
    await request(a.url)
      .patch('/api/v1/tenants/acme/campaigns/spring')
      .set('Authorization', owner)
      .send({ offerTtlMs: 30_000, callTtlMs: null })
      .expect(200);
    // B hears of it over the adapter and reads Postgres again (generous wait, no short window).
    await until(() => b.gateway.campaigns.ttls(ref).offerTtlMs === 30_000, 10_000);
    expect(b.gateway.campaigns.ttls(ref).callTtlMs).toBe(6_000); // cleared: the deployment's
    const device = await agentOn(b);
    expect(await call(device, 'agent:ready', { campaignId: 'spring' })).toMatchObject({ ok: true });
    const offered = next(device, 'call:offer');
    await addLead(a);
    const [offer, ack] = await offered;
    expect(offer.expiresAt - Date.now()).toBeGreaterThan(15_000);
    expect(offer.expiresAt - Date.now()).toBeLessThanOrEqual(30_000);
    ack({ accept: true });
    expect(
      await call(device, 'call:complete', { leaseId: offer.leaseId, outcome: 'answered', durationSec: 3 }),
    ).toMatchObject({ ok: true });
    // A pause through A takes the campaign out of B's routing.
    await request(a.url)
      .patch('/api/v1/tenants/acme/campaigns/spring')
      .set('Authorization', owner)
      .send({ status: 'paused' })
      .expect(200);
    await until(() => !b.gateway.campaigns.isLive(ref), 10_000);
    const refused = await call(device, 'agent:ready', { campaignId: 'spring' });
    expect(refused).toMatchObject({ ok: false, error: { code: 'CAMPAIGN_UNKNOWN' } });
    await request(a.url)
      .patch('/api/v1/tenants/acme/campaigns/spring')
      .set('Authorization', owner)
      .send({ status: 'active' })
      .expect(200);
  });

  it("gives leads sent without a zone their number's zones, else the campaign's default zone", async () => {
    const res = await request(a.url)
      .post('/api/v1/tenants/acme/campaigns/spring/leads')
      .set('Authorization', owner)
      .send({ leads: [{ phone: '+12125550123' }, { phone: '+18005550123' }] })
      .expect(200);
    const [ny, tollFree] = (res.body as { rows: { leadId: string }[] }).rows.map((r) => r.leadId);
    expect((await a.db.leads.get('acme', ny!))?.timeZone).toEqual(['America/New_York']);
    // A US toll-free number may ring in any of 42 zones: it takes the campaign's default.
    expect((await a.db.leads.get('acme', tollFree!))?.timeZone).toEqual(['America/New_York']);
    await request(a.url)
      .patch('/api/v1/tenants/acme/campaigns/spring')
      .set('Authorization', owner)
      .send({ defaultTimeZone: 'America/Chicago' })
      .expect(200);
    // An edited lead whose new number says too little takes it too.
    await request(a.url)
      .patch(`/api/v1/tenants/acme/leads/${ny!}`)
      .set('Authorization', owner)
      .send({ phone: '+18885550123' })
      .expect(200);
    expect((await a.db.leads.get('acme', ny!))?.timeZone).toEqual(['America/Chicago']);
  });
});
