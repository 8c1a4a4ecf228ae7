// What an admin sets for the tenant's wallboards over the admin API, and when a wallboard's
// connection ends, on two gateways sharing Redis and Postgres: the settings route (zod-checked,
// audited, reaching live wallboards), read-only TV links (revoked: cut within 1 s on the other
// gateway, refused from then on), and a supervisor socket cut when its session logs out, its user
// is deleted, or its access token expires.
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALWAYS_OPEN } from '../../engine/calling-window.js';
import { parseCampaignConfig } from '../../engine/campaign.js';
import { asTenantId } from '../../engine/ids.js';
import { createDeviceTokens } from '../../gateway/auth/device-token.js';
import { createUserSessions } from '../../gateway/auth/user-sessions.js';
import { supervisorWithLogins } from '../../gateway/supervisor/index.js';
import { AdminGateway, TEST_PASSWORD } from '../support/admin-gateway.js';
import { TEST_SECRET } from '../support/gateway.js';
import { command, connectSupervisor, FloorWatcher, handshakeError } from '../support/supervisor.js';
import type { SupervisorClient } from '../support/supervisor.js';

/** The fields the answers below are read for. */
interface Json {
  readonly error: { readonly code: string; readonly issues: readonly { readonly path: string }[] };
  readonly settings: { readonly timeZone: string; readonly thresholds: Record<string, number[]> };
  readonly items: readonly { readonly action: string }[];
  readonly token: string;
  readonly path: string;
  readonly link: { readonly id: string };
}
const body = (res: { body: unknown }): Json => res.body as Json;

const T = 'wb-admin';
const OTHER = 'wb-other';

describe('wallboard settings, TV links and ended sessions', () => {
  let one: AdminGateway;
  let two: AdminGateway;
  let owner = '';
  let sup = '';
  let otherOwner = '';

  const login = async (tenantId: string, id: string): Promise<{ accessToken: string }> =>
    (
      await request(one.url)
        .post('/api/v1/auth/login')
        .send({ tenantId, email: `${id}@${tenantId}.test`, password: TEST_PASSWORD })
        .expect(200)
    ).body as { accessToken: string };

  /** Resolves with the session:ended reason when the server ends the connection within `ms`. */
  const endedWithin = (socket: SupervisorClient, ms = 1_000) =>
    new Promise<string>((resolve, reject) => {
      let reason = '';
      const timer = setTimeout(() => reject(new Error(`still connected after ${ms} ms`)), ms);
      socket.once('session:ended', (f) => (reason = f.reason));
      socket.once('disconnect', () => {
        clearTimeout(timer);
        resolve(reason);
      });
    });

  beforeAll(async () => {
    const supervisor = supervisorWithLogins(TEST_SECRET, { countersIntervalMs: 200 });
    one = await AdminGateway.start({ redis: true, supervisor });
    two = await AdminGateway.start({ redis: true, supervisor, shared: { store: one.store, pg: one.pg } });
    await one.seedTenant(T, [
      { id: 'own', role: 'owner' },
      { id: 'sup', role: 'supervisor' },
      { id: 'sup2', role: 'supervisor' },
      { id: 'ag', role: 'agent' },
    ]);
    await one.seedTenant(OTHER, [{ id: 'own', role: 'owner' }]);
    await one.db.campaigns.upsert({
      tenantId: T,
      id: 'c1',
      name: 'Spring',
      status: 'paused',
      config: parseCampaignConfig({ window: ALWAYS_OPEN }),
    });
    owner = `Bearer ${(await login(T, 'own')).accessToken}`;
    sup = `Bearer ${(await login(T, 'sup')).accessToken}`;
    otherOwner = `Bearer ${(await login(OTHER, 'own')).accessToken}`;
  });
  afterAll(async () => {
    await two?.stop();
    await one?.stop();
  });

  const settingsPath = `/api/v1/tenants/${T}/wallboard/settings`;

  it('validates the settings with zod, lets only admins set them, audits them and shows them live', async () => {
    const watcher = new FloorWatcher(await connectSupervisor(two.url, sup.slice(7)));
    let pushed: unknown = null;
    watcher.socket.on('floor:counters', (f) => {
      if (f.settings) pushed = f.settings;
    });
    expect(await command(watcher.socket, 'floor:subscribe', {})).toMatchObject({ ok: true });

    const bad = await request(one.url)
      .put(settingsPath)
      .set('Authorization', owner)
      .send({ timeZone: 'Mars/Olympus', thresholds: { ready: [300, 60] } })
      .expect(400);
    expect(body(bad).error.code).toBe('PAYLOAD_INVALID');
    const paths = body(bad).error.issues.map((i) => i.path);
    expect(paths).toEqual(expect.arrayContaining(['timeZone', 'thresholds.ready']));
    await request(one.url)
      .put(settingsPath)
      .set('Authorization', owner)
      .send({ timeZone: 'UTC', thresholds: {}, extra: 1 })
      .expect(400);
    await request(one.url)
      .put(settingsPath)
      .set('Authorization', sup)
      .send({ timeZone: 'Europe/Paris' })
      .expect(403);
    await request(one.url)
      .put(settingsPath)
      .set('Authorization', otherOwner)
      .send({ timeZone: 'Europe/Paris' })
      .expect(403);

    const saved = await request(one.url)
      .put(settingsPath)
      .set('Authorization', owner)
      .send({ timeZone: 'Europe/Paris', thresholds: { paused: [60, 120] } })
      .expect(200);
    expect(body(saved).settings).toMatchObject({
      timeZone: 'Europe/Paris',
      thresholds: { paused: [60, 120] },
    });
    // Thresholds not named keep their defaults.
    expect(body(saved).settings.thresholds.ready).toEqual([120, 300]);
    const read = await request(two.url).get(settingsPath).set('Authorization', sup).expect(200);
    expect(body(read)).toEqual(body(saved));
    // The other tenant still has the defaults.
    const theirs = await request(one.url)
      .get(`/api/v1/tenants/${OTHER}/wallboard/settings`)
      .set('Authorization', otherOwner)
      .expect(200);
    expect(body(theirs).settings.timeZone).toBe('UTC');

    // A wallboard on the other gateway gets the change with its next counters frame.
    await watcher.until(() => pushed !== null, 3_000);
    expect(pushed).toMatchObject({ timeZone: 'Europe/Paris', thresholds: { paused: [60, 120] } });
    watcher.socket.disconnect();

    const audit = await request(one.url).get(`/api/v1/tenants/${T}/audit`).set('Authorization', owner);
    expect(body(audit).items.map((i) => i.action)).toContain('wallboard.settings');
  });

  it('a TV link watches read-only, shown once, and its revocation cuts it within 1 s on every gateway', async () => {
    const links = `/api/v1/tenants/${T}/wallboard/links`;
    await request(one.url).post(links).set('Authorization', sup).send({ name: 'Hall' }).expect(403);
    await request(one.url)
      .post(links)
      .set('Authorization', owner)
      .send({ name: 'Hall', campaignId: 'nope' })
      .expect(404);
    const created = await request(one.url)
      .post(links)
      .set('Authorization', owner)
      .send({ name: 'Hall', campaignId: 'c1' })
      .expect(201);
    const token = body(created).token;
    expect(token).toMatch(/^dhtv_/);
    expect(body(created).path).toBe(`/?tv=1#key=${token}`);
    const list = await request(one.url).get(links).set('Authorization', owner).expect(200);
    expect(body(list).items).toHaveLength(1);
    expect(JSON.stringify(body(list))).not.toContain(token.split('.')[1]);
    // Another tenant's admin neither sees nor revokes it.
    await request(one.url).get(links).set('Authorization', otherOwner).expect(403);
    await request(one.url)
      .delete(`/api/v1/tenants/${OTHER}/wallboard/links/${body(created).link.id}`)
      .set('Authorization', otherOwner)
      .expect(404);

    const tv = new FloorWatcher(await connectSupervisor(two.url, token));
    // Pinned to its campaign: {} subscribes to it, another campaign is refused.
    expect(await command(tv.socket, 'floor:subscribe', { campaignId: 'c2' })).toMatchObject({
      ok: false,
      error: { code: 'FORBIDDEN' },
    });
    expect(await command(tv.socket, 'floor:subscribe', {})).toMatchObject({ ok: true });
    await tv.until((w) => w.snapshots === 1);
    expect(tv.campaigns.map((c) => c.id)).toEqual(['c1']);
    // Read-only.
    for (const [event, payload] of [
      ['agent:force_pause', { agentId: 'ag', reason: 'x' }],
      ['agent:logout', { agentId: 'ag' }],
      ['campaign:resume', { campaignId: 'c1' }],
    ] as const) {
      expect(await command(tv.socket, event as 'agent:logout', payload as never), event).toMatchObject({
        ok: false,
        error: { code: 'FORBIDDEN' },
      });
    }
    expect((await one.db.campaigns.get(T, 'c1'))?.status).toBe('paused');

    const ended = endedWithin(tv.socket);
    await request(one.url)
      .delete(`${links}/${body(created).link.id}`)
      .set('Authorization', owner)
      .expect(204);
    expect(await ended).toBe('link_revoked');
    expect(await handshakeError(two.url, token)).toMatchObject({ code: 'UNAUTHENTICATED' });
    await request(one.url)
      .delete(`${links}/${body(created).link.id}`)
      .set('Authorization', owner)
      .expect(404);
    const audit = await request(one.url).get(`/api/v1/tenants/${T}/audit`).set('Authorization', owner);
    expect(body(audit).items.map((i) => i.action)).toEqual(
      expect.arrayContaining(['wallboard_link.create', 'wallboard_link.revoke']),
    );
  });

  it('a supervisor socket is cut within 1 s when its session logs out, on another gateway', async () => {
    const { accessToken } = await login(T, 'sup2');
    const other = await login(T, 'sup2'); // a second session of the same person stays
    const socket = await connectSupervisor(two.url, accessToken);
    const kept = await connectSupervisor(two.url, other.accessToken);
    const ended = endedWithin(socket);
    await request(one.url)
      .post('/api/v1/auth/logout')
      .set('Authorization', `Bearer ${accessToken}`)
      .expect(204);
    expect(await ended).toBe('logged_out');
    expect(await handshakeError(two.url, accessToken)).toMatchObject({ code: 'UNAUTHENTICATED' });
    await new Promise((r) => setTimeout(r, 200));
    expect(kept.connected).toBe(true);

    // Deleting the user ends every session of theirs.
    const gone = endedWithin(kept);
    await request(one.url).delete(`/api/v1/tenants/${T}/users/sup2`).set('Authorization', owner).expect(204);
    expect(await gone).toBe('user_changed');
  });

  it('a supervisor socket is cut when its access token expires', async () => {
    const sessions = createUserSessions({
      db: one.db,
      serverSecret: TEST_SECRET,
      deviceTokens: createDeviceTokens(TEST_SECRET),
      accessTtlSeconds: 2,
    });
    const short = await sessions.login({
      tenantId: asTenantId(T),
      email: `sup@${T}.test`,
      password: TEST_PASSWORD,
    });
    const socket = await connectSupervisor(one.url, short.accessToken);
    const started = Date.now();
    expect(await endedWithin(socket, 4_000)).toBe('token_expired');
    expect(Date.now() - started).toBeGreaterThan(500);
    expect(await handshakeError(one.url, short.accessToken)).toMatchObject({ code: 'UNAUTHENTICATED' });
  });
});
