// The Socket.IO handshake checks the browser's Origin (CORS does not protect WebSockets): with no
// ALLOWED_ORIGINS only the gateway's own origin is let in; ALLOWED_ORIGINS adds exact origins;
// clients that send no Origin (phones, CLIs) are admitted by their token alone.
import { connect } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { originAllowed } from '../../gateway/auth/origin.js';
import { AGENT_NAMESPACE } from '../../gateway/protocol/index.js';
import { TestGateway } from '../support/gateway.js';

describe('originAllowed', () => {
  it('admits the same origin, the listed ones and clients without an Origin; refuses the rest', () => {
    expect(originAllowed(undefined, 'hub.example:8080', undefined)).toBe(true);
    expect(originAllowed('http://hub.example:8080', 'hub.example:8080', undefined)).toBe(true);
    expect(originAllowed('https://hub.example', 'HUB.example', undefined)).toBe(true);
    expect(originAllowed('https://evil.example', 'hub.example', undefined)).toBe(false);
    expect(originAllowed('http://hub.example:9090', 'hub.example:8080', undefined)).toBe(false);
    expect(originAllowed('null', 'hub.example', undefined)).toBe(false);
    expect(originAllowed('file://hub.example', 'hub.example', undefined)).toBe(false);
    expect(originAllowed('https://crm.example', 'hub.example', ['https://crm.example'])).toBe(true);
    expect(originAllowed('https://evil.example', 'hub.example', ['https://crm.example'])).toBe(false);
    expect(originAllowed('https://hub.example', 'hub.example', ['https://crm.example'])).toBe(true);
  });
});

async function handshake(g: TestGateway, origin?: string): Promise<string> {
  const token = await g.token('acme', 0);
  const socket = connect(`${g.url}${AGENT_NAMESPACE}`, {
    transports: ['websocket'],
    reconnection: false,
    forceNew: true,
    auth: { token, deviceId: 'd0' },
    ...(origin ? { extraHeaders: { origin } } : {}),
  });
  try {
    return await new Promise<string>((resolve) => {
      socket.once('connect', () => resolve('connected'));
      socket.once('connect_error', (err) => resolve(err.message));
    });
  } finally {
    socket.disconnect();
  }
}

describe.each([
  ['unset', undefined],
  ['set', 'https://crm.example'],
])('the /agent handshake with ALLOWED_ORIGINS %s', (_label, allowed) => {
  let g: TestGateway;
  beforeAll(async () => {
    g = await TestGateway.start({ store: 'memory', config: allowed ? { ALLOWED_ORIGINS: allowed } : {} });
    await g.seedTenant('acme', 1);
  });
  afterAll(() => g.stop());

  it('refuses a foreign browser origin', async () => {
    expect(await handshake(g, 'https://evil.example')).not.toBe('connected');
  });
  it("admits the gateway's own origin and a client sending no Origin", async () => {
    expect(await handshake(g, g.url)).toBe('connected');
    expect(await handshake(g)).toBe('connected');
  });
  it.runIf(allowed)('admits a listed origin', async () => {
    expect(await handshake(g, 'https://crm.example')).toBe('connected');
  });
});
