// The wallboard's per-tenant settings: the time zone that "today" is counted in, and how long an
// agent may stay in a state before its tile escalates. A tenant without a row gets the defaults.
import type { Knex } from 'knex';
import type { Migration } from './migration.js';

export const wallboard: Migration = {
  name: '0010_wallboard',

  async up(knex: Knex): Promise<void> {
    await knex.raw(`
      CREATE TABLE wallboard_settings (
        tenant_id text PRIMARY KEY,
        time_zone text NOT NULL DEFAULT 'UTC',
        thresholds jsonb NOT NULL DEFAULT '{}',
        updated_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT wallboard_settings_tenant_fk FOREIGN KEY (tenant_id) REFERENCES tenants (id) ON DELETE CASCADE
      );
    `);
  },

  async down(knex: Knex): Promise<void> {
    await knex.raw(`DROP TABLE IF EXISTS wallboard_settings;`);
  },
};
