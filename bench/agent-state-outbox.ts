// What agent.state_changed webhooks cost (gateway/webhooks/agent-state-events.ts), on real
// Postgres in its own schema, printed as JSON:
//  - quiet: a tenant with no endpoint taking the event; every change is dropped in memory after
//    one endpoint query per cache period;
//  - grouped: a tenant that listens; changes are written by the recorder's group commit;
//  - baseline: the same changes written one statement per change (what a per-change insert
//    would cost), in the same run.
// Run: npx tsx bench/agent-state-outbox.ts [changes=20000]
import { performance } from 'node:perf_hooks';
import { systemClock } from '../engine/clock.js';
import type { AgentId, TenantId } from '../engine/ids.js';
import type { AgentStateChange } from '../gateway/agent/agent-hub.js';
import { silentLogger } from '../gateway/logger.js';
import { agentStatePayload, createAgentStateEvents } from '../gateway/webhooks/agent-state-events.js';
import { createTestDatabase } from '../test/support/postgres.js';

const changes = Number(process.argv[2] ?? 20_000);
const pg = await createTestDatabase();
const { db } = pg;
try {
  for (const t of ['quiet', 'loud']) await db.tenants.create({ id: t, name: t, plan: { deviceLimit: 10 } });
  await db.privacy.webhooks.create('loud', { url: 'http://127.0.0.1:9/x', events: ['agent.state_changed'] });
  const change = (tenantId: string, i: number): AgentStateChange => ({
    tenantId: tenantId as TenantId,
    agentId: `a${i % 50}` as AgentId,
    deviceId: `d${i % 50}`,
    state:
      i % 2 === 0
        ? { state: 'ready', since: i, campaignId: 'c' }
        : { state: 'paused', reason: 'lunch', since: i },
    lead: null,
    at: i,
  });
  let statements = 0;
  db.knex.on('query', () => statements++);
  const count = async () => {
    const { rows } = await db.knex.raw<{ rows: { n: string }[] }>(
      `SELECT count(*) AS n FROM webhook_events WHERE tenant_id = 'loud'`,
    );
    return Number(rows[0]!.n);
  };

  async function run(tenant: string, flushEvery: number) {
    const rec = createAgentStateEvents(db.privacy.webhooks, systemClock, silentLogger, {
      flushMs: 60_000,
      cacheMs: 60_000,
    });
    const s0 = statements;
    const t0 = performance.now();
    for (let i = 0; i < changes; i++) {
      rec.record(change(tenant, i));
      if ((i + 1) % flushEvery === 0) await rec.flush();
    }
    await rec.flush();
    const ms = performance.now() - t0;
    await rec.stop();
    return {
      changes,
      ms: Math.round(ms),
      usPerChange: +((ms * 1000) / changes).toFixed(2),
      statements: statements - s0,
    };
  }

  const quiet = await run('quiet', 500);
  const before = await count();
  // 500 changes per flush: 50 agents changing state every ~100 ms fill a 200 ms flush with ~100.
  const grouped = { ...(await run('loud', 500)), written: (await count()) - before };

  const n = Math.min(changes, 5_000);
  const s0 = statements;
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    await db.privacy.webhooks.emit([
      { tenantId: 'loud', type: 'agent.state_changed', payload: agentStatePayload(change('loud', i)) },
    ]);
  }
  const ms = performance.now() - t0;
  const baseline = {
    changes: n,
    ms: Math.round(ms),
    usPerChange: +((ms * 1000) / n).toFixed(2),
    statements: statements - s0,
  };
  console.log(JSON.stringify({ quiet, grouped, baseline }, null, 2));
} finally {
  await pg.dispose();
}
