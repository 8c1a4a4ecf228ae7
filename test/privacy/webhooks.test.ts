// Webhooks from a durable outbox: events written in the transaction of their cause, delivered at
// least once with backoff to a receiver that refuses for a while, signed (verified with the
// standardwebhooks library's own verifier), logged, replayable; two workers never post one
// delivery twice; another tenant sees and replays nothing. Real Postgres, real Redis, real HTTP.
import { createServer } from 'node:http';
import type { IncomingHttpHeaders, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALWAYS_OPEN } from '../../engine/calling-window.js';
import { systemClock } from '../../engine/clock.js';
import { silentLogger } from '../../gateway/logger.js';
import { createWebhookWorker } from '../../gateway/webhooks/delivery-worker.js';
import type { WebhookWorker } from '../../gateway/webhooks/delivery-worker.js';
import { AdminGateway } from '../support/admin-gateway.js';

interface Received {
  headers: IncomingHttpHeaders;
  body: string;
  answered: number;
}

const NUMBER = '+447700900555';

async function waitUntil(check: () => boolean | Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('webhooks', () => {
  let g: AdminGateway;
  let owner: string;
  let oz: string;
  let receiver: Server;
  let url: string;
  let refuseUntil = 0;
  let second: WebhookWorker;
  const received: Received[] = [];
  const api = () => request(g.url);
  const accepted = () => received.filter((r) => r.answered === 200);

  beforeAll(async () => {
    receiver = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const answered = Date.now() < refuseUntil ? 500 : 200;
        received.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), answered });
        res.writeHead(answered).end();
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks`;

    g = await AdminGateway.start({ redis: true });
    // A second gateway's worker on the same database: the two share the outbox.
    second = createWebhookWorker(g.db.privacy.webhooks, systemClock, silentLogger, { pollMs: 200 });
    await g.seedTenant('acme', [{ id: 'boss', role: 'owner' }]);
    await g.seedTenant('other', [{ id: 'oz', role: 'owner' }]);
    const login = (tenantId: string, id: string) => g.bearer(tenantId, id);
    owner = await login('acme', 'boss');
    oz = await login('other', 'oz');
    await api()
      .put('/api/v1/tenants/acme/campaigns/spring')
      .set('Authorization', owner)
      .send({ name: 'spring', status: 'active', window: ALWAYS_OPEN })
      .expect(200);
  });
  afterAll(async () => {
    await second.stop();
    await g.stop();
    await new Promise((r) => receiver.close(r));
  });

  let secret = '';
  let endpointId = '';

  it('an endpoint is created with a Standard Webhooks secret shown once, and validated', async () => {
    await api()
      .post('/api/v1/tenants/acme/webhooks')
      .set('Authorization', owner)
      .send({ url: 'ftp://example.test/x', events: ['call.completed'] })
      .expect(400);
    await api()
      .post('/api/v1/tenants/acme/webhooks')
      .set('Authorization', owner)
      .send({ url, events: ['no.such_event'] })
      .expect(400);
    const res = await api()
      .post('/api/v1/tenants/acme/webhooks')
      .set('Authorization', owner)
      .send({
        url,
        events: [
          'call.completed',
          'lead.dispositioned',
          'callback.scheduled',
          'dnc.added',
          'rights_request.completed',
        ],
      })
      .expect(201);
    const body = res.body as { endpoint: { id: string }; secret: string };
    expect(body.secret).toMatch(/^whsec_/);
    secret = body.secret;
    endpointId = body.endpoint.id;
    const list = await api().get('/api/v1/tenants/acme/webhooks').set('Authorization', owner).expect(200);
    expect(JSON.stringify(list.body)).not.toContain(secret);
  });

  it('events are written in the transaction of their cause: a rolled-back cause leaves no event', async () => {
    const { knex } = g.db;
    await knex
      .transaction(async (trx) => {
        await trx('dnc').insert({ tenant_id: 'acme', phone: '+447700900999', source: 'api' });
        const { rows } = await trx.raw<{ rows: { n: string }[] }>(
          `SELECT count(*) AS n FROM webhook_events WHERE tenant_id = 'acme'`,
        );
        expect(Number(rows[0]!.n)).toBe(1); // written with the row, inside the transaction
        throw new Error('roll back');
      })
      .catch(() => undefined);
    const { rows } = await knex.raw<{ rows: { n: string }[] }>(
      `SELECT count(*) AS n FROM webhook_events WHERE tenant_id = 'acme'`,
    );
    expect(Number(rows[0]!.n)).toBe(0);
  });

  it('a receiver that refuses for a while loses nothing: every event arrives, signed, at least once', async () => {
    refuseUntil = Date.now() + 2_500;
    // call.completed, lead.dispositioned and callback.scheduled from one committed outcome.
    const added = await api()
      .post('/api/v1/tenants/acme/campaigns/spring/leads')
      .set('Authorization', owner)
      .send({ leads: [{ phone: NUMBER, name: 'Ada', timeZone: 'Europe/London' }] })
      .expect(200);
    const leadId = (added.body as { rows: { leadId: string }[] }).rows[0]!.leadId;
    const now = Date.now();
    await g.db.outcomes.write({
      tenantId: 'acme',
      campaignId: 'spring',
      leadId,
      leaseId: 'spring.e1.1.x',
      agentId: 'boss',
      deviceId: 'd1',
      outcome: 'callback',
      disposition: { kind: 'callback', dueAt: now + 3_600_000, pinnedAgentId: 'boss' },
      attempts: 1,
      late: false,
      durationSec: 42,
      notes: 'call me later',
      callback: { at: now + 3_600_000, scope: 'agent' },
      completedAt: now,
    });
    // An outcome for a lead the tenant does not hold commits nothing, so it emits nothing.
    await expect(
      g.db.outcomes.write({
        tenantId: 'acme',
        campaignId: 'spring',
        leadId: '999999',
        leaseId: 'spring.e1.2.x',
        agentId: 'boss',
        deviceId: 'd1',
        outcome: 'answered',
        disposition: { kind: 'final' },
        attempts: 1,
        late: false,
        durationSec: 1,
        completedAt: now,
      }),
    ).rejects.toThrow();
    await api()
      .post('/api/v1/tenants/acme/dnc')
      .set('Authorization', owner)
      .send({ phones: ['+447700900556'] })
      .expect(200);
    await api()
      .post('/api/v1/tenants/acme/privacy/access')
      .set('Authorization', owner)
      .send({ phone: NUMBER })
      .expect(200);

    const types = [
      'call.completed',
      'lead.dispositioned',
      'callback.scheduled',
      'dnc.added',
      'rights_request.completed',
    ];
    await waitUntil(
      () => new Set(accepted().map((r) => r.headers['webhook-id'])).size === types.length,
      25_000,
    );
    expect(received.some((r) => r.answered === 500)).toBe(true); // it did refuse first
    const verifier = new Webhook(secret);
    const events = accepted().map(
      (r) =>
        verifier.verify(r.body, r.headers as Record<string, string>) as {
          type: string;
          data: Record<string, unknown>;
        },
    );
    expect(events.map((e) => e.type).sort()).toEqual([...types].sort());
    // Two workers, one delivery each: no event was accepted twice.
    expect(accepted()).toHaveLength(types.length);
    const completed = events.find((e) => e.type === 'call.completed')!;
    expect(completed.data).toMatchObject({
      leadId,
      campaignId: 'spring',
      outcome: 'callback',
      durationSec: 42,
    });
    expect(events.find((e) => e.type === 'lead.dispositioned')!.data).toMatchObject({
      leadId,
      disposition: 'callback',
      status: 'queued',
    });
    expect(events.find((e) => e.type === 'callback.scheduled')!.data).toMatchObject({
      leadId,
      agentId: 'boss',
    });
    expect(events.find((e) => e.type === 'dnc.added')!.data).toMatchObject({
      phone: '+447700900556',
      source: 'api',
    });
    // Minimal payloads: no name, no note, no number outside dnc.added.
    const all = accepted()
      .map((r) => r.body)
      .join('\n');
    expect(all).not.toContain('Ada');
    expect(all).not.toContain('call me later');
    expect(all).not.toContain(NUMBER.slice(1));
    // A tampered body does not verify.
    const one = accepted()[0]!;
    expect(() =>
      verifier.verify(one.body.replace('}', ' }'), one.headers as Record<string, string>),
    ).toThrow();
  });

  it('the delivery log shows every try, and a replay delivers the same event again', async () => {
    const res = await api()
      .get(`/api/v1/tenants/acme/webhooks/${endpointId}/deliveries`)
      .set('Authorization', owner)
      .expect(200);
    const deliveries = (
      res.body as {
        deliveries: { id: string; status: string; attempts: number; log: { statusCode: number }[] }[];
      }
    ).deliveries;
    expect(deliveries).toHaveLength(5);
    expect(deliveries.every((d) => d.status === 'delivered')).toBe(true);
    const retried = deliveries.find((d) => d.log.length > 1)!;
    expect(retried.log[0]!.statusCode).toBe(500);
    expect(retried.log.at(-1)!.statusCode).toBe(200);
    expect(retried.attempts).toBe(retried.log.length);

    const before = accepted().length;
    const replay = await api()
      .post(`/api/v1/tenants/acme/webhooks/${endpointId}/deliveries/${retried.id}/replay`)
      .set('Authorization', owner)
      .expect(202);
    expect((replay.body as { delivery: { status: string } }).delivery.status).toBe('pending');
    await waitUntil(() => accepted().length === before + 1, 10_000);
    const again = accepted().at(-1)!;
    const first = accepted().filter((r) => r.headers['webhook-id'] === again.headers['webhook-id']);
    expect(first).toHaveLength(2); // the same webhook-id: receivers can tell a replay from a new event
  });

  it('another tenant can neither see nor replay our endpoints and deliveries', async () => {
    await api().get('/api/v1/tenants/acme/webhooks').set('Authorization', oz).expect(403);
    await api()
      .get(`/api/v1/tenants/acme/webhooks/${endpointId}/deliveries`)
      .set('Authorization', oz)
      .expect(403);
    await api().get(`/api/v1/tenants/other/webhooks/${endpointId}`).set('Authorization', oz).expect(404);
    await api()
      .get(`/api/v1/tenants/other/webhooks/${endpointId}/deliveries`)
      .set('Authorization', oz)
      .expect(404);
    await api()
      .post(`/api/v1/tenants/other/webhooks/${endpointId}/deliveries/1/replay`)
      .set('Authorization', oz)
      .expect(404);
    await api().delete(`/api/v1/tenants/other/webhooks/${endpointId}`).set('Authorization', oz).expect(404);
    const list = await api().get('/api/v1/tenants/other/webhooks').set('Authorization', oz).expect(200);
    expect((list.body as { endpoints: unknown[] }).endpoints).toEqual([]);
  });

  it('an inactive endpoint gets no new events; a deleted one takes its deliveries with it', async () => {
    await api()
      .patch(`/api/v1/tenants/acme/webhooks/${endpointId}`)
      .set('Authorization', owner)
      .send({ active: false })
      .expect(200);
    await api()
      .post('/api/v1/tenants/acme/dnc')
      .set('Authorization', owner)
      .send({ phones: ['+447700900557'] })
      .expect(200);
    const { rows } = await g.db.knex.raw<{ rows: { n: string }[] }>(
      `SELECT count(*) AS n FROM webhook_events WHERE tenant_id = 'acme' AND type = 'dnc.added'`,
    );
    expect(Number(rows[0]!.n)).toBe(1); // only the one from before
    await api().delete(`/api/v1/tenants/acme/webhooks/${endpointId}`).set('Authorization', owner).expect(204);
    const { rows: left } = await g.db.knex.raw<{ rows: { n: string }[] }>(
      `SELECT count(*) AS n FROM webhook_deliveries WHERE tenant_id = 'acme'`,
    );
    expect(Number(left[0]!.n)).toBe(0);
  });
});
