// The schema comes and goes through the migrations alone, inside the schema of the connection.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MIGRATIONS } from '../../db/index.js';
import { createTestDatabase } from '../support/postgres.js';
import type { TestDatabase } from '../support/postgres.js';

const TABLES = [
  'api_keys',
  'audit_log',
  'call_attempts',
  'callbacks',
  'campaign_agents',
  'campaign_privacy',
  'campaign_rule_packs',
  'campaigns',
  'consents',
  'devices',
  'dnc',
  'followup_templates',
  'followups',
  'lead_import_rejects',
  'lead_imports',
  'lead_phones',
  'leads',
  'privacy_keys',
  'rights_requests',
  'rule_packs',
  'sessions',
  'suppressions',
  'tenants',
  'users',
  'wallboard_links',
  'wallboard_settings',
  'webhook_deliveries',
  'webhook_delivery_attempts',
  'webhook_endpoints',
  'webhook_events',
];

async function tablesIn(t: TestDatabase): Promise<string[]> {
  const { rows } = await t.db.knex.raw<{ rows: { table_name: string }[] }>(
    `SELECT table_name FROM information_schema.tables WHERE table_schema = ? ORDER BY table_name`,
    [t.schema],
  );
  return rows.map((r) => r.table_name).filter((name) => !name.startsWith('knex_'));
}

describe('migrations', () => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await createTestDatabase({ migrate: false });
  });
  afterAll(async () => {
    await t.dispose();
  });

  it('create every table in the connection schema, and a second run applies nothing', async () => {
    expect(await t.db.migrate()).toEqual(MIGRATIONS.map((m) => m.name));
    expect(await tablesIn(t)).toEqual(TABLES);
    expect(await t.db.migrate()).toEqual([]);
  });

  it('migrate down drops every table, and up restores them', async () => {
    expect(await t.db.migrateDown()).toEqual(MIGRATIONS.map((m) => m.name).reverse());
    expect(await tablesIn(t)).toEqual([]);
    await t.db.migrate();
    expect(await tablesIn(t)).toEqual(TABLES);
  });

  it('the test URL puts a raw pg client in the same schema', async () => {
    const client = new pg.Client({ connectionString: t.url });
    await client.connect();
    try {
      const { rows } = await client.query<{ schema: string }>('SELECT current_schema() AS schema');
      expect(rows[0]?.schema).toBe(t.schema);
      await client.query('SELECT count(*) FROM tenants');
    } finally {
      await client.end();
    }
  });
});
