// The `startup` scenario: what a restart after a crash costs, and what the zero-setup process
// holds in memory when idle.
//
//  1. Restart: the production bundle (`npm run build`: dist/main.js, plain JavaScript) is started
//     against real Redis and Postgres whose schema is already migrated, and timed from spawn to its
//     first `/readyz` 200; the baseline is the same gateway run from TypeScript by tsx (how it ran
//     before there was a bundle, and how `npm run dev` runs). Restarts alternate the two; each
//     process is killed with SIGKILL, as a crash would end it.
//  2. Zero setup: the bundle with no REDIS_URL and no DATABASE_URL (in-memory queue, embedded
//     Postgres in a fresh DATA_DIR, demo seeded) is left idle after /readyz; its resident memory,
//     with any child processes', is sampled over the end of the idle time.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { fmt, tableRow } from '../lib/report.js';
import type { RowInput, ScenarioResult } from '../lib/report.js';
import type { Scenario, ScenarioContext, ScenarioOutcome } from '../lib/scenario.js';
import { median, round } from '../lib/stats.js';
import { Teardowns } from './loop/rig.js';
import { FULL, GOALS, QUICK, SUITE } from './startup/plan.js';
import type { StartupPlan } from './startup/plan.js';
import { freePort } from '../../test/support/ports.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const PAGE_SIZE = 4096;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function sql(url: string, text: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(text);
  } finally {
    await client.end();
  }
}

/** A process in a group of its own, so it and anything it starts end together. */
class Child {
  readonly #child: ChildProcess;
  #exited = false;
  stderr = '';

  constructor(args: readonly string[], env: Record<string, string>) {
    this.#child = spawn(process.execPath, args, {
      cwd: ROOT,
      detached: true,
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { PATH: '/usr/local/bin:/usr/bin:/bin', HOST: '127.0.0.1', LOG_LEVEL: 'warn', ...env },
    });
    this.#child.stderr?.on('data', (d: Buffer) => (this.stderr = (this.stderr + d.toString()).slice(-4000)));
    this.#child.on('exit', () => (this.#exited = true));
  }

  get pid(): number {
    return this.#child.pid!;
  }

  get exited(): boolean {
    return this.#exited;
  }

  /** SIGKILL the whole group and wait for the leader to be gone. */
  async kill(): Promise<void> {
    if (this.#exited) return;
    try {
      process.kill(-this.pid, 'SIGKILL');
    } catch {
      return;
    }
    for (let i = 0; i < 200 && !this.#exited; i++) await sleep(10);
  }
}

/** Spawn to the first /readyz 200, in ms. */
async function untilReady(child: Child, port: number, timeoutMs: number, started: bigint): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => undefined);
    if (res?.status === 200) return Number(process.hrtime.bigint() - started) / 1e6;
    await res?.body?.cancel();
    if (child.exited) throw new Error(`the gateway exited before it was ready: ${child.stderr.trim()}`);
    if (Date.now() > deadline)
      throw new Error(`/readyz not 200 within ${timeoutMs} ms: ${child.stderr.trim()}`);
    await sleep(5);
  }
}

/** Resident memory of every process in the group led by `pgid`, in bytes (from /proc). */
async function groupRss(pgid: number): Promise<number> {
  let bytes = 0;
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => '');
    // Fields after the command (which may hold spaces) start after its closing parenthesis.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(fields[2]) !== pgid) continue; // field 5: process group
    bytes += Number(fields[21]) * PAGE_SIZE; // field 24: rss in pages
  }
  return bytes;
}

async function run(ctx: ScenarioContext): Promise<ScenarioOutcome> {
  const plan: StartupPlan = ctx.quick ? QUICK : ctx.suite ? SUITE : FULL;
  const teardowns = new Teardowns();
  const started = Date.now();
  try {
    // The bundle, built privately (a dist/ of the user's is left alone).
    const outdir = `.dist-test-startup-${ctx.runId}`;
    teardowns.add('the bundle', () => rm(join(ROOT, outdir), { recursive: true, force: true }));
    const buildStarted = process.hrtime.bigint();
    const build = new Child(['--import', 'tsx', 'gateway/build.ts', '--outdir', outdir], {});
    teardowns.add('the build', () => build.kill());
    while (!build.exited) await sleep(50);
    const buildMs = Number(process.hrtime.bigint() - buildStarted) / 1e6;
    ctx.log(`built ${outdir}/main.js in ${fmt(buildMs)} ms`);

    // 1. Restarts against real servers, after one untimed start that migrates the schema.
    const schema = `bench_${ctx.runId}_startup`.toLowerCase().replace(/[^a-z0-9_]/g, '_');
    await sql(ctx.postgresUrl, `CREATE SCHEMA ${schema}`);
    teardowns.add('the Postgres schema', () =>
      sql(ctx.postgresUrl, `DROP SCHEMA IF EXISTS ${schema} CASCADE`),
    );
    const dataDir = await mkdtemp(join(tmpdir(), 'dialhub-startup-'));
    teardowns.add('the data directories', () => rm(dataDir, { recursive: true, force: true }));
    const databaseUrl = `${ctx.postgresUrl}${ctx.postgresUrl.includes('?') ? '&' : '?'}options=${encodeURIComponent(`-c search_path=${schema}`)}`;
    const serverEnv = {
      REDIS_URL: ctx.redisUrl,
      REDIS_KEY_PREFIX: `${ctx.keyPrefix}startup:`,
      DATABASE_URL: databaseUrl,
      DATA_DIR: join(dataDir, 'servers'),
      DEVICE_TOKEN_SECRET: 'startup-bench-device-token-secret-0123456789',
      ADMIN_TOKEN: 'startup-bench-admin-token-0123456789',
      SEED_DEMO: 'false',
    };
    const builds = {
      compiled: [`${outdir}/main.js`],
      tsx: ['--import', 'tsx', 'gateway/main.ts'],
    } as const;
    const restart = async (kind: keyof typeof builds): Promise<number> => {
      const port = await freePort();
      const t = process.hrtime.bigint();
      const child = new Child(builds[kind], { ...serverEnv, PORT: String(port) });
      teardowns.add(`a ${kind} gateway`, () => child.kill());
      try {
        return await untilReady(child, port, plan.readyTimeoutMs, t);
      } finally {
        await child.kill();
      }
    };
    const migrateMs = await restart('compiled');
    ctx.log(`first start (migrations) ready in ${fmt(migrateMs)} ms`);
    const times: Record<keyof typeof builds, number[]> = { compiled: [], tsx: [] };
    for (let i = 0; i < plan.restarts; i++) {
      for (const kind of i % 2 === 0 ? (['compiled', 'tsx'] as const) : (['tsx', 'compiled'] as const)) {
        const ms = await restart(kind);
        times[kind].push(round(ms, 1));
        ctx.log(`restart ${i + 1}/${plan.restarts} ${kind}: ready in ${fmt(ms)} ms`);
      }
    }

    // 2. Zero setup: first start in a fresh data directory, then idle.
    const port = await freePort();
    const t = process.hrtime.bigint();
    const zero = new Child([`${outdir}/main.js`], { DATA_DIR: join(dataDir, 'zero'), PORT: String(port) });
    teardowns.add('the zero-setup gateway', () => zero.kill());
    const zeroReadyMs = await untilReady(zero, port, plan.readyTimeoutMs, t);
    ctx.log(`zero setup ready in ${fmt(zeroReadyMs)} ms; idle for ${fmt(plan.idleMs)} ms`);
    const samples: number[] = [];
    const gap = plan.idleMs / plan.rssSamples;
    for (let i = 0; i < plan.rssSamples; i++) {
      await sleep(gap);
      samples.push((await groupRss(zero.pid)) / 2 ** 20);
    }
    await zero.kill();

    const metrics = {
      start_to_ready_ms: round(median(times.compiled), 1),
      tsx_start_to_ready_ms: round(median(times.tsx), 1),
      first_start_with_migrations_ms: round(migrateMs, 1),
      zero_setup_first_start_ms: round(zeroReadyMs, 1),
      zero_setup_idle_rss_mib: round(median(samples), 1),
      build_ms: round(buildMs, 0),
    };
    const ratios = { compiled_vs_tsx: round(metrics.start_to_ready_ms / metrics.tsx_start_to_ready_ms, 3) };
    const result: ScenarioResult = {
      metrics,
      ratios,
      config: { ...plan, size: ctx.quick ? 'quick' : ctx.suite ? 'suite' : 'full' },
      restarts_ms: times,
      idle_rss_samples_mib: samples.map((s) => round(s, 1)),
      goals: GOALS,
      met: {
        start_to_ready: metrics.start_to_ready_ms <= GOALS.start_to_ready_ms,
        zero_setup_idle_rss: metrics.zero_setup_idle_rss_mib <= GOALS.zero_setup_idle_rss_mib,
      },
      size: ctx.quick ? 'quick' : ctx.suite ? 'suite' : 'full',
      elapsed_s: round((Date.now() - started) / 1000, 1),
    };
    const rows: RowInput[] = [
      {
        metric: 'start to /readyz ms (real Redis + Postgres), bundle vs tsx',
        value: fmt(metrics.start_to_ready_ms),
        baseline: `${fmt(metrics.tsx_start_to_ready_ms)} (tsx)`,
        ratio: `${ratios.compiled_vs_tsx.toFixed(2)}x`,
        better: 'lower',
        goal: `<= ${fmt(GOALS.start_to_ready_ms)} ms (${metrics.start_to_ready_ms <= GOALS.start_to_ready_ms ? 'met' : 'missed'})`,
        explain:
          'median time from spawning the gateway to its first /readyz 200, schema already migrated, each process then killed with SIGKILL: what a restart after a crash costs; the baseline runs the same TypeScript through tsx',
      },
      {
        metric: 'zero-setup idle RSS MiB',
        value: fmt(metrics.zero_setup_idle_rss_mib, 1),
        goal: `<= ${GOALS.zero_setup_idle_rss_mib} MiB (${metrics.zero_setup_idle_rss_mib <= GOALS.zero_setup_idle_rss_mib ? 'met' : 'missed'})`,
        explain:
          'resident memory of `npm start` with no Redis and no Postgres (in-memory queue, embedded Postgres, demo seeded), it and any child process, median over the end of its idle time',
      },
      {
        metric: 'first start ms: with migrations / zero setup',
        value: `${fmt(metrics.first_start_with_migrations_ms)} / ${fmt(metrics.zero_setup_first_start_ms)}`,
        explain:
          'spawn to /readyz on an empty schema (migrations run), and the zero-setup first start (embedded database created, demo seeded)',
      },
    ];
    return { result, rows: rows.map((r) => tableRow('startup', r)) };
  } finally {
    await teardowns.run((m) => ctx.log(m));
  }
}

export const startupScenario: Scenario = {
  name: 'startup',
  summary:
    'what a restart costs (spawn to /readyz: the compiled bundle vs tsx, real Redis and Postgres) and the zero-setup process idle RSS',
  run,
};
