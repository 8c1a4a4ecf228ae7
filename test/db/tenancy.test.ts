// Tenancy: every read and write is scoped to the tenant it names. Two tenants here use the same
// campaign id, agent ids, device ids and phone numbers, so any query that forgot its tenant
// would find the other tenant's rows.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isDbError } from '../../db/index.js';
import type { Database } from '../../db/index.js';
import { createTestDatabase } from '../support/postgres.js';
import type { TestDatabase } from '../support/postgres.js';
import { newTenantId, outcomeFor, phone, seedTenant } from './fixtures.js';
import type { Seeded } from './fixtures.js';

describe('tenancy', () => {
  let t: TestDatabase;
  let db: Database;
  let acme: Seeded;
  let globex: Seeded;
  beforeAll(async () => {
    t = await createTestDatabase();
    db = t.db;
    acme = await seedTenant(db, { tenantId: newTenantId('acme'), leads: 3 });
    globex = await seedTenant(db, { tenantId: newTenantId('globex'), leads: 3 });
    for (const s of [acme, globex]) {
      await db.devices.register({ tenantId: s.tenantId, id: 'd1', userId: 'a1', platform: 'android' });
    }
    await db.dnc.add(acme.tenantId, [phone(99)], 'api');
    await db.audit.append({ tenantId: acme.tenantId, actor: 'a1', action: 'campaign.update', subject: 'c1' });
  });
  afterAll(async () => {
    await t.dispose();
  });

  it("one tenant cannot read another's lead, attempt, dnc entry or audit log", async () => {
    const acmeLead = acme.leadIds[0]!;
    expect(await db.leads.get(globex.tenantId, acmeLead)).toBeUndefined();
    expect(await db.leads.get(acme.tenantId, acmeLead)).toBeDefined();

    const record = await db.outcomes.write(outcomeFor(acme, acme.leadIds[2]!));
    expect((await db.outcomes.findByLeaseIds(globex.tenantId, [record.leaseId])).size).toBe(0);
    expect((await db.outcomes.findByLeaseIds(acme.tenantId, [record.leaseId])).size).toBe(1);

    expect(await db.dnc.has(globex.tenantId, phone(99))).toBe(false);
    expect(await db.dnc.filterListed(globex.tenantId, [phone(99)])).toEqual([]);
    expect(await db.audit.list(globex.tenantId)).toEqual([]);
    expect(await db.audit.list(acme.tenantId)).toHaveLength(1);
  });

  it("streaming a campaign yields only its own tenant's leads, though the campaign ids match", async () => {
    const ids: string[] = [];
    for await (const chunk of db.leads.streamQueued(globex.tenantId, 'c1', 1))
      ids.push(...chunk.map((l) => l.id));
    expect(ids.every((id) => globex.leadIds.includes(id))).toBe(true);
    expect(ids.length).toBeGreaterThan(0);
    expect((await db.campaigns.get(globex.tenantId, 'c1'))?.tenantId).toBe(globex.tenantId);
  });

  it("one tenant cannot update another's rows", async () => {
    // Same numbers in both tenants: removing them in globex leaves acme's leads queued.
    const removed = await db.leads.markRemoved(globex.tenantId, [phone(1)]);
    expect(removed).toEqual([{ leadId: globex.leadIds[0], campaignId: 'c1' }]);
    expect((await db.leads.get(acme.tenantId, acme.leadIds[0]!))?.status).toBe('queued');

    // Same device id in both tenants: revoking globex's leaves acme's active.
    expect(await db.devices.revoke(globex.tenantId, 'd1')).toBe(true);
    expect((await db.devices.get(acme.tenantId, 'd1'))?.revokedAt).toBeNull();
    expect(await db.devices.countActive(acme.tenantId)).toBe(1);

    // Same campaign id: upserting globex's leaves acme's as it was.
    await db.campaigns.upsert({
      tenantId: globex.tenantId,
      id: 'c1',
      name: 'renamed',
      status: 'paused',
      config: {
        window: { rules: [] },
      },
    });
    expect(await db.campaigns.get(acme.tenantId, 'c1')).toMatchObject({
      name: 'Campaign c1',
      status: 'active',
    });
  });

  it("an outcome naming another tenant's lead is rejected and changes nothing", async () => {
    const acmeLead = acme.leadIds[1]!;
    const err = await db.outcomes
      .write(
        outcomeFor(globex, acmeLead, {
          outcome: 'answered',
          disposition: { kind: 'final' },
          dncPhone: phone(2),
        }),
      )
      .catch((e: unknown) => e);
    expect(isDbError(err, 'LEAD_UNKNOWN')).toBe(true);
    expect(await db.leads.get(acme.tenantId, acmeLead)).toMatchObject({ status: 'queued', attempts: 0 });
    expect(await db.dnc.has(globex.tenantId, phone(2))).toBe(false);
    expect(await db.dnc.has(acme.tenantId, phone(2))).toBe(false);
  });

  it('the same lease id in two tenants is two attempts, not a duplicate', async () => {
    const leaseId = 'c1.shared.1';
    const a = await db.outcomes.write(outcomeFor(acme, acme.leadIds[0]!, { leaseId }));
    const g = await db.outcomes.write(outcomeFor(globex, globex.leadIds[1]!, { leaseId }));
    expect([a.duplicate, g.duplicate]).toEqual([false, false]);
    expect(a.attemptId).not.toBe(g.attemptId);
    expect(g.tenantId).toBe(globex.tenantId);
  });

  it('every repository refuses a malformed tenant id before any query', async () => {
    const bad = "x' OR '1'='1";
    const calls: Promise<unknown>[] = [
      db.tenants.get(bad),
      db.users.get(bad, 'a1'),
      db.devices.get(bad, 'd1'),
      db.devices.countActive(bad),
      db.campaigns.get(bad, 'c1'),
      db.leads.get(bad, '1'),
      db.leads.countByStatus(bad, 'c1'),
      db.leads.markRemoved(bad, [phone(1)]),
      db.dnc.has(bad, phone(1)),
      db.audit.list(bad),
      db.outcomes.findByLeaseIds(bad, ['c1.e1.1']),
      db.outcomes.write(outcomeFor({ tenantId: bad, campaignId: 'c1' }, '1')),
    ];
    for (const call of calls) {
      const err = await call.then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(isDbError(err, 'INPUT_INVALID'), String(err)).toBe(true);
    }
    expect(() => db.leads.streamQueued(bad, 'c1')).toThrow(/tenant id/);
  });
});
