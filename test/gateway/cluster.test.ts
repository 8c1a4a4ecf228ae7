// Several gateway processes share one Redis through the Socket.IO streams adapter: any gateway
// may dispatch for any agent (the offer travels to the gateway holding the device), and one live
// session per agent holds across gateways.
import { createAdapter } from '@socket.io/redis-streams-adapter';
import { createClient } from 'redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CampaignRef } from '../../engine/ids.js';
import { call, next, TestGateway } from '../support/gateway.js';
import { deleteKeys, REDIS_URL } from '../support/stores.js';

const T = 'cluster';
const C = 'c1';

describe('two gateways on one Redis', () => {
  let a: TestGateway;
  let b: TestGateway;
  let ref: CampaignRef;
  const clients: ReturnType<typeof createClient>[] = [];
  let stream = '';

  beforeAll(async () => {
    const adapter = async (name: string) => {
      const client = createClient({ url: REDIS_URL });
      await client.connect();
      clients.push(client);
      return createAdapter(client, { streamName: name, channelPrefix: name, sessionKeyPrefix: `${name}:s:` });
    };
    stream = `test:cluster:${process.pid}:${Date.now()}`;
    a = await TestGateway.start({ adapter: await adapter(stream) });
    b = await TestGateway.start({ shared: { store: a.store, pg: a.pg }, adapter: await adapter(stream) });
    await a.seedTenant(T, 2);
    ref = await a.campaign(T, C);
    await b.gateway.campaigns.define(ref, (await a.db.campaigns.get(T, C))!.config);
  });
  afterAll(async () => {
    await b.stop();
    await a.stop();
    for (const c of clients) await c.close();
    await deleteKeys(`${stream}*`);
  });

  it('delivers an offer made by one gateway to the device connected to the other', async () => {
    const device = await a.connect(T, 0);
    // Ready through gateway A while the agent's campaign has nothing queued yet.
    expect(await call(device, 'agent:ready', { campaignId: C })).toMatchObject({ ok: true });
    // Leads arrive through gateway B, which dispatches them: the lease is for a device on A.
    const offered = next(device, 'call:offer');
    await b.leads(T, C, 1);
    const [offer, ack] = await offered;
    ack({ accept: true });
    const done = await call(device, 'call:complete', {
      leaseId: offer.leaseId,
      outcome: 'answered',
      durationSec: 4,
    });
    expect(done).toMatchObject({ ok: true, duplicate: false });
  });

  it('keeps one live session per agent across gateways', async () => {
    const older = await a.connect(T, 1);
    const told = next(older, 'session:replaced');
    const newer = await b.connect(T, 1);
    expect((await told)[0]).toEqual({ reason: 'newer_session' });
    expect(newer.connected).toBe(true);
  });
});
