// The scenarios: each dials a campaign with a floor of devices, injects its fault while calls are
// live, drains, and returns the observer's verdict together with evidence that the fault really
// happened (a suite that injects nothing must not pass).
import { execFile } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { Observer } from './observer.js';
import type { Anomaly, ScenarioSummary } from './observer.js';
import type { Floor, TenantSetup } from './suite.js';
import { FaultSuite, RETRY_DELAY_MAX_MS, TIMINGS } from './suite.js';
import { sleep } from './services.js';

/** Debian's libfaketime (package faketime), preloaded into one gateway by `clock-fast`. */
export const FAKETIME_LIB = '/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1';

export interface Profile {
  readonly name: 'short' | 'full';
  /** Devices and leads of an ordinary scenario. */
  readonly agents: number;
  readonly leads: number;
  /** Traffic before and after a fault. */
  readonly phaseMs: number;
  /** How often the kill scenario kills. */
  readonly kills: number;
  /** The kill scenario's floor (the issue asks 100 devices over 5,000 leads). */
  readonly killAgents: number;
  readonly killLeads: number;
  readonly postgresOutageMs: number;
}

export const PROFILES: Record<Profile['name'], Profile> = {
  short: {
    name: 'short',
    agents: 8,
    leads: 600,
    phaseMs: 1_500,
    kills: 1,
    killAgents: 12,
    killLeads: 800,
    postgresOutageMs: 4_000,
  },
  full: {
    name: 'full',
    agents: 40,
    leads: 3_000,
    phaseMs: 8_000,
    kills: 3,
    killAgents: 100,
    killLeads: 5_000,
    postgresOutageMs: 30_000,
  },
};

export interface ScenarioResult {
  readonly scenario: string;
  readonly fault: string;
  readonly summary: ScenarioSummary;
  readonly anomalies: readonly Anomaly[];
  /** Named facts that show the fault happened, each with whether it held. */
  readonly evidence: Record<string, { value: number | string; ok: boolean }>;
  readonly wallMs: number;
}

interface Run {
  readonly suite: FaultSuite;
  readonly profile: Profile;
  readonly observer: Observer;
  readonly setup: TenantSetup;
  readonly evidence: ScenarioResult['evidence'];
  readonly floors: Floor[];
  /** Leases whose completion must be stored as late (the lease had expired). */
  readonly lateLeases: string[];
  /** From each kill to the restarted gateway serving again (ms). */
  readonly restartMs: number[];
}

export interface Scenario {
  readonly name: string;
  readonly fault: string;
  readonly agents: (p: Profile) => number;
  readonly leads: (p: Profile) => number;
  /** 'cluster': runs on a suite whose gateways use a private Redis Cluster with replicas. */
  readonly redis?: 'cluster';
  /** The profiles that run it unless named in FAULTS_ONLY; default every profile. */
  readonly profiles?: readonly Profile['name'][];
  /** Start floors (push them to run.floors) and inject the fault; fill run.evidence. */
  play(run: Run): Promise<void>;
}

const must = (value: number | string, ok: boolean) => ({ value, ok });

const execute = promisify(execFile);
const redisCli = async (port: number, ...args: string[]) =>
  (await execute('redis-cli', ['-p', String(port), ...args])).stdout;

/** The port of the live master serving `slot`, as the node on `askPort` sees the cluster. */
async function masterOf(askPort: number, slot: number): Promise<number | null> {
  for (const line of (await redisCli(askPort, 'cluster', 'nodes')).split('\n')) {
    const f = line.split(' ');
    if (!f[2]?.includes('master') || f[2].includes('fail')) continue;
    for (const range of f.slice(8)) {
      const [from, to] = range.split('-').map(Number) as [number, number | undefined];
      if (slot >= from && slot <= (to ?? from)) return Number(f[1]!.split(':')[1]!.split('@')[0]);
    }
  }
  return null;
}

/** Wait until `pick` finds something (polling the observer's live view). */
async function waitFor<T>(pick: () => T | undefined, ms: number, what: string): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = pick();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`never saw ${what} within ${ms} ms`);
    await sleep(25);
  }
}

/**
 * Calls on `gateway` that it has confirmed as taken (their `connected` status answered). A call
 * accepted in the offer acknowledgement a moment before the kill may never have reached the
 * gateway: it stays an offer and expires with it, as the protocol says, so it proves nothing.
 */
function liveOn(observer: Observer, gateway: number): string[] {
  const at = FaultSuite.gatewayOf(observer);
  return [...observer.live.entries()]
    .filter(([a, l]) => l.onCall && at.get(a) === gateway)
    .map(([, l]) => l.leaseId);
}

/** Kill gateway 0 while it holds accepted calls; restart it after `downMs`. */
async function killAndRestart(run: Run, downMs: number): Promise<string[]> {
  const { suite, observer } = run;
  const held = await waitFor(
    () => {
      const l = liveOn(observer, 0);
      return l.length >= 2 ? l : undefined;
    },
    20_000,
    'calls live on gateway 0',
  );
  const killedAt = Date.now();
  observer.record({ kind: 'fault', t: killedAt, what: 'SIGKILL gateway 0' });
  await suite.gateways[0]!.kill();
  await sleep(downMs);
  await suite.gateways[0]!.start();
  observer.record({ kind: 'fault', t: Date.now(), what: 'gateway 0 serving again' });
  run.restartMs.push(Date.now() - killedAt);
  return held;
}

export const SCENARIOS: readonly Scenario[] = [
  {
    name: 'gateway-sigkill',
    fault: 'SIGKILL a gateway mid-call, restart at once; devices resume with their lease id',
    agents: (p) => p.killAgents,
    leads: (p) => p.killLeads,
    async play(run) {
      const { suite, setup, observer, profile } = run;
      run.floors.push(suite.startFloor(setup, observer, setup.agents));
      let heldAtKill = 0;
      for (let k = 0; k < profile.kills; k++) {
        await sleep(profile.phaseMs);
        heldAtKill += (await killAndRestart(run, 0)).length;
      }
      await sleep(profile.phaseMs);
      run.evidence.kills = must(profile.kills, true);
      run.evidence.callsLiveAtKills = must(heldAtKill, heldAtKill >= 2 * profile.kills);
      const resumed = observer.of('resumed').length;
      run.evidence.callsResumed = must(resumed, resumed > 0);
    },
  },
  {
    name: 'slow-restart',
    fault: 'SIGKILL a gateway mid-call, restart after CALL_TTL: its leases expire, late completions',
    agents: (p) => p.agents,
    leads: (p) => p.leads,
    async play(run) {
      const { suite, setup, observer, profile } = run;
      run.floors.push(suite.startFloor(setup, observer, setup.agents));
      await sleep(profile.phaseMs);
      const held = await killAndRestart(run, TIMINGS.CALL_TTL_MS + 1_000);
      // Every call the dead gateway held gets its definite answer once its device is back.
      const answered = (id: string) =>
        observer.of('completed').some((e) => e.leaseId === id) ||
        observer.of('complete-refused').some((e) => e.leaseId === id);
      await waitFor(() => (held.every(answered) ? true : undefined), 20_000, 'the held calls answered');
      await sleep(profile.phaseMs);
      run.evidence.callsLiveAtKill = must(held.length, held.length >= 2);
      // Each call the dead gateway held ends as a late completion (saved, lease not re-leased)
      // or LEASE_STALE (re-leased meanwhile): count both, at least one must have happened.
      const heldSet = new Set(held);
      const stale = observer
        .of('complete-refused')
        .filter((e) => heldSet.has(e.leaseId) && e.code === 'LEASE_STALE');
      run.evidence.heldRefusedStale = must(stale.length, true);
      run.evidence.heldLeasesLost = must(
        observer.of('resume-lost').filter((e) => heldSet.has(e.leaseId)).length,
        observer.of('resume-lost').some((e) => heldSet.has(e.leaseId)),
      );
    },
  },
  {
    name: 'frozen-device',
    fault: 'SIGSTOP a device mid-call (socket left open) past its lease, then SIGCONT: late completion',
    agents: (p) => p.agents + 1,
    leads: (p) => p.leads,
    async play(run) {
      const { suite, setup, observer } = run;
      const [frozen, ...others] = setup.agents;
      run.floors.push(suite.startFloor(setup, observer, others));
      // The frozen device's calls last long enough to be frozen in the middle of one.
      const lone = suite.startFloor(setup, observer, [frozen!], {
        callMs: [3_000, 3_001],
        seed: 7,
        outcomes: [{ outcome: 'answered', weight: 1 }],
      });
      run.floors.push(lone);
      const agentId = frozen!.agentId;
      const call = await waitFor(
        () => {
          const l = observer.live.get(agentId);
          return l?.accepted ? l : undefined;
        },
        20_000,
        'the device holding an accepted call',
      );
      lone.freeze();
      observer.record({ kind: 'freeze', t: Date.now(), agentId });
      // Ping interval + timeout (10 s + 8 s), then the grace period expires the lease; a margin.
      await sleep(18_000 + TIMINGS.RECONNECT_GRACE_MS + 2_500);
      lone.thaw();
      observer.record({ kind: 'thaw', t: Date.now(), agentId });
      const answer = await waitFor(
        () =>
          [...observer.of('completed'), ...observer.of('complete-refused')].find(
            (e) => e.leaseId === call.leaseId,
          ),
        20_000,
        "the frozen device's completion answered",
      );
      const lost = observer.of('resume-lost').some((e) => e.leaseId === call.leaseId);
      run.evidence.leaseLostWhileFrozen = must(lost ? 'yes' : 'no', lost);
      const reLeased = observer
        .of('offer')
        .some((e) => e.leadId === call.leadId && e.leaseId !== call.leaseId);
      run.evidence.leadReLeased = must(reLeased ? 'yes' : 'no', true);
      if (answer.kind === 'completed') {
        run.evidence.lateCompletion = must('acknowledged (lead not re-leased)', !reLeased);
        run.lateLeases.push(call.leaseId);
      } else {
        run.evidence.lateCompletion = must(
          `refused ${'code' in answer ? answer.code : '?'}`,
          'code' in answer && answer.code === 'LEASE_STALE' && reLeased,
        );
      }
    },
  },
  {
    name: 'clock-fast',
    fault: "one gateway's host clock 5 s ahead (libfaketime): its reaper must not reclaim live leases early",
    agents: (p) => p.agents,
    leads: (p) => p.leads,
    async play(run) {
      const { suite, setup, observer, profile } = run;
      // Gateway 1 restarted with its clock 5 s fast; it serves half the floor and runs the reaper
      // like every gateway. Lease expiry follows Redis's clock (TIME), not the host's.
      const fast = suite.gateways[1]!;
      await fast.kill();
      fast.extraEnv = {
        LD_PRELOAD: FAKETIME_LIB,
        FAKETIME: '+5s',
        FAKETIME_DONT_FAKE_MONOTONIC: '1',
        FAKETIME_NO_CACHE: '1',
      };
      try {
        await fast.start();
        observer.record({ kind: 'fault', t: Date.now(), what: 'gateway 1 serving with its clock 5 s ahead' });
        const res = await fetch(`${fast.url}/healthz`);
        const skewMs = new Date(res.headers.get('date') ?? 0).getTime() - Date.now();
        run.evidence.hostClockAheadMs = must(skewMs, skewMs >= 4_000);
        // Offers live OFFER_TTL_MS (3 s), under the skew: a reaper on host time would take every
        // one back before its device could accept it.
        run.floors.push(suite.startFloor(setup, observer, setup.agents));
        await sleep(3 * profile.phaseMs);
        const completed = observer.of('completed').length;
        run.evidence.callsCompleted = must(completed, completed > 0);
        const early = observer.of('revoked').filter((e) => e.reason === 'expired').length;
        run.evidence.leasesReclaimedEarly = must(early, early === 0);
      } finally {
        fast.extraEnv = {};
      }
    },
  },
  {
    name: 'slow-acks',
    fault:
      'offers never or late acknowledged (after OFFER_ACK_TIMEOUT_MS), 10% of completion acks too late for the device',
    agents: (p) => p.agents,
    leads: (p) => p.leads,
    async play(run) {
      const { suite, setup, observer, profile } = run;
      run.floors.push(
        suite.startFloor(setup, observer, setup.agents, {
          ackModes: ['no-ack', 'slow-ack', 'accept-event', 'ack-accept'],
          ackDelayMs: TIMINGS.OFFER_ACK_TIMEOUT_MS + 500,
          impatientShare: 0.1,
        }),
      );
      await sleep(3 * profile.phaseMs);
      // At least one completion whose acknowledgement came too late for its device (10% of them).
      await waitFor(
        () => observer.of('complete-retry').find((e) => e.code === 'TIMEOUT'),
        20_000,
        'a completion retried after its device gave up waiting',
      );
      const modes = new Map(setup.agents.map((a, i) => [a.agentId, i % 4]));
      const acked = observer.of('completed').filter((e) => !e.duplicate);
      const slow = acked.filter((e) => (modes.get(e.agentId) ?? 9) <= 1).length;
      run.evidence.slowOrUnackedOffersCompleted = must(slow, slow > 0);
      const retried = observer.of('complete-retry').filter((e) => e.code === 'TIMEOUT').length;
      run.evidence.completionsRetriedAfterTimeout = must(retried, retried > 0);
    },
  },
  {
    name: 'redis-keys-lost',
    fault: "the campaign's Redis keys deleted mid-run (calls live): rebuilt from Postgres",
    agents: (p) => p.agents,
    leads: (p) => p.leads,
    async play(run) {
      const { suite, setup, observer, profile } = run;
      run.floors.push(suite.startFloor(setup, observer, setup.agents, { callMs: [500, 1_500] }));
      await sleep(profile.phaseMs);
      const held = await waitFor(
        () => {
          const l = [...observer.live.values()].filter((x) => x.accepted).map((x) => x.leaseId);
          return l.length >= 2 ? l : undefined;
        },
        20_000,
        'live calls',
      );
      const lostAt = Date.now();
      const deleted = await suite.redis.unlinkMatching(`${'fx:'}*{c:${setup.tenantId}:${setup.campaignId}}*`);
      observer.record({ kind: 'fault', t: lostAt, what: `deleted ${deleted} campaign keys` });
      await sleep(2 * profile.phaseMs);
      run.evidence.keysDeleted = must(deleted, deleted > 0);
      run.evidence.callsLiveAtLoss = must(held.length, held.length >= 2);
      // A call whose lease Redis lost still has its outcome kept (lease ids verify without Redis).
      const heldSet = new Set(held);
      const kept = observer.of('completed').filter((e) => heldSet.has(e.leaseId) && e.t > lostAt).length;
      run.evidence.lostLeasesCompleted = must(kept, kept > 0);
      const epochs = new Set(observer.of('offer').map((e) => e.leaseId.split('.')[1]));
      run.evidence.epochs = must(epochs.size, epochs.size >= 2);
    },
  },
  {
    name: 'redis-rollback',
    fault: 'Redis crashes and restarts from a snapshot a second old (its last writes lost)',
    agents: (p) => p.agents,
    leads: (p) => p.leads,
    async play(run) {
      const { suite, setup, observer, profile } = run;
      run.floors.push(suite.startFloor(setup, observer, setup.agents));
      await sleep(profile.phaseMs);
      const before = await suite.redis.runId();
      await suite.redis.snapshot();
      const snapAt = Date.now();
      observer.record({ kind: 'fault', t: snapAt, what: 'snapshot' });
      await sleep(1_000);
      const lostWrites = observer.of('offer').filter((e) => e.t > snapAt).length;
      observer.record({ kind: 'fault', t: Date.now(), what: 'redis crash' });
      await suite.redis.restartFromSnapshot(300);
      const backAt = Date.now();
      observer.record({ kind: 'fault', t: backAt, what: 'redis back from snapshot' });
      // Leases the snapshot brought back hold their agents until they expire (CALL_TTL_MS).
      await sleep(TIMINGS.CALL_TTL_MS + profile.phaseMs);
      const after = await suite.redis.runId();
      run.evidence.redisRestarted = must(after === before ? 'no' : 'yes', after !== before);
      run.evidence.offersLostWithWrites = must(lostWrites, lostWrites > 0);
      const epochs = new Set(observer.of('offer').map((e) => e.leaseId.split('.')[1]));
      run.evidence.epochs = must(epochs.size, epochs.size >= 2);
      const busy = observer.of('ready-refused').filter((e) => e.t > backAt && e.code === 'AGENT_BUSY');
      const lastBusy = Math.max(backAt, ...busy.map((e) => e.t));
      run.evidence.agentsBusyAfterRestartMs = must(lastBusy - backAt, true);
    },
  },
  {
    name: 'dnc-mid-call',
    fault: 'numbers put on the do-not-call list while being dialled (and queued ones), three times',
    agents: (p) => p.agents,
    leads: (p) => p.leads,
    async play(run) {
      const { suite, setup, observer, profile } = run;
      run.floors.push(suite.startFloor(setup, observer, setup.agents, { callMs: [600, 1_500] }));
      const listedLive: string[] = [];
      let tail = setup.phones.length - 1;
      for (let round = 0; round < 3; round++) {
        await sleep(profile.phaseMs);
        const live = await waitFor(
          () => {
            const l = [...observer.live.values()].filter((x) => x.accepted);
            return l.length >= 2 ? l.slice(0, 2) : undefined;
          },
          20_000,
          'calls being dialled',
        );
        const queued = [setup.phones[tail]!, setup.phones[tail - 1]!, setup.phones[tail - 2]!];
        tail -= 3;
        const phones = [...live.map((l) => l.phone), ...queued];
        await suite.admin('POST', `/tenants/${setup.tenantId}/dnc`, { phones });
        observer.record({ kind: 'dnc-acked', t: Date.now(), phones });
        listedLive.push(...live.map((l) => l.leaseId));
      }
      await sleep(profile.phaseMs);
      const revoked = new Set(
        observer
          .of('revoked')
          .filter((e) => e.reason === 'removed')
          .map((e) => e.leaseId),
      );
      const keptOutcomes = observer.of('completed').filter((e) => revoked.has(e.leaseId)).length;
      run.evidence.numbersListedMidCall = must(listedLive.length, listedLive.length >= 6);
      run.evidence.callsRevokedRemoved = must(revoked.size, revoked.size > 0);
      run.evidence.theirOutcomesStored = must(keptOutcomes, keptOutcomes > 0);
    },
  },
  {
    name: 'postgres-outage',
    fault: 'Postgres unreachable for the gateways (connections cut, new ones refused) while calls complete',
    agents: (p) => p.agents,
    leads: (p) => p.leads,
    async play(run) {
      const { suite, setup, observer, profile } = run;
      // Calls long enough that some end, and complete, while Postgres is away.
      run.floors.push(suite.startFloor(setup, observer, setup.agents, { callMs: [800, 2_500] }));
      await sleep(profile.phaseMs);
      await waitFor(
        () => ([...observer.live.values()].filter((l) => l.accepted).length >= 2 ? true : undefined),
        20_000,
        'calls in progress',
      );
      const cutAt = Date.now();
      suite.proxy.cut(profile.postgresOutageMs);
      observer.record({ kind: 'fault', t: cutAt, what: `postgres cut for ${profile.postgresOutageMs} ms` });
      await sleep(profile.postgresOutageMs);
      const during = observer
        .of('complete-retry')
        .filter((e) => e.t >= cutAt && e.t <= cutAt + profile.postgresOutageMs);
      await sleep(2 * profile.phaseMs);
      const codes = [...new Set(during.map((e) => e.code))].join('/');
      run.evidence.completionsRefusedRetryable = must(`${during.length} (${codes})`, during.length > 0);
      const after = observer.of('completed').filter((e) => e.t > cutAt + profile.postgresOutageMs).length;
      run.evidence.completedAfterOutage = must(after, after > 0);
    },
  },
  {
    name: 'redis-failover',
    fault: 'kill -9 the Redis Cluster master holding the campaign mid-run; its replica takes over',
    // Its own world (6 redis-servers, 2 more gateways) and a wait of CALL_TTL_MS after the
    // takeover make it a minute long: the full profile only (the short one stays quick).
    profiles: ['full'],
    agents: (p) => p.agents,
    leads: (p) => p.leads,
    redis: 'cluster',
    async play(run) {
      const { suite, setup, observer, profile } = run;
      const cluster = suite.cluster!;
      run.floors.push(suite.startFloor(setup, observer, setup.agents));
      await sleep(profile.phaseMs);
      const held = await waitFor(
        () => {
          const l = [...observer.live.values()].filter((x) => x.accepted).map((x) => x.leaseId);
          return l.length >= 2 ? l : undefined;
        },
        20_000,
        'live calls',
      );
      const any = cluster.servers[0]!.port;
      const slot = Number(
        (await redisCli(any, 'cluster', 'keyslot', `{c:${setup.tenantId}:${setup.campaignId}}`)).trim(),
      );
      const port = (await masterOf(any, slot))!;
      const killedAt = Date.now();
      cluster.servers.find((s) => s.port === port)!.kill();
      observer.record({ kind: 'fault', t: killedAt, what: `SIGKILL Redis master :${port} (slot ${slot})` });
      const witness = cluster.servers.find((s) => s.port !== port)!.port;
      let takeover: number | null = null;
      while (takeover === null && Date.now() - killedAt < 20_000) {
        const now = await masterOf(witness, slot).catch(() => null);
        if (now !== null && now !== port) takeover = now;
        else await sleep(100);
      }
      const failoverMs = Date.now() - killedAt;
      observer.record({ kind: 'fault', t: Date.now(), what: `replica :${takeover ?? '?'} took over` });
      // Leases the replica holds keep their agents until settled (CALL_TTL_MS), as after a rollback.
      await sleep(TIMINGS.CALL_TTL_MS + profile.phaseMs);
      run.evidence.callsLiveAtKill = must(held.length, held.length >= 2);
      run.evidence.replicaTookOver = must(
        takeover === null ? 'no' : `yes (${failoverMs} ms)`,
        takeover !== null,
      );
      const after = observer.of('completed').filter((e) => e.t > killedAt + failoverMs).length;
      run.evidence.completedAfterFailover = must(after, after > 0);
      const epochs = new Set(observer.of('offer').map((e) => e.leaseId.split('.')[1]));
      run.evidence.epochs = must(epochs.size, epochs.size >= 2);
    },
  },
];

/** One scenario, start to verdict: its own tenant, its floors ended whatever happens. */
export async function runScenario(
  suite: FaultSuite,
  scenario: Scenario,
  profile: Profile,
): Promise<ScenarioResult> {
  const started = Date.now();
  rmSync(`test/faults/results/failed-${scenario.name}.json`, { force: true });
  const observer = new Observer();
  const setup = await suite.setupTenant(
    `f-${scenario.name}`,
    scenario.agents(profile),
    scenario.leads(profile),
  );
  const run: Run = {
    suite,
    profile,
    observer,
    setup,
    evidence: {},
    floors: [],
    lateLeases: [],
    restartMs: [],
  };
  try {
    await scenario.play(run);
    // A floor that cannot drain (an agent stuck) is an anomaly too; the rest is still checked.
    const stuck = await suite.drain(setup, observer, run.floors, TIMINGS.CALL_TTL_MS + 30_000).then(
      () => null,
      (err: unknown) => ({ type: 'drain-stuck', detail: err instanceof Error ? err.message : String(err) }),
    );
    // Let every retry fall due and be promoted: the queue is read key by key, so it must be still.
    await sleep(RETRY_DELAY_MAX_MS + 1_000);
    const end = await suite.endState(setup);
    if (run.restartMs.length > 0) run.evidence.downMs = must(run.restartMs.join('/'), true);
    for (const leaseId of run.lateLeases) {
      const row = end.attempts.find((r) => r.lease_id === leaseId);
      run.evidence.lateRowStored = must(row ? `late=${row.late}` : 'missing', row?.late === true);
    }
    const checked = observer.check(end);
    const anomalies = stuck ? [stuck, ...checked.anomalies] : checked.anomalies;
    const summary = { ...checked.summary, anomalies: anomalies.length };
    if (anomalies.length > 0 || Object.values(run.evidence).some((e) => !e.ok)) {
      // Keep what the checker saw, to read the failure from.
      mkdirSync('test/faults/results', { recursive: true });
      writeFileSync(
        `test/faults/results/failed-${scenario.name}.json`,
        JSON.stringify({
          anomalies,
          history: observer.history,
          attempts: end.attempts,
          queued: [...end.queued],
        }),
      );
    }
    return {
      scenario: scenario.name,
      fault: scenario.fault,
      summary,
      anomalies,
      evidence: run.evidence,
      wallMs: Date.now() - started,
    };
  } finally {
    for (const f of run.floors) await f.dispose();
  }
}
