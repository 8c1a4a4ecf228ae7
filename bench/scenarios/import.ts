// The `import` scenario: a generated CSV of leads (mixed US national and international formats,
// 2% bad numbers, 5% duplicates, 1% on the do-not-call list) through dialhub's CSV import, as the
// HTTP route runs it (sniffing, csv-parse, E.164 and zone per row, dedupe, DNC scrub, Postgres then
// the Redis queue, the import record and its rejects), against the raw ceiling in the same run: the
// same file through plain csv-parse into multi-row INSERTs with no validation. Rows per second and
// the process's peak RSS while importing (the file is streamed, never held).
import { fork } from 'node:child_process';
import { createReadStream, createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { once } from 'node:events';
import { pipeline } from 'node:stream/promises';
import { InvalidArgumentError } from 'commander';
import { parse } from 'csv-parse';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { ALWAYS_OPEN } from '../../engine/calling-window.js';
import { parseCampaignConfig } from '../../engine/campaign.js';
import type { CampaignRef } from '../../engine/ids.js';
import { createRedisQueueStore } from '../../engine/redis/redis-queue-store.js';
import { createDatabase } from '../../db/index.js';
import { createLeaseIds } from '../../engine/lease.js';
import { fmt, tableRow } from '../lib/report.js';
import type { ScenarioResult, TableRow } from '../lib/report.js';
import type { Scenario, ScenarioContext, ScenarioOutcome } from '../lib/scenario.js';
import { round } from '../lib/stats.js';
import type { ImportChildArgs, ImportChildResult } from './import/import-child.js';
import { Teardowns } from './loop/rig.js';
import { buildBundle } from '../../gateway/bundle.js';
import { DEFAULT_IMPORT_HEAP_GROWTH_PERCENT } from '../../gateway/heap.js';
import { createSchemas } from './loop/seed.js';

const TENANT = 'bench';
const CAMPAIGN = 'import';
const GOALS = { rows_per_s: 25_000, peak_rss_mb: 300 };
const AREAS = [212, 310, 415, 646, 702, 305, 312, 617, 206, 404];

/** The i-th distinct valid US number, written one of four ways. */
function usNumber(i: number): { e164: string; written: string } {
  const area = AREAS[i % AREAS.length]!;
  const exchange = 200 + (Math.floor(i / AREAS.length / 10_000) % 700);
  const line = String(Math.floor(i / AREAS.length) % 10_000).padStart(4, '0');
  const e164 = `+1${area}${exchange}${line}`;
  const style = i % 4;
  const written =
    style === 0
      ? `(${area}) ${exchange}-${line}`
      : style === 1
        ? `${area}.${exchange}.${line}`
        : style === 2
          ? `+1 ${area} ${exchange} ${line}`
          : `1-${area}-${exchange}-${line}`;
  return { e164, written };
}

async function writeFile(path: string, rows: number): Promise<string[]> {
  const out = createWriteStream(path);
  const dnc: string[] = [];
  out.write('Name,Phone,City\n');
  let distinct = 0;
  for (let r = 0; r < rows; r++) {
    let phone: string;
    if (r % 50 === 7)
      phone = '12345'; // 2% bad
    else if (r % 20 === 3 && distinct > 0)
      phone = usNumber(Math.floor(distinct / 2)).written; // 5% duplicates
    else {
      const n = usNumber(distinct++);
      phone = n.written;
      if (r % 100 === 11) dnc.push(n.e164); // 1% on the DNC list
    }
    if (!out.write(`Lead ${r},${phone},City ${r % 97}\n`)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
  return dnc;
}

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('must be a positive integer');
  return n;
}

type ChildKind = 'bundle' | 'tsx';

function percentOf(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 300)
    throw new InvalidArgumentError('must be an integer from 0 to 300');
  return n;
}

function childKindOf(value: string): ChildKind {
  if (value !== 'bundle' && value !== 'tsx') throw new InvalidArgumentError('must be bundle or tsx');
  return value;
}

function rssSampler() {
  let peak = process.memoryUsage().rss;
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 50);
  return {
    stop() {
      clearInterval(timer);
      return Math.max(peak, process.memoryUsage().rss) / 2 ** 20;
    },
  };
}

async function run(ctx: ScenarioContext): Promise<ScenarioOutcome> {
  const rows = ctx.agents ?? (ctx.quick ? 20_000 : ctx.suite ? 100_000 : 1_000_000);
  const batchSize = ctx.options['batch'] as number | undefined;
  const childKind = (ctx.options['child'] as ChildKind | undefined) ?? 'bundle';
  const heapGrowth = ctx.options['heapGrowth'] as number | undefined;
  const teardowns = new Teardowns();
  const file = join(tmpdir(), `dialhub-bench-import-${ctx.runId}.csv`);
  try {
    teardowns.add('csv file', () => rm(file, { force: true }));
    const postgres = await createSchemas(ctx.postgresUrl, ctx.runId);
    teardowns.add('postgres schemas', () => postgres.drop());
    const place = postgres.dialhub;
    const db = createDatabase({ url: place.url, searchPath: place.schema, pool: { min: 2, max: 10 } });
    teardowns.add('database', () => db.close());
    await db.migrate();
    const store = await createRedisQueueStore({
      url: ctx.redisUrl,
      keyPrefix: ctx.keyPrefix,
      leaseIds: createLeaseIds('bench-import-lease-secret-bench-import-lease'),
    });
    teardowns.add('queue store', () => store.close());
    await db.tenants.create({ id: TENANT, name: 'Bench tenant', plan: { deviceLimit: 1 } });
    const config = parseCampaignConfig({ window: ALWAYS_OPEN });
    await db.campaigns.upsert({
      tenantId: TENANT,
      id: CAMPAIGN,
      name: 'Import bench',
      status: 'active',
      config,
    });
    const ref = { tenantId: TENANT, campaignId: CAMPAIGN } as CampaignRef;
    await store.defineCampaign(ref, config, Date.now());

    let t = performance.now();
    const dnc = await writeFile(file, rows);
    await db.dnc.add(TENANT, dnc, 'api');
    ctx.log(
      `${fmt(rows)} rows written, ${fmt(dnc.length)} numbers listed (${fmt(performance.now() - t)} ms)`,
    );

    // The import's process runs plain JavaScript bundled as production's (gateway/bundle.ts), not
    // TypeScript through tsx, whose loader and transformed sources the product never carries
    // (`--child tsx` runs it so, for comparison).
    let childModule: URL | string = new URL('./import/import-child.ts', import.meta.url);
    if (childKind === 'bundle') {
      const outdir = fileURLToPath(new URL(`../../.dist-test-import-${ctx.runId}`, import.meta.url));
      teardowns.add('import child bundle', () => rm(outdir, { recursive: true, force: true }));
      t = performance.now();
      await buildBundle(fileURLToPath(childModule), outdir);
      childModule = join(outdir, 'import-child.js');
      ctx.log(`import child bundled (${fmt(performance.now() - t)} ms)`);
    }

    // dialhub: the import as the HTTP route runs it, first (the baselines' clients are not open yet).
    const job = await db.imports.create({
      tenantId: TENANT,
      campaignId: CAMPAIGN,
      fileName: 'bench.csv',
      settings: {},
      createdBy: 'bench',
    });
    // The import runs in a process of its own (./import/import-child.ts): the gateway's modules,
    // its database and queue store clients, and the import, nothing of the bench's; its peak RSS is
    // that process's VmHWM. The bench process's own figures are reported apart (harness_*).
    const harnessBefore = process.memoryUsage().rss / 2 ** 20;
    const harness = rssSampler();
    const childArgs: ImportChildArgs = {
      file,
      postgresUrl: place.url,
      schema: place.schema,
      redisUrl: ctx.redisUrl,
      keyPrefix: ctx.keyPrefix,
      tenantId: TENANT,
      campaignId: CAMPAIGN,
      jobId: job.id,
      ...(batchSize !== undefined ? { batchSize } : {}),
      ...(heapGrowth !== undefined ? { heapGrowthPercent: heapGrowth } : {}),
    };
    const child = fork(childModule, [JSON.stringify(childArgs)], {
      execArgv: childKind === 'tsx' ? ['--import', import.meta.resolve('tsx')] : [],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      serialization: 'json',
    });
    teardowns.add('import child', async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL');
        await once(child, 'exit');
      }
    });
    const exited = once(child, 'exit');
    const [reply] = (await Promise.race([
      once(child, 'message'),
      exited.then(([code, signal]) => {
        throw new Error(`import child exited (${String(signal ?? code)}) before its result`);
      }),
    ])) as [{ ok: true; result: ImportChildResult } | { ok: false; error: string }];
    await exited;
    const harnessPeak = harness.stop();
    if (!reply.ok) throw new Error(`import child: ${reply.error}`);
    const imported = reply.result;
    const result = imported;
    const seconds = imported.seconds;
    const peak = imported.peakRssMb;
    const rssBefore = imported.rssBeforeMb;
    const busy = imported.busyMs;
    await db.imports.finish(TENANT, job.id, { status: 'done', fileSha256: result.sha256 });
    const perS = rows / seconds;
    ctx.log(
      `dialhub import: ${fmt(perS)} rows/s, peak RSS of the import process ${fmt(peak)} MiB (${fmt(rssBefore)} before the import); bench process ${fmt(harnessBefore)} -> peak ${fmt(harnessPeak)} MiB`,
    );
    ctx.log(
      `busy per step (s, they overlap): check ${fmt(busy.check / 1000, 1)}, store ${fmt(busy.store / 1000, 1)}, queue ${fmt(busy.queue / 1000, 1)}, progress ${fmt(busy.progress / 1000, 1)} of ${fmt(seconds, 1)}`,
    );

    // Baseline: the same file, csv-parse and multi-row INSERTs, nothing checked.
    const client = new pg.Client({ connectionString: place.url });
    await client.connect();
    teardowns.add('raw insert client', () => client.end());
    const raw = `${postgres.bullmq.schema}.raw_leads`;
    await client.query(`CREATE TABLE ${raw} (id bigserial PRIMARY KEY, name text, phone text, city text)`);
    t = performance.now();
    let batch: string[][] = [];
    const flushRaw = async () => {
      if (batch.length === 0) return;
      const values = batch.map((_, i) => `($${i * 3 + 1},$${i * 3 + 2},$${i * 3 + 3})`).join(',');
      await client.query(`INSERT INTO ${raw} (name, phone, city) VALUES ${values}`, batch.flat());
      batch = [];
    };
    for await (const record of createReadStream(file).pipe(parse({ from_line: 2 })) as AsyncIterable<
      string[]
    >) {
      batch.push(record);
      if (batch.length === 1000) await flushRaw();
    }
    await flushRaw();
    const rawPerS = (rows / (performance.now() - t)) * 1000;
    ctx.log(`raw csv-parse + INSERT: ${fmt(rawPerS)} rows/s`);

    // The ceiling: the same file's bytes straight into a COPY of the same three columns.
    const copied = `${postgres.bullmq.schema}.copied_leads`;
    await client.query(`CREATE TABLE ${copied} (id bigserial PRIMARY KEY, name text, phone text, city text)`);
    t = performance.now();
    await pipeline(
      createReadStream(file),
      client.query(copyFrom(`COPY ${copied} (name, phone, city) FROM STDIN WITH (FORMAT csv, HEADER true)`)),
    );
    const copyPerS = (rows / (performance.now() - t)) * 1000;
    ctx.log(`raw COPY: ${fmt(copyPerS)} rows/s`);

    const metrics = {
      rows_per_s: round(perS, 0),
      raw_insert_rows_per_s: round(rawPerS, 0),
      copy_rows_per_s: round(copyPerS, 0),
      peak_rss_mb: round(peak, 1),
      rss_before_mb: round(rssBefore, 1),
      harness_rss_before_mb: round(harnessBefore, 1),
      harness_peak_rss_mb: round(harnessPeak, 1),
      rows: rows,
      queued: result.counts.queued,
      duplicates: result.counts.duplicates,
      dnc: result.counts.dnc,
      rejected: result.counts.rejected,
      import_s: round(seconds, 2),
      check_busy_s: round(busy.check / 1000, 2),
      store_busy_s: round(busy.store / 1000, 2),
      queue_busy_s: round(busy.queue / 1000, 2),
      progress_busy_s: round(busy.progress / 1000, 2),
    };
    const ratios = { vs_raw_insert: round(perS / rawPerS, 3), vs_copy: round(perS / copyPerS, 3) };
    const met = { perS: perS >= GOALS.rows_per_s, rss: peak < GOALS.peak_rss_mb };
    const res: ScenarioResult = {
      metrics,
      ratios,
      config: {
        rows,
        batch: batchSize ?? 'default (gateway/leads/csv-import.ts)',
        child: childKind,
        heap_growth_percent: heapGrowth ?? DEFAULT_IMPORT_HEAP_GROWTH_PERCENT,
        default_country: 'US',
        mix: '2% bad, 5% duplicates, 1% DNC, four US formats',
      },
      goals: {
        rows_per_s: { goal: `>= ${GOALS.rows_per_s}`, met: met.perS },
        peak_rss_mb: { goal: `< ${GOALS.peak_rss_mb}`, met: met.rss },
      },
      notes: [
        'dialhub: importCsv with the intake the HTTP route uses (E.164, zone from the number, dedupe in file and campaign, DNC scrub, Postgres insert then Redis enqueue, the import record and rejects), in a child process of its own (bench/scenarios/import/import-child.ts, bundled by gateway/bundle.ts and run by plain node as production runs dist/main.js; --child tsx: under tsx) holding the gateway modules (HTTP app and gateway loaded, not started), a database pool and a queue store, as the gateway opens them.',
        'raw: the same file through csv-parse into 1,000-row INSERTs of three text columns, no checks.',
        "copy: the same file's bytes into COPY ... FROM STDIN (csv) of three text columns, no checks: what Postgres takes for the bytes alone.",
        "peak_rss_mb is that child process's VmHWM (kernel high-water mark over its whole life: Node, the modules, the clients, the import); rss_before_mb is its VmRSS just before the import. It does not include a running gateway's other state (HTTP server, sockets, engine loops). harness_rss_before_mb / harness_peak_rss_mb are the bench process (generated file, DNC list, clients) before and during the import, not counted in peak_rss_mb.",
      ],
    };
    const goal = (text: string, ok: boolean) => `${text} (${ok ? 'met' : 'missed'})`;
    const outRows: TableRow[] = [
      tableRow('import', {
        metric: 'CSV rows/s imported vs raw csv-parse + INSERT rows/s',
        value: fmt(metrics.rows_per_s),
        baseline: fmt(metrics.raw_insert_rows_per_s),
        ratio: `${ratios.vs_raw_insert.toFixed(2)}x`,
        better: 'higher',
        goal: goal(`>= ${fmt(GOALS.rows_per_s)}/s`, met.perS),
        explain: `rows of a ${fmt(rows)}-row CSV checked, normalised, scrubbed and queued per second, against the same file inserted unchecked`,
      }),
      tableRow('import', {
        metric: 'CSV rows/s imported vs raw COPY rows/s',
        value: fmt(metrics.rows_per_s),
        baseline: fmt(metrics.copy_rows_per_s),
        ratio: `${ratios.vs_copy.toFixed(2)}x`,
        better: 'higher',
        explain: 'the same file, its bytes straight into a COPY of three text columns: the ceiling',
      }),
      tableRow('import', {
        metric: 'peak RSS MiB while importing',
        value: fmt(metrics.peak_rss_mb),
        goal: goal(`< ${GOALS.peak_rss_mb} MiB`, met.rss),
        explain:
          'the import process (gateway modules, clients, the import; not the bench harness) at its largest (VmHWM)',
      }),
      tableRow('import', {
        metric: 'queued / duplicates / DNC / rejected',
        value: `${fmt(metrics.queued)} / ${fmt(metrics.duplicates)} / ${fmt(metrics.dnc)} / ${fmt(metrics.rejected)}`,
        explain: 'where the rows went (every row in exactly one)',
      }),
    ];
    return { result: res, rows: outRows };
  } finally {
    await teardowns.run((m) => ctx.log(m));
  }
}

export const importScenario: Scenario = {
  name: 'import',
  summary: 'CSV lead import rows/s and peak memory vs raw csv-parse + INSERT and raw COPY of the same file',
  options: [
    {
      flags: '--batch <n>',
      description: "rows per batch of dialhub's import (default: the import's own)",
      parse: positiveInt,
    },
    {
      flags: '--child <kind>',
      description:
        "how the import's process runs dialhub's code: bundle (default: plain JavaScript built as production's) or tsx (TypeScript through tsx, as npm run dev)",
      parse: childKindOf,
    },
    {
      flags: '--heap-growth <percent>',
      description:
        "the import's IMPORT_HEAP_GROWTH_PERCENT (default: the gateway's, 100; 0: V8's own heuristics)",
      parse: percentOf,
    },
  ],
  run,
};
