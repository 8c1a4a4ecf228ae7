// Devices: the phones, softphones and browsers agents dial from. A tenant's plan limits how many
// may be registered (not revoked) at once, and the limit is enforced here, inside the same
// transaction as the registration: two devices registering at the same moment for the last free
// slot are serialized by a lock on the tenant row, so the limit cannot be overshot by a race.
import type { Knex } from 'knex';
import { z } from 'zod';
import type { AgentId, DeviceId, TenantId } from '../engine/ids.js';
import { agentIdSchema, deviceIdSchema, tenantIdSchema } from '../engine/ids.js';
import { DbError, pgCode, PG_FOREIGN_KEY_VIOLATION } from './errors.js';
import { keyset, pageOf } from './pager.js';
import type { Page } from './pager.js';
import { planSchema } from './tenants.js';
import { fromTimestamp, parseInput, storableText, tenantOf } from './validate.js';

const newDeviceSchema = z.object({
  tenantId: tenantIdSchema,
  id: deviceIdSchema,
  userId: agentIdSchema,
  label: storableText(120).default(''),
  /** 'android', 'ios', 'browser', 'softphone', ... as the gateway names them. */
  platform: z.string().regex(/^[a-z0-9_-]{1,32}$/, 'must be a short lower-case platform name'),
  model: storableText(120).default(''),
  appVersion: storableText(40).default(''),
});

export type NewDevice = z.input<typeof newDeviceSchema>;

export interface Device {
  readonly tenantId: TenantId;
  readonly id: DeviceId;
  readonly userId: AgentId;
  readonly label: string;
  readonly platform: string;
  readonly model: string;
  readonly appVersion: string;
  readonly registeredAt: number;
  readonly revokedAt: number | null;
  readonly lastLoginAt: number | null;
}

/** `next` is the id to pass as `after` for the next page; null on the last page. */
export type DevicePage = Page<Device>;

export interface DeviceRepository {
  /**
   * Register a device, or re-register one (same id: its user, label and platform are updated, a
   * revoked one becomes active again). Fails with DEVICE_LIMIT when the tenant's plan has no free
   * slot, TENANT_UNKNOWN or USER_UNKNOWN.
   */
  register(input: NewDevice): Promise<Device>;
  get(tenantId: string, deviceId: string): Promise<Device | undefined>;
  /** Devices registered and not revoked. */
  countActive(tenantId: string): Promise<number>;
  /** True when an active device was revoked now; false when unknown or already revoked. */
  revoke(tenantId: string, deviceId: string): Promise<boolean>;
  /** Devices in id order after `after`; optionally of one agent, optionally with revoked ones. */
  list(
    tenantId: string,
    page: { after?: string | undefined; limit: number; agentId?: string | undefined; revoked?: boolean },
  ): Promise<DevicePage>;
  /** Set a device's label; undefined when unknown. */
  rename(tenantId: string, deviceId: string, label: string): Promise<Device | undefined>;
  /** Record a login from the device (now). */
  touchLogin(tenantId: string, deviceId: string): Promise<void>;
}

interface DeviceRow {
  tenant_id: string;
  id: string;
  user_id: string;
  label: string;
  platform: string;
  model: string;
  app_version: string;
  registered_at: Date;
  revoked_at: Date | null;
  last_login_at: Date | null;
}

const toDevice = (row: DeviceRow): Device => ({
  tenantId: row.tenant_id as TenantId,
  id: row.id as DeviceId,
  userId: row.user_id as AgentId,
  label: row.label,
  platform: row.platform,
  model: row.model,
  appVersion: row.app_version,
  registeredAt: fromTimestamp(row.registered_at),
  revokedAt: row.revoked_at === null ? null : fromTimestamp(row.revoked_at),
  lastLoginAt: row.last_login_at === null ? null : fromTimestamp(row.last_login_at),
});

async function countActiveIn(knex: Knex, tenantId: string, except?: string): Promise<number> {
  const query = knex('devices').where({ tenant_id: tenantId }).whereNull('revoked_at');
  if (except !== undefined) query.whereNot({ id: except });
  const [row] = await query.count<{ n: string }[]>({ n: '*' });
  return Number(row?.n ?? 0);
}

export function createDeviceRepository(knex: Knex): DeviceRepository {
  return {
    async register(input) {
      const d = parseInput(newDeviceSchema, input, 'device');
      return knex.transaction(async (trx) => {
        // The tenant row lock serializes registrations within a tenant (see the file header).
        const tenant = await trx('tenants')
          .select<{ plan: unknown }[]>('plan')
          .where({ id: d.tenantId })
          .forUpdate()
          .first();
        if (!tenant) throw new DbError('TENANT_UNKNOWN');
        const { deviceLimit } = planSchema.parse(tenant.plan);
        if ((await countActiveIn(trx, d.tenantId, d.id)) >= deviceLimit) {
          throw new DbError('DEVICE_LIMIT', undefined, { deviceLimit });
        }
        try {
          const { rows } = await trx.raw<{ rows: DeviceRow[] }>(
            `INSERT INTO devices (tenant_id, id, user_id, label, platform, model, app_version)
             VALUES (?, ?, ?, ?, ?, ?, ?)
             ON CONFLICT (tenant_id, id) DO UPDATE SET
               user_id = excluded.user_id,
               label = excluded.label,
               platform = excluded.platform,
               model = excluded.model,
               app_version = excluded.app_version,
               registered_at = CASE WHEN devices.revoked_at IS NULL THEN devices.registered_at ELSE now() END,
               revoked_at = NULL
             RETURNING *`,
            [d.tenantId, d.id, d.userId, d.label, d.platform, d.model, d.appVersion],
          );
          return toDevice(rows[0]!);
        } catch (err) {
          if (pgCode(err) === PG_FOREIGN_KEY_VIOLATION) throw new DbError('USER_UNKNOWN');
          throw err;
        }
      });
    },

    async get(tenantId, deviceId) {
      const row = await knex<DeviceRow>('devices')
        .where({ tenant_id: tenantOf(tenantId), id: deviceId })
        .first();
      return row ? toDevice(row) : undefined;
    },

    async countActive(tenantId) {
      return countActiveIn(knex, tenantOf(tenantId));
    },

    async revoke(tenantId, deviceId) {
      const n = await knex('devices')
        .where({ tenant_id: tenantOf(tenantId), id: deviceId })
        .whereNull('revoked_at')
        .update({ revoked_at: knex.fn.now() });
      return n > 0;
    },

    async list(tenantId, page) {
      const query = keyset(knex<DeviceRow>('devices').where({ tenant_id: tenantOf(tenantId) }), 'id', page);
      if (page.agentId !== undefined) query.where({ user_id: page.agentId });
      if (!page.revoked) query.whereNull('revoked_at');
      return pageOf(await query, page.limit, toDevice, (d) => d.id);
    },

    async rename(tenantId, deviceId, label) {
      const text = parseInput(storableText(120), label, 'device label');
      const [row] = await knex<DeviceRow>('devices')
        .where({ tenant_id: tenantOf(tenantId), id: deviceId })
        .update({ label: text })
        .returning('*');
      return row ? toDevice(row) : undefined;
    },

    async touchLogin(tenantId, deviceId) {
      await knex('devices')
        .where({ tenant_id: tenantOf(tenantId), id: deviceId })
        .update({ last_login_at: knex.fn.now() });
    },
  };
}
