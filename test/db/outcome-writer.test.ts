// The outcome writer's promises: completions that arrive together share one transaction, each
// caller hears back only after its commit, a repeated lease id writes nothing new and gets the
// same answer, leads move exactly as the engine decided, and a failed batch writes nothing.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOutcomeWriter, isDbError } from '../../db/index.js';
import type { Database, OutcomeRecord } from '../../db/index.js';
import { createTestDatabase } from '../support/postgres.js';
import type { TestDatabase } from '../support/postgres.js';
import { MIN, newLeaseId, outcomeFor, phone, seedTenant, T0 } from './fixtures.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function expectDbError(promise: Promise<unknown>, code: string): Promise<void> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(isDbError(err), String(err)).toBe(true);
  expect((err as { code: string }).code).toBe(code);
}

describe('outcome writer', () => {
  let t: TestDatabase;
  let db: Database;
  beforeAll(async () => {
    t = await createTestDatabase();
    db = t.db;
  });
  afterAll(async () => {
    await t.dispose();
  });

  const attemptsOf = async (tenantId: string) =>
    Number(
      (await db.knex('call_attempts').where({ tenant_id: tenantId }).count<{ n: string }[]>({ n: '*' }))[0]!
        .n,
    );

  describe('group commit', () => {
    it('200 completions made at once commit in one transaction, each answered', async () => {
      const s = await seedTenant(db, { leads: 200 });
      const writer = createOutcomeWriter(db.knex);
      const records = await Promise.all(s.leadIds.map((id) => writer.write(outcomeFor(s, id))));
      expect(writer.stats()).toMatchObject({ batches: 1, rows: 200, inserted: 200, largestBatch: 200 });
      expect(records.every((r) => !r.duplicate)).toBe(true);
      expect(records.map((r) => r.leadId)).toEqual(s.leadIds);
      expect(await attemptsOf(s.tenantId)).toBe(200);
      await writer.close();
    });

    it('completions trickling in from 200 devices share far fewer transactions than writes', async () => {
      const s = await seedTenant(db, { leads: 200 });
      const writer = createOutcomeWriter(db.knex);
      const started = performance.now();
      await Promise.all(
        s.leadIds.map(async (id, i) => {
          await sleep(i % 20); // arrivals spread over ~20 ms, as from many devices
          return writer.write(outcomeFor(s, id));
        }),
      );
      const wallMs = performance.now() - started;
      const { batches, rows } = writer.stats();
      console.info(
        `group commit: ${rows} writes over ~20 ms -> ${batches} transactions, ${wallMs.toFixed(1)} ms`,
      );
      expect(rows).toBe(200);
      expect(batches).toBeLessThanOrEqual(40);
      await writer.close();
    });

    it('a batch never holds more than maxBatch writes', async () => {
      const s = await seedTenant(db, { leads: 200 });
      const writer = createOutcomeWriter(db.knex, { maxBatch: 50 });
      await Promise.all(s.leadIds.map((id) => writer.write(outcomeFor(s, id))));
      expect(writer.stats()).toMatchObject({ batches: 4, rows: 200, largestBatch: 50 });
      await writer.close();
    });

    it('maxDelayMs gathers writes made on different ticks into one transaction', async () => {
      const s = await seedTenant(db, { leads: 10 });
      const writer = createOutcomeWriter(db.knex, { maxDelayMs: 30 });
      const writes: Promise<OutcomeRecord>[] = [];
      for (const id of s.leadIds) {
        writes.push(writer.write(outcomeFor(s, id)));
        await new Promise((resolve) => setImmediate(resolve));
      }
      await Promise.all(writes);
      expect(writer.stats().batches).toBe(1);
      await writer.close();
    });

    it('a write resolves only once its row is visible to every other connection', async () => {
      const s = await seedTenant(db, { leads: 5 });
      const writer = createOutcomeWriter(db.knex);
      const other = new pg.Client({ connectionString: t.url });
      await other.connect();
      try {
        const seen = await Promise.all(
          s.leadIds.map(async (id) => {
            const record = await writer.write(outcomeFor(s, id));
            const { rows } = await other.query(
              'SELECT 1 FROM call_attempts WHERE tenant_id = $1 AND lease_id = $2',
              [s.tenantId, record.leaseId],
            );
            return rows.length;
          }),
        );
        expect(seen).toEqual([1, 1, 1, 1, 1]);
      } finally {
        await other.end();
        await writer.close();
      }
    });
  });

  describe('idempotency on the lease id', () => {
    it('a repeated completion, concurrent or later, writes one row and gets the same answer', async () => {
      const s = await seedTenant(db, { leads: 1 });
      const leadId = s.leadIds[0]!;
      const input = outcomeFor(s, leadId, {
        notes: 'asked to call back',
        tags: ['warm', 'spanish'],
        followUp: { template: 'brochure', channel: 'sms' },
        callback: { at: T0 + 90 * MIN, scope: 'agent' },
        outcome: 'callback',
        disposition: { kind: 'callback', dueAt: T0 + 90 * MIN, pinnedAgentId: 'a1' },
      });
      const [first, concurrent] = await Promise.all([db.outcomes.write(input), db.outcomes.write(input)]);
      const later = await db.outcomes.write(input);
      // The same lease with a different report still gets the stored answer.
      const conflicting = await db.outcomes.write({
        ...input,
        outcome: 'answered',
        disposition: { kind: 'final' },
      });

      expect(first.duplicate).toBe(false);
      for (const again of [concurrent, later, conflicting]) {
        expect(again.duplicate).toBe(true);
        expect({ ...again, duplicate: false }).toEqual(first);
      }
      expect(first).toMatchObject({
        leaseId: input.leaseId,
        leadId,
        outcome: 'callback',
        disposition: { kind: 'callback', dueAt: T0 + 90 * MIN, pinnedAgentId: 'a1' },
        attempts: 1,
        late: false,
        durationSec: 12,
        notes: 'asked to call back',
        tags: ['warm', 'spanish'],
        followUp: { template: 'brochure', channel: 'sms' },
        callback: { at: T0 + 90 * MIN, scope: 'agent' },
        completedAt: T0,
      });
      expect(await attemptsOf(s.tenantId)).toBe(1);
      const callbacks = await db.knex('callbacks').where({ tenant_id: s.tenantId });
      expect(callbacks).toHaveLength(1);
    });

    it('two writers (two gateways) completing one lease at once store it once', async () => {
      const s = await seedTenant(db, { leads: 1 });
      const a = createOutcomeWriter(db.knex);
      const b = createOutcomeWriter(db.knex);
      const input = outcomeFor(s, s.leadIds[0]!);
      const [ra, rb] = await Promise.all([a.write(input), b.write(input)]);
      expect([ra.duplicate, rb.duplicate].sort()).toEqual([false, true]);
      expect(ra.attemptId).toBe(rb.attemptId);
      expect(await attemptsOf(s.tenantId)).toBe(1);
      await Promise.all([a.close(), b.close()]);
    });

    it('a lead updated by the first completion is not updated again by its repeat', async () => {
      const s = await seedTenant(db, { leads: 1 });
      const leadId = s.leadIds[0]!;
      const input = outcomeFor(s, leadId, { attempts: 1, disposition: { kind: 'retry', dueAt: T0 + MIN } });
      await db.outcomes.write(input);
      await db.knex('leads').where({ tenant_id: s.tenantId, id: leadId }).update({ next_due_at: null });
      await db.outcomes.write(input);
      expect((await db.leads.get(s.tenantId, leadId))?.dueAt).toBeNull();
    });
  });

  describe('what a completion does to its lead', () => {
    it.each([
      ['final', { kind: 'final' }, { status: 'final', dueAt: null, pinnedAgentId: null }],
      ['exhausted', { kind: 'exhausted' }, { status: 'final', dueAt: null, pinnedAgentId: null }],
      ['dnc', { kind: 'dnc' }, { status: 'final', dueAt: null, pinnedAgentId: null }],
      [
        'retry',
        { kind: 'retry', dueAt: T0 + 15 * MIN },
        { status: 'queued', dueAt: T0 + 15 * MIN, pinnedAgentId: null },
      ],
      [
        'callback for the agent',
        { kind: 'callback', dueAt: T0 + 30 * MIN, pinnedAgentId: 'a1' },
        { status: 'queued', dueAt: T0 + 30 * MIN, pinnedAgentId: 'a1' },
      ],
      [
        'callback for anyone',
        { kind: 'callback', dueAt: T0 + 30 * MIN, pinnedAgentId: null },
        { status: 'queued', dueAt: T0 + 30 * MIN, pinnedAgentId: null },
      ],
    ] as const)('%s moves the lead where the engine sent it', async (_name, disposition, expected) => {
      const s = await seedTenant(db, { leads: 1 });
      const leadId = s.leadIds[0]!;
      await db.outcomes.write(outcomeFor(s, leadId, { disposition, attempts: 2 }));
      expect(await db.leads.get(s.tenantId, leadId)).toMatchObject({ ...expected, attempts: 2 });
    });

    it('a callback opens a pending callback row, and the next completion of the lead closes it', async () => {
      const s = await seedTenant(db, { leads: 1 });
      const leadId = s.leadIds[0]!;
      const first = outcomeFor(s, leadId, {
        outcome: 'callback',
        callback: { at: T0 + 60 * MIN, scope: 'anyone' },
        disposition: { kind: 'callback', dueAt: T0 + 60 * MIN, pinnedAgentId: null },
      });
      await db.outcomes.write(first);
      const rows = () =>
        db
          .knex('callbacks')
          .where({ tenant_id: s.tenantId })
          .orderBy('id')
          .select('lease_id', 'status', 'agent_id', 'due_at');
      expect(await rows()).toEqual([
        { lease_id: first.leaseId, status: 'pending', agent_id: null, due_at: new Date(T0 + 60 * MIN) },
      ]);
      await db.outcomes.write(
        outcomeFor(s, leadId, { outcome: 'answered', disposition: { kind: 'final' }, attempts: 2 }),
      );
      expect((await rows()).map((r: { status: string }) => r.status)).toEqual(['done']);
    });

    it('a dnc outcome lists the number and takes its other queued leads out, in the same commit', async () => {
      const shared = phone(777);
      const s = await seedTenant(db, {
        leads: [
          { phone: shared, timeZone: 'Europe/London' },
          { phone: phone(1), timeZone: 'Europe/London' },
        ],
      });
      const other = await seedTenant(db, {
        tenantId: s.tenantId,
        campaignId: 'c2',
        leads: [{ phone: shared, timeZone: 'Europe/London' }],
      });
      await db.outcomes.write(
        outcomeFor(s, s.leadIds[0]!, { outcome: 'dnc', disposition: { kind: 'dnc' }, dncPhone: shared }),
      );
      expect(await db.dnc.has(s.tenantId, shared)).toBe(true);
      const listed = await db.knex('dnc').where({ tenant_id: s.tenantId }).select('phone', 'source');
      expect(listed).toEqual([{ phone: shared, source: 'outcome' }]);
      expect((await db.leads.get(s.tenantId, s.leadIds[0]!))?.status).toBe('final');
      expect((await db.leads.get(s.tenantId, other.leadIds[0]!))?.status).toBe('removed');
      expect((await db.leads.get(s.tenantId, s.leadIds[1]!))?.status).toBe('queued');
    });

    it("a dnc outcome without the number still lists the lead's own number", async () => {
      const s = await seedTenant(db, { leads: [{ phone: phone(4242), timeZone: 'UTC' }] });
      await db.outcomes.write(outcomeFor(s, s.leadIds[0]!, { outcome: 'dnc', disposition: { kind: 'dnc' } }));
      expect(await db.dnc.has(s.tenantId, phone(4242))).toBe(true);
    });

    it('an older completion arriving after a newer one does not undo it', async () => {
      const s = await seedTenant(db, { leads: 1 });
      const leadId = s.leadIds[0]!;
      await db.outcomes.write(
        outcomeFor(s, leadId, { attempts: 3, outcome: 'answered', disposition: { kind: 'final' } }),
      );
      const older = await db.outcomes.write(
        outcomeFor(s, leadId, { attempts: 2, disposition: { kind: 'retry', dueAt: T0 + MIN } }),
      );
      expect(older.duplicate).toBe(false); // the call happened and is logged
      expect(await db.leads.get(s.tenantId, leadId)).toMatchObject({ status: 'final', attempts: 3 });
    });

    it('a removed lead stays removed whatever the outcome', async () => {
      const s = await seedTenant(db, { leads: [{ phone: phone(31), timeZone: 'UTC' }] });
      const leadId = s.leadIds[0]!;
      await db.leads.markRemoved(s.tenantId, [phone(31)]);
      await db.outcomes.write(outcomeFor(s, leadId, { disposition: { kind: 'retry', dueAt: T0 + MIN } }));
      expect(await db.leads.get(s.tenantId, leadId)).toMatchObject({
        status: 'removed',
        dueAt: null,
        attempts: 1,
      });
    });

    it('two completions of one lead in one batch leave it as the later attempt says', async () => {
      const s = await seedTenant(db, { leads: 1 });
      const leadId = s.leadIds[0]!;
      await Promise.all([
        db.outcomes.write(
          outcomeFor(s, leadId, { attempts: 2, outcome: 'answered', disposition: { kind: 'final' } }),
        ),
        db.outcomes.write(
          outcomeFor(s, leadId, { attempts: 1, disposition: { kind: 'retry', dueAt: T0 + MIN } }),
        ),
      ]);
      expect(await db.leads.get(s.tenantId, leadId)).toMatchObject({ status: 'final', attempts: 2 });
      expect(await attemptsOf(s.tenantId)).toBe(2);
    });
  });

  describe('failures', () => {
    it('a malformed input is rejected alone and the rest of its batch commits', async () => {
      const s = await seedTenant(db, { leads: 3 });
      const writer = createOutcomeWriter(db.knex);
      const results = await Promise.allSettled([
        writer.write(outcomeFor(s, s.leadIds[0]!)),
        writer.write(outcomeFor(s, s.leadIds[1]!, { notes: 'nul \u0000 byte' })),
        writer.write(outcomeFor(s, s.leadIds[1]!, { followUp: { text: 'lone \ud800 surrogate' } })),
        writer.write(outcomeFor(s, s.leadIds[1]!, { dncPhone: '0770 090 0001' })),
        writer.write(outcomeFor(s, 'not-a-number')),
        writer.write(outcomeFor(s, s.leadIds[2]!)),
      ]);
      expect(results.map((r) => r.status)).toEqual([
        'fulfilled',
        'rejected',
        'rejected',
        'rejected',
        'rejected',
        'fulfilled',
      ]);
      for (const r of results) {
        if (r.status === 'rejected') expect(isDbError(r.reason, 'INPUT_INVALID')).toBe(true);
      }
      expect(writer.stats()).toMatchObject({ batches: 1, inserted: 2, rejected: 4 });
      await writer.close();
    });

    it("a completion for an unknown lead, or another campaign's lead, is rejected alone", async () => {
      const s = await seedTenant(db, { leads: 2 });
      const writer = createOutcomeWriter(db.knex);
      const results = await Promise.allSettled([
        writer.write(outcomeFor(s, s.leadIds[0]!)),
        writer.write(outcomeFor(s, '999999999')),
        writer.write(outcomeFor({ ...s, campaignId: 'c9' }, s.leadIds[1]!)),
      ]);
      expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'rejected']);
      for (const r of results.slice(1)) {
        expect(r.status === 'rejected' && isDbError(r.reason, 'LEAD_UNKNOWN')).toBe(true);
      }
      expect(writer.stats()).toMatchObject({ batches: 1, inserted: 1 });
      expect(await db.leads.get(s.tenantId, s.leadIds[1]!)).toMatchObject({ status: 'queued', attempts: 0 });
      await writer.close();
    });

    it('a batch whose transaction fails rejects every promise in it and writes nothing', async () => {
      const s = await seedTenant(db, { leads: 10 });
      // A trigger that fails the statement when it meets one marked row, as a broken disk or a
      // constraint added behind our back would.
      await db.knex.raw(`
        CREATE FUNCTION explode_on_marker() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          IF NEW.notes = 'explode' THEN RAISE EXCEPTION 'injected failure'; END IF;
          RETURN NEW;
        END $$;
        CREATE TRIGGER explode BEFORE INSERT ON call_attempts FOR EACH ROW EXECUTE FUNCTION explode_on_marker();
      `);
      try {
        const writer = createOutcomeWriter(db.knex);
        const results = await Promise.allSettled(
          s.leadIds.map((id, i) => writer.write(outcomeFor(s, id, i === 7 ? { notes: 'explode' } : {}))),
        );
        expect(results.every((r) => r.status === 'rejected' && isDbError(r.reason, 'WRITE_FAILED'))).toBe(
          true,
        );
        expect(writer.stats()).toMatchObject({ batches: 0, failedBatches: 1, rejected: 10 });
        expect(await attemptsOf(s.tenantId)).toBe(0);
        expect(await db.leads.countByStatus(s.tenantId, s.campaignId)).toEqual({
          queued: 10,
          final: 0,
          removed: 0,
        });
        const leads = await Promise.all(s.leadIds.map((id) => db.leads.get(s.tenantId, id)));
        expect(leads.every((l) => l?.attempts === 0 && l.dueAt === null)).toBe(true);

        // The writer carries on with the next batch.
        await expect(writer.write(outcomeFor(s, s.leadIds[0]!))).resolves.toMatchObject({ duplicate: false });
        await writer.close();
      } finally {
        await db.knex.raw('DROP TRIGGER explode ON call_attempts; DROP FUNCTION explode_on_marker();');
      }
    });

    it('a batch that hits a deadlock is retried and commits once', async () => {
      const s = await seedTenant(db, { leads: 3 });
      // Fails the first transaction with SQLSTATE 40P01, as a deadlock victim's would, and lets
      // the retry through: nextval is not rolled back with the failed transaction.
      await db.knex.raw(`
        CREATE SEQUENCE flaky;
        CREATE FUNCTION deadlock_once() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          IF NEW.notes = 'flaky' AND nextval('flaky') = 1 THEN
            RAISE EXCEPTION 'injected deadlock' USING ERRCODE = '40P01';
          END IF;
          RETURN NEW;
        END $$;
        CREATE TRIGGER deadlock BEFORE INSERT ON call_attempts FOR EACH ROW EXECUTE FUNCTION deadlock_once();
      `);
      try {
        const writer = createOutcomeWriter(db.knex);
        const records = await Promise.all(
          s.leadIds.map((id) => writer.write(outcomeFor(s, id, { notes: 'flaky' }))),
        );
        expect(records.every((r) => !r.duplicate)).toBe(true);
        expect(writer.stats()).toMatchObject({ batches: 1, retries: 1, failedBatches: 0 });
        expect(await attemptsOf(s.tenantId)).toBe(3);
        await writer.close();
      } finally {
        await db.knex.raw(
          'DROP TRIGGER deadlock ON call_attempts; DROP FUNCTION deadlock_once(); DROP SEQUENCE flaky;',
        );
      }
    });

    it('close flushes what is queued, then refuses new writes', async () => {
      const s = await seedTenant(db, { leads: 3 });
      const writer = createOutcomeWriter(db.knex, { maxDelayMs: 10_000 });
      const pending = s.leadIds.map((id) => writer.write(outcomeFor(s, id)));
      await writer.close();
      await expect(Promise.all(pending)).resolves.toHaveLength(3);
      await expectDbError(writer.write(outcomeFor(s, s.leadIds[0]!)), 'WRITER_CLOSED');
    });
  });

  it('findByLeaseIds returns the stored attempts of the given leases', async () => {
    const s = await seedTenant(db, { leads: 2 });
    const a = await db.outcomes.write(outcomeFor(s, s.leadIds[0]!));
    const found = await db.outcomes.findByLeaseIds(s.tenantId, [a.leaseId, newLeaseId()]);
    expect([...found.keys()]).toEqual([a.leaseId]);
    expect({ ...found.get(a.leaseId), duplicate: false }).toEqual(a);
  });
});
