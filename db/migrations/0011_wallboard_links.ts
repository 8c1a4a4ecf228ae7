// Wallboard TV links: a long-lived, read-only credential for a screen on the wall, created and
// revoked by a tenant's admin. Only a SHA-256 of the link's secret is kept (as for API keys).
import type { Knex } from 'knex';
import type { Migration } from './migration.js';

export const wallboardLinks: Migration = {
  name: '0011_wallboard_links',

  async up(knex: Knex): Promise<void> {
    await knex.raw(`
      CREATE TABLE wallboard_links (
        id text PRIMARY KEY,
        tenant_id text NOT NULL,
        name text NOT NULL,
        campaign_id text,
        secret_hash bytea NOT NULL,
        created_by text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        last_used_at timestamptz,
        revoked_at timestamptz,
        CONSTRAINT wallboard_links_tenant_fk FOREIGN KEY (tenant_id) REFERENCES tenants (id) ON DELETE CASCADE
      );
      CREATE INDEX wallboard_links_tenant ON wallboard_links (tenant_id, id);
    `);
  },

  async down(knex: Knex): Promise<void> {
    await knex.raw(`DROP TABLE IF EXISTS wallboard_links;`);
  },
};
