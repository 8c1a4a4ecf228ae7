// Fencing the commit of a completion in Postgres: the reaper records a claimed lease whose commit
// never landed as void, and from then on the commit can never land; whichever of the two comes
// first wins, even when they race. A stored row is never answered for another lead.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOutcomeWriter, isDbError, isVoided } from '../../db/index.js';
import type { Database } from '../../db/index.js';
import { createTestDatabase } from '../support/postgres.js';
import type { TestDatabase } from '../support/postgres.js';
import { newLeaseId, outcomeFor, seedTenant } from './fixtures.js';

describe('the lease fence in Postgres', () => {
  let t: TestDatabase;
  let db: Database;
  beforeAll(async () => {
    t = await createTestDatabase();
    db = t.db;
  });
  afterAll(async () => {
    await t.dispose();
  });

  const voidOf = (s: { campaignId: string }, leaseId: string, leadId: string) => ({
    leaseId,
    campaignId: s.campaignId,
    leadId,
    agentId: 'a1',
    deviceId: 'd1',
  });

  it('refuses the commit of a lease recorded as void, and keeps the void out of the call log', async () => {
    const s = await seedTenant(db, { leads: 1 });
    const leaseId = newLeaseId(s.campaignId);
    const fenced = await db.outcomes.voidLeases(s.tenantId, [voidOf(s, leaseId, s.leadIds[0]!)]);
    expect(isVoided(fenced.get(leaseId)!)).toBe(true);
    const err = await db.outcomes.write(outcomeFor(s, s.leadIds[0]!, { leaseId })).catch((e: unknown) => e);
    expect(isDbError(err, 'LEASE_VOID')).toBe(true);
    expect((await db.outcomes.findByLeaseIds(s.tenantId, [leaseId])).size).toBe(0);
    expect((await db.leads.get(s.tenantId, s.leadIds[0]!))?.status).toBe('queued');
    // Voiding again is harmless.
    expect(
      isVoided((await db.outcomes.voidLeases(s.tenantId, [voidOf(s, leaseId, s.leadIds[0]!)])).get(leaseId)!),
    ).toBe(true);
  });

  it('never voids an outcome already committed: it answers the outcome instead', async () => {
    const s = await seedTenant(db, { leads: 1 });
    const leaseId = newLeaseId(s.campaignId);
    await db.outcomes.write(outcomeFor(s, s.leadIds[0]!, { leaseId }));
    const fenced = (await db.outcomes.voidLeases(s.tenantId, [voidOf(s, leaseId, s.leadIds[0]!)])).get(
      leaseId,
    )!;
    expect(isVoided(fenced)).toBe(false);
    expect(fenced).toMatchObject({ leaseId, outcome: 'no_answer' });
  });

  it('lets exactly one of a racing commit and void win, over many races', async () => {
    const s = await seedTenant(db, { leads: 60 });
    const writer = createOutcomeWriter(db.knex);
    const results = await Promise.all(
      s.leadIds.map(async (leadId) => {
        const leaseId = newLeaseId(s.campaignId);
        const [commit, fence] = await Promise.all([
          writer.write(outcomeFor(s, leadId, { leaseId })).then(
            () => 'committed' as const,
            (e: unknown) => {
              if (isDbError(e, 'LEASE_VOID')) return 'refused' as const;
              throw e;
            },
          ),
          db.outcomes.voidLeases(s.tenantId, [voidOf(s, leaseId, leadId)]).then((m) => m.get(leaseId)!),
        ]);
        // The fence answers what is on record: a void exactly when the commit was refused.
        expect(isVoided(fence)).toBe(commit === 'refused');
        return commit;
      }),
    );
    await writer.close();
    const rows = await db.knex('call_attempts').where({ tenant_id: s.tenantId });
    expect(rows).toHaveLength(60);
    expect(rows.filter((r: { voided: boolean }) => r.voided)).toHaveLength(
      results.filter((r) => r === 'refused').length,
    );
  });

  it("refuses, never answers, a stored row whose lead differs from the completion's", async () => {
    const s = await seedTenant(db, { leads: 2 });
    const leaseId = newLeaseId(s.campaignId);
    await db.outcomes.write(outcomeFor(s, s.leadIds[0]!, { leaseId }));
    const err = await db.outcomes.write(outcomeFor(s, s.leadIds[1]!, { leaseId })).catch((e: unknown) => e);
    expect(isDbError(err, 'LEASE_CONFLICT')).toBe(true);
    expect((await db.leads.get(s.tenantId, s.leadIds[1]!))?.attempts).toBe(0);
  });
});
