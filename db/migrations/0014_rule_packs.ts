// A tenant's library of calling-rule packs (engine/calling-rules.ts's pack schema), which its
// campaigns reference by id next to their own inline packs.
//
// rule_packs: one pack per row, its name unique in the tenant. campaign_rule_packs: which
// campaigns use which packs, in order; a pack in use cannot be deleted (the foreign key refuses
// it at the end of the statement, so a tenant's deletion, which cascades to both, still goes
// through; the API answers RULE_PACK_IN_USE first). campaigns.own_calling_rules: a linked
// campaign's own preset and inline packs, while campaigns.calling_rules keeps what the engine
// runs (own packs, then the library's, resolved when the campaign is defined and again whenever
// one of its library packs changes). NULL: the campaign uses no library pack, and calling_rules
// are all its own.
//
// followups_completion_key: one follow-up per call from its completion (call:complete's followUp).
import type { Knex } from 'knex';
import type { Migration } from './migration.js';

export const rulePacks: Migration = {
  name: '0014_rule_packs',

  async up(knex: Knex): Promise<void> {
    await knex.raw(`
      CREATE TABLE rule_packs (
        tenant_id text NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
        id bigint GENERATED ALWAYS AS IDENTITY,
        name text NOT NULL CHECK (name <> '' AND length(name) <= 64),
        pack jsonb NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (tenant_id, id),
        CONSTRAINT rule_packs_name_key UNIQUE (tenant_id, name)
      );

      CREATE TABLE campaign_rule_packs (
        tenant_id text NOT NULL,
        campaign_id text NOT NULL,
        pack_id bigint NOT NULL,
        position smallint NOT NULL,
        PRIMARY KEY (tenant_id, campaign_id, pack_id),
        CONSTRAINT campaign_rule_packs_position_key UNIQUE (tenant_id, campaign_id, position),
        FOREIGN KEY (tenant_id, campaign_id) REFERENCES campaigns (tenant_id, id) ON DELETE CASCADE,
        FOREIGN KEY (tenant_id, pack_id) REFERENCES rule_packs (tenant_id, id)
      );
      CREATE INDEX campaign_rule_packs_pack_idx ON campaign_rule_packs (tenant_id, pack_id);

      ALTER TABLE campaigns ADD COLUMN own_calling_rules jsonb;

      -- The follow-up a device asks for in call:complete (gateway/followups/completion.ts) is
      -- made once per call: a retried completion finds it here instead of sending another.
      CREATE UNIQUE INDEX followups_completion_key ON followups (tenant_id, lease_id)
        WHERE created_by LIKE 'device:%';
    `);
  },

  async down(knex: Knex): Promise<void> {
    await knex.raw(`
      DROP INDEX IF EXISTS followups_completion_key;
      ALTER TABLE campaigns DROP COLUMN IF EXISTS own_calling_rules;
      DROP TABLE IF EXISTS campaign_rule_packs;
      DROP TABLE IF EXISTS rule_packs;
    `);
  },
};
