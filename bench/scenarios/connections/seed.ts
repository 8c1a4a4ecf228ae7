// Many devices fast: the tenant and campaign go through the repositories as usual, but the
// thousands of agents and devices are inserted in multi-row batches (the repositories register
// one device per transaction, counting the tenant's devices each time, which is right for people
// and far too slow for 20,000 simulated phones). Tokens are issued the way the admin API issues
// them.
import { ALWAYS_OPEN } from '../../../engine/calling-window.js';
import { parseCampaignConfig } from '../../../engine/campaign.js';
import { asAgentId, asDeviceId, asTenantId } from '../../../engine/ids.js';
import { createDatabase } from '../../../db/index.js';
import { createDeviceTokens } from '../../../gateway/auth/device-token.js';
import type { AgentCredential } from '../loop/api.js';
import type { PostgresPlace } from '../loop/seed.js';

const INSERT_BATCH = 2000;

export async function seedDevices(
  place: PostgresPlace,
  opts: {
    readonly tenantId: string;
    readonly campaignId: string;
    readonly devices: number;
    readonly secret: string;
  },
): Promise<AgentCredential[]> {
  const db = createDatabase({ url: place.url, searchPath: place.schema, pool: { max: 2 } });
  try {
    await db.migrate();
    await db.tenants.create({ id: opts.tenantId, name: 'Bench tenant', plan: { deviceLimit: opts.devices } });
    await db.campaigns.upsert({
      tenantId: opts.tenantId,
      id: opts.campaignId,
      name: 'Connections bench',
      status: 'active',
      config: parseCampaignConfig({ window: ALWAYS_OPEN }),
    });
    for (let from = 0; from < opts.devices; from += INSERT_BATCH) {
      const ids = Array.from({ length: Math.min(INSERT_BATCH, opts.devices - from) }, (_, k) => from + k);
      await db
        .knex('users')
        .insert(
          ids.map((i) => ({ tenant_id: opts.tenantId, id: `a${i}`, name: `Agent ${i}`, role: 'agent' })),
        );
      await db
        .knex('devices')
        .insert(
          ids.map((i) => ({ tenant_id: opts.tenantId, id: `d${i}`, user_id: `a${i}`, platform: 'android' })),
        );
    }
  } finally {
    await db.close();
  }
  const tokens = createDeviceTokens(opts.secret);
  return Promise.all(
    Array.from({ length: opts.devices }, async (_, i) => ({
      agentId: `a${i}`,
      deviceId: `d${i}`,
      token: await tokens.issue({
        tenantId: asTenantId(opts.tenantId),
        agentId: asAgentId(`a${i}`),
        deviceId: asDeviceId(`d${i}`),
      }),
    })),
  );
}
