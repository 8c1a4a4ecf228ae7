// The core schema: tenants and their people and devices, campaigns, leads, the call log and what
// it spawns (callbacks, do-not-call entries), and the audit log.
//
// Tenancy: every table carries tenant_id and every key starts with it, so each lookup the
// repositories make is an index range inside one tenant, and a foreign key can never join rows
// of two tenants (they are all composite, tenant first).
//
// Tables are unqualified: they land in the first schema of the connection's search_path, which
// is how each test file gets a private copy of the whole schema.
import type { Knex } from 'knex';
import type { Migration } from './migration.js';

const E164 = `'^[+][1-9][0-9]{6,14}$'`;

export const core: Migration = {
  name: '0001_core',

  async up(knex: Knex): Promise<void> {
    await knex.raw(`
      CREATE TABLE tenants (
        id text PRIMARY KEY,
        name text NOT NULL,
        plan jsonb NOT NULL DEFAULT '{}',
        created_at timestamptz NOT NULL DEFAULT now()
      );

      CREATE TABLE users (
        tenant_id text NOT NULL,
        id text NOT NULL,
        name text NOT NULL,
        role text NOT NULL CHECK (role IN ('admin', 'supervisor', 'agent')),
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (tenant_id, id),
        CONSTRAINT users_tenant_fk FOREIGN KEY (tenant_id) REFERENCES tenants (id) ON DELETE CASCADE
      );

      CREATE TABLE devices (
        tenant_id text NOT NULL,
        id text NOT NULL,
        user_id text NOT NULL,
        label text NOT NULL DEFAULT '',
        platform text NOT NULL,
        registered_at timestamptz NOT NULL DEFAULT now(),
        revoked_at timestamptz,
        PRIMARY KEY (tenant_id, id),
        CONSTRAINT devices_user_fk FOREIGN KEY (tenant_id, user_id)
          REFERENCES users (tenant_id, id) ON DELETE CASCADE
      );
      -- The plan's device limit counts active devices on every registration.
      CREATE INDEX devices_active_idx ON devices (tenant_id) WHERE revoked_at IS NULL;

      -- "window" is a reserved word in SQL, hence calling_window.
      CREATE TABLE campaigns (
        tenant_id text NOT NULL,
        id text NOT NULL,
        name text NOT NULL,
        status text NOT NULL CHECK (status IN ('active', 'paused', 'archived')),
        calling_window jsonb NOT NULL,
        dispositions jsonb NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (tenant_id, id),
        CONSTRAINT campaigns_tenant_fk FOREIGN KEY (tenant_id) REFERENCES tenants (id) ON DELETE CASCADE
      );

      -- id is an identity, so id order is import order: the queue's "first in".
      -- time_zone holds an engine ZoneKey (zones sorted, joined by ','); NULL means unknown,
      -- and such a lead is never dialled.
      CREATE TABLE leads (
        tenant_id text NOT NULL,
        id bigint GENERATED ALWAYS AS IDENTITY,
        campaign_id text NOT NULL,
        phone text NOT NULL CHECK (phone ~ ${E164}),
        name text NOT NULL DEFAULT '',
        time_zone text CHECK (time_zone <> ''),
        priority smallint NOT NULL DEFAULT 0 CHECK (priority BETWEEN 0 AND 255),
        status text NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'final', 'removed')),
        attempts integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
        next_due_at timestamptz,
        pinned_agent_id text,
        fields jsonb NOT NULL DEFAULT '{}',
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (tenant_id, id),
        CONSTRAINT leads_campaign_fk FOREIGN KEY (tenant_id, campaign_id)
          REFERENCES campaigns (tenant_id, id) ON DELETE CASCADE
      );
      -- The rebuild streams a campaign's queued leads in id order (keyset pages).
      CREATE INDEX leads_queue_idx ON leads (tenant_id, campaign_id, status, id);
      -- DNC and erasure find every lead with a number.
      CREATE INDEX leads_phone_idx ON leads (tenant_id, phone);

      -- One row per lease: the unique key is what makes a repeated completion harmless. Lease
      -- ids embed their campaign id (engine/lease.ts), so they are unique within a tenant.
      CREATE TABLE call_attempts (
        tenant_id text NOT NULL,
        id bigint GENERATED ALWAYS AS IDENTITY,
        lease_id text NOT NULL,
        campaign_id text NOT NULL,
        lead_id bigint NOT NULL,
        agent_id text NOT NULL,
        device_id text NOT NULL,
        outcome text NOT NULL,
        disposition text NOT NULL,
        attempts integer NOT NULL CHECK (attempts >= 0),
        late boolean NOT NULL DEFAULT false,
        duration_sec integer NOT NULL DEFAULT 0 CHECK (duration_sec >= 0),
        notes text,
        tags text[] NOT NULL DEFAULT '{}',
        callback_at timestamptz,
        callback_scope text CHECK (callback_scope IN ('agent', 'anyone')),
        follow_up jsonb,
        completed_at timestamptz NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (tenant_id, id),
        CONSTRAINT call_attempts_lease_key UNIQUE (tenant_id, lease_id),
        CONSTRAINT call_attempts_lead_fk FOREIGN KEY (tenant_id, lead_id)
          REFERENCES leads (tenant_id, id) ON DELETE CASCADE,
        CHECK ((callback_at IS NULL) = (callback_scope IS NULL))
      );
      CREATE INDEX call_attempts_lead_idx ON call_attempts (tenant_id, lead_id);

      -- At most one callback per lease (the attempt that asked for it); agent_id NULL = anyone.
      CREATE TABLE callbacks (
        tenant_id text NOT NULL,
        id bigint GENERATED ALWAYS AS IDENTITY,
        campaign_id text NOT NULL,
        lead_id bigint NOT NULL,
        agent_id text,
        due_at timestamptz NOT NULL,
        status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'done', 'cancelled')),
        lease_id text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (tenant_id, id),
        CONSTRAINT callbacks_lease_key UNIQUE (tenant_id, lease_id),
        CONSTRAINT callbacks_lead_fk FOREIGN KEY (tenant_id, lead_id)
          REFERENCES leads (tenant_id, id) ON DELETE CASCADE,
        CONSTRAINT callbacks_attempt_fk FOREIGN KEY (tenant_id, lease_id)
          REFERENCES call_attempts (tenant_id, lease_id) ON DELETE CASCADE
      );
      CREATE INDEX callbacks_pending_lead_idx ON callbacks (tenant_id, lead_id) WHERE status = 'pending';
      CREATE INDEX callbacks_pending_agent_idx ON callbacks (tenant_id, agent_id, due_at)
        WHERE status = 'pending';

      CREATE TABLE dnc (
        tenant_id text NOT NULL,
        phone text NOT NULL CHECK (phone ~ ${E164}),
        source text NOT NULL CHECK (source IN ('outcome', 'import', 'api', 'erasure')),
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (tenant_id, phone),
        CONSTRAINT dnc_tenant_fk FOREIGN KEY (tenant_id) REFERENCES tenants (id) ON DELETE CASCADE
      );

      CREATE TABLE audit_log (
        tenant_id text NOT NULL,
        id bigint GENERATED ALWAYS AS IDENTITY,
        at timestamptz NOT NULL DEFAULT now(),
        actor text NOT NULL,
        action text NOT NULL,
        subject text NOT NULL DEFAULT '',
        details jsonb NOT NULL DEFAULT '{}',
        PRIMARY KEY (tenant_id, id),
        CONSTRAINT audit_log_tenant_fk FOREIGN KEY (tenant_id) REFERENCES tenants (id) ON DELETE CASCADE
      );
    `);
  },

  async down(knex: Knex): Promise<void> {
    await knex.raw(`
      DROP TABLE IF EXISTS audit_log;
      DROP TABLE IF EXISTS dnc;
      DROP TABLE IF EXISTS callbacks;
      DROP TABLE IF EXISTS call_attempts;
      DROP TABLE IF EXISTS leads;
      DROP TABLE IF EXISTS campaigns;
      DROP TABLE IF EXISTS devices;
      DROP TABLE IF EXISTS users;
      DROP TABLE IF EXISTS tenants;
    `);
  },
};
