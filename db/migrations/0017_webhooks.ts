// Webhooks with a durable outbox.
//
// webhook_endpoints: a tenant's receivers (URL, the event types they take, the signing secret,
// active or not). webhook_events is the outbox: one row per event, written IN THE TRANSACTION
// that made it true, so an event exists if and only if its cause committed. That is done here by
// triggers rather than by each writer: a call attempt, a callback, a do-not-call entry or a
// completed rights request cannot commit without its event, whichever code path wrote it (the
// outcome writer's group commit, the reaper settling a lease from the record, the admin API).
// The triggers are statement-level over transition tables (one set-based insert per statement,
// not a function call per row), and write nothing unless an active endpoint of the tenant takes
// the event type, so a tenant without webhooks pays one index probe per statement.
//
// webhook_deliveries: one per (event, endpoint), created with the event; the delivery worker
// claims due ones with FOR UPDATE SKIP LOCKED and a visibility timeout (several gateways share
// the work, none takes a row another holds), posts, and records each try in
// webhook_delivery_attempts (the delivery log). Payloads carry ids, codes and times, never a
// name or a note; only dnc.added names the number (the receiver must know which), and erasure
// deletes those events.
import type { Knex } from 'knex';
import type { Migration } from './migration.js';

export const webhooks: Migration = {
  name: '0017_webhooks',

  async up(knex: Knex): Promise<void> {
    await knex.raw(`
      CREATE TABLE webhook_endpoints (
        tenant_id text NOT NULL,
        id bigint GENERATED ALWAYS AS IDENTITY,
        url text NOT NULL CHECK (url ~ '^(http|https)://' AND length(url) <= 2000),
        events text[] NOT NULL CHECK (cardinality(events) > 0),
        secret text NOT NULL,
        active boolean NOT NULL DEFAULT true,
        description text NOT NULL DEFAULT '',
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (tenant_id, id),
        CONSTRAINT webhook_endpoints_tenant_fk FOREIGN KEY (tenant_id) REFERENCES tenants (id) ON DELETE CASCADE
      );
      CREATE INDEX webhook_endpoints_active_idx ON webhook_endpoints (tenant_id) WHERE active;

      CREATE TABLE webhook_events (
        tenant_id text NOT NULL,
        id bigint GENERATED ALWAYS AS IDENTITY,
        type text NOT NULL,
        payload jsonb NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (tenant_id, id),
        CONSTRAINT webhook_events_tenant_fk FOREIGN KEY (tenant_id) REFERENCES tenants (id) ON DELETE CASCADE
      );
      CREATE INDEX webhook_events_age_idx ON webhook_events (tenant_id, created_at);

      CREATE TABLE webhook_deliveries (
        tenant_id text NOT NULL,
        id bigint GENERATED ALWAYS AS IDENTITY,
        endpoint_id bigint NOT NULL,
        event_id bigint NOT NULL,
        status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'failed')),
        attempts integer NOT NULL DEFAULT 0,
        next_attempt_at timestamptz NOT NULL DEFAULT now(),
        last_status integer,
        last_error text,
        delivered_at timestamptz,
        replay_of bigint,
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (tenant_id, id),
        CONSTRAINT webhook_deliveries_endpoint_fk FOREIGN KEY (tenant_id, endpoint_id)
          REFERENCES webhook_endpoints (tenant_id, id) ON DELETE CASCADE,
        CONSTRAINT webhook_deliveries_event_fk FOREIGN KEY (tenant_id, event_id)
          REFERENCES webhook_events (tenant_id, id) ON DELETE CASCADE
      );
      -- The worker's claim: due pending deliveries of every tenant, oldest first.
      CREATE INDEX webhook_deliveries_due_idx ON webhook_deliveries (next_attempt_at) WHERE status = 'pending';
      CREATE INDEX webhook_deliveries_endpoint_idx ON webhook_deliveries (tenant_id, endpoint_id, id);
      CREATE INDEX webhook_deliveries_event_idx ON webhook_deliveries (tenant_id, event_id);

      CREATE TABLE webhook_delivery_attempts (
        tenant_id text NOT NULL,
        id bigint GENERATED ALWAYS AS IDENTITY,
        delivery_id bigint NOT NULL,
        at timestamptz NOT NULL,
        status_code integer,
        error text,
        duration_ms integer NOT NULL,
        PRIMARY KEY (tenant_id, id),
        CONSTRAINT webhook_delivery_attempts_delivery_fk FOREIGN KEY (tenant_id, delivery_id)
          REFERENCES webhook_deliveries (tenant_id, id) ON DELETE CASCADE
      );
      CREATE INDEX webhook_delivery_attempts_delivery_idx ON webhook_delivery_attempts (tenant_id, delivery_id);

      -- Write the events of one statement: (tenant_id, type, payload) rows in one statement.
      -- Called by the triggers below with the rows of their transition table.
      CREATE FUNCTION webhook_emit(rows jsonb) RETURNS void LANGUAGE sql AS $fn$
        WITH ev AS (
          INSERT INTO webhook_events (tenant_id, type, payload)
          SELECT r.tenant_id, r.type, r.payload
            FROM jsonb_to_recordset(rows) AS r(tenant_id text, type text, payload jsonb)
           WHERE EXISTS (SELECT 1 FROM webhook_endpoints w
                          WHERE w.tenant_id = r.tenant_id AND w.active AND r.type = ANY (w.events))
          RETURNING tenant_id, id, type, created_at
        )
        INSERT INTO webhook_deliveries (tenant_id, endpoint_id, event_id, next_attempt_at)
        SELECT ev.tenant_id, w.id, ev.id, ev.created_at
          FROM ev JOIN webhook_endpoints w
            ON w.tenant_id = ev.tenant_id AND w.active AND ev.type = ANY (w.events);
      $fn$;

      CREATE FUNCTION webhook_call_attempts() RETURNS trigger LANGUAGE plpgsql AS $fn$
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
      CREATE TRIGGER call_attempts_webhooks AFTER INSERT ON call_attempts
        REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION webhook_call_attempts();

      CREATE FUNCTION webhook_callbacks() RETURNS trigger LANGUAGE plpgsql AS $fn$
      BEGIN
        PERFORM webhook_emit(coalesce(jsonb_agg(e), '[]'::jsonb)) FROM (
          SELECT n.tenant_id, 'callback.scheduled' AS type, jsonb_build_object(
              'callbackId', n.id::text, 'campaignId', n.campaign_id, 'leadId', n.lead_id::text,
              'agentId', n.agent_id, 'dueAt', n.due_at) AS payload
            FROM new_rows n WHERE n.status = 'pending') e;
        RETURN NULL;
      END $fn$;
      CREATE TRIGGER callbacks_webhooks AFTER INSERT ON callbacks
        REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION webhook_callbacks();

      CREATE FUNCTION webhook_dnc() RETURNS trigger LANGUAGE plpgsql AS $fn$
      BEGIN
        PERFORM webhook_emit(coalesce(jsonb_agg(e), '[]'::jsonb)) FROM (
          SELECT n.tenant_id, 'dnc.added' AS type, jsonb_build_object(
              'phone', n.phone, 'source', n.source, 'addedAt', n.created_at) AS payload
            FROM new_rows n WHERE n.source <> 'erasure') e;
        RETURN NULL;
      END $fn$;
      CREATE TRIGGER dnc_webhooks AFTER INSERT ON dnc
        REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION webhook_dnc();

      CREATE FUNCTION webhook_rights_requests() RETURNS trigger LANGUAGE plpgsql AS $fn$
      BEGIN
        PERFORM webhook_emit(coalesce(jsonb_agg(e), '[]'::jsonb)) FROM (
          SELECT n.tenant_id, 'rights_request.completed' AS type, jsonb_build_object(
              'requestId', n.id::text, 'kind', n.kind, 'receivedAt', n.received_at,
              'dueAt', n.due_at, 'completedAt', n.completed_at) AS payload
            FROM new_rows n JOIN old_rows o ON o.tenant_id = n.tenant_id AND o.id = n.id
           WHERE n.status = 'completed' AND o.status <> 'completed') e;
        RETURN NULL;
      END $fn$;
      CREATE TRIGGER rights_requests_webhooks AFTER UPDATE ON rights_requests
        REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
        FOR EACH STATEMENT EXECUTE FUNCTION webhook_rights_requests();
    `);
  },

  async down(knex: Knex): Promise<void> {
    await knex.raw(`
      DROP TRIGGER IF EXISTS rights_requests_webhooks ON rights_requests;
      DROP TRIGGER IF EXISTS dnc_webhooks ON dnc;
      DROP TRIGGER IF EXISTS callbacks_webhooks ON callbacks;
      DROP TRIGGER IF EXISTS call_attempts_webhooks ON call_attempts;
      DROP FUNCTION IF EXISTS webhook_rights_requests();
      DROP FUNCTION IF EXISTS webhook_dnc();
      DROP FUNCTION IF EXISTS webhook_callbacks();
      DROP FUNCTION IF EXISTS webhook_call_attempts();
      DROP FUNCTION IF EXISTS webhook_emit(jsonb);
      DROP TABLE IF EXISTS webhook_delivery_attempts;
      DROP TABLE IF EXISTS webhook_deliveries;
      DROP TABLE IF EXISTS webhook_events;
      DROP TABLE IF EXISTS webhook_endpoints;
    `);
  },
};
