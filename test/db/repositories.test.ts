// Tenants, users, devices (and the plan's device limit), campaigns, the DNC list and the audit log.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isEngineError } from '../../engine/errors.js';
import { SYSTEM_DISPOSITIONS } from '../../engine/disposition.js';
import { isDbError } from '../../db/index.js';
import type { Database } from '../../db/index.js';
import { createTestDatabase } from '../support/postgres.js';
import type { TestDatabase } from '../support/postgres.js';
import { newTenantId, phone, seedTenant } from './fixtures.js';

const settle = (p: Promise<unknown>) =>
  p.then(
    () => undefined,
    (e: unknown) => e,
  );

describe('repositories', () => {
  let t: TestDatabase;
  let db: Database;
  beforeAll(async () => {
    t = await createTestDatabase();
    db = t.db;
  });
  afterAll(async () => {
    await t.dispose();
  });

  describe('tenants and users', () => {
    it('a tenant and its users read back as created; ids are unique', async () => {
      const id = newTenantId();
      const tenant = await db.tenants.create({ id, name: 'Acme', plan: { deviceLimit: 2 } });
      expect(tenant).toMatchObject({ id, name: 'Acme', plan: { deviceLimit: 2 } });
      expect(await db.tenants.get(id)).toEqual(tenant);
      expect(
        isDbError(
          await settle(db.tenants.create({ id, name: 'again', plan: { deviceLimit: 1 } })),
          'CONFLICT',
        ),
      ).toBe(true);

      const user = await db.users.create({ tenantId: id, id: 'sup1', name: 'Sue', role: 'supervisor' });
      expect(await db.users.get(id, 'sup1')).toEqual(user);
      expect(isDbError(await settle(db.users.create({ ...user, role: 'agent' })), 'CONFLICT')).toBe(true);
      expect(
        isDbError(
          await settle(db.users.create({ tenantId: newTenantId(), id: 'u', name: 'U', role: 'agent' })),
          'TENANT_UNKNOWN',
        ),
      ).toBe(true);
      expect(
        isDbError(
          await settle(db.users.create({ tenantId: id, id: 'u', name: 'U', role: 'root' as 'agent' })),
          'INPUT_INVALID',
        ),
      ).toBe(true);
    });
  });

  describe('devices', () => {
    it("registration stops at the plan's device limit, and revoking frees a slot", async () => {
      const { tenantId } = await seedTenant(db); // deviceLimit 3
      for (const id of ['d1', 'd2', 'd3'])
        await db.devices.register({ tenantId, id, userId: 'a1', platform: 'android' });
      expect(await db.devices.countActive(tenantId)).toBe(3);
      expect(
        isDbError(
          await settle(db.devices.register({ tenantId, id: 'd4', userId: 'a2', platform: 'ios' })),
          'DEVICE_LIMIT',
        ),
      ).toBe(true);

      // Re-registering a device already counted is not a new one.
      const again = await db.devices.register({
        tenantId,
        id: 'd2',
        userId: 'a2',
        label: 'Pixel',
        platform: 'android',
      });
      expect(again).toMatchObject({ userId: 'a2', label: 'Pixel', revokedAt: null });

      expect(await db.devices.revoke(tenantId, 'd1')).toBe(true);
      expect(await db.devices.revoke(tenantId, 'd1')).toBe(false);
      expect((await db.devices.get(tenantId, 'd1'))?.revokedAt).toEqual(expect.any(Number));
      await db.devices.register({ tenantId, id: 'd4', userId: 'a2', platform: 'ios' });
      expect(await db.devices.countActive(tenantId)).toBe(3);
    });

    it('concurrent registrations never overshoot the device limit', async () => {
      const { tenantId } = await seedTenant(db); // deviceLimit 3
      const results = await Promise.allSettled(
        Array.from({ length: 10 }, (_, i) =>
          db.devices.register({ tenantId, id: `d${i}`, userId: 'a1', platform: 'android' }),
        ),
      );
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(3);
      for (const r of results)
        if (r.status === 'rejected') expect(isDbError(r.reason, 'DEVICE_LIMIT')).toBe(true);
      expect(await db.devices.countActive(tenantId)).toBe(3);
    });

    it('a device needs a user of its tenant', async () => {
      const { tenantId } = await seedTenant(db);
      expect(
        isDbError(
          await settle(db.devices.register({ tenantId, id: 'dx', userId: 'ghost', platform: 'web' })),
          'USER_UNKNOWN',
        ),
      ).toBe(true);
    });
  });

  describe('campaigns', () => {
    it('a campaign reads back with the config the engine parsed, and upsert replaces it', async () => {
      const { tenantId } = await seedTenant(db);
      const window = { rules: [{ days: [1, 2, 3, 4, 5], from: '09:00', to: '20:00' }] };
      const created = await db.campaigns.upsert({
        tenantId,
        id: 'sales',
        name: 'Sales',
        status: 'paused',
        config: { window, dispositions: { sale: { final: true, contact: true } } },
      });
      expect(created.config.window).toEqual(window);
      expect(created.config.dispositions.sale).toEqual({
        final: true,
        retryDelayMs: 0,
        maxAttempts: 0,
        contact: true,
        dnc: false,
        callback: false,
      });
      expect(created.config.dispositions.busy).toEqual(SYSTEM_DISPOSITIONS.busy);
      expect(await db.campaigns.get(tenantId, 'sales')).toEqual(created);

      const updated = await db.campaigns.upsert({
        tenantId,
        id: 'sales',
        name: 'Sales 2',
        status: 'active',
        config: created.config,
      });
      expect(updated).toMatchObject({ name: 'Sales 2', status: 'active', createdAt: created.createdAt });
      expect(updated.config).toEqual(created.config);
    });

    it("an invalid config is refused with the engine's CAMPAIGN_INVALID and nothing is stored", async () => {
      const { tenantId } = await seedTenant(db);
      const err = await settle(
        db.campaigns.upsert({
          tenantId,
          id: 'broken',
          name: 'Broken',
          status: 'active',
          config: { window: { rules: [{ days: [1], from: '20:00', to: '09:00' }] } },
        }),
      );
      expect(isEngineError(err, 'CAMPAIGN_INVALID')).toBe(true);
      expect(await db.campaigns.get(tenantId, 'broken')).toBeUndefined();
    });

    it('listActive lists the active campaigns of every tenant, for the rebuild on start', async () => {
      const a = await seedTenant(db, { campaignId: 'live' });
      const b = await seedTenant(db, { campaignId: 'live' });
      await db.campaigns.upsert({
        tenantId: b.tenantId,
        id: 'old',
        name: 'Old',
        status: 'archived',
        config: { window: { rules: [] } },
      });
      const mine = (await db.campaigns.listActive()).filter((c) =>
        [a.tenantId, b.tenantId].includes(c.tenantId),
      );
      expect(mine.map((c) => [c.tenantId, c.campaignId]).sort()).toEqual(
        [
          [a.tenantId, 'live'],
          [b.tenantId, 'live'],
        ].sort(),
      );
      expect(mine[0]?.config.dispositions.callback?.callback).toBe(true);
    });
  });

  describe('do-not-call list', () => {
    it('adding is idempotent and the first source stays', async () => {
      const { tenantId } = await seedTenant(db);
      expect(await db.dnc.add(tenantId, [phone(1), phone(2), phone(1)], 'import')).toBe(2);
      expect(await db.dnc.add(tenantId, [phone(2), phone(3)], 'api')).toBe(1);
      expect(await db.dnc.has(tenantId, phone(2))).toBe(true);
      expect(await db.dnc.has(tenantId, phone(4))).toBe(false);
      const rows = await db
        .knex('dnc')
        .where({ tenant_id: tenantId })
        .orderBy('phone')
        .select('phone', 'source');
      expect(rows).toEqual([
        { phone: phone(1), source: 'import' },
        { phone: phone(2), source: 'import' },
        { phone: phone(3), source: 'api' },
      ]);
    });

    it('filterListed returns the listed subset in input order', async () => {
      const { tenantId } = await seedTenant(db);
      await db.dnc.add(tenantId, [phone(5), phone(7)], 'api');
      expect(await db.dnc.filterListed(tenantId, [phone(7), phone(6), phone(5), phone(7)])).toEqual([
        phone(7),
        phone(5),
      ]);
      expect(await db.dnc.filterListed(tenantId, [])).toEqual([]);
    });

    it('numbers must be E.164', async () => {
      const { tenantId } = await seedTenant(db);
      expect(isDbError(await settle(db.dnc.add(tenantId, ['07700900001'], 'api')), 'INPUT_INVALID')).toBe(
        true,
      );
    });
  });

  describe('audit log', () => {
    it('entries list newest first, page by page', async () => {
      const { tenantId } = await seedTenant(db);
      for (let i = 1; i <= 5; i++) {
        await db.audit.append({
          tenantId,
          actor: 'admin1',
          action: 'lead.import',
          subject: `batch-${i}`,
          details: { rows: i },
        });
      }
      const first = await db.audit.list(tenantId, { limit: 2 });
      expect(first.map((e) => e.subject)).toEqual(['batch-5', 'batch-4']);
      const next = await db.audit.list(tenantId, { limit: 2, beforeId: first[1]!.id });
      expect(next.map((e) => e.subject)).toEqual(['batch-3', 'batch-2']);
      expect(next[0]).toMatchObject({ actor: 'admin1', action: 'lead.import', details: { rows: 3 } });
    });

    it('an entry can carry its own time', async () => {
      const { tenantId } = await seedTenant(db);
      const at = Date.UTC(2026, 1, 1);
      expect(
        await db.audit.append({ tenantId, at, actor: 'system', action: 'retention.purge' }),
      ).toMatchObject({ at });
    });
  });
});
