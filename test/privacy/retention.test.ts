// Retention: records older than the tenant plan's retentionDays are purged (call attempts and
// their notes, finished leads, import rejects, delivered webhook events, follow-ups), only counts survive in
// an audit entry, one runner per tenant at a time across gateways; tested with backdated rows
// and a clock that moves. Real Postgres.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALWAYS_OPEN } from '../../engine/calling-window.js';
import { ManualClock } from '../../engine/clock.js';
import { silentLogger } from '../../gateway/logger.js';
import { runRetention } from '../../gateway/privacy/retention-job.js';
import { createTestDatabase } from '../support/postgres.js';
import type { TestDatabase } from '../support/postgres.js';

const DAY = 86_400_000;

describe('retention', () => {
  let t: TestDatabase;
  const clock = new ManualClock(Date.parse('2026-06-01T12:00:00Z'));

  async function lead(tenantId: string, phone: string, status: 'queued' | 'final', updatedDaysAgo: number) {
    const [id] = await t.db.leads.insertBatch(tenantId, 'spring', [{ phone, name: 'Ada', timeZone: 'UTC' }]);
    await t.db
      .knex('leads')
      .where({ tenant_id: tenantId, id })
      .update({ status, updated_at: new Date(clock.now() - updatedDaysAgo * DAY) });
    return id!;
  }
  async function attempt(tenantId: string, leadId: string, leaseId: string, daysAgo: number, notes: string) {
    await t.db.knex('call_attempts').insert({
      tenant_id: tenantId,
      lease_id: leaseId,
      campaign_id: 'spring',
      lead_id: leadId,
      agent_id: 'ann',
      device_id: 'd1',
      outcome: 'no_answer',
      disposition: 'final',
      attempts: 1,
      notes,
      completed_at: new Date(clock.now() - daysAgo * DAY),
    });
  }
  const count = async (table: string, tenantId: string) =>
    Number(
      (
        await t.db.knex.raw<{ rows: { n: string }[] }>(
          `SELECT count(*) AS n FROM ${table} WHERE tenant_id = ?`,
          [tenantId],
        )
      ).rows[0]!.n,
    );

  beforeAll(async () => {
    t = await createTestDatabase();
    for (const [id, plan] of [
      ['acme', { deviceLimit: 1, retentionDays: 30 }],
      ['keepall', { deviceLimit: 1 }],
    ] as const) {
      await t.db.tenants.create({ id, name: id, plan });
      await t.db.campaigns.upsert({
        tenantId: id,
        id: 'spring',
        name: 'spring',
        status: 'active',
        config: { window: ALWAYS_OPEN, dispositions: {} },
      });
    }
    // acme: an old finished lead, an old attempt of a queued lead, a recent attempt.
    const oldFinal = await lead('acme', '+447700900201', 'final', 40);
    await attempt('acme', oldFinal, 'l1', 40, 'old note about the call');
    const queued = await lead('acme', '+447700900202', 'queued', 40);
    await attempt('acme', queued, 'l2', 45, 'another old note');
    await attempt('acme', queued, 'l3', 5, 'a recent note');
    await lead('acme', '+447700900203', 'final', 10); // finished, but recently
    // Follow-ups of the queued lead: one made 40 days ago, one 2 days ago.
    for (const daysAgo of [40, 2]) {
      await t.db.privacy.followups.create(
        'acme',
        {
          campaignId: 'spring',
          leadId: queued,
          leaseId: null,
          templateId: 'chat',
          channel: 'whatsapp',
          body: 'Hello Ada',
          createdBy: 'ann',
        },
        clock.now() - daysAgo * DAY,
      );
    }
    // keepall has no retention period: nothing of it is touched, however old.
    const kept = await lead('keepall', '+447700900204', 'final', 400);
    await attempt('keepall', kept, 'k1', 400, 'kept');
  });
  afterAll(async () => {
    await t.dispose();
  });

  it('holds a purge while another runner holds the tenant, without waiting for it', async () => {
    const other = await t.db.knex.transaction();
    try {
      await other.raw(`SELECT pg_advisory_xact_lock(hashtext('dialhub.retention'), hashtext('acme'))`);
      const [r] = await runRetention(t.db, clock, silentLogger);
      expect(r).toEqual({ tenantId: 'acme', state: 'busy' });
      expect(await count('call_attempts', 'acme')).toBe(3);
    } finally {
      await other.rollback();
    }
  });

  it('deletes call attempts (and their notes) and finished leads older than the retention period, and audits the counts', async () => {
    const [r] = await runRetention(t.db, clock, silentLogger);
    expect(r).toMatchObject({
      tenantId: 'acme',
      state: 'purged',
      counts: { attempts: 2, leads: 1, followUps: 1 },
    });
    expect(await count('followups', 'acme')).toBe(1);
    const notes = await t.db
      .knex('call_attempts')
      .where({ tenant_id: 'acme' })
      .select<{ notes: string }[]>('notes');
    expect(notes.map((n) => n.notes)).toEqual(['a recent note']);
    expect(await count('leads', 'acme')).toBe(2); // the queued lead and the recent final one
    const audit = await t.db.audit.list('acme');
    const entry = audit.find((a) => a.action === 'retention.purge')!;
    expect(entry).toMatchObject({ actor: 'system', details: { attempts: 2, leads: 1, retentionDays: 30 } });
    expect(JSON.stringify(entry)).not.toContain('9002'); // counts only, no number
    // Another tenant without a retention period keeps everything.
    expect(await count('call_attempts', 'keepall')).toBe(1);
    expect(await count('leads', 'keepall')).toBe(1);
  });

  it('a second run finds nothing more, until the clock moves past the next records', async () => {
    const [again] = await runRetention(t.db, clock, silentLogger);
    expect(again).toMatchObject({ state: 'purged', counts: { attempts: 0, leads: 0 } });
    expect((await t.db.audit.list('acme')).filter((a) => a.action === 'retention.purge')).toHaveLength(1);
    clock.advance(26 * DAY); // the recent attempt is now 31 days old, the recent final lead 36
    const [later] = await runRetention(t.db, clock, silentLogger);
    expect(later).toMatchObject({ state: 'purged', counts: { attempts: 1, leads: 1 } });
    expect(await count('call_attempts', 'acme')).toBe(0);
  });

  it('two gateways purging at once delete each record once', async () => {
    const id = await lead('acme', '+447700900205', 'final', 100);
    await attempt('acme', id, 'l9', 100, 'x');
    const [a, b] = await Promise.all([
      runRetention(t.db, clock, silentLogger),
      runRetention(t.db, clock, silentLogger),
    ]);
    const done = [...a, ...b].filter((r) => r.tenantId === 'acme' && r.state === 'purged') as {
      counts: { attempts: number; leads: number };
    }[];
    expect(done.reduce((n, r) => n + r.counts.attempts, 0)).toBe(1);
    expect(done.reduce((n, r) => n + r.counts.leads, 0)).toBe(1);
  });
});
