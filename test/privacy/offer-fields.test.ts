// Data minimization in offers: a call:offer carries only the custom fields of the lead that its
// campaign marks as shown to agents (campaign privacy `agentFields`), none when it marks none, and
// all of them when it marks nothing; a change counts from the next offer. The queue still holds
// the lead whole (the fields stay in Postgres and Redis for the admin API and the export). Real
// Redis, real Postgres, real sockets.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Device } from '../support/gateway.js';
import { call, next, TestGateway } from '../support/gateway.js';

const T = 'acme';
const FIELDS = { plan: 'gold', notes: 'owes us money', crmId: 'C-17' };

describe('offer payloads carry only the fields the campaign shows agents', () => {
  let g: TestGateway;

  beforeAll(async () => {
    g = await TestGateway.start();
    await g.seedTenant(T, 4);
    for (const c of ['shown', 'none', 'all']) {
      await g.campaign(T, c);
      await g.leads(T, c, 2, c === 'shown' ? 0 : c === 'none' ? 10 : 20, { fields: FIELDS });
    }
    const { consent } = g.db.privacy;
    await consent.setCampaignSettings(T, 'shown', {
      kind: 'service',
      callbackHandoverMin: null,
      agentFields: ['plan', 'crmId', 'missing'],
    });
    await consent.setCampaignSettings(T, 'none', {
      kind: 'service',
      callbackHandoverMin: null,
      agentFields: [],
    });
  });
  afterAll(async () => {
    await g.stop();
  });

  async function offerOn(device: Device, campaignId: string) {
    const offered = next(device, 'call:offer');
    expect(await call(device, 'agent:ready', { campaignId })).toMatchObject({ ok: true });
    const [offer, reply] = await offered;
    reply({ accept: false });
    return offer;
  }

  it('a campaign that marks fields offers only those', async () => {
    const offer = await offerOn(await g.connect(T, 0), 'shown');
    expect(offer.lead.fields).toEqual({ plan: 'gold', crmId: 'C-17' });
    // The rest of the lead is as before.
    expect(offer.lead.name).toMatch(/^Lead /);
  });

  it('a campaign that marks none offers no field, and one that marks nothing offers all', async () => {
    expect((await offerOn(await g.connect(T, 1), 'none')).lead.fields).toEqual({});
    expect((await offerOn(await g.connect(T, 2), 'all')).lead.fields).toEqual(FIELDS);
  });

  it('a change of the setting counts from the next offer', async () => {
    await g.db.privacy.consent.setCampaignSettings(T, 'all', {
      kind: 'service',
      callbackHandoverMin: null,
      agentFields: ['notes'],
    });
    await g.gateway.offerFields.refresh(T, 'all'); // what PUT /campaigns/:c/privacy does
    expect((await offerOn(await g.connect(T, 3), 'all')).lead.fields).toEqual({ notes: 'owes us money' });
  });
});
