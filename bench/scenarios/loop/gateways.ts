// `loop --gateways <n>`: the call loop through HAProxy (deploy/haproxy.cfg, the deployment's own
// config) in front of n gateway processes sharing the Socket.IO streams adapter, against the same
// loop through the same HAProxy in front of one gateway process, in one invocation, on the same
// Redis, Postgres schema and campaign queue. Each side has agents of its own (one session per
// agent: the same agent on both sides would replace itself) in worker processes of its own, so a
// side's sockets stay connected while the other side runs. Phases alternate the sides round after
// round, starting with a different side each round; figures are medians over the rounds:
//  - closed loop (every agent as fast as it can): calls/s, a call acknowledged to its device;
//  - open loop (a fixed aggregate rate): scheduled ready -> offer latency, p99.
// On the 2-core reference machine the extra gateways share the same cores as the one: this
// measures what spreading devices over processes costs (every inter-gateway message read by every
// gateway, offers travelling over the adapter), not the capacity more hosts would add.
import { setTimeout as sleep } from 'node:timers/promises';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { freePort } from '../../../test/support/ports.js';
import { startHaproxy } from '../../../test/support/haproxy.js';
import { mergeHistograms, summarizeHistogram } from '../../lib/hdr.js';
import { fmt } from '../../lib/report.js';
import type { ScenarioResult, TableRow } from '../../lib/report.js';
import type { ScenarioContext, ScenarioOutcome } from '../../lib/scenario.js';
import type { AgentCredential, LoadMode, QueueServerApi, WorkerApi, WorkerMark } from './api.js';
import { ChildHandle } from './ipc.js';
import { GATEWAY_CONFIG, msSince, Teardowns } from './rig.js';
import { CAMPAIGN, createSchemas, dialhubServerArgs, seedDialhub } from './seed.js';

export interface GatewaysPlan {
  /** Agents per side. */
  readonly agents: number;
  /** Agent worker processes per side. */
  readonly workers: number;
  readonly rounds: number;
  readonly closed: { readonly warmupMs: number; readonly measureMs: number };
  readonly open: { readonly warmupMs: number; readonly measureMs: number; readonly ratePerS: number };
  readonly initialDepth: number;
  readonly fillBatch: number;
  readonly connectConcurrency: number;
  readonly stopTimeoutMs: number;
}

export const GATEWAYS_FULL: GatewaysPlan = {
  agents: 400,
  workers: 2,
  rounds: 3,
  closed: { warmupMs: 2000, measureMs: 8000 },
  open: { warmupMs: 2000, measureMs: 8000, ratePerS: 400 },
  initialDepth: 150_000,
  fillBatch: 5000,
  connectConcurrency: 50,
  stopTimeoutMs: 15_000,
};

export const GATEWAYS_QUICK: GatewaysPlan = {
  ...GATEWAYS_FULL,
  agents: 100,
  workers: 1,
  rounds: 1,
  closed: { warmupMs: 1000, measureMs: 3000 },
  open: { warmupMs: 1000, measureMs: 3000, ratePerS: 200 },
  initialDepth: 30_000,
};

type Side = 'one' | 'many';

interface SideRig {
  readonly url: string;
  readonly workers: readonly ChildHandle<WorkerApi>[];
}

const median = (xs: readonly number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

const entry = (file: string) => new URL(`./${file}`, import.meta.url);

/** One window of one side: calls/s (closed) or the offer histogram (open). */
async function phase(
  ctx: ScenarioContext,
  side: SideRig,
  mode: 'closed' | 'open',
  plan: GatewaysPlan,
  ratePerS = plan.open.ratePerS,
): Promise<{ callsPerS: number; offerP99Ms: number; offerP50Ms: number; errors: number }> {
  const timing = mode === 'closed' ? plan.closed : plan.open;
  const n = side.workers.length;
  const load = (i: number): LoadMode => {
    if (mode === 'closed') return { kind: 'closed' };
    const gapMs = 1000 / ratePerS;
    return { kind: 'open', slotMs: gapMs * n, firstSlotMs: gapMs * i };
  };
  await Promise.all(side.workers.map((w, i) => w.call('start', { system: 'dialhub', mode: load(i) })));
  const stop = () => Promise.all(side.workers.map((w) => w.call('stop', { timeoutMs: plan.stopTimeoutMs })));
  let a: WorkerMark[];
  let b: WorkerMark[];
  let seconds: number;
  try {
    await sleep(timing.warmupMs, undefined, { signal: ctx.signal });
    a = await Promise.all(side.workers.map((w) => w.call('mark')));
    const t0 = process.hrtime.bigint();
    await sleep(timing.measureMs, undefined, { signal: ctx.signal });
    b = await Promise.all(side.workers.map((w) => w.call('mark')));
    seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  } catch (err) {
    // Agents stop before the failure (or interruption) travels on.
    await stop().catch(() => undefined);
    throw err;
  }
  const stuck = (await stop()).reduce((acc, s) => acc + s.stuck, 0);
  if (stuck > 0) throw new Error(`${stuck} agents still in a cycle ${plan.stopTimeoutMs} ms after stop`);
  const sum = (ms: readonly WorkerMark[], f: (m: WorkerMark) => number) => ms.reduce((x, m) => x + f(m), 0);
  const offer = summarizeHistogram(mergeHistograms(b.map((m) => m.histograms.offer)));
  return {
    callsPerS: (sum(b, (m) => m.calls) - sum(a, (m) => m.calls)) / seconds,
    offerP99Ms: offer.p99_ms,
    offerP50Ms: offer.p50_ms,
    errors: sum(b, (m) => m.errors) - sum(a, (m) => m.errors),
  };
}

export async function runGateways(ctx: ScenarioContext, gateways: number): Promise<ScenarioOutcome> {
  if (gateways !== 3) throw new Error('--gateways: deploy/haproxy.cfg has 3 servers; only 3 is supported');
  const plan = ctx.quick ? GATEWAYS_QUICK : GATEWAYS_FULL;
  const agents = ctx.agents ?? plan.agents;
  const teardowns = new Teardowns();
  try {
    let t = process.hrtime.bigint();
    const postgres = await createSchemas(ctx.postgresUrl, ctx.runId);
    teardowns.add('postgres schemas', () => postgres.drop());
    const secret = randomBytes(24).toString('hex');
    const credentials = await seedDialhub(postgres.dialhub, 2 * agents, secret);
    const sideAgents: Record<Side, AgentCredential[]> = {
      one: credentials.slice(0, agents),
      many: credentials.slice(agents),
    };
    const args = {
      ...dialhubServerArgs(ctx, postgres.dialhub, secret, GATEWAY_CONFIG),
      adapterStream: `${ctx.keyPrefix}dh:socket.io-stream`,
    };
    // Gateway 1 serves the one-gateway side alone; gateways 1..n the other side. Every gateway is
    // on the adapter on both sides, so the comparison is one process against n, not adapter or not.
    const servers: ChildHandle<QueueServerApi>[] = [];
    for (let i = 0; i < gateways; i++) {
      const handle = await ChildHandle.fork<QueueServerApi>(
        `gateway ${i + 1}`,
        entry('dialhub-server.ts'),
        args,
      );
      teardowns.add(`gateway ${i + 1}`, () => handle.close());
      servers.push(handle);
    }
    const ports = await Promise.all(servers.map(async (s) => (await s.call('start')).port));
    const lbOne = await startHaproxy(await freePort(), [ports[0]!]);
    teardowns.add('haproxy (one gateway)', () => lbOne.stop());
    const lbMany = await startHaproxy(await freePort(), ports);
    teardowns.add(`haproxy (${gateways} gateways)`, () => lbMany.stop());
    ctx.log(
      `seeded ${2 * agents} agents, ${gateways} gateways on ports ${ports.join(', ')} behind HAProxy ` +
        `:${lbMany.port} (and gateway 1 alone behind :${lbOne.port}) in ${msSince(t)} ms`,
    );

    t = process.hrtime.bigint();
    // After each load of leads dialhub's tables are analyzed, as rig.ts's fill does (see there):
    // without statistics every completion walks the campaign's finished leads, and the gateways
    // slow down with every call made (the first runs of this scenario fell round after round).
    const analyzer = new pg.Client({ connectionString: ctx.postgresUrl });
    await analyzer.connect();
    teardowns.add('postgres analyze client', () => analyzer.end());
    const { schema } = postgres.dialhub;
    let filled = 0;
    const fill = async (count: number) => {
      await servers[0]!.call('fill', { from: filled, count, batch: plan.fillBatch });
      filled += count;
      await analyzer.query(`ANALYZE ${schema}.leads, ${schema}.call_attempts, ${schema}.callbacks`);
    };
    await fill(plan.initialDepth);
    ctx.log(`queued ${fmt(plan.initialDepth)} leads in ${msSince(t)} ms`);

    const sides = {} as Record<Side, SideRig>;
    for (const side of ['one', 'many'] as const) {
      const url = `${(side === 'one' ? lbOne : lbMany).url}/agent`;
      const workers: ChildHandle<WorkerApi>[] = [];
      for (let w = 0; w < plan.workers; w++) {
        const handle = await ChildHandle.fork<WorkerApi>(`${side} worker ${w}`, entry('agent-worker.ts'), {});
        teardowns.add(`${side} worker ${w}`, () => handle.close());
        workers.push(handle);
      }
      const share = (w: number) => sideAgents[side].filter((_, i) => i % workers.length === w);
      t = process.hrtime.bigint();
      await Promise.all(
        workers.map((w, i) =>
          w.call('connect', {
            system: 'dialhub',
            url,
            campaignId: CAMPAIGN,
            agents: share(i),
            concurrency: plan.connectConcurrency,
            chainReady: true,
          }),
        ),
      );
      ctx.log(`${agents} agents of side "${side}" connected through HAProxy in ${msSince(t)} ms`);
      sides[side] = { url, workers };
    }
    if (gateways > 1) {
      const spread = await lbMany.connections();
      ctx.log(`devices per gateway on the ${gateways}-gateway side: ${spread.join(', ')}`);
    }

    /** Keep the queue deep enough for the next phase (calls/s x phase time, twice over). */
    const topUp = async (callsPerS: number, ms: number) => {
      const depth = await servers[0]!.call('depth');
      const need = Math.ceil((callsPerS * ms * 2) / 1000);
      if (depth < need) await fill(Math.ceil((need - depth) / plan.fillBatch) * plan.fillBatch);
    };
    let fastest = 0;
    let slowest = Infinity;
    for (const side of ['one', 'many'] as const) {
      const r = await phase(ctx, sides[side], 'closed', plan);
      fastest = Math.max(fastest, r.callsPerS);
      slowest = Math.min(slowest, r.callsPerS);
      ctx.log(`warm-up ${side}: ${fmt(r.callsPerS)} calls/s`);
    }
    // The open loop runs at a load both sides sustain (half the slower side's warm-up calls/s, at
    // most the plan's rate): above capacity its latency would measure the backlog, not the system.
    const rate = Math.max(1, Math.min(plan.open.ratePerS, Math.floor(slowest / 2)));
    ctx.log(`open loop at ${rate} calls/s`);
    const rounds: Record<string, number>[] = [];
    let errors = 0;
    for (let round = 1; round <= plan.rounds; round++) {
      const order: Side[] = round % 2 === 1 ? ['one', 'many'] : ['many', 'one'];
      const got: Record<string, number> = {};
      for (const side of order) {
        await topUp(fastest, plan.closed.warmupMs + plan.closed.measureMs + 2000);
        const closed = await phase(ctx, sides[side], 'closed', plan);
        fastest = Math.max(fastest, closed.callsPerS);
        await topUp(rate, plan.open.warmupMs + plan.open.measureMs + 2000);
        const open = await phase(ctx, sides[side], 'open', plan, rate);
        errors += closed.errors + open.errors;
        got[`calls_per_s_${side}`] = closed.callsPerS;
        got[`offer_p99_ms_${side}`] = open.offerP99Ms;
        got[`offer_p50_ms_${side}`] = open.offerP50Ms;
        ctx.log(
          `round ${round} ${side === 'one' ? '1 gateway' : `${gateways} gateways`}: ` +
            `${fmt(closed.callsPerS)} calls/s; at ${rate}/s ready->offer ` +
            `p50 ${open.offerP50Ms} p99 ${open.offerP99Ms} ms`,
        );
      }
      rounds.push(got);
    }
    if (errors > 0) throw new Error(`${errors} device errors during the measured phases`);
    const m = (k: string) => median(rounds.map((r) => r[k]!));
    const calls1 = m('calls_per_s_one');
    const callsN = m('calls_per_s_many');
    const ratio = callsN / calls1;
    const result: ScenarioResult = {
      metrics: {
        calls_per_s_1: Math.round(calls1),
        [`calls_per_s_${gateways}`]: Math.round(callsN),
        offer_p99_ms_1: m('offer_p99_ms_one'),
        [`offer_p99_ms_${gateways}`]: m('offer_p99_ms_many'),
        offer_p50_ms_1: m('offer_p50_ms_one'),
        [`offer_p50_ms_${gateways}`]: m('offer_p50_ms_many'),
      },
      ratios: { [`three_vs_one`]: Number(ratio.toFixed(3)) },
      config: {
        gateways,
        agents_per_side: agents,
        workers_per_side: plan.workers,
        rounds: plan.rounds,
        closed: plan.closed,
        open: { ...plan.open, ratePerS: rate },
        adapter: '@socket.io/redis-streams-adapter on the run Redis, every gateway on both sides',
        load_balancer: 'haproxy on deploy/haproxy.cfg (leastconn, WebSocket transport)',
        gateway_config: GATEWAY_CONFIG,
        quick: ctx.quick,
      },
      rounds,
    };
    const rows: TableRow[] = [
      {
        scenario: `loop --gateways ${gateways}`,
        metric: `calls/s, ${gateways} gateway processes behind HAProxy`,
        value: fmt(callsN),
        baseline: `${fmt(calls1)} (1 gateway)`,
        ratio: ratio.toFixed(2),
        better: 'higher',
        goal: '',
        explain: `closed loop, ${agents} agents a side; medians over ${plan.rounds} alternating rounds`,
      },
      {
        scenario: `loop --gateways ${gateways}`,
        metric: `ready->offer p99 ms at ${rate}/s, ${gateways} gateways`,
        value: fmt(m('offer_p99_ms_many')),
        baseline: `${fmt(m('offer_p99_ms_one'))} (1 gateway)`,
        ratio: (m('offer_p99_ms_many') / m('offer_p99_ms_one')).toFixed(2),
        better: 'lower',
        goal: '',
        explain: 'open loop, latency from the scheduled ready',
      },
    ];
    return { result, rows, key: 'loop_gateways' };
  } finally {
    await teardowns.run((msg) => ctx.log(msg));
  }
}
