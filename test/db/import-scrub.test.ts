// The reads of an import batch in one round trip (imports.scrubBatch): the numbers on the tenant's
// do-not-call list (lead numbers and further ones), whether the tenant erased anybody, and the
// queued lead of the campaign under each lead number (the first by id); other tenants, other
// campaigns and leads no longer queued are not found.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDatabase, isDbError, startEmbeddedPostgres } from '../../db/index.js';
import type { Database } from '../../db/index.js';
import { createTestDatabase } from '../support/postgres.js';
import type { TestDatabase } from '../support/postgres.js';
import { phone, seedTenant } from './fixtures.js';

describe('imports.scrubBatch', () => {
  let t: TestDatabase;
  let db: Database;
  beforeAll(async () => {
    t = await createTestDatabase();
    db = t.db;
  });
  afterAll(async () => {
    await t.dispose();
  });

  it('finds the listed numbers, the queued leads and no erasure, in this tenant and campaign only', async () => {
    const s = await seedTenant(db, { leads: 4 });
    await seedTenant(db, { tenantId: s.tenantId, campaignId: 'c2' });
    const [inOther] = await db.leads.insertBatch(s.tenantId, 'c2', [
      { phone: phone(50), name: 'Other campaign', timeZone: 'Europe/London' },
    ]);
    expect(inOther).toBeDefined();
    // A second queued lead under phone(2): the first by id is the one found.
    await db.leads.insertBatch(s.tenantId, s.campaignId, [
      { phone: phone(2), name: 'Later', timeZone: 'Europe/London' },
    ]);
    await db.leads.markRemoved(s.tenantId, [phone(3)]);
    await db.dnc.add(s.tenantId, [phone(4), phone(60), phone(70)], 'api');
    const other = await seedTenant(db, { leads: 1 });
    await db.dnc.add(other.tenantId, [phone(61)], 'api');

    const r = await db.imports.scrubBatch(
      s.tenantId,
      s.campaignId,
      [phone(1), phone(2), phone(3), phone(50), phone(60), phone(61), phone(99)],
      [phone(70), phone(71)],
    );
    expect([...r.listed].sort()).toEqual([phone(60), phone(70)]);
    expect(r.anyErased).toBe(false);
    expect(r.queued.map((l) => [l.phone, l.id, l.status]).sort()).toEqual(
      [
        [phone(1), s.leadIds[0], 'queued'],
        [phone(2), s.leadIds[1], 'queued'],
      ].sort(),
    );
    expect(r.queued[0]).toMatchObject({ tenantId: s.tenantId, campaignId: s.campaignId });
  });

  it('says when the tenant erased anybody, and only that tenant', async () => {
    const s = await seedTenant(db);
    const other = await seedTenant(db);
    const client = new pg.Client({ connectionString: t.url });
    await client.connect();
    try {
      await client.query(
        `INSERT INTO suppressions (tenant_id, phone_hash, reason) VALUES ($1, $2, 'erasure')`,
        [s.tenantId, Buffer.alloc(32, 7)],
      );
    } finally {
      await client.end();
    }
    const mine = await db.imports.scrubBatch(s.tenantId, s.campaignId, [phone(1)], []);
    expect(mine).toMatchObject({ anyErased: true, queued: [] });
    expect(mine.listed.size).toBe(0);
    const theirs = await db.imports.scrubBatch(other.tenantId, other.campaignId, [phone(1)], []);
    expect(theirs.anyErased).toBe(false);
  });

  it('refuses a number that is not E.164', async () => {
    const s = await seedTenant(db);
    const err = await db.imports
      .scrubBatch(s.tenantId, s.campaignId, [phone(1), '+1,2'], [])
      .catch((e: unknown) => e);
    expect(isDbError(err) && err.code === 'INPUT_INVALID').toBe(true);
  });

  it('answers the same on the zero-setup Postgres (PGlite)', { timeout: 120_000 }, async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'dialhub-pglite-scrub-'));
    const pgl = await startEmbeddedPostgres({ dataDir });
    const zero = createDatabase({ url: pgl.url, pool: { min: 0, max: 2 } });
    try {
      await zero.migrate();
      const s = await seedTenant(zero, { tenantId: 'zero', leads: 2 });
      await zero.dnc.add('zero', [phone(7)], 'api');
      const r = await zero.imports.scrubBatch('zero', s.campaignId, [phone(1), phone(5)], [phone(7)]);
      expect([...r.listed]).toEqual([phone(7)]);
      expect(r.anyErased).toBe(false);
      expect(r.queued.map((l) => l.id)).toEqual([s.leadIds[0]]);
    } finally {
      await zero.close();
      await pgl.close();
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
