// What the leads triggers of migration 0012 (custom fields within the tenant's limits) cost an
// insert, on real Postgres in its own schema, printed as JSON: the same batches of leads (with 3
// custom fields each) inserted with the trigger disabled (baseline), for a tenant without limits
// (the trigger gives up after one look at the tenants), and for a tenant with limits (every row
// checked); three alternating rounds, the median of each. Run:
// npx tsx bench/lead-fields-limits.ts [batches=20] [batchSize=2000]
import { performance } from 'node:perf_hooks';
import { ALWAYS_OPEN } from '../engine/calling-window.js';
import { createTestDatabase } from '../test/support/postgres.js';

const batches = Number(process.argv[2] ?? 20);
const size = Number(process.argv[3] ?? 2_000);
const pg = await createTestDatabase();
const { db } = pg;
try {
  const plans = {
    baseline: { deviceLimit: 1 },
    unlimited: { deviceLimit: 1 },
    limited: { deviceLimit: 1, leadFields: { maxCount: 10, maxValueLength: 100 } },
  };
  for (const [id, plan] of Object.entries(plans)) {
    await db.tenants.create({ id, name: id, plan });
    await db.campaigns.upsert({
      tenantId: id,
      id: 'c',
      name: 'c',
      status: 'active',
      config: { window: ALWAYS_OPEN, dispositions: {} },
    });
  }
  let n = 0;
  async function run(tenant: string) {
    const t0 = performance.now();
    for (let b = 0; b < batches; b++) {
      const leads = Array.from({ length: size }, () => ({
        phone: `+4420794${String(n++ % 100_000).padStart(5, '0')}`,
        name: 'Lead',
        timeZone: 'Europe/London',
        fields: { plan: 'gold', crm: `C-${n}`, note: 'prefers mornings' },
      }));
      await db.leads.insertBatch(tenant, 'c', leads);
    }
    const ms = performance.now() - t0;
    return {
      rows: batches * size,
      ms: Math.round(ms),
      usPerRow: +((ms * 1000) / (batches * size)).toFixed(2),
    };
  }
  // Warm-up, then the cases in turn, three rounds (the table grows as it goes), median of each.
  const trigger = (on: boolean) =>
    db.knex.raw(`ALTER TABLE leads ${on ? 'ENABLE' : 'DISABLE'} TRIGGER leads_fields_insert`);
  await run('unlimited');
  const results: Record<string, { rows: number; ms: number; usPerRow: number }[]> = {
    baseline: [],
    unlimited: [],
    limited: [],
  };
  for (let round = 0; round < 3; round++) {
    await trigger(false);
    results.baseline!.push(await run('baseline'));
    await trigger(true);
    results.unlimited!.push(await run('unlimited'));
    results.limited!.push(await run('limited'));
  }
  const median = (rs: { usPerRow: number }[]) => [...rs].sort((a, b) => a.usPerRow - b.usPerRow)[1]!;
  const baseline = median(results.baseline!);
  const unlimited = median(results.unlimited!);
  const limited = median(results.limited!);
  console.log(JSON.stringify({ baseline, unlimited, limited }, null, 2));
} finally {
  await pg.dispose();
}
