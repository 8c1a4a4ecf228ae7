// API keys of machine clients (a CRM): scoped to a tenant and a role, stored as a SHA-256 of the
// secret only (shown once, at creation), listable and revocable, with the time last used.
import type { Knex } from 'knex';
import { z } from 'zod';
import type { TenantId } from '../engine/ids.js';
import { tenantIdSchema } from '../engine/ids.js';
import { DbError, pgCode, PG_FOREIGN_KEY_VIOLATION } from './errors.js';
import { fromTimestamp, parseInput, storableText, tenantOf } from './validate.js';

/** Keys act as one of these; never as an owner (an owner is a person). */
export const API_KEY_ROLES = ['admin', 'supervisor', 'agent'] as const;
export type ApiKeyRole = (typeof API_KEY_ROLES)[number];

export const apiKeyIdSchema = z.string().regex(/^[A-Za-z0-9_-]{16,32}$/, 'must be an API key id');

const newKeySchema = z.object({
  tenantId: tenantIdSchema,
  id: apiKeyIdSchema,
  name: storableText(120).min(1),
  role: z.enum(API_KEY_ROLES),
  secretHash: z.instanceof(Buffer),
  createdBy: storableText(100).min(1),
});

export type NewApiKey = z.input<typeof newKeySchema>;

export interface ApiKey {
  readonly tenantId: TenantId;
  readonly id: string;
  readonly name: string;
  readonly role: ApiKeyRole;
  readonly createdBy: string;
  readonly createdAt: number;
  readonly lastUsedAt: number | null;
  readonly revokedAt: number | null;
}

export interface ApiKeyWithHash extends ApiKey {
  readonly secretHash: Buffer;
}

export interface ApiKeyRepository {
  create(input: NewApiKey): Promise<ApiKey>;
  /** By id alone (ids are unique across tenants): the key's tenant comes from its row. */
  find(id: string): Promise<ApiKeyWithHash | undefined>;
  list(tenantId: string, options: { revoked?: boolean }): Promise<ApiKey[]>;
  revoke(tenantId: string, id: string): Promise<boolean>;
  /** Record a use, at most once a minute per key (no write on every request). */
  touch(tenantId: string, id: string): Promise<void>;
}

interface KeyRow {
  tenant_id: string;
  id: string;
  name: string;
  role: ApiKeyRole;
  secret_hash: Buffer;
  created_by: string;
  created_at: Date;
  last_used_at: Date | null;
  revoked_at: Date | null;
}

const toKey = (row: KeyRow): ApiKey => ({
  tenantId: row.tenant_id as TenantId,
  id: row.id,
  name: row.name,
  role: row.role,
  createdBy: row.created_by,
  createdAt: fromTimestamp(row.created_at),
  lastUsedAt: row.last_used_at === null ? null : fromTimestamp(row.last_used_at),
  revokedAt: row.revoked_at === null ? null : fromTimestamp(row.revoked_at),
});

export function createApiKeyRepository(knex: Knex): ApiKeyRepository {
  return {
    async create(input) {
      const k = parseInput(newKeySchema, input, 'API key');
      try {
        const [row] = await knex<KeyRow>('api_keys')
          .insert({
            tenant_id: k.tenantId,
            id: k.id,
            name: k.name,
            role: k.role,
            secret_hash: k.secretHash,
            created_by: k.createdBy,
          })
          .returning('*');
        return toKey(row as KeyRow);
      } catch (err) {
        if (pgCode(err) === PG_FOREIGN_KEY_VIOLATION) throw new DbError('TENANT_UNKNOWN');
        throw err;
      }
    },

    async find(id) {
      if (!apiKeyIdSchema.safeParse(id).success) return undefined;
      const row = await knex<KeyRow>('api_keys').where({ id }).first();
      return row ? { ...toKey(row), secretHash: row.secret_hash } : undefined;
    },

    async list(tenantId, options) {
      const query = knex<KeyRow>('api_keys')
        .where({ tenant_id: tenantOf(tenantId) })
        .orderBy('created_at')
        .orderBy('id');
      if (!options.revoked) query.whereNull('revoked_at');
      return (await query).map(toKey);
    },

    async revoke(tenantId, id) {
      const n = await knex('api_keys')
        .where({ tenant_id: tenantOf(tenantId), id })
        .whereNull('revoked_at')
        .update({ revoked_at: knex.fn.now() });
      return n > 0;
    },

    async touch(tenantId, id) {
      await knex('api_keys')
        .where({ tenant_id: tenantOf(tenantId), id })
        .whereRaw("(last_used_at IS NULL OR last_used_at < now() - interval '1 minute')")
        .update({ last_used_at: knex.fn.now() });
    },
  };
}
