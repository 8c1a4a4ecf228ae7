// Webhooks in the system of record: a tenant's endpoints, the outbox of events (written by
// triggers in the transaction of their cause, migration 0017), the deliveries and their log.
// The worker (gateway/webhooks) claims due deliveries here; several gateways share the work
// because a claim takes rows with FOR UPDATE SKIP LOCKED and pushes their next attempt past a
// visibility timeout, so no two processes post the same delivery at once, and a process that
// dies mid-post leaves the row to be claimed again when the timeout passes (at least once).
import { randomBytes } from 'node:crypto';
import type { Knex } from 'knex';
import { z } from 'zod';
import { DbError, pgCode, PG_FOREIGN_KEY_VIOLATION } from './errors.js';
import { fromTimestamp, parseInput, storableText, tenantOf, toTimestamp } from './validate.js';

export const WEBHOOK_EVENTS = [
  'call.completed',
  'lead.dispositioned',
  'callback.scheduled',
  'agent.state_changed',
  'dnc.added',
  'rights_request.completed',
] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENTS)[number];
export const DELIVERY_STATUSES = ['pending', 'delivered', 'failed'] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

export const webhookIdSchema = z.string().regex(/^[1-9]\d{0,18}$/, 'must be a positive integer id');

export const webhookUrlSchema = z
  .url({ protocol: /^https?$/ })
  .max(2000)
  .describe('Where events are POSTed (http or https)');

export const endpointInputSchema = z.strictObject({
  url: webhookUrlSchema,
  events: z
    .array(z.enum(WEBHOOK_EVENTS))
    .min(1)
    .max(WEBHOOK_EVENTS.length)
    .transform((e) => [...new Set(e)]),
  description: storableText(200).default(''),
  active: z.boolean().default(true),
});
export const endpointPatchSchema = z
  .strictObject({
    url: webhookUrlSchema.optional(),
    events: endpointInputSchema.shape.events.optional(),
    description: storableText(200).optional(),
    active: z.boolean().optional(),
  })
  .refine((p) => Object.keys(p).length > 0, 'give at least one field to change');

export type EndpointInput = z.input<typeof endpointInputSchema>;
export type EndpointPatch = z.input<typeof endpointPatchSchema>;

export interface WebhookEndpoint {
  readonly id: string;
  readonly url: string;
  readonly events: readonly WebhookEventType[];
  readonly description: string;
  readonly active: boolean;
  readonly createdAt: number;
  readonly updatedAt: number;
}

export interface DeliveryAttempt {
  readonly at: number;
  readonly statusCode: number | null;
  readonly error: string | null;
  readonly durationMs: number;
}

export interface WebhookDelivery {
  readonly id: string;
  readonly endpointId: string;
  readonly eventId: string;
  readonly type: WebhookEventType;
  readonly status: DeliveryStatus;
  readonly attempts: number;
  readonly nextAttemptAt: number | null;
  readonly lastStatus: number | null;
  readonly lastError: string | null;
  readonly deliveredAt: number | null;
  readonly replayOf: string | null;
  readonly createdAt: number;
  /** The delivery log: every try, oldest first. */
  readonly log: readonly DeliveryAttempt[];
}

/** A delivery the worker has claimed: everything it needs to post it. */
export interface ClaimedDelivery {
  readonly tenantId: string;
  readonly id: string;
  readonly url: string;
  readonly secret: string;
  readonly eventId: string;
  readonly type: WebhookEventType;
  readonly payload: unknown;
  readonly eventAt: number;
  /** Tries so far, this one included. */
  readonly attempts: number;
}

export interface DeliveryResult {
  readonly at: number;
  readonly statusCode: number | null;
  readonly error: string | null;
  readonly durationMs: number;
  /** Delivered (2xx). */
  readonly ok: boolean;
  /** When to try again after a failure; null gives up (status failed). */
  readonly retryAt: number | null;
}

export interface WebhookRepository {
  /** Fails with TENANT_UNKNOWN. The secret is answered here and never again. */
  create(tenantId: string, input: EndpointInput): Promise<{ endpoint: WebhookEndpoint; secret: string }>;
  list(tenantId: string): Promise<WebhookEndpoint[]>;
  get(tenantId: string, endpointId: string): Promise<WebhookEndpoint | undefined>;
  update(tenantId: string, endpointId: string, patch: EndpointPatch): Promise<WebhookEndpoint | undefined>;
  /** Deletes the endpoint and its deliveries; false when there was none. */
  remove(tenantId: string, endpointId: string): Promise<boolean>;
  deliveries(
    tenantId: string,
    endpointId: string,
    q: { status?: DeliveryStatus; after?: string; limit: number },
  ): Promise<WebhookDelivery[]>;
  /** A new pending delivery of the same event to the same endpoint, due now; undefined when none. */
  replay(
    tenantId: string,
    endpointId: string,
    deliveryId: string,
    now: number,
  ): Promise<WebhookDelivery | undefined>;
  /** Claim up to `limit` due deliveries of any tenant, hiding them for `visibilityMs`. */
  claimDue(now: number, limit: number, visibilityMs: number): Promise<ClaimedDelivery[]>;
  record(tenantId: string, deliveryId: string, result: DeliveryResult): Promise<void>;
  /** Of these tenants, those with an active endpoint taking this event type. */
  listening(type: WebhookEventType, tenantIds: readonly string[]): Promise<Set<string>>;
  /**
   * Write events that no table's trigger writes (agent.state_changed) into the outbox, with their
   * deliveries, in one statement; an event whose tenant has no active endpoint taking its type is
   * dropped there (webhook_emit, migration 0017).
   */
  emit(events: readonly NewWebhookEvent[]): Promise<void>;
}

export interface NewWebhookEvent {
  readonly tenantId: string;
  readonly type: WebhookEventType;
  readonly payload: Readonly<Record<string, unknown>>;
}

interface EndpointRow {
  id: string;
  url: string;
  events: WebhookEventType[];
  description: string;
  active: boolean;
  created_at: Date;
  updated_at: Date;
}

interface DeliveryRow {
  id: string;
  endpoint_id: string;
  event_id: string;
  type: WebhookEventType;
  status: DeliveryStatus;
  attempts: number;
  next_attempt_at: Date;
  last_status: number | null;
  last_error: string | null;
  delivered_at: Date | null;
  replay_of: string | null;
  created_at: Date;
  log: { at: string; status_code: number | null; error: string | null; duration_ms: number }[] | null;
}

const toEndpoint = (r: EndpointRow): WebhookEndpoint => ({
  id: String(r.id),
  url: r.url,
  events: r.events,
  description: r.description,
  active: r.active,
  createdAt: fromTimestamp(r.created_at),
  updatedAt: fromTimestamp(r.updated_at),
});

const toDelivery = (r: DeliveryRow): WebhookDelivery => ({
  id: String(r.id),
  endpointId: String(r.endpoint_id),
  eventId: String(r.event_id),
  type: r.type,
  status: r.status,
  attempts: r.attempts,
  nextAttemptAt: r.status === 'pending' ? fromTimestamp(r.next_attempt_at) : null,
  lastStatus: r.last_status,
  lastError: r.last_error,
  deliveredAt: r.delivered_at === null ? null : fromTimestamp(r.delivered_at),
  replayOf: r.replay_of === null ? null : String(r.replay_of),
  createdAt: fromTimestamp(r.created_at),
  log: (r.log ?? []).map((a) => ({
    at: fromTimestamp(a.at),
    statusCode: a.status_code,
    error: a.error,
    durationMs: a.duration_ms,
  })),
});

const ENDPOINT_COLUMNS = ['id', 'url', 'events', 'description', 'active', 'created_at', 'updated_at'];

const SELECT_DELIVERIES = `
  SELECT d.id, d.endpoint_id, d.event_id, e.type, d.status, d.attempts, d.next_attempt_at,
         d.last_status, d.last_error, d.delivered_at, d.replay_of, d.created_at,
         (SELECT jsonb_agg(jsonb_build_object('at', a.at, 'status_code', a.status_code,
                   'error', a.error, 'duration_ms', a.duration_ms) ORDER BY a.id)
            FROM webhook_delivery_attempts a
           WHERE a.tenant_id = d.tenant_id AND a.delivery_id = d.id) AS log
    FROM webhook_deliveries d
    JOIN webhook_events e ON e.tenant_id = d.tenant_id AND e.id = d.event_id`;

/** whsec_ and 24 random bytes in base64: the Standard Webhooks secret format. */
const newSecret = () => `whsec_${randomBytes(24).toString('base64')}`;

export function createWebhookRepository(knex: Knex): WebhookRepository {
  const idOf = (id: string) => parseInput(webhookIdSchema, id, 'id');

  return {
    async create(tenantId, input) {
      const tenant = tenantOf(tenantId);
      const e = parseInput(endpointInputSchema, input, 'webhook endpoint');
      const secret = newSecret();
      try {
        const [row] = await knex('webhook_endpoints')
          .insert({
            tenant_id: tenant,
            url: e.url,
            events: e.events,
            secret,
            description: e.description,
            active: e.active,
          })
          .returning<EndpointRow[]>(ENDPOINT_COLUMNS);
        return { endpoint: toEndpoint(row!), secret };
      } catch (err) {
        if (pgCode(err) === PG_FOREIGN_KEY_VIOLATION) throw new DbError('TENANT_UNKNOWN');
        throw err;
      }
    },

    async list(tenantId) {
      const rows = await knex('webhook_endpoints')
        .where({ tenant_id: tenantOf(tenantId) })
        .orderBy('id')
        .select<EndpointRow[]>(ENDPOINT_COLUMNS);
      return rows.map(toEndpoint);
    },

    async get(tenantId, endpointId) {
      const row = await knex('webhook_endpoints')
        .where({ tenant_id: tenantOf(tenantId), id: idOf(endpointId) })
        .first<EndpointRow | undefined>(ENDPOINT_COLUMNS);
      return row ? toEndpoint(row) : undefined;
    },

    async update(tenantId, endpointId, patch) {
      const p = parseInput(endpointPatchSchema, patch, 'webhook endpoint');
      const [row] = await knex('webhook_endpoints')
        .where({ tenant_id: tenantOf(tenantId), id: idOf(endpointId) })
        .update({
          ...(p.url === undefined ? {} : { url: p.url }),
          ...(p.events === undefined ? {} : { events: p.events }),
          ...(p.description === undefined ? {} : { description: p.description }),
          ...(p.active === undefined ? {} : { active: p.active }),
          updated_at: knex.fn.now(),
        })
        .returning<EndpointRow[]>(ENDPOINT_COLUMNS);
      return row ? toEndpoint(row) : undefined;
    },

    async remove(tenantId, endpointId) {
      const n = await knex('webhook_endpoints')
        .where({ tenant_id: tenantOf(tenantId), id: idOf(endpointId) })
        .delete();
      return n > 0;
    },

    async deliveries(tenantId, endpointId, q) {
      const tenant = tenantOf(tenantId);
      const bindings: (string | number)[] = [tenant, idOf(endpointId)];
      let where = 'd.tenant_id = ? AND d.endpoint_id = ?';
      if (q.status !== undefined) {
        where += ' AND d.status = ?';
        bindings.push(parseInput(z.enum(DELIVERY_STATUSES), q.status, 'status'));
      }
      if (q.after !== undefined) {
        where += ' AND d.id > ?';
        bindings.push(idOf(q.after));
      }
      const { rows } = await knex.raw<{ rows: DeliveryRow[] }>(
        `${SELECT_DELIVERIES} WHERE ${where} ORDER BY d.id LIMIT ?`,
        [...bindings, parseInput(z.number().int().min(1).max(500), q.limit, 'limit')],
      );
      return rows.map(toDelivery);
    },

    async replay(tenantId, endpointId, deliveryId, now) {
      const tenant = tenantOf(tenantId);
      const { rows } = await knex.raw<{ rows: { id: string }[] }>(
        `INSERT INTO webhook_deliveries (tenant_id, endpoint_id, event_id, next_attempt_at, replay_of)
         SELECT tenant_id, endpoint_id, event_id, ?, id FROM webhook_deliveries
          WHERE tenant_id = ? AND endpoint_id = ? AND id = ?
         RETURNING id`,
        [toTimestamp(now), tenant, idOf(endpointId), idOf(deliveryId)],
      );
      if (rows.length === 0) return undefined;
      const { rows: out } = await knex.raw<{ rows: DeliveryRow[] }>(
        `${SELECT_DELIVERIES} WHERE d.tenant_id = ? AND d.id = ?`,
        [tenant, rows[0]!.id],
      );
      return toDelivery(out[0]!);
    },

    async claimDue(now, limit, visibilityMs) {
      // The one read that crosses tenants, on purpose: the worker serves every tenant's queue.
      // Each row it returns carries its tenant, and every later write is scoped to it.
      const { rows } = await knex.raw<{
        rows: {
          tenant_id: string;
          id: string;
          url: string;
          secret: string;
          event_id: string;
          type: WebhookEventType;
          payload: unknown;
          event_at: Date;
          attempts: number;
        }[];
      }>(
        `WITH due AS (
           SELECT tenant_id, id FROM webhook_deliveries
            WHERE status = 'pending' AND next_attempt_at <= ?
            ORDER BY next_attempt_at
            LIMIT ?
            FOR UPDATE SKIP LOCKED
         )
         UPDATE webhook_deliveries d
            SET attempts = d.attempts + 1, next_attempt_at = ?
           FROM due
          WHERE d.tenant_id = due.tenant_id AND d.id = due.id
         RETURNING d.tenant_id, d.id, d.attempts, d.event_id,
           (SELECT url FROM webhook_endpoints w WHERE w.tenant_id = d.tenant_id AND w.id = d.endpoint_id),
           (SELECT secret FROM webhook_endpoints w WHERE w.tenant_id = d.tenant_id AND w.id = d.endpoint_id),
           (SELECT type FROM webhook_events e WHERE e.tenant_id = d.tenant_id AND e.id = d.event_id),
           (SELECT payload FROM webhook_events e WHERE e.tenant_id = d.tenant_id AND e.id = d.event_id),
           (SELECT created_at FROM webhook_events e WHERE e.tenant_id = d.tenant_id AND e.id = d.event_id)
             AS event_at`,
        [toTimestamp(now), limit, toTimestamp(now + visibilityMs)],
      );
      return rows.map((r) => ({
        tenantId: r.tenant_id,
        id: String(r.id),
        url: r.url,
        secret: r.secret,
        eventId: String(r.event_id),
        type: r.type,
        payload: r.payload,
        eventAt: fromTimestamp(r.event_at),
        attempts: r.attempts,
      }));
    },

    async record(tenantId, deliveryId, result) {
      const tenant = tenantOf(tenantId);
      const id = idOf(deliveryId);
      await knex.transaction(async (trx) => {
        await trx('webhook_delivery_attempts').insert({
          tenant_id: tenant,
          delivery_id: id,
          at: toTimestamp(result.at),
          status_code: result.statusCode,
          error: result.error,
          duration_ms: Math.max(0, Math.round(result.durationMs)),
        });
        await trx('webhook_deliveries')
          .where({ tenant_id: tenant, id })
          .update(
            result.ok
              ? { status: 'delivered', delivered_at: toTimestamp(result.at), last_status: result.statusCode }
              : result.retryAt === null
                ? { status: 'failed', last_status: result.statusCode, last_error: result.error }
                : {
                    next_attempt_at: toTimestamp(result.retryAt),
                    last_status: result.statusCode,
                    last_error: result.error,
                  },
          );
      });
    },

    async listening(type, tenantIds) {
      if (tenantIds.length === 0) return new Set();
      const rows = await knex('webhook_endpoints')
        .distinct('tenant_id')
        .whereIn('tenant_id', tenantIds.map(tenantOf))
        .andWhere('active', true)
        .andWhereRaw('? = ANY (events)', [parseInput(z.enum(WEBHOOK_EVENTS), type, 'type')]);
      return new Set(rows.map((r: { tenant_id: string }) => r.tenant_id));
    },

    async emit(events) {
      if (events.length === 0) return;
      const rows = events.map((e) => ({
        tenant_id: tenantOf(e.tenantId),
        type: parseInput(z.enum(WEBHOOK_EVENTS), e.type, 'type'),
        payload: e.payload,
      }));
      await knex.raw('SELECT webhook_emit(?::jsonb)', [JSON.stringify(rows)]);
    },
  };
}
