// Users of a tenant: admins, supervisors and agents. An agent's id is the AgentId the engine
// routes to.
import type { Knex } from 'knex';
import { z } from 'zod';
import type { AgentId, TenantId } from '../engine/ids.js';
import { agentIdSchema, tenantIdSchema } from '../engine/ids.js';
import { DbError, pgCode, PG_FOREIGN_KEY_VIOLATION, PG_UNIQUE_VIOLATION } from './errors.js';
import { fromTimestamp, parseInput, storableText, tenantOf } from './validate.js';

export const USER_ROLES = ['admin', 'supervisor', 'agent'] as const;
export type UserRole = (typeof USER_ROLES)[number];

const newUserSchema = z.object({
  tenantId: tenantIdSchema,
  id: agentIdSchema,
  name: storableText(200).min(1),
  role: z.enum(USER_ROLES),
});

export type NewUser = z.input<typeof newUserSchema>;

export interface User {
  readonly tenantId: TenantId;
  readonly id: AgentId;
  readonly name: string;
  readonly role: UserRole;
  readonly createdAt: number;
}

export interface UserRepository {
  /** Fails with TENANT_UNKNOWN or CONFLICT (the id is taken in this tenant). */
  create(input: NewUser): Promise<User>;
  get(tenantId: string, userId: string): Promise<User | undefined>;
}

interface UserRow {
  tenant_id: string;
  id: string;
  name: string;
  role: UserRole;
  created_at: Date;
}

const toUser = (row: UserRow): User => ({
  tenantId: row.tenant_id as TenantId,
  id: row.id as AgentId,
  name: row.name,
  role: row.role,
  createdAt: fromTimestamp(row.created_at),
});

export function createUserRepository(knex: Knex): UserRepository {
  return {
    async create(input) {
      const u = parseInput(newUserSchema, input, 'user');
      try {
        const [row] = await knex<UserRow>('users')
          .insert({ tenant_id: u.tenantId, id: u.id, name: u.name, role: u.role })
          .returning('*');
        return toUser(row as UserRow);
      } catch (err) {
        if (pgCode(err) === PG_UNIQUE_VIOLATION) throw new DbError('CONFLICT', 'user id is taken');
        if (pgCode(err) === PG_FOREIGN_KEY_VIOLATION) throw new DbError('TENANT_UNKNOWN');
        throw err;
      }
    },

    async get(tenantId, userId) {
      const row = await knex<UserRow>('users')
        .where({ tenant_id: tenantOf(tenantId), id: userId })
        .first();
      return row ? toUser(row) : undefined;
    },
  };
}
