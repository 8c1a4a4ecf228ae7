// Wallboard TV links (migration 0011): a read-only credential for a screen on the wall, scoped to
// its tenant and optionally one campaign, listed without its secret, revoked for good. Every query
// but find() (a presented link names its own id) takes the tenant.
import type { Knex } from 'knex';
import { z } from 'zod';
import type { TenantId } from '../engine/ids.js';
import { campaignIdSchema } from '../engine/ids.js';
import { DbError, pgCode, PG_FOREIGN_KEY_VIOLATION } from './errors.js';
import { fromTimestamp, parseInput, storableText, tenantOf } from './validate.js';

export const wallboardLinkIdSchema = z.string().regex(/^[A-Za-z0-9_-]{16}$/, 'must be a wallboard link id');

const newLinkSchema = z.strictObject({
  tenantId: z.string(),
  id: wallboardLinkIdSchema,
  name: storableText(120).min(1),
  campaignId: campaignIdSchema.nullable(),
  secretHash: z.instanceof(Buffer),
  createdBy: storableText(100).min(1),
});
export type NewWallboardLink = z.input<typeof newLinkSchema>;

export interface WallboardLink {
  readonly tenantId: TenantId;
  readonly id: string;
  readonly name: string;
  /** The one campaign the screen shows; null for the whole floor. */
  readonly campaignId: string | null;
  readonly createdBy: string;
  readonly createdAt: number;
  readonly lastUsedAt: number | null;
  readonly revokedAt: number | null;
}

export interface WallboardLinkRepository {
  create(input: NewWallboardLink): Promise<WallboardLink>;
  /** By id alone (the presented link names it); the caller checks the hash and the revocation. */
  find(id: string): Promise<(WallboardLink & { readonly secretHash: Buffer }) | undefined>;
  list(tenantId: string, options?: { revoked?: boolean }): Promise<WallboardLink[]>;
  /** True when a live link was revoked now. */
  revoke(tenantId: string, id: string): Promise<boolean>;
  touch(tenantId: string, id: string): Promise<void>;
}

interface LinkRow {
  tenant_id: string;
  id: string;
  name: string;
  campaign_id: string | null;
  secret_hash: Buffer;
  created_by: string;
  created_at: Date;
  last_used_at: Date | null;
  revoked_at: Date | null;
}

const toLink = (row: LinkRow): WallboardLink => ({
  tenantId: row.tenant_id as TenantId,
  id: row.id,
  name: row.name,
  campaignId: row.campaign_id,
  createdBy: row.created_by,
  createdAt: fromTimestamp(row.created_at),
  lastUsedAt: row.last_used_at === null ? null : fromTimestamp(row.last_used_at),
  revokedAt: row.revoked_at === null ? null : fromTimestamp(row.revoked_at),
});

export function createWallboardLinkRepository(knex: Knex): WallboardLinkRepository {
  return {
    async create(input) {
      const l = parseInput(newLinkSchema, input, 'wallboard link');
      try {
        const [row] = await knex<LinkRow>('wallboard_links')
          .insert({
            tenant_id: tenantOf(l.tenantId),
            id: l.id,
            name: l.name,
            campaign_id: l.campaignId,
            secret_hash: l.secretHash,
            created_by: l.createdBy,
          })
          .returning('*');
        return toLink(row as LinkRow);
      } catch (err) {
        if (pgCode(err) === PG_FOREIGN_KEY_VIOLATION) throw new DbError('TENANT_UNKNOWN');
        throw err;
      }
    },

    async find(id) {
      if (!wallboardLinkIdSchema.safeParse(id).success) return undefined;
      const row = await knex<LinkRow>('wallboard_links').where({ id }).first();
      return row ? { ...toLink(row), secretHash: row.secret_hash } : undefined;
    },

    async list(tenantId, options = {}) {
      const query = knex<LinkRow>('wallboard_links')
        .where({ tenant_id: tenantOf(tenantId) })
        .orderBy('created_at')
        .orderBy('id');
      if (!options.revoked) query.whereNull('revoked_at');
      return (await query).map(toLink);
    },

    async revoke(tenantId, id) {
      if (!wallboardLinkIdSchema.safeParse(id).success) return false;
      const n = await knex('wallboard_links')
        .where({ tenant_id: tenantOf(tenantId), id })
        .whereNull('revoked_at')
        .update({ revoked_at: knex.fn.now() });
      return n > 0;
    },

    async touch(tenantId, id) {
      await knex('wallboard_links')
        .where({ tenant_id: tenantOf(tenantId), id })
        .update({ last_used_at: knex.fn.now() });
    },
  };
}
