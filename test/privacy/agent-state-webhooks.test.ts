// agent.state_changed webhooks: every state change of a tenant's agents reaches its endpoint,
// signed, from the durable outbox; another tenant's endpoint hears none of them; and a tenant
// that does not listen pays no outbox write (and one endpoint query per cache period, not one
// per change). Real Postgres, real Redis, real sockets and a real HTTP receiver.
import { createServer } from 'node:http';
import type { IncomingHttpHeaders, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../engine/clock.js';
import type { AgentId, TenantId } from '../../engine/ids.js';
import type { AgentStateChange } from '../../gateway/agent/agent-hub.js';
import { createDeviceTokens } from '../../gateway/auth/device-token.js';
import { createHttpApp } from '../../gateway/http/app.js';
import { silentLogger } from '../../gateway/logger.js';
import { createAgentStateEvents } from '../../gateway/webhooks/agent-state-events.js';
import type { NewWebhookEvent, WebhookEventType } from '../../db/privacy/index.js';
import { TEST_ADMIN_TOKEN, TEST_PASSWORD } from '../support/admin-gateway.js';
import { hashPassword } from '../../gateway/auth/passwords.js';
import { call, TEST_SECRET, TestGateway, until } from '../support/gateway.js';

interface Received {
  headers: IncomingHttpHeaders;
  body: string;
}

interface Body {
  type: string;
  data: { agentId: string; state: string; reason: string | null; campaignId: string | null };
}

describe('agent.state_changed webhooks', () => {
  let g: TestGateway;
  let receiver: Server;
  let url: string;
  const received: Received[] = [];
  const owners = new Map<string, string>();

  /** An owner of the tenant, logged in: `Bearer <access token>`. */
  async function owner(tenantId: string): Promise<string> {
    const known = owners.get(tenantId);
    if (known) return known;
    await g.db.users.create({
      tenantId,
      id: 'boss',
      name: 'Boss',
      role: 'owner',
      email: `boss@${tenantId}.test`,
      passwordHash: await hashPassword(TEST_PASSWORD),
    });
    const res = await fetch(`${g.url}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ tenantId, email: `boss@${tenantId}.test`, password: TEST_PASSWORD }),
    });
    expect(res.status).toBe(200);
    const bearer = `Bearer ${((await res.json()) as { accessToken: string }).accessToken}`;
    owners.set(tenantId, bearer);
    return bearer;
  }

  async function addEndpoint(tenantId: string, events: string[]): Promise<string> {
    const res = await fetch(`${g.url}/api/v1/tenants/${tenantId}/webhooks`, {
      method: 'POST',
      headers: { Authorization: await owner(tenantId), 'content-type': 'application/json' },
      body: JSON.stringify({ url: `${url}/${tenantId}`, events }),
    });
    expect(res.status).toBe(201);
    return ((await res.json()) as { secret: string }).secret;
  }

  const outboxCount = async (tenantId: string) => {
    const { rows } = await g.db.knex.raw<{ rows: { n: string }[] }>(
      `SELECT count(*) AS n FROM webhook_events WHERE tenant_id = ? AND type = 'agent.state_changed'`,
      [tenantId],
    );
    return Number(rows[0]!.n);
  };

  beforeAll(async () => {
    receiver = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        received.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks`;
    g = await TestGateway.start({
      http: (gw) =>
        createHttpApp(gw, {
          adminToken: TEST_ADMIN_TOKEN,
          logger: silentLogger,
          tokens: createDeviceTokens(TEST_SECRET),
          serverSecret: TEST_SECRET,
        }),
    });
    await g.seedTenant('acme', 1);
    await g.seedTenant('other', 1);
    await g.seedTenant('quiet', 1);
    await g.campaign('acme', 'spring');
    await g.campaign('quiet', 'calm');
  });
  afterAll(async () => {
    await g.stop();
    await new Promise((r) => receiver.close(r));
  });

  it("every state change of a tenant's agents reaches its endpoint, signed, and no other tenant's", async () => {
    const secret = await addEndpoint('acme', ['agent.state_changed']);
    const otherSecret = await addEndpoint('other', ['agent.state_changed', 'call.completed']);
    expect(otherSecret).not.toBe(secret);
    const device = await g.connect('acme', 0);
    expect(await call(device, 'agent:ready', { campaignId: 'spring' })).toMatchObject({ ok: true });
    expect(await call(device, 'agent:pause', { reason: 'lunch' })).toMatchObject({ ok: true });

    const forAcme = () => received.filter((r) => r.headers['user-agent'] === 'dialhub-webhooks');
    await until(() => forAcme().length >= 3, 15_000);
    const verifier = new Webhook(secret);
    // Deliveries run in parallel, so they may arrive in any order: the outbox order is the
    // webhook-id's (evt_<event id>), which receivers sort by.
    const eventNo = (r: Received) => Number(String(r.headers['webhook-id']).slice('evt_'.length));
    const bodies = [...forAcme()]
      .sort((a, b) => eventNo(a) - eventNo(b))
      .map((r) => {
        // The library's own verifier: throws on a bad signature.
        verifier.verify(r.body, {
          'webhook-id': String(r.headers['webhook-id']),
          'webhook-timestamp': String(r.headers['webhook-timestamp']),
          'webhook-signature': String(r.headers['webhook-signature']),
        });
        return JSON.parse(r.body) as Body;
      });
    expect(bodies.every((b) => b.type === 'agent.state_changed' && b.data.agentId === 'a0')).toBe(true);
    // login (paused), ready on spring, paused for lunch: in order.
    expect(bodies.map((b) => [b.data.state, b.data.reason ?? b.data.campaignId])).toEqual([
      ['paused', 'login'],
      ['ready', 'spring'],
      ['paused', 'lunch'],
    ]);
    // Nothing for the other tenant's endpoint: its agents did nothing.
    expect(await outboxCount('other')).toBe(0);
    const { rows } = await g.db.knex.raw<{ rows: { n: string }[] }>(
      `SELECT count(*) AS n FROM webhook_deliveries d JOIN webhook_endpoints w
          ON w.tenant_id = d.tenant_id AND w.id = d.endpoint_id WHERE w.tenant_id = 'other'`,
    );
    expect(Number(rows[0]!.n)).toBe(0);
    // The deliveries are in the delivery log as delivered.
    await until(async () => {
      const { rows: d } = await g.db.knex.raw<{ rows: { status: string }[] }>(
        `SELECT status FROM webhook_deliveries WHERE tenant_id = 'acme'`,
      );
      return d.length === 3 && d.every((x) => x.status === 'delivered');
    }, 10_000);
    device.disconnect();
  });

  it('a tenant whose endpoints do not take agent.state_changed gets no outbox row', async () => {
    await addEndpoint('quiet', ['call.completed']);
    const device = await g.connect('quiet', 0);
    expect(await call(device, 'agent:ready', { campaignId: 'calm' })).toMatchObject({ ok: true });
    expect(await call(device, 'agent:pause', { reason: 'lunch' })).toMatchObject({ ok: true });
    device.disconnect();
    await new Promise((r) => setTimeout(r, 1_000)); // several flush periods
    expect(await outboxCount('quiet')).toBe(0);
  });

  it('a tenant that does not listen costs one endpoint query per cache period and no write, however many changes', async () => {
    const calls: { listening: number; emit: number; emitted: number } = { listening: 0, emit: 0, emitted: 0 };
    const repo = g.db.privacy.webhooks;
    const counted = {
      listening: (type: WebhookEventType, tenants: readonly string[]) => {
        calls.listening++;
        return repo.listening(type, tenants);
      },
      emit: (events: readonly NewWebhookEvent[]) => {
        calls.emit++;
        calls.emitted += events.length;
        return repo.emit(events);
      },
    };
    const events = createAgentStateEvents(counted, systemClock, silentLogger, {
      flushMs: 10,
      cacheMs: 60_000,
    });
    const change = (tenantId: string, i: number): AgentStateChange => ({
      tenantId: tenantId as TenantId,
      agentId: `a${i % 5}` as AgentId,
      deviceId: `d${i % 5}`,
      state:
        i % 2 === 0
          ? { state: 'ready', since: 1_000 + i, campaignId: 'calm' }
          : { state: 'paused', reason: 'lunch', since: 1_000 + i },
      lead: null,
      at: 1_000 + i,
    });
    for (let i = 0; i < 1_000; i++) events.record(change('quiet', i));
    await events.flush();
    expect(calls).toEqual({ listening: 1, emit: 0, emitted: 0 });
    for (let i = 0; i < 1_000; i++) events.record(change('quiet', i));
    await events.flush();
    expect(calls).toEqual({ listening: 1, emit: 0, emitted: 0 }); // known not to listen: dropped at once
    expect(events.stats.skipped).toBe(2_000);

    // A listening tenant: its 500 changes are one write, not 500.
    const before = await outboxCount('acme');
    for (let i = 0; i < 500; i++) events.record(change('acme', i));
    await events.flush();
    expect(calls).toEqual({ listening: 2, emit: 1, emitted: 500 });
    expect((await outboxCount('acme')) - before).toBe(500);
    await events.stop();
  });
});
