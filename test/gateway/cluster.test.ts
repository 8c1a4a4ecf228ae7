// Several gateway processes share one Redis through the Socket.IO streams adapter: any gateway
// may dispatch for any agent (the offer travels to the gateway holding the device), and one live
// session per agent holds across gateways.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CampaignRef } from '../../engine/ids.js';
import { sharedAdapter } from '../support/adapter.js';
import { call, next, TestGateway } from '../support/gateway.js';

const T = 'cluster';
const C = 'c1';

describe('two gateways on one Redis', () => {
  let a: TestGateway;
  let b: TestGateway;
  let ref: CampaignRef;
  const shared = sharedAdapter('cluster');

  beforeAll(async () => {
    a = await TestGateway.start({ adapter: await shared.adapter() });
    b = await TestGateway.start({ shared: { store: a.store, pg: a.pg }, adapter: await shared.adapter() });
    await a.seedTenant(T, 2);
    ref = await a.campaign(T, C);
    await b.gateway.campaigns.define(ref, (await a.db.campaigns.get(T, C))!.config);
  });
  afterAll(async () => {
    await b.stop();
    await a.stop();
    await shared.close();
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
