// Sessions: one per login (a person in a browser, or an agent on a registered device). The row
// holds the current refresh generation, never a token (see migration 0003): rotating is one
// conditional UPDATE, so two refreshes with the same token cannot both succeed, and the loser is
// told it presented a rotated token.
import type { Knex } from 'knex';
import { z } from 'zod';
import type { AgentId, DeviceId, TenantId } from '../engine/ids.js';
import { agentIdSchema, deviceIdSchema, tenantIdSchema } from '../engine/ids.js';
import { DbError, pgCode, PG_FOREIGN_KEY_VIOLATION } from './errors.js';
import { fromTimestamp, parseInput, tenantOf, toTimestamp } from './validate.js';

export const SESSION_REVOKE_REASONS = ['logout', 'reuse', 'device_revoked', 'replaced', 'admin'] as const;
export type SessionRevokeReason = (typeof SESSION_REVOKE_REASONS)[number];

export const sessionIdSchema = z.string().regex(/^[A-Za-z0-9_-]{16,64}$/, 'must be a session id');

const newSessionSchema = z.object({
  tenantId: tenantIdSchema,
  id: sessionIdSchema,
  userId: agentIdSchema,
  deviceId: deviceIdSchema.optional(),
  /** Epoch ms. */
  expiresAt: z.number().int().positive(),
});

export type NewSession = z.input<typeof newSessionSchema>;

export interface Session {
  readonly tenantId: TenantId;
  readonly id: string;
  readonly userId: AgentId;
  readonly deviceId: DeviceId | null;
  readonly generation: number;
  readonly createdAt: number;
  readonly lastUsedAt: number;
  readonly expiresAt: number;
  readonly revokedAt: number | null;
  readonly revokedReason: SessionRevokeReason | null;
}

export type RotateResult =
  | { readonly kind: 'rotated'; readonly session: Session }
  /** The generation presented was rotated already: the session is revoked now. */
  | { readonly kind: 'reused'; readonly session: Session }
  /** Unknown, revoked or expired. */
  | { readonly kind: 'invalid' };

export interface SessionRepository {
  /** Fails with USER_UNKNOWN. */
  create(input: NewSession): Promise<Session>;
  get(tenantId: string, sessionId: string): Promise<Session | undefined>;
  /**
   * Move a live session from `generation` to the next one (extending its expiry to `expiresAt`).
   * A generation older than the current one revokes the session (reason 'reuse').
   */
  rotate(tenantId: string, sessionId: string, generation: number, expiresAt: number): Promise<RotateResult>;
  /** Revoke one live session; false when unknown or revoked already. */
  revoke(tenantId: string, sessionId: string, reason: SessionRevokeReason): Promise<boolean>;
  /** Revoke every live session of a user (optionally only on one device); returns them. */
  revokeForUser(tenantId: string, userId: string, reason: SessionRevokeReason): Promise<Session[]>;
  revokeForDevice(tenantId: string, deviceId: string, reason: SessionRevokeReason): Promise<Session[]>;
}

interface SessionRow {
  tenant_id: string;
  id: string;
  user_id: string;
  device_id: string | null;
  generation: number;
  created_at: Date;
  last_used_at: Date;
  expires_at: Date;
  revoked_at: Date | null;
  revoked_reason: SessionRevokeReason | null;
}

const toSession = (row: SessionRow): Session => ({
  tenantId: row.tenant_id as TenantId,
  id: row.id,
  userId: row.user_id as AgentId,
  deviceId: row.device_id as DeviceId | null,
  generation: row.generation,
  createdAt: fromTimestamp(row.created_at),
  lastUsedAt: fromTimestamp(row.last_used_at),
  expiresAt: fromTimestamp(row.expires_at),
  revokedAt: row.revoked_at === null ? null : fromTimestamp(row.revoked_at),
  revokedReason: row.revoked_reason,
});

export function createSessionRepository(knex: Knex): SessionRepository {
  const live = (tenantId: string) =>
    knex<SessionRow>('sessions')
      .where({ tenant_id: tenantOf(tenantId) })
      .whereNull('revoked_at');

  return {
    async create(input) {
      const s = parseInput(newSessionSchema, input, 'session');
      try {
        const [row] = await knex<SessionRow>('sessions')
          .insert({
            tenant_id: s.tenantId,
            id: s.id,
            user_id: s.userId,
            device_id: s.deviceId ?? null,
            expires_at: toTimestamp(s.expiresAt) as never,
          })
          .returning('*');
        return toSession(row as SessionRow);
      } catch (err) {
        if (pgCode(err) === PG_FOREIGN_KEY_VIOLATION) throw new DbError('USER_UNKNOWN');
        throw err;
      }
    },

    async get(tenantId, sessionId) {
      const row = await knex<SessionRow>('sessions')
        .where({ tenant_id: tenantOf(tenantId), id: sessionId })
        .first();
      return row ? toSession(row) : undefined;
    },

    async rotate(tenantId, sessionId, generation, expiresAt) {
      const [row] = await live(tenantId)
        .where({ id: sessionId, generation })
        .where('expires_at', '>', knex.fn.now())
        .update({
          generation: knex.raw('generation + 1') as never,
          last_used_at: knex.fn.now() as never,
          expires_at: toTimestamp(expiresAt) as never,
        })
        .returning('*');
      if (row) return { kind: 'rotated', session: toSession(row) };
      // Not rotated: an older generation of a live session is a stolen or replayed token.
      const [reused] = await live(tenantId)
        .where({ id: sessionId })
        .where('generation', '>', generation)
        .update({ revoked_at: knex.fn.now() as never, revoked_reason: 'reuse' })
        .returning('*');
      if (reused) return { kind: 'reused', session: toSession(reused) };
      return { kind: 'invalid' };
    },

    async revoke(tenantId, sessionId, reason) {
      const n = await live(tenantId)
        .where({ id: sessionId })
        .update({ revoked_at: knex.fn.now() as never, revoked_reason: reason });
      return n > 0;
    },

    async revokeForUser(tenantId, userId, reason) {
      const rows = await live(tenantId)
        .where({ user_id: userId })
        .update({ revoked_at: knex.fn.now() as never, revoked_reason: reason })
        .returning('*');
      return rows.map(toSession);
    },

    async revokeForDevice(tenantId, deviceId, reason) {
      const rows = await live(tenantId)
        .where({ device_id: deviceId })
        .update({ revoked_at: knex.fn.now() as never, revoked_reason: reason })
        .returning('*');
      return rows.map(toSession);
    },
  };
}
