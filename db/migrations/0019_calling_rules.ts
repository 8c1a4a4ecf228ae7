// A campaign's calling rules (engine/calling-rules.ts): its preset and the rule packs the tenant
// adds per region (holidays, regional hours, call caps, minimum gap, lockout), stored as the
// engine parsed them, next to the calling window. NULL: no preset and no packs.
import type { Knex } from 'knex';
import type { Migration } from './migration.js';

export const callingRules: Migration = {
  name: '0019_calling_rules',

  async up(knex: Knex): Promise<void> {
    await knex.raw(`ALTER TABLE campaigns ADD COLUMN calling_rules jsonb`);
  },

  async down(knex: Knex): Promise<void> {
    await knex.raw(`ALTER TABLE campaigns DROP COLUMN calling_rules`);
  },
};
