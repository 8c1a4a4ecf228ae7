// Devices registered by logging in from them, API keys for machine clients, and the agents
// assigned to each campaign.
//
// API keys: only a SHA-256 of the key's secret part is kept (the secret is 256 random bits, so a
// slow hash adds nothing); the id is random and unique across tenants, so a presented key is found
// by its id alone, then its tenant comes from the row.
//
// Assignments: a campaign with no assigned agents is open to every agent of its tenant; once it
// has any, only they may work it.
import type { Knex } from 'knex';
import type { Migration } from './migration.js';

export const devicesKeys: Migration = {
  name: '0004_devices_keys',

  async up(knex: Knex): Promise<void> {
    await knex.raw(`
      ALTER TABLE devices ADD COLUMN model text NOT NULL DEFAULT '' CHECK (length(model) <= 120);
      ALTER TABLE devices ADD COLUMN app_version text NOT NULL DEFAULT '' CHECK (length(app_version) <= 40);
      ALTER TABLE devices ADD COLUMN last_login_at timestamptz;

      CREATE TABLE api_keys (
        tenant_id text NOT NULL,
        id text NOT NULL,
        name text NOT NULL,
        role text NOT NULL CHECK (role IN ('admin', 'supervisor', 'agent')),
        secret_hash bytea NOT NULL,
        created_by text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        last_used_at timestamptz,
        revoked_at timestamptz,
        PRIMARY KEY (tenant_id, id),
        CONSTRAINT api_keys_id_key UNIQUE (id),
        CONSTRAINT api_keys_tenant_fk FOREIGN KEY (tenant_id) REFERENCES tenants (id) ON DELETE CASCADE
      );

      CREATE TABLE campaign_agents (
        tenant_id text NOT NULL,
        campaign_id text NOT NULL,
        agent_id text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (tenant_id, campaign_id, agent_id),
        CONSTRAINT campaign_agents_campaign_fk FOREIGN KEY (tenant_id, campaign_id)
          REFERENCES campaigns (tenant_id, id) ON DELETE CASCADE,
        CONSTRAINT campaign_agents_agent_fk FOREIGN KEY (tenant_id, agent_id)
          REFERENCES users (tenant_id, id) ON DELETE CASCADE
      );
      CREATE INDEX campaign_agents_agent_idx ON campaign_agents (tenant_id, agent_id);
    `);
  },

  async down(knex: Knex): Promise<void> {
    await knex.raw(`
      DROP TABLE IF EXISTS campaign_agents;
      DROP TABLE IF EXISTS api_keys;
      ALTER TABLE devices DROP COLUMN IF EXISTS last_login_at;
      ALTER TABLE devices DROP COLUMN IF EXISTS app_version;
      ALTER TABLE devices DROP COLUMN IF EXISTS model;
    `);
  },
};
