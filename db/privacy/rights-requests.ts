// The record of data-subject requests (access, rectification, erasure): when each was received,
// its deadline (one calendar month later, as the GDPR's Art. 12(3) gives), and whether it was
// answered. The subject is the number's keyed hash, so the record survives the erasure it logs.
import type { Knex } from 'knex';
import { z } from 'zod';
import { DbError, pgCode, PG_FOREIGN_KEY_VIOLATION } from '../errors.js';
import { keyset, pageOf } from '../pager.js';
import type { Page } from '../pager.js';
import { fromTimestamp, parseInput, storableText, tenantOf, toTimestamp } from '../validate.js';

export const RIGHTS_REQUEST_KINDS = ['access', 'rectification', 'erasure'] as const;
export type RightsRequestKind = (typeof RIGHTS_REQUEST_KINDS)[number];
export const RIGHTS_REQUEST_STATUSES = ['open', 'completed'] as const;
export type RightsRequestStatus = (typeof RIGHTS_REQUEST_STATUSES)[number];

export interface RightsRequest {
  readonly id: string;
  readonly kind: RightsRequestKind;
  readonly status: RightsRequestStatus;
  readonly actor: string;
  readonly receivedAt: number;
  readonly dueAt: number;
  readonly completedAt: number | null;
  /** Past its deadline and still open. */
  readonly overdue: boolean;
  readonly details: Readonly<Record<string, unknown>>;
}

/** One calendar month after `ms` (UTC), clamped to the month's last day (31 Jan -> 28/29 Feb). */
export function oneMonthAfter(ms: number): number {
  const d = new Date(ms);
  const target = new Date(
    Date.UTC(
      d.getUTCFullYear(),
      d.getUTCMonth() + 1,
      1,
      d.getUTCHours(),
      d.getUTCMinutes(),
      d.getUTCSeconds(),
      d.getUTCMilliseconds(),
    ),
  );
  const lastDay = new Date(Date.UTC(target.getUTCFullYear(), target.getUTCMonth() + 1, 0)).getUTCDate();
  target.setUTCDate(Math.min(d.getUTCDate(), lastDay));
  return target.getTime();
}

const openSchema = z.object({
  kind: z.enum(RIGHTS_REQUEST_KINDS),
  subjectHash: z.instanceof(Buffer).refine((b) => b.length === 32, 'must be a 32-byte hash'),
  actor: storableText(100).min(1),
  /** Epoch ms the request reached the tenant (may be before it is entered here). */
  receivedAt: z.number().int().min(0).max(8.64e15),
});

const listSchema = z.object({
  limit: z.number().int().min(1).max(500).default(100),
  after: z
    .string()
    .regex(/^[1-9]\d{0,18}$/)
    .optional(),
  status: z.enum(RIGHTS_REQUEST_STATUSES).optional(),
  overdueOnly: z.boolean().default(false),
});

export interface RightsRequestRepository {
  open(tenantId: string, input: z.input<typeof openSchema>, db?: Knex): Promise<RightsRequest>;
  complete(
    tenantId: string,
    id: string,
    at: number,
    details: Record<string, unknown>,
    db?: Knex,
  ): Promise<RightsRequest>;
  /** Oldest first (id order); `overdueOnly` keeps the open ones past their deadline at `now`. */
  list(tenantId: string, now: number, options?: z.input<typeof listSchema>): Promise<Page<RightsRequest>>;
  /** The requests about one subject (by its keyed hash), oldest first. */
  forSubject(tenantId: string, subjectHash: Buffer, now: number): Promise<RightsRequest[]>;
}

interface Row {
  id: string;
  kind: RightsRequestKind;
  status: RightsRequestStatus;
  actor: string;
  received_at: Date;
  due_at: Date;
  completed_at: Date | null;
  details: Record<string, unknown>;
}

const toRequest = (row: Row, now: number): RightsRequest => ({
  id: row.id,
  kind: row.kind,
  status: row.status,
  actor: row.actor,
  receivedAt: fromTimestamp(row.received_at),
  dueAt: fromTimestamp(row.due_at),
  completedAt: row.completed_at === null ? null : fromTimestamp(row.completed_at),
  overdue: row.status === 'open' && fromTimestamp(row.due_at) < now,
  details: row.details,
});

const COLUMNS = ['id', 'kind', 'status', 'actor', 'received_at', 'due_at', 'completed_at', 'details'];

export function createRightsRequestRepository(knex: Knex): RightsRequestRepository {
  return {
    async open(tenantId, input, db = knex) {
      const tenant = tenantOf(tenantId);
      const r = parseInput(openSchema, input, 'rights request');
      try {
        const [row] = await db('rights_requests')
          .insert({
            tenant_id: tenant,
            kind: r.kind,
            subject_hash: r.subjectHash,
            actor: r.actor,
            received_at: toTimestamp(r.receivedAt),
            due_at: toTimestamp(oneMonthAfter(r.receivedAt)),
          })
          .returning<Row[]>(COLUMNS);
        return toRequest(row!, r.receivedAt);
      } catch (err) {
        if (pgCode(err) === PG_FOREIGN_KEY_VIOLATION) throw new DbError('TENANT_UNKNOWN');
        throw err;
      }
    },

    async complete(tenantId, id, at, details, db = knex) {
      const tenant = tenantOf(tenantId);
      const [row] = await db('rights_requests')
        .where({ tenant_id: tenant, id })
        .update({ status: 'completed', completed_at: toTimestamp(at), details: JSON.stringify(details) })
        .returning<Row[]>(COLUMNS);
      if (!row) throw new DbError('INPUT_INVALID', 'no such rights request');
      return toRequest(row, at);
    },

    async list(tenantId, now, options = {}) {
      const tenant = tenantOf(tenantId);
      const o = parseInput(listSchema, options, 'rights request list options');
      const query = keyset(knex('rights_requests').select(COLUMNS).where({ tenant_id: tenant }), 'id', o);
      if (o.status !== undefined) query.where({ status: o.status });
      if (o.overdueOnly) query.where({ status: 'open' }).where('due_at', '<', toTimestamp(now));
      return pageOf(
        (await query) as Row[],
        o.limit,
        (r) => toRequest(r, now),
        (r) => r.id,
      );
    },

    async forSubject(tenantId, subjectHash, now) {
      const rows = (await knex('rights_requests')
        .select(COLUMNS)
        .where({ tenant_id: tenantOf(tenantId), subject_hash: subjectHash })
        .orderBy('id')) as Row[];
      return rows.map((r) => toRequest(r, now));
    },
  };
}
