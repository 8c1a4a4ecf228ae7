// What a connected device costs the gateway while it idles, and that the savings keep the protocol
// whole: the bearer token is not held for the life of the connection, a socket's listeners are
// shared with every other socket instead of closures made per device, and every client event is
// still answered (commands by their handler, unknown events with EVENT_UNKNOWN) and a drop still
// ends the session. Real gateway, real Redis and Postgres, real clients.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AGENT_NAMESPACE } from '../../gateway/protocol/events.js';
import { call, TestGateway, until } from '../support/gateway.js';

const T = 'sockets';

describe('an idle device on the gateway', () => {
  let g: TestGateway;
  beforeAll(async () => {
    g = await TestGateway.start();
    await g.seedTenant(T, 3);
    await g.campaign(T, 'c1');
  });
  afterAll(async () => {
    await g?.stop();
  });

  const serverSocket = async (deviceId: string) => {
    const sockets = await g.gateway.io.of(AGENT_NAMESPACE).fetchSockets();
    const found = sockets.find((s) => s.data.deviceId === deviceId);
    if (!found) throw new Error(`no socket for ${deviceId}`);
    return found;
  };

  it('is not held with its device token once the handshake is done', async () => {
    await g.connect(T, 0);
    const socket = await serverSocket('d0');
    expect(socket.data).toMatchObject({ tenantId: T, agentId: 'a0', deviceId: 'd0' });
    expect(JSON.stringify(socket.handshake)).not.toContain(await g.token(T, 0));
    expect(socket.handshake.auth).toEqual({});
  });

  it('shares its listeners with every other device (no closures per device)', async () => {
    await g.connect(T, 1);
    await g.connect(T, 2);
    const [one, two] = await Promise.all([serverSocket('d1'), serverSocket('d2')]);
    const nsp = g.gateway.io.of(AGENT_NAMESPACE);
    const local = (id: string) => nsp.sockets.get(id)!;
    for (const event of ['agent:ready', 'agent:pause', 'call:complete', 'disconnect'] as const) {
      expect(local(one.id).listeners(event)).toHaveLength(1);
      expect(local(one.id).listeners(event)[0]).toBe(local(two.id).listeners(event)[0]);
    }
    expect(local(one.id).listenersAny()[0]).toBe(local(two.id).listenersAny()[0]);
  });

  it('still answers its commands and refuses unknown events, then ends its session on a drop', async () => {
    const device = await g.connect(T, 0);
    const ready = await call(device, 'agent:ready', { campaignId: 'c1' });
    expect(ready).toMatchObject({ ok: true, state: { state: 'ready' } });
    const emit = (event: string) =>
      (
        device.timeout(5_000) as unknown as { emitWithAck(ev: string, p: unknown): Promise<unknown> }
      ).emitWithAck(event, {});
    for (const event of ['agent:nonesuch', 'constructor', 'toString']) {
      expect(await emit(event)).toMatchObject({ ok: false, error: { code: 'EVENT_UNKNOWN' } });
    }
    const bad = await call(device, 'agent:ready', { campaignId: 42 });
    expect(bad).toMatchObject({ ok: false, error: { code: 'PAYLOAD_INVALID' } });
    expect(g.gateway.hub.sessions.get(T, 'a0')).toBeDefined();
    device.disconnect();
    await until(() => g.gateway.hub.sessions.get(T, 'a0') === undefined);
  });
});
