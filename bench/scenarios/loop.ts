// The `loop` scenario: the whole call loop over real WebSockets, dialhub against two baselines in
// one invocation, on the same Redis and Postgres.
//  1. dialhub: the real gateway in a child process; simulated devices (socket.io-client, in agent
//     worker processes) take calls: ready -> offer -> accept -> complete -> ack -> ready.
//  2. bare Socket.IO round trips: the socket layer's ceiling on this machine, same clients.
//  3. the BullMQ dialer: a Socket.IO server with one BullMQ Worker (concurrency = agents) that
//     pushes each job to an idle agent and INSERTs its outcome, one row per call.
// Closed loop (every agent as fast as it can) gives calls/s; open loop (a fixed aggregate rate)
// gives ready -> offer latency for dialhub and the BullMQ dialer. Phases alternate between the
// systems, round after round; the metrics are medians over the rounds.
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { InvalidArgumentError } from 'commander';
import { summarizeProfileFile } from '../lib/cpu-profile.js';
import { summarizeHeapProfileFile } from '../lib/heap-profile.js';
import { fmt } from '../lib/report.js';
import type { Scenario, ScenarioContext, ScenarioOutcome } from '../lib/scenario.js';
import type { SystemName } from './loop/api.js';
import { codeVersion } from './loop/code-version.js';
import { runGateways } from './loop/gateways.js';
import { buildOutcome } from './loop/outcome.js';
import type { Attempt, ServerProfile } from './loop/outcome.js';
import { runPhase } from './loop/phase.js';
import type { PhaseEnv, PhaseResult, PhaseSpec } from './loop/phase.js';
import { FULL, QUICK, SUITE } from './loop/plan.js';
import type { LoopPlan } from './loop/plan.js';
import { buildRig, connectAgents, fill, msSince, Teardowns } from './loop/rig.js';
import { heapProfilePath } from './loop/server-probe.js';

const DEFAULT_POSTGRES_URL = 'postgres://postgres@127.0.0.1:5432/test';
const CLOSED: readonly SystemName[] = ['dialhub', 'socketio', 'bullmq'];
const OPEN: readonly SystemName[] = ['dialhub', 'bullmq'];

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('must be a positive integer');
  return n;
}

interface LoopOptions {
  readonly agents?: number;
  readonly rate?: number;
  readonly postgresUrl: string;
  readonly cpuProf?: string;
  readonly readyEvent: boolean;
  readonly analyze: boolean;
}

function loopOptions(raw: Readonly<Record<string, unknown>>): LoopOptions {
  const num = (k: string) => (typeof raw[k] === 'number' ? raw[k] : undefined);
  const str = (k: string) => (typeof raw[k] === 'string' ? raw[k] : undefined);
  const agents = num('agents');
  const rate = num('rate');
  const cpuProf = str('cpuProf');
  return {
    postgresUrl: str('postgresUrl') ?? DEFAULT_POSTGRES_URL,
    readyEvent: raw['readyEvent'] === true,
    analyze: raw['analyze'] !== false,
    ...(agents === undefined ? {} : { agents }),
    ...(rate === undefined ? {} : { rate }),
    ...(cpuProf === undefined ? {} : { cpuProf }),
  };
}

/** The list rotated left by `n`: round r starts with a different system, so order effects even out. */
const rotate = <T>(items: readonly T[], n: number): T[] =>
  items.map((_, i) => items[(i + n) % items.length]!);

const describe = (r: PhaseResult) => {
  const c = r.figures.cores;
  const lat =
    r.mode === 'open'
      ? `, ready->offer p50 ${r.latency.offer.p50_ms} p99 ${r.latency.offer.p99_ms} max ${r.latency.offer.max_ms} ms`
      : '';
  const errors =
    r.figures.errors > 0 ? `, ${r.figures.errors} errors (${r.figures.errorSamples.join('; ')})` : '';
  return (
    `${fmt(r.callsPerS)} calls/s${lat}${errors} [cores: server ${c.server}, workers ${c.workers}, ` +
    `redis ${c.redis}, pg ${c.postgres}, other ${c.other}, steal ${c.steal}]`
  );
};

async function measureRounds(env: PhaseEnv, plan: LoopPlan, ratePerS: number): Promise<Attempt[]> {
  const attempts: Attempt[] = [];
  let retries = 0;
  for (let round = 1; round <= plan.rounds; round++) {
    const phases: Omit<PhaseSpec, 'timing'>[] = [
      ...rotate(CLOSED, round - 1).map((system) => ({ system, mode: 'closed' as const })),
      ...rotate(OPEN, round - 1).map((system) => ({ system, mode: 'open' as const, ratePerS })),
    ];
    for (const p of phases) {
      const timing = p.mode === 'closed' ? plan.closed : plan.open;
      for (let attempt = 1; attempt <= plan.retriesPerPhase + 1; attempt++) {
        const result = await runPhase(env, { ...p, timing });
        if (p.mode === 'closed') env.closedRate.set(p.system, result.callsPerS);
        const disturbed = result.disturbance > plan.maxOtherCores;
        const last = !disturbed || attempt === plan.retriesPerPhase + 1 || retries >= plan.retryBudget;
        if (!last) retries++;
        attempts.push({ round, attempt, disturbed, counted: last, result });
        env.log(
          `round ${round} ${p.system} ${p.mode}: ${describe(result)}${disturbed ? ' (disturbed)' : ''}`,
        );
        if (last) break;
      }
    }
  }
  return attempts;
}

/**
 * One extra phase per system and load with its server under the V8 profilers (not counted): where
 * its CPU went, and what it allocated per call.
 */
async function profileServers(env: PhaseEnv, plan: LoopPlan, ratePerS: number, dir: string, runId: string) {
  await mkdir(dir, { recursive: true });
  const profiles: Record<string, ServerProfile> = {};
  const phases = [
    ...CLOSED.map((system) => ({ system, mode: 'closed' as const, timing: plan.closed })),
    ...OPEN.map((system) => ({ system, mode: 'open' as const, timing: plan.open, ratePerS })),
  ];
  for (const p of phases) {
    const name = `${p.system}-${p.mode}`;
    const path = resolve(join(dir, `loop-${runId}-${name}.cpuprofile`));
    const r = await runPhase(env, { ...p, profilePath: path });
    const summary = await summarizeProfileFile(path);
    const allocation = await summarizeHeapProfileFile(heapProfilePath(path), r.calls);
    profiles[name] = { ...summary, allocation };
    env.log(`profiled ${name} (${fmt(r.callsPerS)} calls/s under the profiler): ${path}`);
    env.log('  self time (% of busy):');
    for (const f of summary.top.slice(0, 12)) env.log(`  ${f.self_pct.toFixed(1).padStart(5)}%  ${f.fn}`);
    if (summary.own.length > 0) env.log('  project code, inclusive (% of busy):');
    for (const f of summary.own.slice(0, 12)) env.log(`  ${f.total_pct.toFixed(1).padStart(5)}%  ${f.fn}`);
    env.log(`  allocated ${fmt(allocation.kb_per_call)} KB per call (sampled); by package or file:`);
    for (const a of allocation.packages.slice(0, 8)) env.log(`  ${a.pct.toFixed(1).padStart(5)}%  ${a.site}`);
    if (allocation.own.length > 0) env.log('  project code, by allocating function:');
    for (const a of allocation.own.slice(0, 8)) env.log(`  ${a.pct.toFixed(1).padStart(5)}%  ${a.site}`);
  }
  return profiles;
}

async function run(ctx: ScenarioContext): Promise<ScenarioOutcome> {
  // --gateways: only the loop through HAProxy, n gateway processes against one (loop/gateways.ts).
  const gateways = ctx.options['gateways'];
  if (typeof gateways === 'number') return runGateways(ctx, gateways);
  const plan = ctx.quick ? QUICK : ctx.suite ? SUITE : FULL;
  const opts = loopOptions(ctx.options);
  const agents = opts.agents ?? plan.agents;
  const ratePerS = opts.rate ?? plan.open.ratePerS;
  const workers = Math.min(plan.workers, agents);
  const code = codeVersion();
  const teardowns = new Teardowns();
  const setup: Record<string, number> = {};
  try {
    let t = process.hrtime.bigint();
    const { rig, credentials } = await buildRig(
      ctx,
      { plan, agents, workers, postgresUrl: opts.postgresUrl, analyze: opts.analyze },
      teardowns,
    );
    setup['processes_and_seed'] = msSince(t);
    ctx.signal.throwIfAborted();

    t = process.hrtime.bigint();
    const [dh, bq] = await Promise.all([
      fill(rig, 'dialhub', plan.initialDepth, plan.fillBatch),
      fill(rig, 'bullmq', plan.initialDepth, plan.fillBatch),
    ]);
    setup['fill'] = msSince(t);
    ctx.log(
      `queued ${fmt(plan.initialDepth)} leads through gateway.addLeads (${fmt(dh.ms)} ms) and ` +
        `${fmt(plan.initialDepth)} BullMQ jobs through addBulk (${fmt(bq.ms)} ms)`,
    );
    ctx.signal.throwIfAborted();

    for (const system of CLOSED) {
      t = process.hrtime.bigint();
      const n = await connectAgents(rig, system, credentials, plan.connectConcurrency, !opts.readyEvent);
      setup[`connect_${system}`] = msSince(t);
      ctx.log(`${n} ${system} agents connected over WebSocket in ${setup[`connect_${system}`]} ms`);
      ctx.signal.throwIfAborted();
    }

    const env: PhaseEnv = {
      rig,
      signal: ctx.signal,
      log: (m) => ctx.log(m),
      stopTimeoutMs: plan.stopTimeoutMs,
      fillBatch: plan.fillBatch,
      depthHeadroom: plan.depthHeadroom,
      closedRate: new Map(),
    };
    const warmups: PhaseResult[] = [];
    for (const system of CLOSED) {
      const r = await runPhase(env, {
        system,
        mode: 'closed',
        timing: { warmupMs: 0, measureMs: plan.warmupMs },
      });
      env.closedRate.set(system, r.callsPerS);
      warmups.push(r);
      ctx.log(`warm-up ${system}: ${describe(r)}`);
    }
    const attempts = await measureRounds(env, plan, ratePerS);
    const profiles = opts.cpuProf ? await profileServers(env, plan, ratePerS, opts.cpuProf, ctx.runId) : {};
    return buildOutcome({
      quick: ctx.quick,
      redisUrl: ctx.redisUrl,
      postgresUrl: opts.postgresUrl,
      plan,
      agents,
      workers,
      ratePerS,
      attempts,
      warmups,
      setup,
      profiles,
      readyEvent: opts.readyEvent,
      code,
      postgresStats: { analyze_after_fill: rig.analyze, server_autovacuum: rig.autovacuum },
    });
  } finally {
    const t = process.hrtime.bigint();
    await teardowns.run((m) => ctx.log(m));
    ctx.log(`stopped every process and dropped the Postgres schemas (${msSince(t)} ms)`);
  }
}

export const loopScenario: Scenario = {
  name: 'loop',
  summary:
    'the call loop over WebSockets: dialhub gateway vs bare Socket.IO round trips vs a BullMQ dialer, calls/s and ready->offer latency',
  options: [
    {
      flags: '--gateways <n>',
      description:
        'instead: calls/s and ready->offer p99 through HAProxy with n gateway processes (3) against one, JSON key loop_gateways',
      parse: positiveInt,
    },
    {
      flags: '--rate <n>',
      description: 'open-loop calls started per second (default 1000)',
      parse: positiveInt,
    },
    {
      flags: '--ready-event',
      description:
        'closed loop: dialhub devices send agent:ready after each completion (three round trips a call) instead of call:complete { ready: true }',
    },
    {
      flags: '--no-analyze',
      description:
        "skip ANALYZE of dialhub's tables after loading leads (what a server with autovacuum off, or a fresh import before autoanalyze, runs into)",
    },
    {
      flags: '--cpu-prof <dir>',
      description:
        'after the rounds, profile each server under test over one extra phase per load (not counted)',
    },
  ],
  run,
};
