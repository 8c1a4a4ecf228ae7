// Devices and machine credentials: an agent's app logs in from its device (registered within the
// plan's limit, exactly N of 50 racing registrations win), gets a short-lived device token bound
// to its session and refreshes it; a revoked device, a device registered again, a deleted agent
// and a logged-out device are disconnected within 1 s on every gateway and their tokens refused;
// API keys are hashed, shown once, capped by their creator's role, and revocable; an agent may be
// made ready only on campaigns it is assigned to.
import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { io as connect } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALWAYS_OPEN } from '../../engine/calling-window.js';
import { AGENT_NAMESPACE } from '../../gateway/protocol/events.js';
import { AdminGateway, TEST_PASSWORD } from '../support/admin-gateway.js';
import { call } from '../support/gateway.js';
import type { Device } from '../support/gateway.js';

interface DeviceLogin {
  deviceToken: string;
  refreshToken: string;
  device: { id: string; model: string; appVersion: string; agentId: string };
}

describe('devices, API keys and assignments', () => {
  let one: AdminGateway;
  let two: AdminGateway;
  let owner: string;
  const sockets: Device[] = [];

  beforeAll(async () => {
    one = await AdminGateway.start({ redis: true });
    two = await AdminGateway.start({ redis: true, shared: { store: one.store, pg: one.pg } });
    await one.seedTenant(
      'acme',
      [
        { id: 'boss', role: 'owner' },
        { id: 'al', role: 'agent' },
        { id: 'bo', role: 'agent' },
        { id: 'cy', role: 'agent' },
      ],
      60,
    );
    const res = await request(one.url)
      .post('/api/v1/auth/login')
      .send({ tenantId: 'acme', email: 'boss@acme.test', password: TEST_PASSWORD })
      .expect(200);
    owner = `Bearer ${(res.body as { accessToken: string }).accessToken}`;
    await request(one.url)
      .put('/api/v1/tenants/acme/campaigns/spring')
      .set('Authorization', owner)
      .send({ name: 'Spring', status: 'active', window: ALWAYS_OPEN })
      .expect(200);
  });
  afterAll(async () => {
    for (const s of sockets) s.disconnect();
    await two?.stop();
    await one?.stop();
  });

  async function deviceLogin(agent: string, id = randomUUID(), g = one): Promise<DeviceLogin> {
    const res = await request(g.url)
      .post('/api/v1/auth/device-login')
      .send({
        tenantId: 'acme',
        email: `${agent}@acme.test`,
        password: TEST_PASSWORD,
        device: { id, platform: 'android', model: 'Pixel 8', appVersion: '2.4.1' },
      });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    return res.body as DeviceLogin;
  }

  function open(g: AdminGateway, token: string, deviceId: string): Promise<Device> {
    const socket: Device = connect(`${g.url}${AGENT_NAMESPACE}`, {
      transports: ['websocket'],
      reconnection: false,
      forceNew: true,
      auth: { token, deviceId },
    });
    sockets.push(socket);
    return new Promise((resolve, reject) => {
      socket.once('connect', () => resolve(socket));
      socket.once('connect_error', (err) => reject(err));
    });
  }

  /** Resolves when the server ends the connection; fails after the 1 s. */
  const closedWithin = (socket: Device, ms = 1_000) =>
    new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`still connected after ${ms} ms`)), ms);
      socket.once('disconnect', (reason) => {
        clearTimeout(timer);
        resolve(reason);
      });
    });

  const refused = async (g: AdminGateway, token: string, deviceId: string) => {
    const err = await open(g, token, deviceId).then(
      () => undefined,
      (e: unknown) => e as { message: string; data?: { code: string } },
    );
    expect(err?.data?.code).toBe('UNAUTHENTICATED');
  };

  it("an agent's app logs in from its device, connects, and refreshes its short-lived token", async () => {
    const login = await deviceLogin('al');
    expect(login.device).toMatchObject({ agentId: 'al', model: 'Pixel 8', appVersion: '2.4.1' });
    const socket = await open(two, login.deviceToken, login.device.id);
    expect(socket.connected).toBe(true);
    const refreshed = await request(one.url)
      .post('/api/v1/auth/refresh')
      .send({ refreshToken: login.refreshToken })
      .expect(200);
    const body = refreshed.body as DeviceLogin & { deviceTokenExpiresAt: string };
    expect(Date.parse(body.deviceTokenExpiresAt) - Date.now()).toBeLessThanOrEqual(15 * 60_000);
    socket.disconnect();
    expect((await open(one, body.deviceToken, login.device.id)).connected).toBe(true);
    const list = await request(one.url)
      .get('/api/v1/tenants/acme/devices?agentId=al')
      .set('Authorization', owner);
    const mine = (list.body as { items: { id: string; lastLoginAt: string | null }[] }).items.find(
      (d) => d.id === login.device.id,
    );
    expect(mine?.lastLoginAt).toMatch(/^\d{4}-/);
  });

  it('a garbage token is told its token is bad', async () => {
    await refused(one, 'garbage', 'd1');
  });

  it('revoking a device disconnects it within 1 s on another gateway; its tokens are refused from then on', async () => {
    const login = await deviceLogin('bo');
    const socket = await open(two, login.deviceToken, login.device.id);
    const closed = closedWithin(socket);
    await request(one.url)
      .delete(`/api/v1/tenants/acme/devices/${login.device.id}`)
      .set('Authorization', owner)
      .expect(204);
    await closed;
    await refused(two, login.deviceToken, login.device.id);
    await request(one.url)
      .post('/api/v1/auth/refresh')
      .send({ refreshToken: login.refreshToken })
      .expect(401);
    const device = await one.db.devices.get('acme', login.device.id);
    expect(device?.revokedAt).not.toBeNull();
  });

  it('registering a device again revokes its older tokens and disconnects the old connection', async () => {
    const id = randomUUID();
    const first = await deviceLogin('cy', id);
    const socket = await open(two, first.deviceToken, id);
    const closed = closedWithin(socket);
    const second = await deviceLogin('cy', id);
    await closed;
    await refused(one, first.deviceToken, id);
    expect((await open(one, second.deviceToken, id)).connected).toBe(true);
  });

  it('a device logging out, and a deleted agent, are disconnected within 1 s', async () => {
    const login = await deviceLogin('cy');
    const socket = await open(two, login.deviceToken, login.device.id);
    const closed = closedWithin(socket);
    await request(one.url).post('/api/v1/auth/logout').send({ refreshToken: login.refreshToken }).expect(204);
    await closed;
    await refused(two, login.deviceToken, login.device.id);

    await request(one.url)
      .post('/api/v1/tenants/acme/users')
      .set('Authorization', owner)
      .send({ id: 'temp', name: 'Temp', role: 'agent', email: 'temp@acme.test', password: TEST_PASSWORD })
      .expect(201);
    const temp = await deviceLogin('temp');
    const tempSocket = await open(two, temp.deviceToken, temp.device.id);
    const gone = closedWithin(tempSocket);
    await request(one.url).delete('/api/v1/tenants/acme/users/temp').set('Authorization', owner).expect(204);
    await gone;
    await refused(one, temp.deviceToken, temp.device.id);
  });

  it("holds the plan's device limit under 50 concurrent registrations: exactly N succeed", async () => {
    await one.db.tenants.create({ id: 'small', name: 'Small', plan: { deviceLimit: 7 } });
    await one.db.users.create({ tenantId: 'small', id: 'ag', name: 'Agent', role: 'agent' });
    const { hashPassword } = await import('../../gateway/auth/passwords.js');
    await one.db.users.create({
      tenantId: 'small',
      id: 'own',
      name: 'Owner',
      role: 'owner',
      email: 'own@small.test',
      passwordHash: await hashPassword(TEST_PASSWORD),
    });
    const login = await request(one.url)
      .post('/api/v1/auth/login')
      .send({ tenantId: 'small', email: 'own@small.test', password: TEST_PASSWORD })
      .expect(200);
    const auth = `Bearer ${(login.body as { accessToken: string }).accessToken}`;
    const statuses = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        request(i % 2 ? one.url : two.url)
          .put(`/api/v1/tenants/small/devices/${randomUUID()}`)
          .set('Authorization', auth)
          .send({ agentId: 'ag', platform: 'android' })
          .then((r) => ({ status: r.status, code: (r.body as { error?: { code: string } }).error?.code })),
      ),
    );
    expect(statuses.filter((s) => s.status === 200)).toHaveLength(7);
    expect(statuses.filter((s) => s.code === 'DEVICE_LIMIT')).toHaveLength(43);
    expect(await one.db.devices.countActive('small')).toBe(7);
  });

  it('API keys: shown once, stored hashed, capped by the creator, last use recorded, revocable', async () => {
    const created = await request(one.url)
      .post('/api/v1/tenants/acme/api-keys')
      .set('Authorization', owner)
      .send({ name: 'CRM', role: 'supervisor' })
      .expect(201);
    const { key, apiKey } = created.body as { key: string; apiKey: { id: string } };
    expect(key).toMatch(/^dhk_/);
    const { rows } = await one.db.knex.raw<{ rows: { secret_hash: Buffer }[] }>(
      'SELECT secret_hash FROM api_keys WHERE id = ?',
      [apiKey.id],
    );
    expect(rows[0]!.secret_hash.toString('base64url')).not.toBe(key.split('.')[1]);

    const bearer = `Bearer ${key}`;
    await request(two.url)
      .get('/api/v1/tenants/acme/campaigns/spring/stats')
      .set('Authorization', bearer)
      .expect(200);
    // A supervisor key is not an admin, and not another tenant's.
    await request(two.url).get('/api/v1/tenants/acme/users').set('Authorization', bearer).expect(403);
    await request(two.url)
      .get('/api/v1/tenants/other/campaigns/spring/stats')
      .set('Authorization', bearer)
      .expect(403);
    // A key may not create a key above itself.
    await request(one.url)
      .post('/api/v1/tenants/acme/api-keys')
      .set('Authorization', bearer)
      .send({ name: 'x', role: 'admin' })
      .expect(403);
    await request(one.url)
      .post('/api/v1/tenants/acme/api-keys')
      .set('Authorization', owner)
      .send({ name: 'x', role: 'owner' })
      .expect(400);

    const list = await request(one.url)
      .get('/api/v1/tenants/acme/api-keys')
      .set('Authorization', owner)
      .expect(200);
    const listed = (list.body as { items: { id: string; lastUsedAt: string | null }[] }).items.find(
      (k) => k.id === apiKey.id,
    );
    expect(listed?.lastUsedAt).not.toBeNull();
    expect(JSON.stringify(list.body)).not.toContain(key.split('.')[1]);

    await request(one.url)
      .delete(`/api/v1/tenants/acme/api-keys/${apiKey.id}`)
      .set('Authorization', owner)
      .expect(204);
    await request(two.url)
      .get('/api/v1/tenants/acme/campaigns/spring/stats')
      .set('Authorization', bearer)
      .expect(401);
    await request(two.url)
      .get('/api/v1/tenants/acme/campaigns/spring/stats')
      .set('Authorization', `Bearer dhk_${apiKey.id}.forged`)
      .expect(401);
  });

  it('agent:ready on a campaign the agent is not assigned to is refused CAMPAIGN_NOT_ASSIGNED', async () => {
    await request(one.url)
      .put('/api/v1/tenants/acme/campaigns/autumn')
      .set('Authorization', owner)
      .send({ name: 'Autumn', status: 'active', window: ALWAYS_OPEN })
      .expect(200);
    await request(one.url)
      .put('/api/v1/tenants/acme/campaigns/autumn/agents')
      .set('Authorization', owner)
      .send({ agentIds: ['al'] })
      .expect(200);
    const al = await deviceLogin('al');
    const bo = await deviceLogin('bo');
    const alSocket = await open(one, al.deviceToken, al.device.id);
    const boSocket = await open(one, bo.deviceToken, bo.device.id);
    expect(await call(alSocket, 'agent:ready', { campaignId: 'autumn' })).toMatchObject({ ok: true });
    expect(await call(boSocket, 'agent:ready', { campaignId: 'autumn' })).toMatchObject({
      ok: false,
      error: { code: 'CAMPAIGN_NOT_ASSIGNED' },
    });
    // A campaign with no assignments is open to every agent of the tenant.
    expect(await call(boSocket, 'agent:ready', { campaignId: 'spring' })).toMatchObject({ ok: true });
    const listed = await request(one.url)
      .get('/api/v1/tenants/acme/campaigns/autumn/agents')
      .set('Authorization', owner)
      .expect(200);
    expect(listed.body).toEqual({ agentIds: ['al'] });
  });
});
