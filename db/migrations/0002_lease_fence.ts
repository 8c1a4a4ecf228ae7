// Fencing the commit of a completion in Postgres.
//
// A completion is claimed in the queue, committed here, then applied to the queue. If the process
// that claimed it dies (or stalls) before committing, the reaper must put the lead back, and must
// be sure the stalled commit can never land afterwards (the lead would be final here while
// another agent calls the person). It does so by recording the lease as void in call_attempts:
// the unique key (tenant_id, lease_id) makes the void and the commit mutually exclusive, whichever
// comes second finds the other. A void row is not a call: every read of the call log skips it.
import type { Knex } from 'knex';
import type { Migration } from './migration.js';

export const leaseFence: Migration = {
  name: '0002_lease_fence',

  async up(knex: Knex): Promise<void> {
    await knex.raw(`
      ALTER TABLE call_attempts ADD COLUMN voided boolean NOT NULL DEFAULT false;
      CREATE INDEX call_attempts_calls_idx ON call_attempts (tenant_id, campaign_id, completed_at)
        WHERE NOT voided;
    `);
  },

  async down(knex: Knex): Promise<void> {
    await knex.raw(`
      DROP INDEX IF EXISTS call_attempts_calls_idx;
      ALTER TABLE call_attempts DROP COLUMN IF EXISTS voided;
    `);
  },
};
