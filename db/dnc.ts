// The tenant's do-not-call list. A number on it is never offered again: imports are scrubbed
// against it, the queue rebuild skips it, and outcomes with a dnc policy add to it (in the
// outcome writer's transaction). Adding is idempotent; the first source recorded stays.
import type { Knex } from 'knex';
import { z } from 'zod';
import { DbError, pgCode, PG_FOREIGN_KEY_VIOLATION } from './errors.js';
import { parseInput, PHONE_E164, tenantOf } from './validate.js';

export const DNC_SOURCES = ['outcome', 'import', 'api', 'erasure'] as const;
export type DncSource = (typeof DNC_SOURCES)[number];

const phonesSchema = z.array(z.string().regex(PHONE_E164, 'numbers must be E.164')).max(100_000);
const sourceSchema = z.enum(DNC_SOURCES);

export interface DncRepository {
  /** Add numbers (E.164). Returns how many were new. Fails with TENANT_UNKNOWN. */
  add(tenantId: string, phones: readonly string[], source: DncSource): Promise<number>;
  has(tenantId: string, phone: string): Promise<boolean>;
  /** The numbers of `phones` that are listed, in input order, each once. */
  filterListed(tenantId: string, phones: readonly string[]): Promise<string[]>;
  /**
   * Take a number off the list. True when it was listed. Leads the listing removed stay removed
   * (their rows say so; nothing here queues them again).
   */
  remove(tenantId: string, phone: string): Promise<boolean>;
}

export function createDncRepository(knex: Knex): DncRepository {
  return {
    async add(tenantId, phones, source) {
      const tenant = tenantOf(tenantId);
      const numbers = parseInput(phonesSchema, phones, 'phones');
      const from = parseInput(sourceSchema, source, 'dnc source');
      if (numbers.length === 0) return 0;
      try {
        const { rowCount } = await knex.raw<{ rowCount: number }>(
          `INSERT INTO dnc (tenant_id, phone, source)
           SELECT ?, p, ? FROM unnest(?::text[]) AS p
           ON CONFLICT (tenant_id, phone) DO NOTHING`,
          [tenant, from, [...new Set(numbers)]],
        );
        return rowCount;
      } catch (err) {
        if (pgCode(err) === PG_FOREIGN_KEY_VIOLATION) throw new DbError('TENANT_UNKNOWN');
        throw err;
      }
    },

    async has(tenantId, phone) {
      const [number] = parseInput(phonesSchema, [phone], 'phone');
      const row = await knex('dnc')
        .where({ tenant_id: tenantOf(tenantId), phone: number })
        .first<{ phone: string } | undefined>('phone');
      return row !== undefined;
    },

    async remove(tenantId, phone) {
      const [number] = parseInput(phonesSchema, [phone], 'phone');
      const deleted = await knex('dnc')
        .where({ tenant_id: tenantOf(tenantId), phone: number })
        .delete();
      return deleted > 0;
    },

    async filterListed(tenantId, phones) {
      const tenant = tenantOf(tenantId);
      const numbers = parseInput(phonesSchema, phones, 'phones');
      if (numbers.length === 0) return [];
      const { rows } = await knex.raw<{ rows: { phone: string }[] }>(
        `SELECT phone FROM dnc WHERE tenant_id = ? AND phone = ANY(?::text[])`,
        [tenant, numbers],
      );
      const listed = new Set(rows.map((r) => r.phone));
      return [...new Set(numbers)].filter((p) => listed.has(p));
    },
  };
}
