// Embedded Postgres (zero-setup mode): PGlite in a data folder, served over the wire protocol, so
// the same knex pool, migrations, repositories and outcome writer run on it unchanged, and what
// they wrote is still there after a restart.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDatabase, MIGRATIONS, startEmbeddedPostgres } from '../../db/index.js';
import { outcomeFor, phone, seedTenant } from './fixtures.js';

describe('embedded Postgres', () => {
  let dataDir: string;
  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'dialhub-pglite-'));
  });
  afterAll(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  it(
    'serves a pooled knex through migrations, concurrent writes and an outcome batch, and keeps the data across a restart',
    { timeout: 120_000 },
    async () => {
      const first = await startEmbeddedPostgres({ dataDir });
      expect(first.url).toMatch(/^postgres:\/\/postgres@127\.0\.0\.1:\d+\/postgres$/);
      const db = createDatabase({ url: first.url, pool: { min: 0, max: 4 } });
      let tenantId: string;
      let leadIds: string[];
      try {
        expect(await db.migrate()).toEqual(MIGRATIONS.map((m) => m.name));
        const s = await seedTenant(db, { tenantId: 'zero', leads: 0 });
        tenantId = s.tenantId;

        // Four imports at once hold four pooled connections, each in its own transaction.
        const imports = await Promise.all(
          [0, 1, 2, 3].map((k) =>
            db.leads.insertBatch(
              tenantId,
              'c1',
              Array.from({ length: 250 }, (_, i) => ({ phone: phone(k * 1000 + i), timeZone: 'UTC' })),
            ),
          ),
        );
        leadIds = imports.flat();
        expect(new Set(leadIds).size).toBe(1000);

        const records = await Promise.all(
          leadIds
            .slice(0, 100)
            .map((id) =>
              db.outcomes.write(outcomeFor(s, id, { outcome: 'answered', disposition: { kind: 'final' } })),
            ),
        );
        expect(records.every((r) => !r.duplicate)).toBe(true);
        expect(db.outcomes.stats().batches).toBeLessThanOrEqual(2);
        const again = await db.outcomes.write(outcomeFor(s, leadIds[0]!, { leaseId: records[0]!.leaseId }));
        expect(again).toEqual({ ...records[0], duplicate: true });
      } finally {
        await db.close();
        await first.close();
      }

      const second = await startEmbeddedPostgres({ dataDir });
      const reopened = createDatabase({ url: second.url, pool: { max: 4 } });
      try {
        expect(await reopened.migrate()).toEqual([]);
        expect(await reopened.leads.countByStatus(tenantId, 'c1')).toEqual({
          queued: 900,
          final: 100,
          removed: 0,
        });
        const found = await reopened.outcomes.findByLeaseIds(tenantId, [
          (
            await reopened
              .knex('call_attempts')
              .where({ tenant_id: tenantId })
              .first<{ lease_id: string }>('lease_id')
          ).lease_id,
        ]);
        expect(found.size).toBe(1);
        let streamed = 0;
        for await (const chunk of reopened.leads.streamQueued(tenantId, 'c1', 400)) streamed += chunk.length;
        expect(streamed).toBe(900);
      } finally {
        await reopened.close();
        await second.close();
      }
    },
  );
});
