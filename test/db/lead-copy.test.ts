// The bulk path of the lead intake (imports.copyLeads, one COPY): the same rows as
// leads.insertBatch writes, ids in input order and ascending, text with backslashes and
// quotes kept as written, all or none on a bad lead, tenancy and an unknown campaign refused.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDatabase, isDbError, startEmbeddedPostgres } from '../../db/index.js';
import type { Database } from '../../db/index.js';
import { createTestDatabase } from '../support/postgres.js';
import type { TestDatabase } from '../support/postgres.js';
import { phone, seedTenant } from './fixtures.js';

describe('imports.copyLeads', () => {
  let t: TestDatabase;
  let db: Database;
  beforeAll(async () => {
    t = await createTestDatabase();
    db = t.db;
  });
  afterAll(async () => {
    await t.dispose();
  });

  it('writes the rows insertBatch writes, ids ascending in input order', async () => {
    const s = await seedTenant(db, { leads: 3 });
    const leads = Array.from({ length: 2500 }, (_, i) => ({
      phone: phone(100 + i),
      name: i === 7 ? 'Back\\slash O\'Neil "Q"' : `Lead ${i}`,
      timeZone: i % 2 === 0 ? 'Europe/London' : ['America/New_York', 'America/Chicago'],
      priority: i % 5,
      ...(i === 9 ? { fields: { note: 'C:\\path\\n \\t \\\\ "quoted"', 'key\\': '\\N' } } : {}),
    }));
    const ids = await db.imports.copyLeads(s.tenantId, s.campaignId, leads);
    expect(ids).toHaveLength(2500);
    const n = ids.map(Number);
    expect(n).toEqual([...n].sort((a, b) => a - b));
    expect(n[0]).toBeGreaterThan(Number(s.leadIds.at(-1)));
    expect(await db.leads.get(s.tenantId, ids[7]!)).toMatchObject({
      phone: phone(107),
      name: 'Back\\slash O\'Neil "Q"',
      timeZone: ['America/Chicago', 'America/New_York'],
      priority: 2,
      status: 'queued',
      attempts: 0,
      fields: {},
    });
    expect(await db.leads.get(s.tenantId, ids[9]!)).toMatchObject({
      phone: phone(109),
      timeZone: ['America/Chicago', 'America/New_York'],
      priority: 4,
      fields: { note: 'C:\\path\\n \\t \\\\ "quoted"', 'key\\': '\\N' },
    });
    // A later insertBatch continues after them.
    const [next] = await db.leads.insertBatch(s.tenantId, s.campaignId, [
      { phone: phone(9999), name: 'After', timeZone: 'Europe/London' },
    ]);
    expect(Number(next)).toBeGreaterThan(n.at(-1)!);
  });

  it('writes nothing when one lead is invalid, naming it', async () => {
    const s = await seedTenant(db);
    const err = await db.imports
      .copyLeads(s.tenantId, s.campaignId, [
        { phone: phone(1), name: 'ok', timeZone: 'Europe/London' },
        { phone: '555-0100', name: 'bad', timeZone: 'Europe/London' },
      ])
      .catch((e: unknown) => e);
    expect(isDbError(err) && err.code === 'INPUT_INVALID' && err.message.startsWith('lead 1:')).toBe(true);
    expect(await db.leads.countByStatus(s.tenantId, s.campaignId)).toMatchObject({ queued: 0 });
  });

  it('refuses a campaign of another tenant or none, writing nothing', async () => {
    const a = await seedTenant(db);
    const b = await seedTenant(db, { campaignId: 'only-b' });
    const err = await db.imports
      .copyLeads(a.tenantId, 'only-b', [{ phone: phone(1), name: 'x', timeZone: 'Europe/London' }])
      .catch((e: unknown) => e);
    expect(isDbError(err) && err.code === 'CAMPAIGN_UNKNOWN').toBe(true);
    expect(await db.leads.countByStatus(b.tenantId, 'only-b')).toMatchObject({ queued: 0 });
  });

  it(
    'writes the same rows on the zero-setup Postgres (PGlite), which has no COPY over the wire',
    { timeout: 120_000 },
    async () => {
      const dataDir = await mkdtemp(join(tmpdir(), 'dialhub-pglite-copy-'));
      const pgl = await startEmbeddedPostgres({ dataDir });
      const zero = createDatabase({ url: pgl.url, pool: { min: 0, max: 2 } });
      try {
        await zero.migrate();
        const s = await seedTenant(zero, { tenantId: 'zero', leads: 2 });
        const leads = Array.from({ length: 1500 }, (_, i) => ({
          phone: phone(100 + i),
          name: `Lead ${i}`,
          timeZone: ['America/New_York', 'America/Chicago'],
          priority: 3,
          fields: { ref: `r${i}` },
        }));
        const ids = await zero.imports.copyLeads('zero', s.campaignId, leads);
        expect(ids.map(Number)).toEqual(Array.from({ length: 1500 }, (_, i) => Number(s.leadIds[1]) + 1 + i));
        expect(await zero.leads.get('zero', ids[1499]!)).toMatchObject({
          phone: phone(1599),
          timeZone: ['America/Chicago', 'America/New_York'],
          priority: 3,
          fields: { ref: 'r1499' },
        });
      } finally {
        await zero.close();
        await pgl.close();
        await rm(dataDir, { recursive: true, force: true });
      }
    },
  );
});
