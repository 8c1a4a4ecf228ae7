// Follow-ups: campaign templates with lead variables; an SMS follow-up reaches the provider (a
// real local HTTP receiver) from the durable outbox, retried while the provider refuses; a
// WhatsApp follow-up hands the device a click-to-chat link; channel consent is checked against the
// ledger for marketing campaigns and the do-not-call list for every campaign; the metadata is
// recorded with the attempt; agents follow up only their own calls; another tenant is refused;
// erasure takes the follow-ups with the lead. Real Postgres, real Redis, real HTTP.
import { createServer } from 'node:http';
import type { IncomingHttpHeaders, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALWAYS_OPEN } from '../../engine/calling-window.js';
import { AdminGateway } from '../support/admin-gateway.js';

interface Received {
  headers: IncomingHttpHeaders;
  body: { to: string; body: string; reference: string };
  answered: number;
}

interface FollowUpBody {
  followUp: { id: string; status: string; channel: string; templateId: string; leaseId: string | null };
  link: string | null;
}

const ADA = '+447700900555';
const BEA = '+447700900666';
const CAL = '+447700900777';

async function waitUntil(check: () => boolean | Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('follow-ups', () => {
  let g: AdminGateway;
  let receiver: Server;
  let refuseUntil = 0;
  const received: Received[] = [];
  let owner = '';
  let agent = '';
  let oz = '';
  const leadIds = new Map<string, string>();
  const api = () => request(g.url);

  beforeAll(async () => {
    receiver = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const answered = Date.now() < refuseUntil ? 503 : 202;
        received.push({
          headers: req.headers,
          body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as Received['body'],
          answered,
        });
        res.writeHead(answered, { 'content-type': 'application/json' });
        res.end(answered === 202 ? JSON.stringify({ id: `msg-${received.length}` }) : '{}');
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    const port = (receiver.address() as AddressInfo).port;
    g = await AdminGateway.start({
      redis: true,
      config: { SMS_HTTP_URL: `http://127.0.0.1:${port}/sms`, SMS_HTTP_TOKEN: 'provider-token-1' },
    });
    await g.seedTenant('acme', [
      { id: 'boss', role: 'owner' },
      { id: 'ag', role: 'agent' },
    ]);
    await g.seedTenant('other', [{ id: 'oz', role: 'owner' }]);
    owner = await g.bearer('acme', 'boss');
    agent = await g.bearer('acme', 'ag');
    oz = await g.bearer('other', 'oz');
    for (const c of ['spring', 'promo']) {
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
    const add = async (campaign: string, phone: string, name: string, fields: Record<string, string>) => {
      const res = await api()
        .post(`/api/v1/tenants/acme/campaigns/${campaign}/leads`)
        .set('Authorization', owner)
        .send({ leads: [{ phone, name, timeZone: 'Europe/London', fields }] })
        .expect(200);
      leadIds.set(phone, (res.body as { rows: { leadId: string }[] }).rows[0]!.leadId);
    };
    await add('spring', ADA, 'Ada Lovelace', { code: 'X1' });
    await add('promo', BEA, 'Bea Smith', {});
    await add('spring', CAL, 'Cal Jones', {});
  });
  afterAll(async () => {
    await g.stop();
    await new Promise((r) => receiver.close(r));
  });

  const send = (who: string, body: Record<string, unknown>) =>
    api().post('/api/v1/tenants/acme/followups').set('Authorization', who).send(body);

  it("templates are validated, kept per campaign, and another tenant's owner is refused", async () => {
    const put = (campaign: string, id: string, body: object, who = owner) =>
      api()
        .put(`/api/v1/tenants/acme/campaigns/${campaign}/followup-templates/${id}`)
        .set('Authorization', who)
        .send(body);
    await put('spring', 'thanks', { channel: 'sms', body: 'Your number is {{phone}}' }).expect(400);
    await put('spring', 'thanks', { channel: 'email', body: 'Hi' }).expect(400);
    await put('spring', 'thanks', { channel: 'sms', body: 'x'.repeat(1001) }).expect(400);
    await put('nope', 'thanks', { channel: 'sms', body: 'Hi' }).expect(404);
    await put('spring', 'thanks', {
      channel: 'sms',
      body: 'Hi {{firstName}}, your code is {{ fields.code }}.',
    }).expect(200);
    await put('spring', 'chat', { channel: 'whatsapp', body: 'Hello {{name}} & co' }).expect(200);
    await put('promo', 'offer', { channel: 'sms', body: 'Deal for {{firstName}}' }).expect(200);
    await put('spring', 'thanks', { channel: 'sms', body: 'Hi' }, oz).expect(403);
    const list = await api()
      .get('/api/v1/tenants/acme/campaigns/spring/followup-templates')
      .set('Authorization', owner)
      .expect(200);
    expect((list.body as { templates: { id: string }[] }).templates.map((t) => t.id)).toEqual([
      'chat',
      'thanks',
    ]);
    await api()
      .get('/api/v1/tenants/acme/campaigns/spring/followup-templates')
      .set('Authorization', oz)
      .expect(403);
    // A template of one campaign is not another's.
    const wrong = await send(owner, { leadId: leadIds.get(ADA), templateId: 'offer' });
    expect(wrong.status).toBe(404);
  });

  it('an SMS follow-up reaches the provider with the lead filled in, retried from the outbox while it refuses', async () => {
    refuseUntil = Date.now() + 2_500;
    const res = await send(owner, { leadId: leadIds.get(ADA), templateId: 'thanks' }).expect(201);
    const { followUp, link } = res.body as FollowUpBody;
    expect(followUp).toMatchObject({ status: 'pending', channel: 'sms', templateId: 'thanks' });
    expect(link).toBeNull();
    const status = async () => {
      const l = await api()
        .get(`/api/v1/tenants/acme/followups?leadId=${leadIds.get(ADA)}`)
        .set('Authorization', owner)
        .expect(200);
      return (
        l.body as { followUps: { id: string; status: string; attempts: number; providerRef: string }[] }
      ).followUps[0]!;
    };
    await waitUntil(async () => (await status()).status === 'sent', 20_000);
    const mine = received.filter((r) => r.body.reference === `fu_${followUp.id}`);
    expect(mine.length).toBeGreaterThanOrEqual(2);
    expect(mine[0]!.answered).toBe(503);
    expect(mine.filter((r) => r.answered === 202)).toHaveLength(1);
    for (const r of mine) {
      expect(r.body).toEqual({ to: ADA, body: 'Hi Ada, your code is X1.', reference: `fu_${followUp.id}` });
      expect(r.headers.authorization).toBe('Bearer provider-token-1');
      expect(r.headers['idempotency-key']).toBe(`fu_${followUp.id}`);
    }
    const final = await status();
    expect(final.attempts).toBe(mine.length);
    expect(final.providerRef).toBe(`msg-${received.indexOf(mine[mine.length - 1]!) + 1}`);
  });

  it('a WhatsApp follow-up hands the device a click-to-chat link and sends nothing itself', async () => {
    const before = received.length;
    const res = await send(owner, { leadId: leadIds.get(ADA), templateId: 'chat' }).expect(201);
    const { followUp, link } = res.body as FollowUpBody;
    expect(followUp.status).toBe('handed_over');
    expect(link).toBe(`https://wa.me/447700900555?text=${encodeURIComponent('Hello Ada Lovelace & co')}`);
    await new Promise((r) => setTimeout(r, 1_500));
    expect(received.length).toBe(before);
  });

  it('no SMS without live SMS consent in a marketing campaign: voice consent is not SMS consent', async () => {
    const bea = leadIds.get(BEA);
    const consent = (channel: string) =>
      api()
        .post('/api/v1/tenants/acme/privacy/consents')
        .set('Authorization', owner)
        .send({ phone: BEA, channel, source: 'web form' })
        .expect(201);
    const refused = await send(owner, { leadId: bea, templateId: 'offer' });
    expect(refused.status).toBe(409);
    expect((refused.body as { error: { code: string } }).error.code).toBe('CONSENT_REQUIRED');
    await consent('voice');
    expect((await send(owner, { leadId: bea, templateId: 'offer' })).status).toBe(409);
    await consent('sms');
    await send(owner, { leadId: bea, templateId: 'offer' }).expect(201);
  });

  it('a number on the do-not-call list gets no follow-up on any channel', async () => {
    // Cal first gets one, then opts out.
    await send(owner, { leadId: leadIds.get(CAL), templateId: 'chat' }).expect(201);
    await api()
      .post('/api/v1/tenants/acme/dnc')
      .set('Authorization', owner)
      .send({ phones: [CAL] })
      .expect(200);
    for (const templateId of ['thanks', 'chat']) {
      const res = await send(owner, { leadId: leadIds.get(CAL), templateId });
      expect(res.status).toBe(409);
      expect((res.body as { error: { code: string } }).error.code).toBe('NUMBER_SUPPRESSED');
    }
  });

  it('the metadata is recorded with the attempt, and an agent follows up only their own calls', async () => {
    const ada = leadIds.get(ADA)!;
    const attempt = (leaseId: string, agentId: string) =>
      g.db.outcomes.write({
        tenantId: 'acme',
        campaignId: 'spring',
        leadId: ada,
        leaseId,
        agentId,
        deviceId: 'd1',
        outcome: 'no_answer',
        disposition: { kind: 'retry', dueAt: Date.now() + 3_600_000 },
        attempts: 1,
        late: false,
        durationSec: 0,
        completedAt: Date.now(),
      });
    await attempt('spring.e1.1.a', 'ag');
    await attempt('spring.e1.2.b', 'boss');
    // An agent must name the call, and it must be theirs.
    expect((await send(agent, { leadId: ada, templateId: 'chat' })).status).toBe(403);
    expect((await send(agent, { leadId: ada, templateId: 'chat', leaseId: 'spring.e1.2.b' })).status).toBe(
      403,
    );
    expect((await send(agent, { leadId: ada, templateId: 'chat', leaseId: 'spring.e1.9.z' })).status).toBe(
      404,
    );
    const ok = await send(agent, { leadId: ada, templateId: 'chat', leaseId: 'spring.e1.1.a' }).expect(201);
    expect((ok.body as FollowUpBody).followUp.leaseId).toBe('spring.e1.1.a');
    // Agents do not list; supervisors and up do, and another tenant sees nothing of acme's.
    await api().get('/api/v1/tenants/acme/followups').set('Authorization', agent).expect(403);
    await api().get('/api/v1/tenants/acme/followups').set('Authorization', oz).expect(403);
    await send(oz, { leadId: ada, templateId: 'chat' }).expect(403);
    const { rows } = await g.db.knex.raw<{ rows: { n: string }[] }>(
      `SELECT count(*) AS n FROM followups WHERE tenant_id = 'other'`,
    );
    expect(Number(rows[0]!.n)).toBe(0);
    const list = await api()
      .get(`/api/v1/tenants/acme/followups?leadId=${ada}`)
      .set('Authorization', owner)
      .expect(200);
    const followUps = (list.body as { followUps: Record<string, unknown>[] }).followUps;
    const withAttempt = followUps.find((f) => f.leaseId === 'spring.e1.1.a')!;
    expect(withAttempt).toMatchObject({
      channel: 'whatsapp',
      templateId: 'chat',
      status: 'handed_over',
      createdBy: 'ag',
    });
    expect(typeof withAttempt.createdAt).toBe('number');
    // The list never carries the text (it names the person).
    expect(JSON.stringify(list.body)).not.toContain('Ada');
  });

  it("an access request shows the person's follow-ups as sent; erasure takes them with their leads", async () => {
    const access = await api()
      .post('/api/v1/tenants/acme/privacy/access')
      .set('Authorization', owner)
      .send({ phone: ADA })
      .expect(200);
    const exported = (access.body as { followUps: { channel: string; body: string; status: string }[] })
      .followUps;
    expect(exported.map((f) => [f.channel, f.status])).toEqual([
      ['sms', 'sent'],
      ['whatsapp', 'handed_over'],
      ['whatsapp', 'handed_over'],
    ]);
    expect(exported[0]!.body).toBe('Hi Ada, your code is X1.');
    await api()
      .post('/api/v1/tenants/acme/privacy/erasures')
      .set('Authorization', owner)
      .send({ phone: ADA })
      .expect(200);
    const { rows } = await g.db.knex.raw<{ rows: { n: string }[] }>(
      `SELECT count(*) AS n FROM followups WHERE tenant_id = 'acme' AND lead_id = ?`,
      [leadIds.get(ADA)!],
    );
    expect(Number(rows[0]!.n)).toBe(0);
  });
});
