// The admin API's callbacks and per-campaign lease lengths.
//
// callbacks: an admin (or a CRM) schedules a callback for a lead without a call having asked for
// it, so a callback need not hang off a call attempt any more: lease_id becomes optional (NULL for
// one made through the API; the unique key still holds one callback per lease) and `source` says
// which. Listing a campaign's pending callbacks by due time gets its index.
//
// campaigns: how long an offer waits to be accepted (offer_ttl_ms) and how long an accepted
// call's lease lives between heartbeats (call_ttl_ms), each NULL for the deployment's default
// (OFFER_TTL_MS, CALL_TTL_MS); and the zone given to leads whose zone is neither sent nor
// derivable from their number (default_time_zone, NULL: the tenant plan's, else none).
import type { Knex } from 'knex';
import type { Migration } from './migration.js';

export const callbacksApi: Migration = {
  name: '0018_callbacks_api',

  async up(knex: Knex): Promise<void> {
    await knex.raw(`
      ALTER TABLE callbacks ALTER COLUMN lease_id DROP NOT NULL;
      ALTER TABLE callbacks ADD COLUMN source text NOT NULL DEFAULT 'outcome'
        CHECK (source IN ('outcome', 'api'));
      ALTER TABLE callbacks ADD CONSTRAINT callbacks_source_lease_check
        CHECK ((source = 'outcome') = (lease_id IS NOT NULL));
      CREATE INDEX callbacks_pending_campaign_idx ON callbacks (tenant_id, campaign_id, due_at, id)
        WHERE status = 'pending';

      ALTER TABLE campaigns
        ADD COLUMN offer_ttl_ms integer CHECK (offer_ttl_ms BETWEEN 1000 AND 300000),
        ADD COLUMN call_ttl_ms integer CHECK (call_ttl_ms BETWEEN 10000 AND 3600000),
        ADD COLUMN default_time_zone text CHECK (default_time_zone <> '' AND length(default_time_zone) <= 64);
    `);
  },

  async down(knex: Knex): Promise<void> {
    await knex.raw(`
      ALTER TABLE campaigns
        DROP COLUMN IF EXISTS default_time_zone,
        DROP COLUMN IF EXISTS call_ttl_ms,
        DROP COLUMN IF EXISTS offer_ttl_ms;
      DROP INDEX IF EXISTS callbacks_pending_campaign_idx;
      DELETE FROM callbacks WHERE lease_id IS NULL;
      ALTER TABLE callbacks DROP CONSTRAINT IF EXISTS callbacks_source_lease_check;
      ALTER TABLE callbacks DROP COLUMN IF EXISTS source;
      ALTER TABLE callbacks ALTER COLUMN lease_id SET NOT NULL;
    `);
  },
};
