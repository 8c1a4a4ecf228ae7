// The `persist` scenario: call outcomes per second into Postgres with each completion
// acknowledged only after its commit, through dialhub's outcome writer (group commit, idempotent
// on lease id, the lead's state moved in the same transaction), against the raw ceiling: the same
// rows as plain multi-row INSERTs into a table without constraints beyond its key, one statement
// after another. Rounds alternate the two; each window records who used the CPU and a disturbed
// one is measured again (bounded). The writer runs in this process, as it runs in the gateway's.
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { ALWAYS_OPEN } from '../../engine/calling-window.js';
import { parseCampaignConfig } from '../../engine/campaign.js';
import { createDatabase } from '../../db/index.js';
import type { Database, OutcomeInput } from '../../db/index.js';
import { latencyByPercentile, PERCENTILE_TICKS } from '../lib/charts.js';
import { newHistogram, recordMs, summarizeHistogram } from '../lib/hdr.js';
import { connectAdmin } from '../lib/redis-admin.js';
import { fmt, tableRow } from '../lib/report.js';
import type { RowInput, ScenarioResult, TableRow } from '../lib/report.js';
import type { Scenario, ScenarioContext, ScenarioOutcome } from '../lib/scenario.js';
import { median, round } from '../lib/stats.js';
import { undisturbed, WindowMeter } from '../lib/window-meter.js';
import type { RetryBudget, WindowCpu } from '../lib/window-meter.js';
import { Teardowns } from './loop/rig.js';
import { createSchemas } from './loop/seed.js';
import { FULL, GOALS, QUICK, SUITE } from './persist/plan.js';
import type { PersistPlan } from './persist/plan.js';

const TENANT = 'bench';
const CAMPAIGN = 'persist';
const FIRST_NUMBER = 447_700_900_000;
const LEAD_BATCH = 5000;

interface Round {
  readonly perS: number;
  readonly histogram: ReturnType<typeof newHistogram>;
  readonly cpu: WindowCpu;
}

async function seedLeads(db: Database, count: number): Promise<string[]> {
  const ids: string[] = [];
  for (let from = 0; from < count; from += LEAD_BATCH) {
    const batch = Array.from({ length: Math.min(LEAD_BATCH, count - from) }, (_, k) => ({
      phone: `+${FIRST_NUMBER + from + k}`,
      name: `Persist Lead ${from + k}`,
      timeZone: 'Europe/London',
    }));
    ids.push(...(await db.leads.insertBatch(TENANT, CAMPAIGN, batch)));
  }
  return ids;
}

function outcomeFor(leadId: string, leaseId: string, i: number): OutcomeInput {
  return {
    tenantId: TENANT,
    campaignId: CAMPAIGN,
    leadId,
    leaseId,
    agentId: `a${i % 1000}`,
    deviceId: `d${i % 1000}`,
    outcome: 'answered',
    disposition: { kind: 'final' },
    attempts: 1,
    late: false,
    durationSec: 30,
    completedAt: Date.now(),
  };
}

/** `concurrency` agents, each completing one call after another, until `leads` are all written. */
async function dialhubRound(db: Database, leads: readonly string[], base: number, plan: PersistPlan) {
  const histogram = newHistogram();
  let next = 0;
  const started = performance.now();
  const lane = async () => {
    while (next < leads.length) {
      const i = next++;
      const t = performance.now();
      await db.outcomes.write(outcomeFor(leads[i]!, `l${base + i}`, i));
      recordMs(histogram, performance.now() - t);
    }
  };
  await Promise.all(Array.from({ length: plan.concurrency }, lane));
  return { perS: (leads.length / (performance.now() - started)) * 1000, histogram };
}

/** The same rows as multi-row INSERTs, one statement (and commit) after another. */
async function rawRound(
  client: pg.Client,
  table: string,
  leads: readonly string[],
  base: number,
  plan: PersistPlan,
) {
  const histogram = newHistogram();
  const started = performance.now();
  for (let from = 0; from < leads.length; from += plan.rawBatch) {
    const rows = leads.slice(from, from + plan.rawBatch).map((leadId, k) => {
      const o = outcomeFor(leadId, `l${base + from + k}`, from + k);
      return [
        o.tenantId,
        o.leaseId,
        o.campaignId,
        leadId,
        o.agentId,
        o.deviceId,
        o.outcome,
        JSON.stringify(o.disposition),
        o.attempts,
        o.durationSec,
        new Date(o.completedAt),
      ];
    });
    const values = rows.map((r, i) => `(${r.map((_, j) => `$${i * r.length + j + 1}`).join(',')})`).join(',');
    const t = performance.now();
    await client.query(
      `INSERT INTO ${table} (tenant_id, lease_id, campaign_id, lead_id, agent_id, device_id, outcome, disposition, attempts, duration_sec, completed_at) VALUES ${values}`,
      rows.flat(),
    );
    recordMs(histogram, performance.now() - t);
  }
  return { perS: (leads.length / (performance.now() - started)) * 1000, histogram };
}

async function run(ctx: ScenarioContext): Promise<ScenarioOutcome> {
  const plan = ctx.quick ? QUICK : ctx.suite ? SUITE : FULL;
  const outcomes = ctx.agents === undefined ? plan.outcomes : Math.max(ctx.agents * 10, 100);
  const teardowns = new Teardowns();
  try {
    const admin = await connectAdmin(ctx.redisUrl);
    teardowns.add('redis admin client', () => admin.close());
    const postgres = await createSchemas(ctx.postgresUrl, ctx.runId);
    teardowns.add('postgres schemas', () => postgres.drop());
    const place = postgres.dialhub;
    const db = createDatabase({ url: place.url, searchPath: place.schema, pool: { min: 2, max: 10 } });
    teardowns.add('database', () => db.close());
    await db.migrate();
    await db.tenants.create({ id: TENANT, name: 'Bench tenant', plan: { deviceLimit: 1 } });
    await db.campaigns.upsert({
      tenantId: TENANT,
      id: CAMPAIGN,
      name: 'Persist bench',
      status: 'active',
      config: parseCampaignConfig({ window: ALWAYS_OPEN }),
    });
    const rawTable = `${postgres.bullmq.schema}.raw_outcomes`;
    const client = new pg.Client({ connectionString: place.url });
    await client.connect();
    teardowns.add('raw insert client', () => client.end());
    await client.query(
      `CREATE TABLE ${rawTable} (tenant_id text NOT NULL, lease_id text NOT NULL, campaign_id text NOT NULL, lead_id bigint NOT NULL,
        agent_id text NOT NULL, device_id text NOT NULL, outcome text NOT NULL, disposition jsonb NOT NULL, attempts integer NOT NULL,
        duration_sec integer NOT NULL, completed_at timestamptz NOT NULL, PRIMARY KEY (tenant_id, lease_id))`,
    );
    const budget: RetryBudget = { left: plan.retryBudget, repeated: 0, countedDisturbed: 0 };
    // Both sides, every possible repeat and the warm-up each take fresh leads.
    const attempts = plan.rounds * 2 + plan.retryBudget + 1;
    const t = performance.now();
    const leads = await seedLeads(db, outcomes * attempts);
    await client.query(`ANALYZE ${place.schema}.leads`);
    ctx.log(`${fmt(leads.length)} leads inserted (${fmt(performance.now() - t)} ms)`);
    let used = 0;
    // Each window takes fresh leads; a lease id is its lead's position, so no id is ever reused
    // (a repeated window must not replay lease ids on other leads: the writer refuses that).
    const take = () => {
      const base = used;
      used += outcomes;
      return { batch: leads.slice(base, used), base };
    };
    const ours = async () => {
      const { rows } = await client.query<{ pid: number }>(
        'SELECT pid FROM pg_stat_activity WHERE application_name = $1',
        [place.applicationName],
      );
      return rows.map((r) => r.pid);
    };
    // Warm-up: pools, prepared plans, JIT (not counted).
    const warm = take();
    await dialhubRound(db, warm.batch.slice(0, Math.min(outcomes, 2000)), warm.base, plan);
    const dh: Round[] = [];
    const raw: Round[] = [];
    const progress = ctx.progress('rounds', plan.rounds * 2, 'windows');
    for (let r = 0; r < plan.rounds; r++) {
      for (const side of r % 2 === 0 ? (['dialhub', 'raw'] as const) : (['raw', 'dialhub'] as const)) {
        const pids = await ours();
        const meter = new WindowMeter(admin, () => pids);
        const m = await undisturbed(
          async () => {
            const { batch, base } = take();
            await meter.start();
            const res =
              side === 'dialhub'
                ? await dialhubRound(db, batch, base, plan)
                : await rawRound(client, rawTable, batch, base, plan);
            return { ...res, cpu: await meter.stop() };
          },
          { maxOtherCores: plan.maxOtherCores, retries: plan.retries, budget, log: (x) => ctx.log(x) },
        );
        (side === 'dialhub' ? dh : raw).push(m);
        const s = summarizeHistogram(m.histogram);
        ctx.log(
          `round ${r + 1} ${side}: ${fmt(m.perS)} rows/s, commit p50 ${s.p50_ms} p99 ${s.p99_ms} ms [cores: ours ${m.cpu.ours}, redis ${m.cpu.redis}, other ${m.cpu.other}]${m.disturbed ? ' (disturbed)' : ''}`,
        );
        progress.update(dh.length + raw.length);
      }
    }
    progress.stop();
    const stats = db.outcomes.stats();
    return buildOutcome(
      plan,
      outcomes,
      dh,
      raw,
      budget,
      stats.rows / Math.max(1, stats.batches),
      stats.largestBatch,
    );
  } finally {
    await teardowns.run((m) => ctx.log(m));
  }
}

function buildOutcome(
  plan: PersistPlan,
  outcomes: number,
  dh: readonly Round[],
  raw: readonly Round[],
  budget: RetryBudget,
  rowsPerCommit: number,
  largestBatch: number,
): ScenarioOutcome {
  const med = (rs: readonly Round[], f: (r: Round) => number, d = 3) => round(median(rs.map(f)), d);
  const p = (rs: readonly Round[], k: 'p50_ms' | 'p99_ms') =>
    med(rs, (r) => summarizeHistogram(r.histogram)[k]);
  const metrics = {
    outcomes_per_s: med(dh, (r) => r.perS, 0),
    commit_p50_ms: p(dh, 'p50_ms'),
    commit_p99_ms: p(dh, 'p99_ms'),
    raw_insert_rows_per_s: med(raw, (r) => r.perS, 0),
    raw_statement_p99_ms: p(raw, 'p99_ms'),
    outcome_rows_per_commit: round(rowsPerCommit, 1),
    largest_commit_rows: largestBatch,
    rounds_repeated: budget.repeated,
    rounds_counted_disturbed: budget.countedDisturbed,
  };
  const ratios = { vs_raw_insert: round(metrics.outcomes_per_s / metrics.raw_insert_rows_per_s, 3) };
  const met = {
    perS: metrics.outcomes_per_s >= GOALS.outcomes_per_s,
    p99: metrics.commit_p99_ms <= GOALS.commit_p99_ms,
  };
  const last = dh.at(-1);
  const lastRaw = raw.at(-1);
  const result: ScenarioResult = {
    metrics,
    ratios,
    config: {
      plan,
      outcomes_per_round: outcomes,
      writer: 'db.outcomes (group commit, maxBatch 500, flush on next tick)',
    },
    rounds: {
      dialhub: dh.map((r) => ({ per_s: round(r.perS, 0), ...summarizeHistogram(r.histogram), cores: r.cpu })),
      raw_insert: raw.map((r) => ({
        per_s: round(r.perS, 0),
        ...summarizeHistogram(r.histogram),
        cores: r.cpu,
      })),
    },
    goals: {
      outcomes_per_s: { goal: `>= ${GOALS.outcomes_per_s}`, met: met.perS },
      commit_p99_ms: { goal: `<= ${GOALS.commit_p99_ms}`, met: met.p99 },
    },
    charts: [
      {
        kind: 'lines',
        title: 'time to commit: one outcome (dialhub) vs one raw INSERT statement of many rows',
        xLabel: 'percentile',
        yLabel: 'ms',
        xTicks: PERCENTILE_TICKS,
        series: [
          ...(last ? [latencyByPercentile('dialhub outcome write', last.histogram)] : []),
          ...(lastRaw ? [latencyByPercentile(`raw INSERT of ${plan.rawBatch} rows`, lastRaw.histogram)] : []),
        ],
      },
    ],
    notes: [
      'dialhub: every write goes through db.outcomes.write and resolves after its transaction commits (the call_attempts row, the lead moved to its next state, idempotent on lease id); config.plan.concurrency writes are in flight at once, as agents waiting for their acknowledgement are.',
      'raw INSERT: the same rows into a table with only a primary key, multi-row statements one after another on one connection, autocommit: what Postgres itself can take, without the lead update or idempotency.',
      'Postgres is shared: its background processes (WAL writer, checkpointer) count as other load in the windows.',
    ],
  };
  const goal = (text: string, ok: boolean) => `${text} (${ok ? 'met' : 'missed'})`;
  const row = (r: RowInput): TableRow => tableRow('persist', r);
  const rows: TableRow[] = [
    row({
      metric: 'outcomes/s committed vs raw INSERT rows/s',
      value: fmt(metrics.outcomes_per_s),
      baseline: fmt(metrics.raw_insert_rows_per_s),
      ratio: `${ratios.vs_raw_insert.toFixed(2)}x`,
      better: 'higher',
      goal: goal(`>= ${fmt(GOALS.outcomes_per_s)}/s`, met.perS),
      explain: `call outcomes written and acknowledged after commit per second (${fmt(plan.concurrency)} in flight), against plain multi-row INSERTs of the same rows`,
    }),
    row({
      metric: 'commit p99 ms (p50)',
      value: `${metrics.commit_p99_ms.toFixed(2)} (${metrics.commit_p50_ms.toFixed(2)})`,
      goal: goal(`<= ${GOALS.commit_p99_ms} ms`, met.p99),
      explain:
        'time from a completion being handed to the writer to its transaction committing, slowest 1% (median in brackets)',
    }),
    row({
      metric: 'outcome rows per commit (largest)',
      value: `${fmt(metrics.outcome_rows_per_commit, 1)} (${fmt(largestBatch)})`,
      explain: 'how many completions share one transaction under this load (group commit)',
    }),
    row({
      metric: 'windows repeated (disturbed) / counted though disturbed',
      value: `${metrics.rounds_repeated} / ${metrics.rounds_counted_disturbed}`,
      explain:
        'rounds measured again because other processes took more than config.plan.maxOtherCores cores, and those still counted after the retry budget',
    }),
  ];
  return { result, rows };
}

export const persistScenario: Scenario = {
  name: 'persist',
  summary:
    'outcomes per second into Postgres, acknowledged after commit (group commit) vs raw multi-row INSERT of the same rows',
  run,
};
