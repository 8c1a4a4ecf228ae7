// Follow-ups (SMS and WhatsApp messages after a call) and a cheaper webhook outbox.
//
// followup_templates: a campaign's message templates, per channel, with lead variables
// ({{name}}, {{firstName}}, {{fields.KEY}}) filled in when a follow-up is made.
//
// followups: one row per message, with its metadata (channel, template, time, status) and the
// call attempt it follows (lease_id) when there is one. The rendered body names the person, so a
// row goes with its lead (erasure, retention) and with its attempt (retention). SMS rows are
// their own durable outbox: `pending` until the provider accepted them (`sent`) or the tries ran
// out (`failed`); the worker claims due rows with FOR UPDATE SKIP LOCKED and a visibility timeout,
// as the webhook worker does. A WhatsApp follow-up is a click-to-chat link handed to the device
// (`handed_over`): the device's own WhatsApp sends it, so there is nothing to retry.
//
// campaign_privacy.agent_fields: the custom fields of a lead the campaign shows its agents (data
// minimization: the offer carries only these); NULL shows them all, as before this column.
//
// Custom lead fields within the tenant's limits: a tenant's plan may set
// `leadFields: { maxCount, maxValueLength }` (under the global limits of engine/lead.ts). The
// triggers below refuse any write of leads over them, whichever path wrote it (the API, the CSV
// import's COPY, rectification): statement-level for inserts (one set-based check per statement,
// skipped at once unless one of the statement's tenants has limits), row-level for updates that
// change the fields (rare: rectification). The error is a check_violation naming the limits,
// never a value.
//
// The webhook triggers of call_attempts and callbacks (migration 0017) run on every outcome
// statement. They gave up early only when the tenant had no active endpoint at all; a tenant with
// an endpoint for other event types (agent.state_changed, say) still built the JSON of every row
// for webhook_emit to throw away. Here they give up unless an active endpoint of one of the
// statement's tenants takes one of the trigger's own event types (webhook_listened).
import type { Knex } from 'knex';
import type { Migration } from './migration.js';

export const followups: Migration = {
  name: '0012_followups',

  async up(knex: Knex): Promise<void> {
    await knex.raw(`
      CREATE TABLE followup_templates (
        tenant_id text NOT NULL,
        campaign_id text NOT NULL,
        id text NOT NULL CHECK (id ~ '^[A-Za-z0-9_-]{1,64}$'),
        channel text NOT NULL CHECK (channel IN ('sms', 'whatsapp')),
        body text NOT NULL CHECK (length(body) BETWEEN 1 AND 1000),
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (tenant_id, campaign_id, id),
        CONSTRAINT followup_templates_campaign_fk FOREIGN KEY (tenant_id, campaign_id)
          REFERENCES campaigns (tenant_id, id) ON DELETE CASCADE
      );

      CREATE TABLE followups (
        tenant_id text NOT NULL,
        id bigint GENERATED ALWAYS AS IDENTITY,
        campaign_id text NOT NULL,
        lead_id bigint NOT NULL,
        lease_id text,
        template_id text NOT NULL,
        channel text NOT NULL CHECK (channel IN ('sms', 'whatsapp')),
        body text NOT NULL,
        status text NOT NULL CHECK (status IN ('pending', 'sent', 'failed', 'handed_over')),
        attempts integer NOT NULL DEFAULT 0,
        next_attempt_at timestamptz,
        last_status integer,
        last_error text,
        provider_ref text,
        sent_at timestamptz,
        created_by text NOT NULL,
        created_at timestamptz NOT NULL,
        PRIMARY KEY (tenant_id, id),
        CONSTRAINT followups_lead_fk FOREIGN KEY (tenant_id, lead_id)
          REFERENCES leads (tenant_id, id) ON DELETE CASCADE,
        CONSTRAINT followups_attempt_fk FOREIGN KEY (tenant_id, lease_id)
          REFERENCES call_attempts (tenant_id, lease_id) ON DELETE CASCADE
      );
      CREATE INDEX followups_due_idx ON followups (next_attempt_at) WHERE status = 'pending';
      CREATE INDEX followups_lead_idx ON followups (tenant_id, lead_id);
      CREATE INDEX followups_attempt_idx ON followups (tenant_id, lease_id) WHERE lease_id IS NOT NULL;
      CREATE INDEX followups_recent_idx ON followups (tenant_id, id);

      ALTER TABLE campaign_privacy ADD COLUMN agent_fields text[]
        CHECK (agent_fields IS NULL OR cardinality(agent_fields) <= 100);

      -- The first limit a lead's fields break in its tenant's plan, or NULL.
      CREATE FUNCTION lead_fields_fault(plan jsonb, fields jsonb) RETURNS text
        LANGUAGE sql IMMUTABLE AS $fn$
        SELECT CASE
          WHEN (SELECT count(*) FROM jsonb_object_keys(fields)) > (plan->'leadFields'->>'maxCount')::int
            THEN format('at most %s custom fields in this tenant', plan->'leadFields'->>'maxCount')
          WHEN EXISTS (SELECT 1 FROM jsonb_each_text(fields) e
                        WHERE length(e.value) > (plan->'leadFields'->>'maxValueLength')::int)
            THEN format('custom field values of at most %s characters in this tenant',
                        plan->'leadFields'->>'maxValueLength')
        END;
      $fn$;

      CREATE FUNCTION leads_fields_insert() RETURNS trigger LANGUAGE plpgsql AS $fn$
      DECLARE
        fault text;
      BEGIN
        IF NOT EXISTS (SELECT 1 FROM tenants t
                        WHERE t.id IN (SELECT DISTINCT tenant_id FROM new_rows) AND t.plan -> 'leadFields' IS NOT NULL) THEN
          RETURN NULL;
        END IF;
        SELECT lead_fields_fault(t.plan, n.fields) INTO fault
          FROM new_rows n JOIN tenants t ON t.id = n.tenant_id
         WHERE t.plan -> 'leadFields' IS NOT NULL AND lead_fields_fault(t.plan, n.fields) IS NOT NULL
         LIMIT 1;
        IF fault IS NOT NULL THEN
          RAISE EXCEPTION 'lead fields over the limit: %', fault
            USING ERRCODE = 'check_violation', CONSTRAINT = 'lead_fields_within_plan';
        END IF;
        RETURN NULL;
      END $fn$;
      CREATE TRIGGER leads_fields_insert AFTER INSERT ON leads
        REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION leads_fields_insert();

      CREATE FUNCTION leads_fields_update() RETURNS trigger LANGUAGE plpgsql AS $fn$
      DECLARE
        fault text;
      BEGIN
        SELECT lead_fields_fault(t.plan, NEW.fields) INTO fault
          FROM tenants t WHERE t.id = NEW.tenant_id AND t.plan -> 'leadFields' IS NOT NULL;
        IF fault IS NOT NULL THEN
          RAISE EXCEPTION 'lead fields over the limit: %', fault
            USING ERRCODE = 'check_violation', CONSTRAINT = 'lead_fields_within_plan';
        END IF;
        RETURN NEW;
      END $fn$;
      CREATE TRIGGER leads_fields_update BEFORE UPDATE OF fields ON leads
        FOR EACH ROW WHEN (NEW.fields IS DISTINCT FROM OLD.fields) EXECUTE FUNCTION leads_fields_update();

      -- Does an active endpoint of one of these tenants take one of these event types?
      CREATE FUNCTION webhook_listened(tenants text[], types text[]) RETURNS boolean
        LANGUAGE sql STABLE AS $fn$
        SELECT EXISTS (SELECT 1 FROM webhook_endpoints w
                        WHERE w.active AND w.tenant_id = ANY (tenants) AND w.events && types);
      $fn$;

      CREATE OR REPLACE FUNCTION webhook_call_attempts() RETURNS trigger LANGUAGE plpgsql AS $fn$
      BEGIN
        IF NOT webhook_listened(ARRAY(SELECT DISTINCT tenant_id FROM new_rows),
                                ARRAY['call.completed', 'lead.dispositioned']) THEN
          RETURN NULL;
        END IF;
        PERFORM webhook_emit(coalesce(jsonb_agg(e), '[]'::jsonb)) FROM (
          SELECT n.tenant_id, 'call.completed' AS type, jsonb_build_object(
              'leaseId', n.lease_id, 'campaignId', n.campaign_id, 'leadId', n.lead_id::text,
              'agentId', n.agent_id, 'deviceId', n.device_id, 'outcome', n.outcome,
              'attempts', n.attempts, 'durationSec', n.duration_sec, 'late', n.late, 'tags', n.tags,
              'callbackAt', n.callback_at, 'callbackScope', n.callback_scope,
              'completedAt', n.completed_at) AS payload
            FROM new_rows n WHERE NOT n.voided
          UNION ALL
          SELECT n.tenant_id, 'lead.dispositioned', jsonb_build_object(
              'leadId', n.lead_id::text, 'campaignId', n.campaign_id, 'outcome', n.outcome,
              'disposition', split_part(n.disposition, ':', 1),
              'status', CASE WHEN split_part(n.disposition, ':', 1) IN ('retry', 'callback')
                             THEN 'queued' ELSE 'final' END,
              'nextDueAt', CASE WHEN split_part(n.disposition, ':', 2) = '' THEN NULL
                                ELSE to_timestamp(split_part(n.disposition, ':', 2)::bigint / 1000.0) END,
              'attempts', n.attempts, 'at', n.completed_at)
            FROM new_rows n WHERE NOT n.voided) e;
        RETURN NULL;
      END $fn$;

      CREATE OR REPLACE FUNCTION webhook_callbacks() RETURNS trigger LANGUAGE plpgsql AS $fn$
      BEGIN
        IF NOT webhook_listened(ARRAY(SELECT DISTINCT tenant_id FROM new_rows),
                                ARRAY['callback.scheduled']) THEN
          RETURN NULL;
        END IF;
        PERFORM webhook_emit(coalesce(jsonb_agg(e), '[]'::jsonb)) FROM (
          SELECT n.tenant_id, 'callback.scheduled' AS type, jsonb_build_object(
              'callbackId', n.id::text, 'campaignId', n.campaign_id, 'leadId', n.lead_id::text,
              'agentId', n.agent_id, 'dueAt', n.due_at) AS payload
            FROM new_rows n WHERE n.status = 'pending') e;
        RETURN NULL;
      END $fn$;
    `);
  },

  async down(knex: Knex): Promise<void> {
    // Back to 0017's trigger functions (verbatim), then drop what this one added.
    await knex.raw(`
      CREATE OR REPLACE FUNCTION webhook_call_attempts() RETURNS trigger LANGUAGE plpgsql AS $fn$
      BEGIN
        IF NOT EXISTS (SELECT 1 FROM webhook_endpoints w
                        WHERE w.active AND w.tenant_id IN (SELECT tenant_id FROM new_rows)) THEN
          RETURN NULL;
        END IF;
        PERFORM webhook_emit(coalesce(jsonb_agg(e), '[]'::jsonb)) FROM (
          SELECT n.tenant_id, 'call.completed' AS type, jsonb_build_object(
              'leaseId', n.lease_id, 'campaignId', n.campaign_id, 'leadId', n.lead_id::text,
              'agentId', n.agent_id, 'deviceId', n.device_id, 'outcome', n.outcome,
              'attempts', n.attempts, 'durationSec', n.duration_sec, 'late', n.late, 'tags', n.tags,
              'callbackAt', n.callback_at, 'callbackScope', n.callback_scope,
              'completedAt', n.completed_at) AS payload
            FROM new_rows n WHERE NOT n.voided
          UNION ALL
          SELECT n.tenant_id, 'lead.dispositioned', jsonb_build_object(
              'leadId', n.lead_id::text, 'campaignId', n.campaign_id, 'outcome', n.outcome,
              'disposition', split_part(n.disposition, ':', 1),
              'status', CASE WHEN split_part(n.disposition, ':', 1) IN ('retry', 'callback')
                             THEN 'queued' ELSE 'final' END,
              'nextDueAt', CASE WHEN split_part(n.disposition, ':', 2) = '' THEN NULL
                                ELSE to_timestamp(split_part(n.disposition, ':', 2)::bigint / 1000.0) END,
              'attempts', n.attempts, 'at', n.completed_at)
            FROM new_rows n WHERE NOT n.voided) e;
        RETURN NULL;
      END $fn$;

      CREATE OR REPLACE FUNCTION webhook_callbacks() RETURNS trigger LANGUAGE plpgsql AS $fn$
      BEGIN
        PERFORM webhook_emit(coalesce(jsonb_agg(e), '[]'::jsonb)) FROM (
          SELECT n.tenant_id, 'callback.scheduled' AS type, jsonb_build_object(
              'callbackId', n.id::text, 'campaignId', n.campaign_id, 'leadId', n.lead_id::text,
              'agentId', n.agent_id, 'dueAt', n.due_at) AS payload
            FROM new_rows n WHERE n.status = 'pending') e;
        RETURN NULL;
      END $fn$;

      DROP TRIGGER IF EXISTS leads_fields_update ON leads;
      DROP TRIGGER IF EXISTS leads_fields_insert ON leads;
      DROP FUNCTION IF EXISTS leads_fields_update();
      DROP FUNCTION IF EXISTS leads_fields_insert();
      DROP FUNCTION IF EXISTS lead_fields_fault(jsonb, jsonb);
      ALTER TABLE campaign_privacy DROP COLUMN IF EXISTS agent_fields;
      DROP FUNCTION IF EXISTS webhook_listened(text[], text[]);
      DROP TABLE IF EXISTS followups;
      DROP TABLE IF EXISTS followup_templates;
    `);
  },
};
