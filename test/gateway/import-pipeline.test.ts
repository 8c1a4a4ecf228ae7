// The CSV import's pipeline (gateway/leads/csv-import.ts over the intake's steps), on real Redis and
// Postgres: batch N queued while N+1 is stored and N+2 read keeps file order (ids, queue), a batch
// the queue cannot take fails the import without leaving a lead in Postgres that the queue lacks,
// and a campaign of the marketing kind refuses, at import, the numbers without live voice consent
// (issue 12), with a stable code in the rejects.
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCampaignConfig } from '../../engine/campaign.js';
import { ALWAYS_OPEN } from '../../engine/calling-window.js';
import { campaignRef } from '../../engine/ids.js';
import type { CampaignRef } from '../../engine/ids.js';
import type { Database, ImportReject } from '../../db/index.js';
import { importCsv } from '../../gateway/leads/csv-import.js';
import { openLeadIntake } from '../../gateway/leads/intake.js';
import type { LeadIntake } from '../../gateway/leads/intake.js';
import { silentLogger } from '../../gateway/logger.js';
import { seedTenant } from '../db/fixtures.js';
import { createTestDatabase } from '../support/postgres.js';
import type { TestDatabase } from '../support/postgres.js';
import { makeStore } from '../support/stores.js';
import type { TestStore } from '../support/stores.js';

const clock = { now: () => Date.now() };
/** The i-th number, a London landline written nationally, and the same in E.164. */
const national = (i: number) => `020 7946 ${String(i).padStart(4, '0')}`;
const e164 = (i: number) => `+44207946${String(i).padStart(4, '0')}`;

function csv(rows: readonly string[]): Readable {
  return Readable.from([Buffer.from(`Name,Phone\n${rows.join('\n')}\n`)]);
}

describe('CSV import pipeline', () => {
  let t: TestDatabase;
  let db: Database;
  let s: TestStore;

  beforeAll(async () => {
    t = await createTestDatabase();
    db = t.db;
    s = await makeStore('redis');
  });
  afterAll(async () => {
    await s.dispose();
    await t.dispose();
  });

  async function campaign(campaignId: string): Promise<CampaignRef> {
    const seeded = await seedTenant(db, { campaignId });
    const ref = campaignRef(seeded.tenantId, campaignId);
    await s.store.defineCampaign(ref, parseCampaignConfig({ window: ALWAYS_OPEN }), clock.now());
    return ref;
  }

  const intakeOf = (ref: CampaignRef) =>
    openLeadIntake({ db, store: s.store, clock, logger: silentLogger }, ref);

  async function run(ref: CampaignRef, rows: readonly string[], intake: LeadIntake, batchSize = 100) {
    const rejects: ImportReject[] = [];
    const result = await importCsv(
      csv(rows),
      { defaultCountry: 'GB', batchSize },
      { intake, progress: (_delta, r) => Promise.resolve(void rejects.push(...r)) },
    );
    return { result, rejects };
  }

  /** The campaign's queued leads in Postgres, in id order, and the numbers its queue holds. */
  async function where(ref: CampaignRef) {
    const rows = await t.db.knex
      .select<{ id: string; phone: string }[]>('id', 'phone')
      .from('leads')
      .where({ tenant_id: ref.tenantId, campaign_id: ref.campaignId, status: 'queued' })
      .orderBy('id');
    const held = Object.values((await s.store.snapshot(ref)).records);
    // The queue holds exactly the leads Postgres has queued.
    expect(held.map(String).sort()).toEqual(rows.map((r) => String(r.id)).sort());
    return { postgres: rows, queued: held.length };
  }

  it('twelve batches in flight at once keep file order: ids ascending with the rows, every row queued once', async () => {
    const ref = await campaign('order');
    const rows = Array.from({ length: 1200 }, (_, i) => `Lead ${i},${national(i + 1)}`);
    const { result, rejects } = await run(ref, rows, await intakeOf(ref));
    expect(result.counts).toMatchObject({ rowsRead: 1200, queued: 1200, rejected: 0, duplicates: 0 });
    expect(rejects).toEqual([]);
    const { postgres, queued } = await where(ref);
    expect(postgres.map((r) => r.phone)).toEqual(rows.map((_, i) => e164(i + 1)));
    expect(queued).toBe(1200);
  });

  it('a batch the queue cannot take fails the import, and no lead stays in Postgres that the queue lacks', async () => {
    const ref = await campaign('broken');
    const real = await intakeOf(ref);
    let calls = 0;
    const intake: LeadIntake = {
      ref,
      check: (leads) => real.check(leads),
      // Slow the first batches' queueing so later batches are stored before the failure.
      store: (checked) => real.store(checked),
      queue: async (stored) => {
        calls++;
        await new Promise((r) => setTimeout(r, 50));
        if (calls === 3) {
          // As the real step does when Redis is unreachable: its own leads discarded, then the error.
          await real.discard(stored);
          throw new Error('queue unreachable');
        }
        return real.queue(stored);
      },
      discard: (stored) => real.discard(stored),
      unconsented: (phones) => real.unconsented(phones),
    };
    const rows = Array.from({ length: 1000 }, (_, i) => `Lead ${i},${national(i + 1)}`);
    await expect(run(ref, rows, intake)).rejects.toThrow('queue unreachable');
    const { postgres, queued } = await where(ref);
    // The two batches before the failure are queued, in both places; nothing after it is anywhere.
    expect(queued).toBe(200);
    expect(postgres.map((r) => r.phone)).toEqual(rows.slice(0, 200).map((_, i) => e164(i + 1)));
  });

  it('a marketing campaign refuses the numbers without live voice consent: CONSENT_MISSING in the rejects', async () => {
    const ref = await campaign('promo');
    await db.privacy.consent.setCampaignSettings(ref.tenantId, ref.campaignId, {
      kind: 'marketing',
      callbackHandoverMin: null,
      agentFields: null,
    });
    const now = clock.now();
    const give = async (i: number, consent: { expiresAt?: number; channel?: 'voice' | 'sms' } = {}) =>
      db.privacy.consent.record(
        ref.tenantId,
        await db.privacy.keys.hashOf(ref.tenantId, e164(i)),
        {
          channel: consent.channel ?? 'voice',
          source: 'web form',
          givenAt: now - 60_000,
          expiresAt: consent.expiresAt ?? null,
          evidenceRef: null,
        },
        now,
      );
    await give(1);
    await give(3, { channel: 'sms' }); // another channel is no voice consent
    await give(4);
    await db.privacy.consent.withdraw(ref.tenantId, await db.privacy.keys.hashOf(ref.tenantId, e164(4)), now);
    await give(5, { expiresAt: now + 86_400_000 });
    const rows = [1, 2, 3, 4, 5].map((i) => `Lead ${i},${national(i)}`);
    const { result, rejects } = await run(ref, rows, await intakeOf(ref));
    expect(result.counts).toMatchObject({ rowsRead: 5, queued: 2, rejected: 3 });
    expect(rejects.map((r) => [r.row, r.code, r.value])).toEqual([
      [3, 'CONSENT_MISSING', e164(2)],
      [4, 'CONSENT_MISSING', e164(3)],
      [5, 'CONSENT_MISSING', e164(4)],
    ]);
    const { postgres, queued } = await where(ref);
    // Refused rows are nowhere: not in Postgres, not in the queue.
    expect(postgres.map((r) => r.phone)).toEqual([e164(1), e164(5)]);
    expect(queued).toBe(2);
  });

  it('a service campaign asks for no consent', async () => {
    const ref = await campaign('service');
    const { result } = await run(ref, [`A,${national(11)}`, `B,${national(12)}`], await intakeOf(ref));
    expect(result.counts).toMatchObject({ rowsRead: 2, queued: 2, rejected: 0 });
  });
});
