// Leads as the system of record: imported in order, streamed back in that order for a queue
// rebuild (keyset pages, any chunk size), and taken out for DNC or erasure.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALWAYS_OPEN } from '../../engine/calling-window.js';
import { parseCampaignConfig } from '../../engine/campaign.js';
import { campaignRef } from '../../engine/ids.js';
import type { LeadInput } from '../../engine/lead.js';
import { MemoryQueueStore } from '../../engine/memory/memory-queue-store.js';
import { isDbError } from '../../db/index.js';
import type { Database, NewLead } from '../../db/index.js';
import { createTestDatabase } from '../support/postgres.js';
import type { TestDatabase } from '../support/postgres.js';
import { MIN, outcomeFor, phone, seedTenant, T0 } from './fixtures.js';

async function collect(source: AsyncIterable<LeadInput[]>): Promise<LeadInput[][]> {
  const chunks: LeadInput[][] = [];
  for await (const chunk of source) chunks.push(chunk);
  return chunks;
}

describe('leads', () => {
  let t: TestDatabase;
  let db: Database;
  beforeAll(async () => {
    t = await createTestDatabase();
    db = t.db;
  });
  afterAll(async () => {
    await t.dispose();
  });

  it('insertBatch returns the new ids in input order, across insert chunks', async () => {
    const s = await seedTenant(db, { leads: 2500 });
    expect(s.leadIds).toHaveLength(2500);
    const asNumbers = s.leadIds.map(Number);
    expect(asNumbers).toEqual([...asNumbers].sort((a, b) => a - b));
    const lead = await db.leads.get(s.tenantId, s.leadIds[1234]!);
    expect(lead).toMatchObject({ phone: phone(1235), name: 'Lead 1235', status: 'queued' });
  });

  it('streamQueued gives back every queued lead in id order, whatever the chunk size', async () => {
    const s = await seedTenant(db, { leads: 50 });
    for (const size of [1, 7, 10, 50, 51, 5000]) {
      const chunks = await collect(db.leads.streamQueued(s.tenantId, s.campaignId, size));
      expect(chunks.every((c) => c.length > 0 && c.length <= size)).toBe(true);
      expect(chunks.flat().map((l) => l.id)).toEqual(s.leadIds);
    }
  });

  it('streamQueued maps rows back to the engine lead input they came from', async () => {
    const leads: NewLead[] = [
      {
        phone: phone(1),
        name: 'Ada',
        timeZone: ['America/New_York', 'America/Chicago'],
        priority: 9,
        dueAt: T0 + 5 * MIN,
        attempts: 2,
        pinnedAgentId: 'a1',
        fields: { account: 'A-17', note: 'prefers mornings' },
      },
      { phone: phone(2), timeZone: null },
      { phone: phone(3), timeZone: 'Europe/London' },
    ];
    const s = await seedTenant(db, { leads });
    const [chunk] = await collect(db.leads.streamQueued(s.tenantId, s.campaignId));
    expect(chunk).toEqual([
      {
        id: s.leadIds[0],
        phone: phone(1),
        name: 'Ada',
        timeZone: ['America/Chicago', 'America/New_York'],
        priority: 9,
        dueAt: T0 + 5 * MIN,
        attempts: 2,
        pinnedAgentId: 'a1',
        fields: { account: 'A-17', note: 'prefers mornings' },
      },
      { id: s.leadIds[1], phone: phone(2), name: '', timeZone: null, priority: 0, attempts: 0, fields: {} },
      {
        id: s.leadIds[2],
        phone: phone(3),
        name: '',
        timeZone: ['Europe/London'],
        priority: 0,
        attempts: 0,
        fields: {},
      },
    ]);
  });

  it('the engine rebuilds a queue straight from streamQueued', async () => {
    const s = await seedTenant(db, { leads: 120 });
    const store = new MemoryQueueStore();
    const ref = campaignRef(s.tenantId, s.campaignId);
    await store.defineCampaign(ref, parseCampaignConfig({ window: ALWAYS_OPEN }), T0);
    const result = await store.rebuild(ref, db.leads.streamQueued(s.tenantId, s.campaignId, 25), T0);
    expect(result).toMatchObject({ enqueued: 120, duplicates: 0 });
    await store.close();
  });

  it('streamQueued skips final, removed and do-not-call leads', async () => {
    const s = await seedTenant(db, { leads: 6 });
    const [l1, l2, , l4, , l6] = s.leadIds as [string, string, string, string, string, string];
    await db.outcomes.write(outcomeFor(s, l2, { outcome: 'answered', disposition: { kind: 'final' } }));
    await db.leads.markRemoved(s.tenantId, [phone(3)]);
    // Listed but still marked queued (say, listed by another process mid-import): still skipped.
    await db.dnc.add(s.tenantId, [phone(5)], 'api');
    await db.outcomes.write(outcomeFor(s, l6, { disposition: { kind: 'retry', dueAt: T0 + MIN } }));
    const streamed = (await collect(db.leads.streamQueued(s.tenantId, s.campaignId, 2))).flat();
    expect(streamed.map((l) => l.id)).toEqual([l1, l4, l6]);
    expect(streamed[2]).toMatchObject({ attempts: 1, dueAt: T0 + MIN });
  });

  it('a batch with one malformed lead writes nothing and names the lead', async () => {
    const s = await seedTenant(db);
    const bad: NewLead[] = [
      { phone: phone(1), timeZone: 'UTC' },
      { phone: '07700 900001', timeZone: 'UTC' },
    ];
    const err = await db.leads.insertBatch(s.tenantId, s.campaignId, bad).catch((e: unknown) => e);
    expect(isDbError(err, 'INPUT_INVALID')).toBe(true);
    expect((err as Error).message).toMatch(/^lead 1:/);
    expect((err as Error).message).not.toContain('07700');
    const badZone = await db.leads
      .insertBatch(s.tenantId, s.campaignId, [{ phone: phone(1), timeZone: 'Mars/Olympus' }])
      .catch((e: unknown) => e);
    expect(isDbError(badZone, 'INPUT_INVALID')).toBe(true);
    expect(await db.leads.countByStatus(s.tenantId, s.campaignId)).toEqual({
      queued: 0,
      final: 0,
      removed: 0,
    });
  });

  it('insertBatch into a campaign the tenant does not have fails with CAMPAIGN_UNKNOWN', async () => {
    const s = await seedTenant(db);
    const err = await db.leads
      .insertBatch(s.tenantId, 'nope', [{ phone: phone(1), timeZone: 'UTC' }])
      .catch((e: unknown) => e);
    expect(isDbError(err, 'CAMPAIGN_UNKNOWN')).toBe(true);
  });

  it('markRemoved takes out queued leads with the numbers in every campaign, cancelling their callbacks', async () => {
    const s = await seedTenant(db, { leads: 3 });
    const c2 = await seedTenant(db, {
      tenantId: s.tenantId,
      campaignId: 'c2',
      leads: [{ phone: phone(1), timeZone: 'UTC' }],
    });
    await db.outcomes.write(
      outcomeFor(s, s.leadIds[0]!, {
        outcome: 'callback',
        callback: { at: T0 + MIN, scope: 'agent' },
        disposition: { kind: 'callback', dueAt: T0 + MIN, pinnedAgentId: 'a1' },
      }),
    );
    await db.outcomes.write(
      outcomeFor(s, s.leadIds[1]!, { outcome: 'answered', disposition: { kind: 'final' } }),
    );

    const removed = await db.leads.markRemoved(s.tenantId, [phone(1), phone(2)]);
    expect(removed).toEqual([
      { leadId: s.leadIds[0], campaignId: 'c1' },
      { leadId: c2.leadIds[0], campaignId: 'c2' },
    ]);
    expect(await db.leads.get(s.tenantId, s.leadIds[0]!)).toMatchObject({
      status: 'removed',
      dueAt: null,
      pinnedAgentId: null,
    });
    expect((await db.leads.get(s.tenantId, s.leadIds[1]!))?.status).toBe('final');
    const callbacks = await db.knex('callbacks').where({ tenant_id: s.tenantId }).select('status');
    expect(callbacks).toEqual([{ status: 'cancelled' }]);
    expect(await db.leads.countByStatus(s.tenantId, s.campaignId)).toEqual({
      queued: 1,
      final: 1,
      removed: 1,
    });
  });

  it('get answers undefined for an id that is not a lead id', async () => {
    const s = await seedTenant(db, { leads: 1 });
    expect(await db.leads.get(s.tenantId, 'L1')).toBeUndefined();
    expect(await db.leads.get(s.tenantId, '99999999999999999999999')).toBeUndefined();
  });
});
