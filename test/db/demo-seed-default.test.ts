// Production defaults: the demo tenant is seeded only when asked, or in zero-setup mode (no
// DATABASE_URL) on a new database; a real database never gets one by default.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { shouldSeedDemo } from '../../gateway/demo-seed.js';
import { createTestDatabase } from '../support/postgres.js';
import type { TestDatabase } from '../support/postgres.js';

describe('SEED_DEMO defaults', () => {
  let pg: TestDatabase;
  beforeAll(async () => {
    pg = await createTestDatabase();
  });
  afterAll(() => pg.dispose());

  const url = 'postgres://db.example/prod';

  it('never seeds a database given by DATABASE_URL unless SEED_DEMO is set', async () => {
    expect(await shouldSeedDemo({ DATABASE_URL: url }, pg.db)).toBe(false);
    expect(await shouldSeedDemo({ DATABASE_URL: url, SEED_DEMO: true }, pg.db)).toBe(true);
  });

  it('seeds a new zero-setup database, and completes the demo tenant of an earlier start', async () => {
    expect(await shouldSeedDemo({}, pg.db)).toBe(true);
    await pg.db.tenants.create({ id: 'demo', name: 'Demo company', plan: { deviceLimit: 10 } });
    expect(await shouldSeedDemo({}, pg.db)).toBe(true);
  });

  it('leaves a zero-setup database with real tenants alone; SEED_DEMO=false always wins', async () => {
    await pg.db.tenants.create({ id: 'acme', name: 'Acme', plan: { deviceLimit: 10 } });
    expect(await shouldSeedDemo({}, pg.db)).toBe(false);
    expect(await shouldSeedDemo({ SEED_DEMO: false }, pg.db)).toBe(false);
  });
});
