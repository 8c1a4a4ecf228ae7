// The erasure list: numbers a data subject had erased, kept only as their keyed hash
// (subject-keys.ts). Imports are scrubbed against it as against the do-not-call list, so an
// erased person cannot come back with the next spreadsheet, while the list names nobody.
import type { Knex } from 'knex';
import { tenantOf } from '../validate.js';
import type { SubjectKeys } from './subject-keys.js';

export interface SuppressionRepository {
  /** The numbers of `phones` that were erased in this tenant, in input order, each once. */
  filterSuppressed(tenantId: string, phones: readonly string[]): Promise<string[]>;
  isSuppressed(tenantId: string, phone: string): Promise<boolean>;
  /** Whether the tenant erased any number at all (an import skips hashing every row when not). */
  any(tenantId: string): Promise<boolean>;
}

export function createSuppressionRepository(knex: Knex, keys: SubjectKeys): SuppressionRepository {
  async function filterSuppressed(tenantId: string, phones: readonly string[]): Promise<string[]> {
    const tenant = tenantOf(tenantId);
    const unique = [...new Set(phones)];
    if (unique.length === 0) return [];
    const hashes = await keys.hashesOf(tenant, unique);
    const { rows } = await knex.raw<{ rows: { phone_hash: Buffer }[] }>(
      `SELECT phone_hash FROM suppressions WHERE tenant_id = ? AND phone_hash = ANY(?::bytea[])`,
      [tenant, [...hashes.values()]],
    );
    if (rows.length === 0) return [];
    const listed = new Set(rows.map((r) => r.phone_hash.toString('hex')));
    return unique.filter((p) => listed.has(hashes.get(p)!.toString('hex')));
  }
  return {
    filterSuppressed,
    async isSuppressed(tenantId, phone) {
      return (await filterSuppressed(tenantId, [phone])).length > 0;
    },
    async any(tenantId) {
      const { rows } = await knex.raw<{ rows: { any: boolean }[] }>(
        `SELECT EXISTS (SELECT 1 FROM suppressions WHERE tenant_id = ?) AS any`,
        [tenantOf(tenantId)],
      );
      return rows[0]?.any === true;
    },
  };
}
