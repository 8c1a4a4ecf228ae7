// A campaign's status set through one gateway's admin API reaches every gateway within a second:
// a pause takes the campaign out of routing everywhere (ready agents paused, agent:ready refused,
// no dispatch), a resume brings it back everywhere, without waiting for a cache miss.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALWAYS_OPEN } from '../../engine/calling-window.js';
import type { CampaignRef } from '../../engine/ids.js';
import { createDeviceTokens } from '../../gateway/auth/device-token.js';
import { createHttpApp } from '../../gateway/http/app.js';
import { silentLogger } from '../../gateway/logger.js';
import { sharedAdapter } from '../support/adapter.js';
import { call, next, TEST_SECRET, TestGateway, until } from '../support/gateway.js';
import { loginAs } from '../support/supervisor.js';

const T = 'status-x';
const C = 'c1';

describe('campaign status across gateways', () => {
  let a: TestGateway;
  let b: TestGateway;
  let ref: CampaignRef;
  let admin = '';
  const shared = sharedAdapter('campaign-status');

  beforeAll(async () => {
    a = await TestGateway.start({
      adapter: await shared.adapter(),
      http: (g) =>
        createHttpApp(g, {
          adminToken: 'operator-token-for-tests-0123456789',
          logger: silentLogger,
          tokens: createDeviceTokens(TEST_SECRET),
          serverSecret: TEST_SECRET,
        }),
    });
    b = await TestGateway.start({ shared: { store: a.store, pg: a.pg }, adapter: await shared.adapter() });
    await a.seedTenant(T, 2);
    ref = await a.campaign(T, C);
    // B learns the campaign the way it would in production: an agent asks for it.
    expect(await b.gateway.campaigns.active(ref.tenantId, C)).toEqual(ref);
    admin = await loginAs(a.db, T, 'boss', 'admin');
  });
  afterAll(async () => {
    await b?.stop();
    await a?.stop();
    await shared.close();
  });

  const setStatus = async (status: 'active' | 'paused') => {
    const res = await fetch(`${a.url}/api/v1/tenants/${T}/campaigns/${C}`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: C, status, window: ALWAYS_OPEN }),
    });
    expect(res.status).toBe(200);
  };

  it('a pause through gateway A stops routing on gateway B within 1 s', async () => {
    const device = await b.connect(T, 0);
    expect(await call(device, 'agent:ready', { campaignId: C })).toMatchObject({ ok: true });

    const paused = next(device, 'agent:state', 1_000);
    const started = Date.now();
    await setStatus('paused');
    expect((await paused)[0]).toMatchObject({ state: 'paused', reason: 'campaign_closed' });
    await until(() => !b.gateway.campaigns.isLive(ref), 1_000, 10);
    expect(Date.now() - started).toBeLessThan(1_000);
    // B no longer takes agents into the paused campaign (its cache was not left behind).
    expect(await call(device, 'agent:ready', { campaignId: C })).toMatchObject({
      ok: false,
      error: { code: 'CAMPAIGN_UNKNOWN' },
    });
  });

  it('a resume through gateway A is live on gateway B within 1 s, offers included', async () => {
    const started = Date.now();
    await setStatus('active');
    await until(() => b.gateway.campaigns.isLive(ref), 1_000, 10);
    expect(Date.now() - started).toBeLessThan(1_000);
    const device = await b.connect(T, 1);
    expect(await call(device, 'agent:ready', { campaignId: C })).toMatchObject({ ok: true });
    const offered = next(device, 'call:offer');
    await a.leads(T, C, 1);
    const [offer] = await offered;
    expect(offer.campaign.id).toBe(C);
  });
});
