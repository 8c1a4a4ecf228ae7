// Tenants: the companies using dialhub. Everything else hangs off a tenant row, and its plan
// carries the limits the gateway enforces (the device limit is enforced here, see devices.ts).
import type { Knex } from 'knex';
import { z } from 'zod';
import type { TenantId } from '../engine/ids.js';
import { tenantIdSchema } from '../engine/ids.js';
import { DbError, pgCode, PG_UNIQUE_VIOLATION } from './errors.js';
import { fromTimestamp, parseInput, storableText, tenantOf } from './validate.js';

export const planSchema = z.looseObject({
  /** Devices that may be registered (not revoked) at once. */
  deviceLimit: z.number().int().min(0).max(1_000_000),
  /** ISO 3166-1 alpha-2 country whose national number formats imports read by default. */
  defaultCountry: z
    .string()
    .regex(/^[A-Z]{2}$/)
    .optional(),
  /** IANA zone for imported leads whose zone is neither given nor derivable from the number. */
  defaultTimeZone: z.string().min(1).max(64).optional(),
  /**
   * Custom lead fields allowed in this tenant, under the global limits (engine/lead.ts); enforced
   * by the leads table's triggers on every write (migration 0012).
   */
  leadFields: z
    .strictObject({
      maxCount: z.number().int().min(0).max(500),
      maxValueLength: z.number().int().min(0).max(1000),
    })
    .optional(),
});

export type Plan = z.output<typeof planSchema>;

const newTenantSchema = z.object({
  id: tenantIdSchema,
  name: storableText(200).min(1),
  plan: planSchema,
});

export type NewTenant = z.input<typeof newTenantSchema>;

export interface Tenant {
  readonly id: TenantId;
  readonly name: string;
  readonly plan: Plan;
  readonly createdAt: number;
}

export interface TenantRepository {
  /** Fails with CONFLICT when the id is taken. */
  create(input: NewTenant): Promise<Tenant>;
  get(tenantId: string): Promise<Tenant | undefined>;
}

interface TenantRow {
  id: string;
  name: string;
  plan: unknown;
  created_at: Date;
}

const toTenant = (row: TenantRow): Tenant => ({
  id: row.id as TenantId,
  name: row.name,
  plan: planSchema.parse(row.plan),
  createdAt: fromTimestamp(row.created_at),
});

export function createTenantRepository(knex: Knex): TenantRepository {
  return {
    async create(input) {
      const t = parseInput(newTenantSchema, input, 'tenant');
      try {
        const [row] = await knex<TenantRow>('tenants')
          .insert({ id: t.id, name: t.name, plan: JSON.stringify(t.plan) })
          .returning('*');
        return toTenant(row as TenantRow);
      } catch (err) {
        if (pgCode(err) === PG_UNIQUE_VIOLATION) throw new DbError('CONFLICT', 'tenant id is taken');
        throw err;
      }
    },

    async get(tenantId) {
      const row = await knex<TenantRow>('tenants')
        .where({ id: tenantOf(tenantId) })
        .first();
      return row ? toTenant(row) : undefined;
    },
  };
}
