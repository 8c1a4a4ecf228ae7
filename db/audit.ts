// The audit log: who did what to which subject, per tenant, append-only. Callers put ids in
// `subject` and `details`, never phone numbers or names (an erasure must not leave them here).
import type { Knex } from 'knex';
import { z } from 'zod';
import { tenantIdSchema } from '../engine/ids.js';
import { DbError, pgCode, PG_FOREIGN_KEY_VIOLATION } from './errors.js';
import {
  fromTimestamp,
  isStorableJson,
  parseInput,
  storableText,
  tenantOf,
  toTimestamp,
} from './validate.js';

const entrySchema = z.object({
  tenantId: tenantIdSchema,
  /** Epoch ms; the database's clock when absent. */
  at: z.number().int().min(0).max(8.64e15).optional(),
  /** A user id, 'system', or an API key id. */
  actor: storableText(100).min(1),
  /** Dotted verb such as 'campaign.update' or 'agent.force_pause'. */
  action: z.string().regex(/^[a-z][a-z0-9_.]{0,63}$/, 'must be a dotted lower_snake_case action'),
  subject: storableText(200).default(''),
  details: z
    .record(z.string(), z.unknown())
    .default({})
    .refine(isStorableJson, 'details must not contain NUL or unpaired surrogates')
    .refine((d) => JSON.stringify(d).length <= 16_384, 'details must be at most 16 KiB as JSON'),
});

export type AuditEntryInput = z.input<typeof entrySchema>;

export interface AuditEntry {
  readonly id: string;
  readonly at: number;
  readonly actor: string;
  readonly action: string;
  readonly subject: string;
  readonly details: Readonly<Record<string, unknown>>;
}

export interface AuditRepository {
  append(entry: AuditEntryInput): Promise<AuditEntry>;
  /** Newest first; pass the last id seen as `beforeId` for the next page. */
  list(tenantId: string, options?: { limit?: number; beforeId?: string }): Promise<AuditEntry[]>;
}

interface AuditRow {
  id: string;
  at: Date;
  actor: string;
  action: string;
  subject: string;
  details: Record<string, unknown>;
}

const toEntry = (row: AuditRow): AuditEntry => ({
  id: row.id,
  at: fromTimestamp(row.at),
  actor: row.actor,
  action: row.action,
  subject: row.subject,
  details: row.details,
});

const listSchema = z.object({
  limit: z.number().int().min(1).max(1000).default(100),
  beforeId: z
    .string()
    .regex(/^[1-9]\d{0,18}$/)
    .optional(),
});

export function createAuditRepository(knex: Knex): AuditRepository {
  return {
    async append(input) {
      const e = parseInput(entrySchema, input, 'audit entry');
      try {
        const [row] = await knex('audit_log')
          .insert({
            tenant_id: e.tenantId,
            ...(e.at === undefined ? {} : { at: toTimestamp(e.at) }),
            actor: e.actor,
            action: e.action,
            subject: e.subject,
            details: JSON.stringify(e.details),
          })
          .returning<AuditRow[]>(['id', 'at', 'actor', 'action', 'subject', 'details']);
        return toEntry(row!);
      } catch (err) {
        if (pgCode(err) === PG_FOREIGN_KEY_VIOLATION) throw new DbError('TENANT_UNKNOWN');
        throw err;
      }
    },

    async list(tenantId, options = {}) {
      const tenant = tenantOf(tenantId);
      const { limit, beforeId } = parseInput(listSchema, options, 'audit list options');
      const query = knex('audit_log')
        .select('id', 'at', 'actor', 'action', 'subject', 'details')
        .where({ tenant_id: tenant })
        .orderBy('id', 'desc')
        .limit(limit);
      if (beforeId !== undefined) query.where('id', '<', beforeId);
      return (await query).map(toEntry);
    },
  };
}
