// The run's Postgres: two private schemas on the shared server (other people's tests use it at the
// same time), one for dialhub (migrated, with a tenant, N agents each with one registered device,
// and one always-open campaign) and one for the BullMQ dialer's outcomes table; both dropped at
// the end. Each pool announces itself with an application_name, so the orchestrator can find the
// backends serving it (pg_stat_activity) and charge their CPU to the right system.
import pg from 'pg';
import { ALWAYS_OPEN } from '../../../engine/calling-window.js';
import { parseCampaignConfig } from '../../../engine/campaign.js';
import { asAgentId, asDeviceId, asTenantId } from '../../../engine/ids.js';
import { createDatabase } from '../../../db/index.js';
import { createDeviceTokens } from '../../../gateway/auth/device-token.js';
import type { ConfigInput } from '../../../gateway/config.js';
import type { ScenarioContext } from '../../lib/scenario.js';
import type { AgentCredential } from './api.js';
import type { DialhubServerArgs } from './dialhub-server.js';

export const TENANT = 'bench';
export const CAMPAIGN = 'loop';

/** Rows created at once while seeding (the pool's size). */
const SEED_CONCURRENCY = 10;

export interface PostgresPlace {
  readonly schema: string;
  /** The server URL with this pool's application_name (and, for raw pg, its search_path). */
  readonly url: string;
  readonly applicationName: string;
}

export interface SeededPostgres {
  readonly dialhub: PostgresPlace;
  readonly bullmq: PostgresPlace;
  /** Drop both schemas (after every process using them is gone). Never throws. */
  drop(): Promise<void>;
}

function withParams(url: string, params: Record<string, string>): string {
  const u = new URL(url);
  for (const [k, v] of Object.entries(params)) u.searchParams.set(k, v);
  return u.toString();
}

async function admin(url: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/** Run `work` over `items`, `limit` at a time. */
async function eachLimited<T>(items: readonly T[], limit: number, work: (t: T) => Promise<unknown>) {
  let next = 0;
  const lane = async () => {
    while (next < items.length) await work(items[next++]!);
  };
  await Promise.all(Array.from({ length: limit }, lane));
}

/** Create the schemas; the caller must call drop() whatever happens next. */
export async function createSchemas(url: string, runId: string): Promise<SeededPostgres> {
  const dhSchema = `bench_${runId}_dh`;
  const bqSchema = `bench_${runId}_bq`;
  const dropped = { done: false };
  const drop = async () => {
    if (dropped.done) return;
    dropped.done = true;
    await admin(
      url,
      `DROP SCHEMA IF EXISTS ${dhSchema} CASCADE; DROP SCHEMA IF EXISTS ${bqSchema} CASCADE`,
    ).catch(() => undefined);
  };
  try {
    await admin(url, `CREATE SCHEMA ${dhSchema}; CREATE SCHEMA ${bqSchema}`);
    // The BullMQ dialer's table: what one completed call leaves, with a unique job id, the
    // counterpart of dialhub's unique lease id (both make a repeated write harmless).
    await admin(
      url,
      `CREATE TABLE ${bqSchema}.call_outcomes (
         id bigserial PRIMARY KEY,
         job_id text NOT NULL UNIQUE,
         lead_id text NOT NULL,
         agent_id text NOT NULL,
         outcome text NOT NULL,
         duration_sec integer NOT NULL,
         completed_at timestamptz NOT NULL DEFAULT now()
       )`,
    );
  } catch (err) {
    await drop();
    throw err;
  }
  const dhApp = `bench-${runId}-dialhub`;
  const bqApp = `bench-${runId}-bullmq`;
  return {
    dialhub: { schema: dhSchema, url: withParams(url, { application_name: dhApp }), applicationName: dhApp },
    bullmq: {
      schema: bqSchema,
      url: withParams(url, { application_name: bqApp, options: `-c search_path=${bqSchema}` }),
      applicationName: bqApp,
    },
    drop,
  };
}

/**
 * Migrate dialhub's schema and seed it: the tenant (device limit = agents), agents a0..aN-1 each
 * with device d0..dN-1, the always-open campaign. Returns each agent's device credentials.
 */
export async function seedDialhub(
  place: PostgresPlace,
  agents: number,
  deviceTokenSecret: string,
): Promise<AgentCredential[]> {
  const db = createDatabase({ url: place.url, searchPath: place.schema, pool: { max: SEED_CONCURRENCY } });
  try {
    await db.migrate();
    await db.tenants.create({ id: TENANT, name: 'Bench tenant', plan: { deviceLimit: agents } });
    const indexes = Array.from({ length: agents }, (_, i) => i);
    await eachLimited(indexes, SEED_CONCURRENCY, (i) =>
      db.users.create({ tenantId: TENANT, id: `a${i}`, name: `Agent ${i}`, role: 'agent' }),
    );
    await eachLimited(indexes, SEED_CONCURRENCY, (i) =>
      db.devices.register({
        tenantId: TENANT,
        id: `d${i}`,
        userId: `a${i}`,
        label: `Phone ${i}`,
        platform: 'android',
      }),
    );
    await db.campaigns.upsert({
      tenantId: TENANT,
      id: CAMPAIGN,
      name: 'Loop bench',
      status: 'active',
      config: parseCampaignConfig({ window: ALWAYS_OPEN }),
    });
  } finally {
    await db.close();
  }
  const tokens = createDeviceTokens(deviceTokenSecret);
  return Promise.all(
    Array.from({ length: agents }, async (_, i) => ({
      agentId: `a${i}`,
      deviceId: `d${i}`,
      token: await tokens.issue({
        tenantId: asTenantId(TENANT),
        agentId: asAgentId(`a${i}`),
        deviceId: asDeviceId(`d${i}`),
      }),
    })),
  );
}

/**
 * The arguments of a dialhub gateway child (dialhub-server.ts) on the seeded schema: the run's
 * key prefix, the seeded tenant and campaign, and `config` on top of the gateway's defaults.
 */
export function dialhubServerArgs(
  ctx: Pick<ScenarioContext, 'redisUrl' | 'keyPrefix'>,
  place: PostgresPlace,
  deviceTokenSecret: string,
  config: ConfigInput,
): DialhubServerArgs {
  return {
    redisUrl: ctx.redisUrl,
    keyPrefix: `${ctx.keyPrefix}dh:`,
    postgresUrl: place.url,
    schema: place.schema,
    deviceTokenSecret,
    tenantId: TENANT,
    campaignId: CAMPAIGN,
    config,
  };
}
