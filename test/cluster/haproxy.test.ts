// Three gateway processes (gateway/main.ts) behind HAProxy on loopback, WebSocket transport, one
// Redis (streams adapter) and one Postgres. Each connection is pinned to a gateway through
// HAProxy (query gw=<n>), so the test knows where each device lives while all traffic goes
// through the one address: an agent on gateway 1 gets offers dispatched on gateway 2; a
// force-pause and a device revocation sent to gateway 3 reach gateway 1 within 1 s; a supervisor
// on gateway 3 sees gateway 1's agent live; a campaign paused through any gateway stops offers on
// every gateway within 1 s. Every path is checked to have gone where the test says (HAProxy's
// X-Dialhub-Gateway on each response, its per-server connection count for each socket, and each
// gateway's own /metrics), so none can pass by landing on one gateway. A login limit reached
// through one gateway holds on the others (the counts live in the shared Redis).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALWAYS_OPEN } from '../../engine/calling-window.js';
import { call, next, until } from '../support/gateway.js';
import type { Device } from '../support/gateway.js';
import { connectDevice, seedFloor, startGatewayProcesses } from '../support/gateway-processes.js';
import type { GatewayProcesses } from '../support/gateway-processes.js';
import { servedBy, startHaproxy } from '../support/haproxy.js';
import type { Haproxy } from '../support/haproxy.js';
import { createTestDatabase } from '../support/postgres.js';
import type { TestDatabase } from '../support/postgres.js';
import { REDIS_URL } from '../support/stores.js';
import { command, connectSupervisor, FloorWatcher, loginAs, TEST_PASSWORD } from '../support/supervisor.js';
import { freePort } from '../support/ports.js';

const T = 'lb';
const C = 'c1';

describe('three gateways behind HAProxy', () => {
  let pg: TestDatabase;
  let floor: GatewayProcesses;
  let lb: Haproxy;
  let admin = '';
  const devices: Device[] = [];

  /** An admin call through HAProxy pinned to gateway `gw`; checks that gateway answered it. */
  const api = async (gw: number, method: string, path: string, body?: unknown) => {
    const res = await fetch(`${lb.url}/api/v1${path}${path.includes('?') ? '&' : '?'}gw=${gw}`, {
      method,
      headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    expect(servedBy(res), `${method} ${path} served by`).toBe(gw);
    return res;
  };
  /** A gateway's own counter from its /metrics (straight to its port, not through HAProxy). */
  const metric = async (gw: number, line: string): Promise<number> => {
    const text = await (await fetch(`http://127.0.0.1:${floor.ports[gw - 1]}/metrics`)).text();
    const found = text.split('\n').find((l) => l.startsWith(`${line} `));
    return Number(found?.slice(line.length + 1) ?? 0);
  };
  const SOCKETS = 'dialhub_agent_sockets';
  const ACKED = 'dialhub_offers_total{result="acknowledged"}';
  const perGateway = (line: string) => Promise.all([1, 2, 3].map((gw) => metric(gw, line)));
  /** Open a connection and check HAProxy put it on gateway `gw` (and on no other). */
  const landsOn = async <S>(gw: number, open: () => Promise<S>): Promise<S> => {
    const before = await lb.connections();
    const opened = await open();
    const after = await lb.connections();
    const delta = after.map((n, i) => n - before[i]!);
    expect(delta[gw - 1], `connections on g${gw}: ${before.join()} -> ${after.join()}`).toBe(1);
    for (const [i, d] of delta.entries()) if (i !== gw - 1) expect(d).toBeLessThanOrEqual(0);
    return opened;
  };
  const device = async (agent: number, gw: number) => {
    const sockets = await perGateway(SOCKETS);
    const d = await landsOn(gw, () => connectDevice(lb.url, T, agent, gw));
    devices.push(d);
    // The gateway itself holds the device, and no other does.
    const now = await perGateway(SOCKETS);
    expect(now.map((n, i) => n - sockets[i]!)).toEqual([1, 2, 3].map((g) => (g === gw ? 1 : 0)));
    return d;
  };
  const within = async <V>(ms: number, work: Promise<V>): Promise<V> => {
    const started = Date.now();
    const value = await work;
    expect(Date.now() - started).toBeLessThanOrEqual(ms);
    return value;
  };

  beforeAll(async () => {
    pg = await createTestDatabase();
    await seedFloor(pg, T, C, 7);
    admin = await loginAs(pg.db, T, 'boss', 'admin');
    floor = await startGatewayProcesses(3, pg, { REDIS_URL }, { TRUSTED_PROXIES: 'loopback' });
    lb = await startHaproxy(await freePort(), floor.ports);
  }, 180_000);
  afterAll(async () => {
    for (const d of devices) d.disconnect();
    await lb?.stop();
    await floor?.stop();
    await pg?.dispose();
  });

  it('an agent on gateway 1 gets the offer of a dispatch that ran on gateway 2', async () => {
    const a0 = await device(0, 1);
    expect(await call(a0, 'agent:ready', { campaignId: C })).toMatchObject({ ok: true });
    const acked = await perGateway(ACKED);
    const offered = next(a0, 'call:offer');
    // Leads added through gateway 2: it dispatches them, the offer travels to gateway 1.
    const res = await api(2, 'POST', `/tenants/${T}/campaigns/${C}/leads`, {
      leads: [{ phone: '+442079400101', name: 'Grace Hopper', timeZone: 'Europe/London' }],
    });
    expect(res.status).toBeLessThan(300);
    const [offer, ack] = await offered;
    ack({ accept: true });
    expect(offer.lead.name).toBe('Grace Hopper');
    // Gateway 1 pushed the offer to its device; gateway 2, which queued and dispatched the lead
    // (its answer above), pushed nothing itself: the lease travelled over the adapter.
    await until(async () => (await metric(1, ACKED)) === acked[0]! + 1, 2_000);
    expect((await perGateway(ACKED)).map((n, i) => n - acked[i]!)).toEqual([1, 0, 0]);
    expect(
      await call(a0, 'call:complete', { leaseId: offer.leaseId, outcome: 'answered', durationSec: 5 }),
    ).toMatchObject({ ok: true });
  });

  it('a force-pause sent to gateway 3 reaches the agent on gateway 1 within 1 s', async () => {
    const a1 = await device(1, 1);
    expect(await call(a1, 'agent:ready', { campaignId: C })).toMatchObject({ ok: true });
    // The supervisor connects through HAProxy too, pinned to gateway 3.
    const pinned = await landsOn(3, () => connectSupervisor(lb.url, admin, { gw: '3' }));
    try {
      const told = next(a1, 'agent:state', 1_000);
      expect(
        await within(1_000, command(pinned, 'agent:force_pause', { agentId: 'a1', reason: 'coaching' })),
      ).toMatchObject({ ok: true, found: true });
      expect((await told)[0]).toMatchObject({ state: 'paused', reason: 'coaching' });
    } finally {
      pinned.disconnect();
    }
  });

  it('a device revoked through gateway 3 is disconnected on gateway 1 within 1 s', async () => {
    const a2 = await device(2, 1);
    const gone = new Promise<number>((resolve) => a2.once('disconnect', () => resolve(Date.now())));
    const started = Date.now();
    expect((await api(3, 'DELETE', `/tenants/${T}/devices/d2`)).status).toBe(204);
    expect((await gone) - started).toBeLessThanOrEqual(1_000);
  });

  it('a login limit reached through gateway 1 holds on gateways 2 and 3', async () => {
    // The failure counts live in the shared Redis (gateway/auth/login-limits.ts), not per process.
    await loginAs(pg.db, T, 'guessed', 'supervisor');
    const login = async (gw: number, password: string) => {
      const res = await fetch(`${lb.url}/api/v1/auth/login?gw=${gw}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ tenantId: T, email: `guessed@${T}.test`, password }),
      });
      expect(servedBy(res), 'login served by').toBe(gw);
      return { status: res.status, body: (await res.json()) as { error?: { code: string } } };
    };
    for (let i = 0; i < 10; i++) expect((await login(1, 'not the password')).status).toBe(401);
    for (const gw of [2, 3]) {
      // Even the right password: the account is locked wherever the next attempt lands.
      const refused = await login(gw, TEST_PASSWORD);
      expect(refused.status).toBe(429);
      expect(refused.body.error?.code).toBe('RATE_LIMITED');
    }
  });

  it("the per-address login limit counts each client's address, not HAProxy's", async () => {
    // HAProxy forwards the client's address (option forwardfor); the gateways believe it from
    // loopback only (TRUSTED_PROXIES). Clients here all come from 127.0.0.1, so each says which
    // client it stands for in X-Forwarded-For, which HAProxy extends with the address it saw.
    const attempt = async (client: string, n: number) =>
      (
        await fetch(`${lb.url}/api/v1/auth/login?gw=${1 + (n % 3)}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-forwarded-for': client },
          // Each attempt names another account: only the per-address limit (30 a minute) applies.
          body: JSON.stringify({ tenantId: T, email: `nobody${n}@${T}.test`, password: 'x' }),
        })
      ).status;
    // 35 clients behind the one balancer, one attempt each: none is limited.
    for (let i = 0; i < 35; i++) expect(await attempt(`198.51.100.${i + 1}`, i)).toBe(401);
    // One client past 30 attempts is, whichever gateway the attempt lands on.
    const one: number[] = [];
    for (let i = 0; i < 31; i++) one.push(await attempt('203.0.113.7', 100 + i));
    expect(one.slice(0, 30).every((s) => s === 401)).toBe(true);
    expect(one[30]).toBe(429);
  });

  it("a supervisor on gateway 3 sees gateway 1's agent live", async () => {
    const pinned = await landsOn(3, () => connectSupervisor(lb.url, admin, { gw: '3' }));
    try {
      const floorSeen = new FloorWatcher(pinned);
      expect(await command(pinned, 'floor:subscribe', {})).toMatchObject({ ok: true });
      const a5 = await device(5, 1);
      const started = Date.now();
      expect(await call(a5, 'agent:ready', { campaignId: C })).toMatchObject({ ok: true });
      await floorSeen.until((w) => w.state('a5') === 'ready', 1_000);
      expect(Date.now() - started).toBeLessThanOrEqual(1_000);
    } finally {
      pinned.disconnect();
    }
  });

  it('a campaign paused through any gateway stops offers on every gateway within 1 s', async () => {
    const on1 = await device(3, 1);
    const on2 = await device(4, 2);
    for (const d of [on1, on2])
      expect(await call(d, 'agent:ready', { campaignId: C })).toMatchObject({ ok: true });
    const paused = [on1, on2].map((d) => next(d, 'agent:state', 1_000));
    const started = Date.now();
    const res = await api(3, 'PUT', `/tenants/${T}/campaigns/${C}`, {
      name: C,
      status: 'paused',
      window: ALWAYS_OPEN,
    });
    expect(res.status).toBe(200);
    for (const p of paused)
      expect((await p)[0]).toMatchObject({ state: 'paused', reason: 'campaign_closed' });
    expect(Date.now() - started).toBeLessThanOrEqual(1_000);
    // Every gateway refuses to route into it now; leads can no longer be added through any.
    for (const d of [on1, on2])
      expect(await call(d, 'agent:ready', { campaignId: C })).toMatchObject({
        ok: false,
        error: { code: 'CAMPAIGN_UNKNOWN' },
      });
    const offers: unknown[] = [];
    for (const d of [on1, on2]) d.on('call:offer', (o) => offers.push(o));
    for (const gw of [1, 2, 3]) {
      const r = await api(gw, 'POST', `/tenants/${T}/campaigns/${C}/leads`, {
        leads: [{ phone: `+44207940020${gw}`, name: 'Paused Lead', timeZone: 'Europe/London' }],
      });
      expect(r.status).toBeGreaterThanOrEqual(400);
    }
    expect(offers).toEqual([]);
  });
});
