// The consent ledger and each campaign's privacy settings.
//
// consents: one row per consent recorded for a number and channel (voice, sms, whatsapp), with
// its source, when it was given, when it expires and a reference to the evidence (a form id, a
// recording). The number is kept as its keyed hash (privacy_keys, as the erasure list does), so
// the ledger names nobody to whoever lacks the tenant's key. A withdrawal stamps withdrawn_at on
// every live row of the number; rows are never deleted except by erasure (the evidence stays).
//
// campaign_privacy: the campaign's kind (a marketing campaign offers only numbers with live
// voice consent) and how long an agent-only callback waits for its agent before anyone may take
// it. A campaign with no row is a service campaign with no hand-over.
import type { Knex } from 'knex';
import type { Migration } from './migration.js';

export const consent: Migration = {
  name: '0016_consent',

  async up(knex: Knex): Promise<void> {
    await knex.raw(`
      CREATE TABLE consents (
        tenant_id text NOT NULL,
        id bigint GENERATED ALWAYS AS IDENTITY,
        phone_hash bytea NOT NULL CHECK (length(phone_hash) = 32),
        channel text NOT NULL CHECK (channel IN ('voice', 'sms', 'whatsapp')),
        source text NOT NULL CHECK (length(source) BETWEEN 1 AND 200),
        given_at timestamptz NOT NULL,
        expires_at timestamptz,
        evidence_ref text CHECK (length(evidence_ref) <= 500),
        withdrawn_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (tenant_id, id),
        CONSTRAINT consents_tenant_fk FOREIGN KEY (tenant_id) REFERENCES tenants (id) ON DELETE CASCADE,
        CHECK (expires_at IS NULL OR expires_at > given_at)
      );
      CREATE INDEX consents_subject_idx ON consents (tenant_id, phone_hash, channel);

      CREATE TABLE campaign_privacy (
        tenant_id text NOT NULL,
        campaign_id text NOT NULL,
        kind text NOT NULL DEFAULT 'service' CHECK (kind IN ('service', 'marketing')),
        callback_handover_min integer CHECK (callback_handover_min BETWEEN 0 AND 10080),
        updated_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (tenant_id, campaign_id),
        CONSTRAINT campaign_privacy_campaign_fk FOREIGN KEY (tenant_id, campaign_id)
          REFERENCES campaigns (tenant_id, id) ON DELETE CASCADE
      );
    `);
  },

  async down(knex: Knex): Promise<void> {
    await knex.raw(`
      DROP TABLE IF EXISTS campaign_privacy;
      DROP TABLE IF EXISTS consents;
    `);
  },
};
