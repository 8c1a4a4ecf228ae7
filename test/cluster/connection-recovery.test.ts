// Socket.IO connection-state recovery for devices, across a gateway restart, on the streams
// adapter and real Redis. A phone connected to gateway A (through one address: a TCP switch in
// front of the gateways, as a load balancer would be) loses A to a graceful stop and reconnects to
// gateway B within the reconnect grace: it keeps its socket id, rooms and session, is sent what was
// broadcast to its rooms meanwhile, and still resumes its call by naming its lease id; a drop
// without a restart recovers on the same gateway, the call kept past the grace. After the grace
// it is a fresh connection (the call still resumes by lease id); with its device revoked in the
// meantime the recovered connection is refused, and nothing it missed is sent to it; another
// agent's token on the same client gets none of the old session. What the adapter keeps in Redis
// is who the device is and which calls: no token, no phone number. A gateway process killed
// (SIGKILL) keeps nothing: its phone connects afresh elsewhere and resumes its call by lease id.
// A wallboard is never recovered: its frames stay off the stream, so its FloorDecoder is sent no
// replayed frame; it subscribes again on connect and its sequence starts over from a snapshot.
//
// dialhub itself broadcasts nothing to an agent's or a tenant's room (its frames to a device are
// direct emits): the broadcasts in the gap here are the test's own, to the rooms the hub puts a
// device in, sent from a third gateway.
import { randomUUID } from 'node:crypto';
import { connect as tcp, createServer } from 'node:net';
import type { AddressInfo, Server as NetServer, Socket as NetSocket } from 'node:net';
import { createAdapter } from '@socket.io/redis-streams-adapter';
import { createClient } from 'redis';
import { io } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CampaignRef } from '../../engine/ids.js';
import type { GatewayDeps } from '../../gateway/gateway.js';
import { agentRoom, tenantRoom } from '../../gateway/agent/agent-session.js';
import { KEPT_SESSION_FIELDS } from '../../gateway/connection-recovery.js';
import { AGENT_NAMESPACE } from '../../gateway/protocol/events.js';
import { supervisorWithLogins } from '../../gateway/supervisor/index.js';
import { SUPERVISOR_NAMESPACE } from '../../gateway/supervisor/protocol.js';
import type { ConfigInput } from '../../gateway/config.js';
import { asTenantId } from '../../engine/ids.js';
import { createDeviceTokens } from '../../gateway/auth/device-token.js';
import { call, next, TEST_SECRET, TestGateway, until } from '../support/gateway.js';
import type { Device } from '../support/gateway.js';
import { seedFloor, startGatewayProcesses } from '../support/gateway-processes.js';
import type { GatewayProcesses } from '../support/gateway-processes.js';
import { createTestDatabase } from '../support/postgres.js';
import type { TestDatabase } from '../support/postgres.js';
import { deleteKeys, REDIS_URL } from '../support/stores.js';
import { command, FloorWatcher, loginAs } from '../support/supervisor.js';
import type { SupervisorClient } from '../support/supervisor.js';

const T = 'recovery-x';
const C = 'c1';
const GRACE_MS = 3_000;
const CONFIG: ConfigInput = {
  RECONNECT_GRACE_MS: String(GRACE_MS),
  CALL_TTL_MS: '20000',
  // A draining gateway waits SHUTDOWN_TIMEOUT_MS - 1 s for calls in progress, then closes.
  SHUTDOWN_TIMEOUT_MS: '1500',
};

/** One address in front of the gateways: new connections go to the current target, or wait. */
class Switch {
  readonly #server: NetServer = createServer((client) => this.#accept(client));
  readonly #open = new Set<NetSocket>();
  readonly #waiting: NetSocket[] = [];
  #target: number | null = null;
  port = 0;

  async listen(): Promise<void> {
    await new Promise<void>((r) => this.#server.listen(0, '127.0.0.1', r));
    this.port = (this.#server.address() as AddressInfo).port;
  }

  /** New connections wait (a device reconnecting while no gateway answers). */
  hold(): void {
    this.#target = null;
  }

  to(port: number): void {
    this.#target = port;
    for (const c of this.#waiting.splice(0)) this.#pipe(c, port);
  }

  #accept(client: NetSocket): void {
    this.#track(client);
    if (this.#target === null) {
      client.pause();
      this.#waiting.push(client);
    } else this.#pipe(client, this.#target);
  }

  #pipe(client: NetSocket, port: number): void {
    const up = tcp(port, '127.0.0.1');
    this.#track(up);
    client.pipe(up).pipe(client);
    up.on('close', () => client.destroy());
    client.on('close', () => up.destroy());
  }

  #track(s: NetSocket): void {
    this.#open.add(s);
    s.on('error', () => s.destroy());
    s.on('close', () => this.#open.delete(s));
  }

  async close(): Promise<void> {
    for (const s of this.#open) s.destroy();
    await new Promise((r) => this.#server.close(r));
  }
}

/** What a device received, in order (the acknowledgement callback of an offer included). */
interface Seen {
  readonly event: string;
  readonly args: unknown[];
}

interface Phone {
  readonly device: Device;
  readonly seen: Seen[];
  /** Every packet on the wire, also those sent before the handshake was accepted (or refused). */
  readonly wire: string[];
  readonly auth: Record<string, string>;
}

/** The handshake of agent aN's phone dN. */
async function authOf(tenantId: string, agent: number): Promise<Record<string, string>> {
  const token = await createDeviceTokens(TEST_SECRET).issue({
    tenantId: asTenantId(tenantId),
    agentId: `a${agent}` as never,
    deviceId: `d${agent}` as never,
  });
  return { token, deviceId: `d${agent}` };
}

/** Agent aN's phone dN (a0's by default), through the switch, reconnecting on its own as a phone does. */
async function phoneThrough(front: Switch, tenantId: string, agent = 0): Promise<Phone> {
  const auth = await authOf(tenantId, agent);
  const device: Device = io(`http://127.0.0.1:${front.port}${AGENT_NAMESPACE}`, {
    transports: ['websocket'],
    forceNew: true,
    reconnectionDelay: 50,
    reconnectionDelayMax: 100,
    randomizationFactor: 0,
    auth,
  });
  const seen: Seen[] = [];
  device.onAny((event: string, ...args: unknown[]) => seen.push({ event, args }));
  const wire: string[] = [];
  device.io.on('packet', (p) => wire.push(JSON.stringify(p)));
  await new Promise<void>((resolve, reject) => {
    device.once('connect', () => resolve());
    device.once('connect_error', reject);
  });
  return { device, seen, wire, auth };
}

const portOf = (g: TestGateway): number => Number(new URL(g.url).port);

/** Socket.IO recovers only a client that was sent a packet carrying a stream offset. */
const hasOffset = (seen: Seen[]): boolean => seen.some((s) => typeof s.args.at(-1) === 'string');

describe('connection-state recovery across a gateway restart (streams adapter, real Redis)', () => {
  const name = `test:recovery:${process.pid}:${Date.now()}`;
  const redis = createClient({ url: REDIS_URL });
  const clients: ReturnType<typeof createClient>[] = [];
  const gateways: TestGateway[] = [];
  const devices: Device[] = [];
  const front = new Switch();
  /** Keeps the store and database; another gateway on the same Redis, never behind the switch. */
  let other: TestGateway;
  let ref: CampaignRef;

  async function adapter(): Promise<NonNullable<GatewayDeps['adapter']>> {
    const client = createClient({ url: REDIS_URL });
    await client.connect();
    clients.push(client);
    return createAdapter(client, { streamName: name, channelPrefix: name, sessionKeyPrefix: `${name}:s:` });
  }

  async function gateway(): Promise<TestGateway> {
    const g = await TestGateway.start({
      shared: { store: other.store, pg: other.pg },
      adapter: await adapter(),
      config: CONFIG,
    });
    gateways.push(g);
    await g.gateway.campaigns.define(ref, (await other.db.campaigns.get(T, C))!.config);
    return g;
  }

  async function phone(agent = 0): Promise<Phone> {
    const p = await phoneThrough(front, T, agent);
    devices.push(p.device);
    return p;
  }

  /** A new lead offered to the device and accepted: its lease id. */
  async function acceptedCall(device: Device): Promise<string> {
    await other.leads(T, C, 1, Math.floor(Math.random() * 90_000));
    const offered = next(device, 'call:offer');
    expect(await call(device, 'agent:ready', { campaignId: C })).toMatchObject({ ok: true });
    const [offer, reply] = await offered;
    reply({ accept: true });
    await until(
      async () => (await other.store.store.peekLease(ref.tenantId, offer.leaseId, Date.now())).state === 'a',
    );
    return offer.leaseId;
  }

  /** Broadcast to agent a0's room and to the tenant's room, from the gateway no phone is on. */
  function broadcastInGap(tag: string, agentId = 'a0'): void {
    const nsp = other.gateway.io.of(AGENT_NAMESPACE);
    const state = { state: 'paused', since: Date.now(), reason: `${tag}-agent` } as const;
    nsp.to(agentRoom(T, agentId)).emit('agent:state', state);
    nsp.to(tenantRoom(T)).emit('agent:state', { ...state, reason: `${tag}-tenant` });
  }

  const reasons = (seen: Seen[]): unknown[] =>
    seen.filter((s) => s.event === 'agent:state').map((s) => (s.args[0] as { reason?: string }).reason);

  const sessionKeys = () => redis.keys(`${name}:s:*`);

  beforeAll(async () => {
    await redis.connect();
    await front.listen();
    other = await TestGateway.start({ adapter: await adapter(), config: CONFIG });
    await other.seedTenant(T, 3);
    ref = await other.campaign(T, C);
  });
  afterAll(async () => {
    for (const d of devices) d.disconnect();
    for (const g of gateways) await g.gateway.stop();
    await other?.stop();
    await front.close();
    for (const c of clients) if (c.isOpen) await c.close();
    await deleteKeys(`${name}*`);
    if (redis.isOpen) await redis.close();
  });

  let phoneOf: Phone;

  it('recovers the phone on gateway B within the grace: socket id, rooms, session, missed broadcasts, and its call by lease id', async () => {
    const a = await gateway();
    const b = await gateway();
    front.to(portOf(a));
    phoneOf = await phone();
    const { device, seen, auth } = phoneOf;
    const leaseId = await acceptedCall(device);
    await until(() => hasOffset(seen));
    const id = device.id!;
    device.auth = { ...auth, leaseId };
    const resumed = next(device, 'call:resumed', 10_000);

    front.hold();
    const dropped = new Promise<string>((r) => device.once('disconnect', r));
    await a.gateway.stop();
    // Closed, not ended: the client reconnects on its own (an ended session would not).
    expect(await dropped).toBe('transport close');

    // What gateway A kept for the phone: who it is and which call, nothing else.
    await until(async () => (await sessionKeys()).length === 1);
    const keys = await sessionKeys();
    const kept = Buffer.from((await redis.get(keys[0]!))!, 'base64').toString('utf8');
    for (const field of ['tenantId', 'agentId', 'deviceId', 'leaseId']) expect(kept).toContain(field);
    for (const field of ['token', 'expiresAt', 'sessionId']) expect(kept).not.toContain(field);
    expect(kept).not.toContain(auth.token);
    expect(KEPT_SESSION_FIELDS).not.toContain('expiresAt');
    // The offer (with the lead's number and name) never entered the adapter's stream.
    const offer = seen.find((s) => s.event === 'call:offer')!.args[0] as {
      lead: { phone: string; name: string };
    };
    const stream = JSON.stringify(await redis.xRange(name, '-', '+'));
    expect(stream).not.toContain(offer.lead.phone);
    expect(stream).not.toContain(offer.lead.name);

    broadcastInGap('gap1');
    await new Promise((r) => setTimeout(r, 200));
    const back = new Promise<void>((r) => device.once('connect', () => r()));
    front.to(portOf(b));
    await back;

    expect(device.recovered).toBe(true);
    expect(device.id).toBe(id);
    await until(() => reasons(seen).includes('gap1-agent') && reasons(seen).includes('gap1-tenant'));
    expect((await resumed)[0]).toMatchObject({ leaseId, state: 'dialing' });
    // The rooms it had, once each; the session is the hub's own, resumed.
    const socket = b.gateway.io.of(AGENT_NAMESPACE).sockets.get(id)!;
    expect(socket.recovered).toBe(true);
    expect([...socket.rooms].sort()).toEqual([id, agentRoom(T, 'a0'), tenantRoom(T)].sort());
    expect(b.gateway.hub.sessions.get(T, 'a0')?.state.name).toBe('dialing');
    expect(socket.data).toMatchObject({ tenantId: T, agentId: 'a0', deviceId: 'd0', leaseId });
    // Offers are never replayed: the phone was offered its call once.
    expect(seen.filter((s) => s.event === 'call:offer')).toHaveLength(1);
    expect(await sessionKeys()).toHaveLength(0);

    const done = await call(device, 'call:complete', { leaseId, outcome: 'answered', durationSec: 5 });
    expect(done).toMatchObject({ ok: true, duplicate: false });
  });

  it('recovers a phone whose connection dropped on the same gateway, and keeps its call past the grace', async () => {
    const { device, seen, auth } = phoneOf;
    const b = gateways.at(-1)!;
    const leaseId = await acceptedCall(device);
    await until(() => hasOffset(seen));
    const id = device.id!;
    device.auth = { ...auth, leaseId };
    const resumed = next(device, 'call:resumed', 10_000);

    const back = new Promise<void>((r) => device.once('connect', () => r()));
    device.io.engine.close(); // the network drops; the gateway stays
    await back;

    expect(device.recovered).toBe(true);
    expect(device.id).toBe(id);
    expect((await resumed)[0]).toMatchObject({ leaseId, state: 'dialing' });
    const socket = b.gateway.io.of(AGENT_NAMESPACE).sockets.get(id)!;
    expect([...socket.rooms].sort()).toEqual([id, agentRoom(T, 'a0'), tenantRoom(T)].sort());
    expect(b.gateway.hub.sessions.size).toBe(1);
    // The dropped session handed its call over: its grace passes without taking the call back.
    await new Promise((r) => setTimeout(r, GRACE_MS + 500));
    expect(seen.filter((s) => s.event === 'call:revoked')).toEqual([]);
    const done = await call(device, 'call:complete', { leaseId, outcome: 'answered', durationSec: 5 });
    expect(done).toMatchObject({ ok: true, duplicate: false });
  });

  it('is a fresh connection after the grace, and the call still resumes by its lease id', async () => {
    const { device, seen, auth } = phoneOf;
    const b = gateways.at(-1)!;
    const c = await gateway();
    const leaseId = await acceptedCall(device);
    const id = device.id;
    device.auth = { ...auth, leaseId };
    const resumed = next(device, 'call:resumed', 15_000);

    front.hold();
    await b.gateway.stop();
    broadcastInGap('gap2');
    await new Promise((r) => setTimeout(r, GRACE_MS + 500));
    expect(await sessionKeys()).toHaveLength(0); // expired with the grace
    const back = new Promise<void>((r) => device.once('connect', () => r()));
    front.to(portOf(c));
    await back;

    expect(device.recovered).toBe(false);
    expect(device.id).not.toBe(id);
    expect((await resumed)[0]).toMatchObject({ leaseId, state: 'dialing' });
    await new Promise((r) => setTimeout(r, 200));
    expect(reasons(seen)).not.toContain('gap2-agent');
    expect(c.gateway.hub.sessions.get(T, 'a0')?.state.name).toBe('dialing');
  });

  it('refuses a recovered connection whose device was revoked, and sends it nothing it missed', async () => {
    const { device, seen, wire } = phoneOf;
    const c = gateways.at(-1)!;
    const d = await gateway();
    await until(() => hasOffset(seen));

    front.hold();
    await c.gateway.stop();
    await until(async () => (await sessionKeys()).length === 1);
    broadcastInGap('gap3');
    expect(await other.db.devices.revoke(T, 'd0')).toBe(true);
    await new Promise((r) => setTimeout(r, 200));
    const refused = new Promise<{ data?: { code?: string } }>((r) => device.once('connect_error', r));
    front.to(portOf(d));

    expect((await refused).data?.code).toBe('DEVICE_UNKNOWN');
    await new Promise((r) => setTimeout(r, 300));
    expect(device.connected).toBe(false);
    expect(reasons(seen)).not.toContain('gap3-agent');
    expect(wire.join('\n')).not.toContain('gap3');
    expect(d.gateway.hub.sessions.size).toBe(0);
  });

  it('keeps a recovered session for the device that left it: another agent on the same client gets none of its rooms or missed frames', async () => {
    const e = await gateway();
    const f = await gateway();
    front.to(portOf(e));
    const { device, wire, seen } = await phone(1);
    await until(() => hasOffset(seen));
    const id = device.id!;
    // Another agent logs in on the same phone app, which keeps its Socket.IO client.
    device.auth = await authOf(T, 2);

    front.hold();
    await e.gateway.stop();
    await until(async () => (await sessionKeys()).length === 1);
    broadcastInGap('gap4', 'a1');
    await new Promise((r) => setTimeout(r, 200));
    const back = new Promise<void>((r) => device.once('connect', () => r()));
    front.to(portOf(f));
    await back;

    const socket = f.gateway.io.of(AGENT_NAMESPACE).sockets.get(id)!;
    expect(socket.recovered).toBe(true);
    expect([...socket.rooms].sort()).toEqual([id, agentRoom(T, 'a2'), tenantRoom(T)].sort());
    expect(f.gateway.hub.sessions.get(T, 'a2')).toBeDefined();
    expect(f.gateway.hub.sessions.get(T, 'a1')).toBeUndefined();
    await new Promise((r) => setTimeout(r, 200));
    expect(wire.join('\n')).not.toContain('gap4');
  });
});

describe('a gateway process killed (gateway/main.ts, SIGKILL)', () => {
  const T2 = 'recovery-kill';
  const prefix = `test:rk:${randomUUID().slice(0, 8)}:`;
  const front = new Switch();
  const redis = createClient({ url: REDIS_URL });
  let pg: TestDatabase;
  let floor: GatewayProcesses;
  let admin = '';
  let phone: Phone | undefined;

  beforeAll(async () => {
    await redis.connect();
    await front.listen();
    pg = await createTestDatabase();
    await seedFloor(pg, T2, C, 1);
    admin = await loginAs(pg.db, T2, 'boss', 'admin');
    floor = await startGatewayProcesses(
      2,
      pg,
      { REDIS_URL },
      {
        RECONNECT_GRACE_MS: String(GRACE_MS),
        CALL_TTL_MS: '20000',
        LEASE_HEARTBEAT_MS: '1000',
        REDIS_KEY_PREFIX: prefix,
      },
    );
  }, 180_000);
  afterAll(async () => {
    phone?.device.disconnect();
    await floor?.stop();
    await front.close();
    await pg?.dispose();
    await deleteKeys(`${prefix}*`);
    if (redis.isOpen) await redis.close();
  });

  it('keeps nothing to recover: the phone connects afresh on the other gateway and resumes its call by lease id', async () => {
    front.to(floor.ports[0]!);
    phone = await phoneThrough(front, T2);
    const { device, seen, auth } = phone;
    const offered = next(device, 'call:offer');
    expect(await call(device, 'agent:ready', { campaignId: C })).toMatchObject({ ok: true });
    const res = await fetch(`http://127.0.0.1:${floor.ports[0]!}/api/v1/tenants/${T2}/campaigns/${C}/leads`, {
      method: 'POST',
      headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        leads: [{ phone: '+442079400555', name: 'Ada Lovelace', timeZone: 'Europe/London' }],
      }),
    });
    expect(res.status).toBeLessThan(300);
    const [offer, reply] = await offered;
    reply({ accept: true });
    // Answered: the accept has landed (a status of an offer not yet accepted accepts it first).
    expect(await call(device, 'call:status', { leaseId: offer.leaseId, status: 'connected' })).toMatchObject({
      ok: true,
      state: { state: 'on_call' },
    });
    await until(() => hasOffset(seen));
    const id = device.id;
    device.auth = { ...auth, leaseId: offer.leaseId };
    const resumed = next(device, 'call:resumed', 10_000);

    front.hold();
    const dropped = new Promise<string>((r) => device.once('disconnect', r));
    await floor.gateways[0]!.kill();
    expect(await dropped).toBe('transport close');
    // The killed gateway stored no session: Socket.IO stores one when the gateway sees the drop.
    expect(await redis.keys(`${prefix}sio:session:*`)).toEqual([]);
    const back = new Promise<void>((r) => device.once('connect', () => r()));
    front.to(floor.ports[1]!);
    await back;

    expect(device.recovered).toBe(false);
    expect(device.id).not.toBe(id);
    expect((await resumed)[0]).toMatchObject({ leaseId: offer.leaseId, state: 'on_call' });
    expect(
      await call(device, 'call:complete', { leaseId: offer.leaseId, outcome: 'answered', durationSec: 5 }),
    ).toMatchObject({ ok: true, duplicate: false });
  });
});

describe('a wallboard across a dropped connection (streams adapter)', () => {
  const T3 = 'recovery-floor';
  const name = `test:recovery-floor:${process.pid}:${Date.now()}`;
  const redis = createClient({ url: REDIS_URL });
  const clients: ReturnType<typeof createClient>[] = [];
  const front = new Switch();
  let a: TestGateway;
  let b: TestGateway;
  let board: SupervisorClient | undefined;

  async function adapter(): Promise<NonNullable<GatewayDeps['adapter']>> {
    const client = createClient({ url: REDIS_URL });
    await client.connect();
    clients.push(client);
    return createAdapter(client, { streamName: name, channelPrefix: name, sessionKeyPrefix: `${name}:s:` });
  }

  beforeAll(async () => {
    await redis.connect();
    await front.listen();
    const supervisor = supervisorWithLogins(TEST_SECRET, { countersIntervalMs: 300 });
    a = await TestGateway.start({ adapter: await adapter(), supervisor, config: CONFIG });
    b = await TestGateway.start({
      shared: { store: a.store, pg: a.pg },
      adapter: await adapter(),
      supervisor,
      config: CONFIG,
    });
    await a.seedTenant(T3, 1);
    const ref = await a.campaign(T3, C);
    await b.gateway.campaigns.define(ref, (await a.db.campaigns.get(T3, C))!.config);
  });
  afterAll(async () => {
    board?.disconnect();
    await b?.stop();
    await a?.stop();
    await front.close();
    for (const c of clients) if (c.isOpen) await c.close();
    await deleteKeys(`${name}*`);
    if (redis.isOpen) await redis.close();
  });

  it('is sent no replayed frames: it subscribes again on connect, and its sequence starts over from a fresh snapshot', async () => {
    front.to(portOf(a));
    const token = await loginAs(a.db, T3, 'sup', 'supervisor');
    // As the dashboard's wallboard does: reconnects on its own, subscribes on every connect.
    board = io(`http://127.0.0.1:${front.port}${SUPERVISOR_NAMESPACE}`, {
      transports: ['websocket'],
      forceNew: true,
      reconnectionDelay: 50,
      reconnectionDelayMax: 100,
      randomizationFactor: 0,
      auth: { token },
    });
    const sup = new FloorWatcher(board);
    const frames: unknown[][] = [];
    board.onAny((_event: string, ...args: unknown[]) => frames.push(args));
    board.on('connect', () => void command(board!, 'floor:subscribe', {}));
    await sup.until((w) => w.snapshots === 1);

    const phone = await b.connect(T3, 0);
    expect(await call(phone, 'agent:ready', { campaignId: C })).toMatchObject({ ok: true });
    await sup.until((w) => w.state('a0') === 'ready');
    const before = sup.seqs.length;

    front.hold();
    const back = new Promise<void>((r) => board!.once('connect', () => r()));
    board.io.engine.close(); // the wallboard's network drops
    // Missed while away: the agent pauses.
    expect(await call(phone, 'agent:pause', { reason: 'lunch' })).toMatchObject({ ok: true });
    await new Promise((r) => setTimeout(r, 300));
    front.to(portOf(b));
    await back;

    expect(board.recovered).toBe(false);
    await sup.until((w) => w.snapshots === 2 && w.state('a0') === 'paused');
    // Before the drop 1, 2, ...; after it a fresh snapshot at 1 and every frame after it in turn.
    const after = sup.seqs.slice(before);
    expect(after[0]).toBe(1);
    expect(after).toEqual(after.map((_, i) => i + 1));
    // No frame carries a stream offset, and no floor frame (names) is in the adapter's stream.
    expect(frames.filter((args) => typeof args.at(-1) === 'string')).toEqual([]);
    const stream = JSON.stringify(await redis.xRange(name, '-', '+'));
    expect(stream).not.toContain('floor:');
    expect(await redis.keys(`${name}:s:*`)).toEqual([]);
  });
});
