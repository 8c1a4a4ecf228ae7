// Data-subject rights: erasure that leaves no number behind, and the requests' record.
//
// privacy_keys: one random HMAC key per tenant. An erased number is kept only as
// HMAC-SHA256(key, number) in `suppressions`, so an import can still be scrubbed against it
// while the list itself names nobody: matching a hash needs the tenant's key.
//
// rights_requests: every access, rectification and erasure request, with the deadline the law
// gives (one month from receipt) and its status; the subject is the keyed hash, never the number.
import type { Knex } from 'knex';
import type { Migration } from './migration.js';

export const privacy: Migration = {
  name: '0015_privacy',

  async up(knex: Knex): Promise<void> {
    await knex.raw(`
      CREATE TABLE privacy_keys (
        tenant_id text PRIMARY KEY,
        hmac_key bytea NOT NULL CHECK (length(hmac_key) = 32),
        created_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT privacy_keys_tenant_fk FOREIGN KEY (tenant_id) REFERENCES tenants (id) ON DELETE CASCADE
      );

      CREATE TABLE suppressions (
        tenant_id text NOT NULL,
        phone_hash bytea NOT NULL CHECK (length(phone_hash) = 32),
        reason text NOT NULL CHECK (reason IN ('erasure')),
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (tenant_id, phone_hash),
        CONSTRAINT suppressions_tenant_fk FOREIGN KEY (tenant_id) REFERENCES tenants (id) ON DELETE CASCADE
      );

      CREATE TABLE rights_requests (
        tenant_id text NOT NULL,
        id bigint GENERATED ALWAYS AS IDENTITY,
        kind text NOT NULL CHECK (kind IN ('access', 'rectification', 'erasure')),
        subject_hash bytea NOT NULL CHECK (length(subject_hash) = 32),
        status text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'completed')),
        actor text NOT NULL,
        received_at timestamptz NOT NULL,
        due_at timestamptz NOT NULL,
        completed_at timestamptz,
        details jsonb NOT NULL DEFAULT '{}',
        PRIMARY KEY (tenant_id, id),
        CONSTRAINT rights_requests_tenant_fk FOREIGN KEY (tenant_id) REFERENCES tenants (id) ON DELETE CASCADE,
        CHECK ((status = 'completed') = (completed_at IS NOT NULL))
      );
      CREATE INDEX rights_requests_open_idx ON rights_requests (tenant_id, due_at) WHERE status = 'open';
      CREATE INDEX rights_requests_subject_idx ON rights_requests (tenant_id, subject_hash);
    `);
  },

  async down(knex: Knex): Promise<void> {
    await knex.raw(`
      DROP TABLE IF EXISTS rights_requests;
      DROP TABLE IF EXISTS suppressions;
      DROP TABLE IF EXISTS privacy_keys;
    `);
  },
};
