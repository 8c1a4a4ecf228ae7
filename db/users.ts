// Users of a tenant: owners, admins, supervisors and agents. An agent's id is the AgentId the
// engine routes to. A user who logs in has an e-mail (unique in the tenant, stored lower-case) and
// a password hash (argon2id, made by the gateway; this file never sees a password).
import type { Knex } from 'knex';
import { z } from 'zod';
import type { AgentId, TenantId } from '../engine/ids.js';
import { agentIdSchema, tenantIdSchema } from '../engine/ids.js';
import { DbError, pgCode, PG_FOREIGN_KEY_VIOLATION, PG_UNIQUE_VIOLATION } from './errors.js';
import { keyset, pageOf } from './pager.js';
import type { Page } from './pager.js';
import { fromTimestamp, parseInput, storableText, tenantOf } from './validate.js';

/** Most powerful first: each role may do what the ones after it may. */
export const USER_ROLES = ['owner', 'admin', 'supervisor', 'agent'] as const;
export type UserRole = (typeof USER_ROLES)[number];

export const emailSchema = z
  .string()
  .trim()
  .max(254)
  .toLowerCase()
  .regex(/^[^\s@]+@[^\s@]+$/, 'must be an e-mail address');

const passwordHashSchema = z.string().startsWith('$argon2id$').max(512);

const newUserSchema = z.object({
  tenantId: tenantIdSchema,
  id: agentIdSchema,
  name: storableText(200).min(1),
  role: z.enum(USER_ROLES),
  email: emailSchema.nullish(),
  passwordHash: passwordHashSchema.nullish(),
});

export type NewUser = z.input<typeof newUserSchema>;

const userPatchSchema = z.object({
  name: storableText(200).min(1).optional(),
  role: z.enum(USER_ROLES).optional(),
  email: emailSchema.nullable().optional(),
  passwordHash: passwordHashSchema.optional(),
});

export type UserPatch = z.input<typeof userPatchSchema>;

export interface User {
  readonly tenantId: TenantId;
  readonly id: AgentId;
  readonly name: string;
  readonly role: UserRole;
  readonly email: string | null;
  readonly createdAt: number;
  readonly updatedAt: number;
}

/** A user with the hash their password is checked against (login only; never serialized). */
export interface UserCredentials extends User {
  readonly passwordHash: string | null;
}

/** `next` is the id to pass as `after` for the next page; null on the last page. */
export type UserPage = Page<User>;

export interface UserRepository {
  /** Fails with TENANT_UNKNOWN or CONFLICT (the id or the e-mail is taken in this tenant). */
  create(input: NewUser): Promise<User>;
  get(tenantId: string, userId: string): Promise<User | undefined>;
  /** The user with this e-mail in this tenant, with their password hash. */
  credentialsByEmail(tenantId: string, email: string): Promise<UserCredentials | undefined>;
  credentials(tenantId: string, userId: string): Promise<UserCredentials | undefined>;
  /** Users in id order, `limit` at a time after the id `after`; optionally of one role. */
  list(
    tenantId: string,
    page: { after?: string; limit: number; role?: UserRole | undefined },
  ): Promise<UserPage>;
  /** Fails with USER_UNKNOWN or CONFLICT (e-mail taken). */
  update(tenantId: string, userId: string, patch: UserPatch): Promise<User>;
  /** Deletes the user with their devices and sessions (cascade). False when unknown. */
  remove(tenantId: string, userId: string): Promise<boolean>;
  /** Users of a role in the tenant (the last owner may not be demoted or deleted). */
  countByRole(tenantId: string, role: UserRole): Promise<number>;
}

interface UserRow {
  tenant_id: string;
  id: string;
  name: string;
  role: UserRole;
  email: string | null;
  password_hash: string | null;
  created_at: Date;
  updated_at: Date;
}

const toUser = (row: UserRow): User => ({
  tenantId: row.tenant_id as TenantId,
  id: row.id as AgentId,
  name: row.name,
  role: row.role,
  email: row.email,
  createdAt: fromTimestamp(row.created_at),
  updatedAt: fromTimestamp(row.updated_at),
});

const toCredentials = (row: UserRow): UserCredentials => ({
  ...toUser(row),
  passwordHash: row.password_hash,
});

function conflictOrRethrow(err: unknown): never {
  if (pgCode(err) === PG_UNIQUE_VIOLATION) throw new DbError('CONFLICT', 'user id or e-mail is taken');
  if (pgCode(err) === PG_FOREIGN_KEY_VIOLATION) throw new DbError('TENANT_UNKNOWN');
  throw err;
}

export function createUserRepository(knex: Knex): UserRepository {
  return {
    async create(input) {
      const u = parseInput(newUserSchema, input, 'user');
      try {
        const [row] = await knex<UserRow>('users')
          .insert({
            tenant_id: u.tenantId,
            id: u.id,
            name: u.name,
            role: u.role,
            email: u.email ?? null,
            password_hash: u.passwordHash ?? null,
          })
          .returning('*');
        return toUser(row as UserRow);
      } catch (err) {
        conflictOrRethrow(err);
      }
    },

    async get(tenantId, userId) {
      const row = await knex<UserRow>('users')
        .where({ tenant_id: tenantOf(tenantId), id: userId })
        .first();
      return row ? toUser(row) : undefined;
    },

    async credentialsByEmail(tenantId, email) {
      const parsed = emailSchema.safeParse(email);
      if (!parsed.success) return undefined;
      const row = await knex<UserRow>('users')
        .where({ tenant_id: tenantOf(tenantId), email: parsed.data })
        .first();
      return row ? toCredentials(row) : undefined;
    },

    async credentials(tenantId, userId) {
      const row = await knex<UserRow>('users')
        .where({ tenant_id: tenantOf(tenantId), id: userId })
        .first();
      return row ? toCredentials(row) : undefined;
    },

    async list(tenantId, page) {
      const query = keyset(knex<UserRow>('users').where({ tenant_id: tenantOf(tenantId) }), 'id', page);
      if (page.role !== undefined) query.where({ role: page.role });
      return pageOf(await query, page.limit, toUser, (u) => u.id);
    },

    async update(tenantId, userId, patch) {
      const p = parseInput(userPatchSchema, patch, 'user');
      const changes: Record<string, unknown> = { updated_at: knex.fn.now() };
      if (p.name !== undefined) changes.name = p.name;
      if (p.role !== undefined) changes.role = p.role;
      if (p.email !== undefined) changes.email = p.email;
      if (p.passwordHash !== undefined) changes.password_hash = p.passwordHash;
      try {
        const [row] = await knex<UserRow>('users')
          .where({ tenant_id: tenantOf(tenantId), id: userId })
          .update(changes)
          .returning('*');
        if (!row) throw new DbError('USER_UNKNOWN');
        return toUser(row);
      } catch (err) {
        if (err instanceof DbError) throw err;
        conflictOrRethrow(err);
      }
    },

    async remove(tenantId, userId) {
      const n = await knex('users')
        .where({ tenant_id: tenantOf(tenantId), id: userId })
        .delete();
      return n > 0;
    },

    async countByRole(tenantId, role) {
      const [row] = await knex('users')
        .where({ tenant_id: tenantOf(tenantId), role })
        .count<{ n: string }[]>({ n: '*' });
      return Number(row?.n ?? 0);
    },
  };
}
