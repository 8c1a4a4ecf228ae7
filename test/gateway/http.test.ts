// The HTTP face of the gateway over real Redis and real Postgres: probes and metrics, the admin
// API's guard, the whole admin flow down to a call pushed to the device it registered, the plan's
// device limit, validation at the edge, tenancy, and logs that never carry lead data or secrets.
import { randomBytes } from 'node:crypto';
import request from 'supertest';
import { io as connect } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALWAYS_OPEN } from '../../engine/calling-window.js';
import { systemClock } from '../../engine/clock.js';
import type { RedisQueueStore } from '../../engine/redis/redis-queue-store.js';
import { createDeviceTokens } from '../../gateway/auth/device-token.js';
import { loadConfig } from '../../gateway/config.js';
import { createGateway } from '../../gateway/gateway.js';
import type { Gateway } from '../../gateway/gateway.js';
import { createHttpApp } from '../../gateway/http/app.js';
import { createLogger } from '../../gateway/logger.js';
import { AGENT_NAMESPACE } from '../../gateway/protocol/events.js';
import { call, FAST, next, TEST_SECRET } from '../support/gateway.js';
import type { Device } from '../support/gateway.js';
import { createTestDatabase } from '../support/postgres.js';
import type { TestDatabase } from '../support/postgres.js';
import { makeStore } from '../support/stores.js';
import type { TestStore } from '../support/stores.js';

const ADMIN_TOKEN = 'admin-token-for-tests-0123456789';
const AUTH = `Bearer ${ADMIN_TOKEN}`;

/** A fresh id, so the tests of this file share one gateway without sharing rows. */
const uid = (label: string) => `${label}-${randomBytes(3).toString('hex')}`;
/** Ofcom drama numbers: fictional by design. */
const phone = (n: number) => `+447700900${String(n).padStart(3, '0')}`;

const SALE = { sale: { final: true, contact: true } };

describe('the HTTP API', () => {
  let store: TestStore;
  let pg: TestDatabase;
  let gateway: Gateway;
  let url: string;
  const logLines: string[] = [];
  const sockets: Device[] = [];
  let failingCheck = false;

  beforeAll(async () => {
    store = await makeStore('redis');
    pg = await createTestDatabase();
    const tokens = createDeviceTokens(TEST_SECRET);
    const logger = createLogger('debug', { write: (line: string) => void logLines.push(line) });
    const redis = store.store as RedisQueueStore;
    gateway = createGateway({
      config: loadConfig({ HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'debug', ...FAST }),
      store: store.store,
      clock: systemClock,
      db: pg.db,
      logger,
      tokens,
      checks: [
        { name: 'redis', check: () => redis.client.ping() },
        { name: 'postgres', check: () => pg.db.knex.raw('select 1') },
        {
          name: 'switch',
          check: () => (failingCheck ? Promise.reject(new Error('switched off')) : Promise.resolve()),
        },
      ],
      http: (g) => createHttpApp(g, { adminToken: ADMIN_TOKEN, logger, tokens, serverSecret: TEST_SECRET }),
    });
    const address = await gateway.start(0, '127.0.0.1');
    url = `http://127.0.0.1:${address.port}`;
  });

  afterAll(async () => {
    for (const s of sockets) s.disconnect();
    await gateway?.stop();
    await store?.dispose();
    await pg?.dispose();
  });

  const api = () => request(url);

  /** Each tenant's owner (created by the operator, then logged in): the bearer for its routes. */
  const owners = new Map<string, string>();
  const auth = (tenantId: string): string => owners.get(tenantId) ?? AUTH;
  async function owner(tenantId: string): Promise<void> {
    const email = `owner@${tenantId.toLowerCase()}.test`;
    const password = 'owner password for tests';
    await api()
      .post(`/api/v1/tenants/${tenantId}/users`)
      .set('Authorization', AUTH)
      .send({ id: 'owner', name: 'Owner', role: 'owner', email, password })
      .expect(201);
    const login = await api().post('/api/v1/auth/login').send({ tenantId, email, password }).expect(200);
    owners.set(tenantId, `Bearer ${(login.body as { accessToken: string }).accessToken}`);
  }

  async function device(token: string, deviceId: string, transports = ['websocket']): Promise<Device> {
    const socket: Device = connect(`${url}${AGENT_NAMESPACE}`, {
      transports,
      reconnection: false,
      forceNew: true,
      auth: { token, deviceId },
    });
    sockets.push(socket);
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', () => resolve());
      socket.once('connect_error', (err) => reject(err));
    });
    return socket;
  }

  /** A tenant with one agent, one device and an active, always-open campaign; returns the device token. */
  async function tenantWithCampaign(deviceLimit = 3) {
    const tenantId = uid('t');
    await api()
      .put(`/api/v1/tenants/${tenantId}`)
      .set('Authorization', AUTH)
      .send({ name: 'Acme', plan: { deviceLimit } })
      .expect(201);
    await owner(tenantId);
    await api()
      .put(`/api/v1/tenants/${tenantId}/agents/alice`)
      .set('Authorization', auth(tenantId))
      .send({ name: 'Alice' })
      .expect(201);
    const reg = await api()
      .put(`/api/v1/tenants/${tenantId}/devices/pixel`)
      .set('Authorization', auth(tenantId))
      .send({ agentId: 'alice', label: 'Pixel 8', platform: 'android' })
      .expect(200);
    await api()
      .put(`/api/v1/tenants/${tenantId}/campaigns/spring`)
      .set('Authorization', auth(tenantId))
      .send({ name: 'Spring', status: 'active', window: ALWAYS_OPEN, dispositions: SALE })
      .expect(200);
    return { tenantId, token: (reg.body as { token: string }).token };
  }

  const stats = async (tenantId: string, campaignId = 'spring') =>
    (
      await api()
        .get(`/api/v1/tenants/${tenantId}/campaigns/${campaignId}/stats`)
        .set('Authorization', auth(tenantId))
        .expect(200)
    ).body as {
      queue: { ready: number; leased: number; scheduled: number } | null;
      leads: { queued: number; final: number; removed: number };
    };

  it('answers liveness at /healthz, with security headers', async () => {
    const res = await api().get('/healthz').expect(200);
    expect(res.body).toEqual({ status: 'ok' });
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['x-powered-by']).toBeUndefined();
  });

  it('answers readiness at /readyz: 200 when every check passes, 503 naming the one that fails', async () => {
    const ok = await api().get('/readyz').expect(200);
    expect(ok.body).toEqual({
      status: 'ok',
      checks: { gateway: 'ok', redis: 'ok', postgres: 'ok', switch: 'ok' },
    });
    failingCheck = true;
    try {
      const down = await api().get('/readyz').expect(503);
      expect(down.body).toMatchObject({
        status: 'unavailable',
        checks: { redis: 'ok', switch: 'switched off' },
      });
    } finally {
      failingCheck = false;
    }
  });

  it('serves Prometheus metrics, offer latency and event-loop lag included', async () => {
    const res = await api().get('/metrics').expect(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain/);
    expect(res.text).toContain('dialhub_offer_latency_seconds');
    expect(res.text).toContain('nodejs_eventloop_lag');
  });

  it('refuses the admin API without the admin token, before reading the body', async () => {
    const attempts = [
      undefined,
      `Bearer ${ADMIN_TOKEN}x`,
      `Bearer ${ADMIN_TOKEN.slice(1)}`,
      `Basic ${Buffer.from(`admin:${ADMIN_TOKEN}`).toString('base64')}`,
      ADMIN_TOKEN,
      'Bearer ',
    ];
    for (const authorization of attempts) {
      const req = api()
        .put(`/api/v1/tenants/${uid('t')}`)
        .set('Content-Type', 'application/json');
      if (authorization !== undefined) void req.set('Authorization', authorization);
      const res = await req.send('{"not json');
      expect(res.status, String(authorization)).toBe(401);
      expect(res.body).toMatchObject({ error: { code: 'UNAUTHENTICATED' } });
      expect(res.headers['www-authenticate']).toMatch(/^Bearer/);
    }
    // The scheme is case-insensitive, as RFC 9110 says; the operator token is recognised, and
    // may not read inside a tenant.
    await api()
      .get(`/api/v1/tenants/x/campaigns/y/stats`)
      .set('Authorization', `bearer ${ADMIN_TOKEN}`)
      .expect(403);
  });

  it('runs the admin flow: tenant, agent, device and its token, campaign, leads, a pushed call, stats', async () => {
    const T = uid('acme');
    const tenant = await api()
      .put(`/api/v1/tenants/${T}`)
      .set('Authorization', AUTH)
      .send({ name: 'Acme Ltd', plan: { deviceLimit: 2 } })
      .expect(201);
    expect(tenant.body).toMatchObject({ tenant: { id: T, name: 'Acme Ltd', plan: { deviceLimit: 2 } } });
    const again = await api()
      .put(`/api/v1/tenants/${T}`)
      .set('Authorization', AUTH)
      .send({ name: 'Acme Ltd', plan: { deviceLimit: 2 } })
      .expect(409);
    expect(again.body).toMatchObject({ error: { code: 'CONFLICT' } });
    await owner(T);

    const agent = await api()
      .put(`/api/v1/tenants/${T}/agents/alice`)
      .set('Authorization', auth(T))
      .send({ name: 'Alice Agent' })
      .expect(201);
    expect(agent.body).toMatchObject({ agent: { id: 'alice', name: 'Alice Agent', role: 'agent' } });
    await api()
      .put(`/api/v1/tenants/${T}/agents/alice`)
      .set('Authorization', auth(T))
      .send({ name: 'Alice Again' })
      .expect(409);

    const reg = await api()
      .put(`/api/v1/tenants/${T}/devices/alice-phone`)
      .set('Authorization', auth(T))
      .send({ agentId: 'alice', label: 'Pixel 8', platform: 'android' })
      .expect(200);
    expect(reg.headers['cache-control']).toBe('no-store');
    const { device: registered, token } = reg.body as { device: unknown; token: string };
    expect(registered).toMatchObject({
      id: 'alice-phone',
      agentId: 'alice',
      label: 'Pixel 8',
      platform: 'android',
    });
    expect(await createDeviceTokens(TEST_SECRET).verify(token)).toMatchObject({
      tenantId: T,
      agentId: 'alice',
      deviceId: 'alice-phone',
    });
    const phoneSocket = await device(token, 'alice-phone');

    const campaign = await api()
      .put(`/api/v1/tenants/${T}/campaigns/spring`)
      .set('Authorization', auth(T))
      .send({ name: 'Spring push', status: 'active', window: ALWAYS_OPEN, dispositions: SALE })
      .expect(200);
    expect(campaign.body).toMatchObject({
      campaign: {
        id: 'spring',
        status: 'active',
        dispositions: { sale: { final: true, contact: true }, answered: { final: true }, dnc: { dnc: true } },
      },
    });

    const leads = [501, 502, 503].map((n, i) => ({
      phone: phone(n),
      name: `Lead ${i}`,
      timeZone: 'Europe/London',
    }));
    const added = await api()
      .post(`/api/v1/tenants/${T}/campaigns/spring/leads`)
      .set('Authorization', auth(T))
      .send({ leads })
      .expect(200);
    expect(added.body).toMatchObject({
      inserted: 3,
      queued: 3,
      alreadyQueued: 0,
      suppressed: 0,
      duplicates: 0,
    });
    expect((added.body as { rows: { status: string }[] }).rows.map((r) => r.status)).toEqual([
      'queued',
      'queued',
      'queued',
    ]);
    expect(await stats(T)).toMatchObject({ queue: { ready: 3, leased: 0 }, leads: { queued: 3, final: 0 } });

    // The registered device takes a call pushed from the imported leads.
    const offered = next(phoneSocket, 'call:offer');
    expect(await call(phoneSocket, 'agent:ready', { campaignId: 'spring' })).toMatchObject({ ok: true });
    const [offer, reply] = await offered;
    reply({ accept: true });
    expect(offer.lead).toMatchObject({ phone: phone(501), name: 'Lead 0' });
    expect(await stats(T)).toMatchObject({ queue: { ready: 2, leased: 1 } });
    const done = await call(phoneSocket, 'call:complete', {
      leaseId: offer.leaseId,
      outcome: 'sale',
      durationSec: 61,
    });
    expect(done).toMatchObject({ ok: true, disposition: 'final' });
    expect(await stats(T)).toMatchObject({
      queue: { ready: 2, leased: 0 },
      leads: { queued: 2, final: 1, removed: 0 },
    });

    // Do-not-call: out of the queue now, and scrubbed from later imports.
    const dnc = await api()
      .post(`/api/v1/tenants/${T}/dnc`)
      .set('Authorization', auth(T))
      .send({ phones: [phone(502)] })
      .expect(200);
    expect(dnc.body).toEqual({ removed: 1 });
    expect(await stats(T)).toMatchObject({ queue: { ready: 1 }, leads: { queued: 1, final: 1, removed: 1 } });
    const reimport = await api()
      .post(`/api/v1/tenants/${T}/campaigns/spring/leads`)
      .set('Authorization', auth(T))
      .send({ leads: [{ phone: phone(502), timeZone: 'Europe/London' }] })
      .expect(200);
    expect(reimport.body).toMatchObject({ inserted: 0, suppressed: 1 });

    // A rebuild makes the queue from Postgres again: the same one lead.
    const rebuilt = await api()
      .post(`/api/v1/tenants/${T}/campaigns/spring/rebuild`)
      .set('Authorization', auth(T))
      .expect(200);
    expect(rebuilt.body).toEqual({
      enqueued: 1,
      duplicates: 0,
      suppressed: 0,
      keptLeased: 0,
      reattached: 0,
      waited: false,
    });
    expect(await stats(T)).toMatchObject({ queue: { ready: 1, leased: 0 } });

    // Nothing of the leads or the credentials reached a log line.
    const logs = logLines.join('');
    expect(logs).toContain('http.request');
    for (const secret of [phone(501), phone(502), phone(503), 'Lead 0', ADMIN_TOKEN, token]) {
      expect(logs).not.toContain(secret);
    }
  });

  it('pauses a campaign: it leaves the live queue and takes no imports until active again', async () => {
    const { tenantId } = await tenantWithCampaign();
    const body = { name: 'Spring', status: 'paused', window: ALWAYS_OPEN, dispositions: SALE };
    await api()
      .put(`/api/v1/tenants/${tenantId}/campaigns/spring`)
      .set('Authorization', auth(tenantId))
      .send(body)
      .expect(200);
    const refused = await api()
      .post(`/api/v1/tenants/${tenantId}/campaigns/spring/leads`)
      .set('Authorization', auth(tenantId))
      .send({ leads: [{ phone: phone(600), timeZone: 'Europe/London' }] })
      .expect(404);
    expect(refused.body).toMatchObject({ error: { code: 'CAMPAIGN_UNKNOWN' } });
    expect(gateway.campaigns.list().some((r) => r.tenantId === tenantId)).toBe(false);
    await api()
      .put(`/api/v1/tenants/${tenantId}/campaigns/spring`)
      .set('Authorization', auth(tenantId))
      .send({ ...body, status: 'active' })
      .expect(200);
    await api()
      .post(`/api/v1/tenants/${tenantId}/campaigns/spring/leads`)
      .set('Authorization', auth(tenantId))
      .send({ leads: [{ phone: phone(600), timeZone: 'Europe/London' }] })
      .expect(200);
  });

  it("enforces the plan's device limit with DEVICE_LIMIT, counting a re-registration once", async () => {
    const { tenantId } = await tenantWithCampaign(2); // one device (pixel) already registered
    const register = (deviceId: string, agentId = 'alice') =>
      api()
        .put(`/api/v1/tenants/${tenantId}/devices/${deviceId}`)
        .set('Authorization', auth(tenantId))
        .send({ agentId, platform: 'ios' });
    await register('iphone').expect(200);
    const refused = await register('tablet').expect(403);
    expect(refused.body).toMatchObject({ error: { code: 'DEVICE_LIMIT' } });
    expect(refused.body).not.toHaveProperty('token');
    expect(await pg.db.devices.countActive(tenantId)).toBe(2);
    await register('iphone').expect(200); // the same device again takes no new slot
    const unknownAgent = await register('pixel', 'bob').expect(404);
    expect(unknownAgent.body).toMatchObject({ error: { code: 'NOT_FOUND' } });
  });

  it('refuses invalid input with PAYLOAD_INVALID and its issues, without echoing values or writing', async () => {
    const T = uid('v');
    const bad = await api()
      .put(`/api/v1/tenants/${T}`)
      .set('Authorization', AUTH)
      .send({ name: '', plan: { deviceLimit: -1 } })
      .expect(400);
    expect(bad.body).toMatchObject({ error: { code: 'PAYLOAD_INVALID' } });
    const paths = (bad.body as { error: { issues: { path: string }[] } }).error.issues.map((i) => i.path);
    expect(paths).toEqual(expect.arrayContaining(['name', 'plan.deviceLimit']));
    expect(await pg.db.tenants.get(T)).toBeUndefined();

    const extra = await api()
      .put(`/api/v1/tenants/${T}`)
      .set('Authorization', AUTH)
      .send({ name: 'Acme', plan: { deviceLimit: 1 }, colour: 'red' })
      .expect(400);
    expect(extra.body).toMatchObject({ error: { code: 'PAYLOAD_INVALID' } });

    const badId = await api()
      .put('/api/v1/tenants/not%20an%20id')
      .set('Authorization', AUTH)
      .send({ name: 'Acme', plan: { deviceLimit: 1 } })
      .expect(400);
    expect(badId.body).toMatchObject({ error: { code: 'PAYLOAD_INVALID', issues: [{ path: 'tenantId' }] } });

    const { tenantId } = await tenantWithCampaign();
    const campaign = await api()
      .put(`/api/v1/tenants/${tenantId}/campaigns/night`)
      .set('Authorization', auth(tenantId))
      .send({
        name: 'Night',
        status: 'running',
        window: { rules: [{ days: [1], from: '21:00', to: '08:00' }] },
        dispositions: { refund: { final: 'yes' } },
      })
      .expect(400);
    const campaignPaths = (campaign.body as { error: { issues: { path: string }[] } }).error.issues.map(
      (i) => i.path,
    );
    expect(campaignPaths).toEqual(
      expect.arrayContaining(['status', 'window.rules.0', 'dispositions.refund.final']),
    );

    const leads = await api()
      .post(`/api/v1/tenants/${tenantId}/campaigns/spring/leads`)
      .set('Authorization', auth(tenantId))
      .send({ leads: [{ phone: phone(700) }, { phone: '020 7946 0123', name: 'Somebody Real' }] })
      .expect(400);
    expect(leads.body).toMatchObject({
      error: { code: 'PAYLOAD_INVALID', issues: [{ path: 'leads.1.phone' }] },
    });
    expect(leads.text).not.toContain('020 7946 0123');
    expect(leads.text).not.toContain('Somebody Real');

    const tooMany = Array.from({ length: 10_001 }, (_, i) => ({
      phone: `+4477009${String(i).padStart(5, '0')}`,
    }));
    const big = await api()
      .post(`/api/v1/tenants/${tenantId}/campaigns/spring/leads`)
      .set('Authorization', auth(tenantId))
      .send({ leads: tooMany })
      .expect(400);
    expect(big.body).toMatchObject({ error: { code: 'PAYLOAD_INVALID', issues: [{ path: 'leads' }] } });
    expect((await stats(tenantId)).leads.queued).toBe(0);

    const dnc = await api()
      .post(`/api/v1/tenants/${tenantId}/dnc`)
      .set('Authorization', auth(tenantId))
      .send({ phones: ['07700 900123'] })
      .expect(400);
    expect(dnc.body).toMatchObject({ error: { code: 'PAYLOAD_INVALID', issues: [{ path: 'phones.0' }] } });
  });

  it('answers malformed JSON with BAD_REQUEST, an oversized body with 413, unknown routes with NOT_FOUND', async () => {
    const { tenantId } = await tenantWithCampaign();
    const malformed = await api()
      .post(`/api/v1/tenants/${tenantId}/campaigns/spring/leads`)
      .set('Authorization', auth(tenantId))
      .set('Content-Type', 'application/json')
      .send('{"leads": [')
      .expect(400);
    expect(malformed.body).toMatchObject({ error: { code: 'BAD_REQUEST' } });

    const huge = JSON.stringify({ leads: [{ phone: phone(1), name: 'x'.repeat(6 * 1024 * 1024) }] });
    const tooLarge = await api()
      .post(`/api/v1/tenants/${tenantId}/campaigns/spring/leads`)
      .set('Authorization', auth(tenantId))
      .set('Content-Type', 'application/json')
      .send(huge)
      .expect(413);
    expect(tooLarge.body).toMatchObject({ error: { code: 'PAYLOAD_TOO_LARGE' } });

    for (const path of ['/nope', '/api/v2/tenants', '/healthz/extra']) {
      const res = await api().get(path).set('Authorization', AUTH).expect(404);
      expect(res.body).toMatchObject({ error: { code: 'NOT_FOUND' } });
    }
    // A known path with a method it does not take: 405 with its methods (test/gateway/admin-http.test.ts).
    const wrongMethod = await api()
      .delete(`/api/v1/tenants/${tenantId}`)
      .set('Authorization', AUTH)
      .expect(405);
    expect(wrongMethod.body).toMatchObject({ error: { code: 'METHOD_NOT_ALLOWED' } });
    expect(wrongMethod.headers.allow).toBe('GET, HEAD, PUT');
  });

  it("keeps tenants apart: routes under tenant B cannot see or touch tenant A's campaign", async () => {
    const a = await tenantWithCampaign();
    await api()
      .post(`/api/v1/tenants/${a.tenantId}/campaigns/spring/leads`)
      .set('Authorization', auth(a.tenantId))
      .send({ leads: [801, 802].map((n) => ({ phone: phone(n), timeZone: 'Europe/London' })) })
      .expect(200);
    const B = uid('b');
    await api()
      .put(`/api/v1/tenants/${B}`)
      .set('Authorization', AUTH)
      .send({ name: 'Globex', plan: { deviceLimit: 5 } })
      .expect(201);
    await owner(B);
    // A's owner on B's routes: refused before anything is read.
    for (const path of ['campaigns/spring/stats', 'users', 'audit']) {
      const res = await api().get(`/api/v1/tenants/${B}/${path}`).set('Authorization', auth(a.tenantId));
      expect(res.status, path).toBe(403);
      expect(res.body).toMatchObject({ error: { code: 'FORBIDDEN' } });
    }

    const seen = await api()
      .get(`/api/v1/tenants/${B}/campaigns/spring/stats`)
      .set('Authorization', auth(B))
      .expect(404);
    expect(seen.body).toMatchObject({ error: { code: 'CAMPAIGN_UNKNOWN' } });
    const imported = await api()
      .post(`/api/v1/tenants/${B}/campaigns/spring/leads`)
      .set('Authorization', auth(B))
      .send({ leads: [{ phone: phone(803), timeZone: 'Europe/London' }] })
      .expect(404);
    expect(imported.body).toMatchObject({ error: { code: 'CAMPAIGN_UNKNOWN' } });
    await api()
      .post(`/api/v1/tenants/${B}/campaigns/spring/rebuild`)
      .set('Authorization', auth(B))
      .expect(404);
    // A's agent is not B's: B cannot register a device for it.
    await api()
      .put(`/api/v1/tenants/${B}/devices/spy`)
      .set('Authorization', auth(B))
      .send({ agentId: 'alice', platform: 'android' })
      .expect(404);
    // B's do-not-call list is B's: A's leads with the number stay queued.
    const dnc = await api()
      .post(`/api/v1/tenants/${B}/dnc`)
      .set('Authorization', auth(B))
      .send({ phones: [phone(801)] })
      .expect(200);
    expect(dnc.body).toEqual({ removed: 0 });
    // B's own campaign of the same name is a different campaign.
    await api()
      .put(`/api/v1/tenants/${B}/campaigns/spring`)
      .set('Authorization', auth(B))
      .send({ name: 'Spring', status: 'active', window: ALWAYS_OPEN })
      .expect(200);
    expect(await stats(B)).toMatchObject({ queue: { ready: 0 }, leads: { queued: 0 } });
    expect(await stats(a.tenantId)).toMatchObject({ queue: { ready: 2 }, leads: { queued: 2, removed: 0 } });
    // And a tenant that does not exist has nothing to show to anyone.
    await api()
      .get(`/api/v1/tenants/${uid('ghost')}/campaigns/spring/stats`)
      .set('Authorization', auth(uid('ghost')))
      .expect(403);
  });

  it('leaves Socket.IO long-polling to the hub: a device connects over polling too', async () => {
    const { tenantId } = await tenantWithCampaign();
    const token = await createDeviceTokens(TEST_SECRET).issue({
      tenantId: tenantId as never,
      agentId: 'alice' as never,
      deviceId: 'pixel' as never,
    });
    const socket = await device(token, 'pixel', ['polling']);
    expect(await call(socket, 'agent:pause', { reason: 'lunch' })).toMatchObject({
      ok: true,
      state: { state: 'paused' },
    });
  });
});
