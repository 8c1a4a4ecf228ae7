// The scenarios: each dials a campaign with a floor of devices, injects its fault while calls are
// live, drains, and returns the observer's verdict together with evidence that the fault really
// happened (a suite that injects nothing must not pass).
import { mkdirSync, writeFileSync } from 'node:fs';
import { Observer } from './observer.js';
import type { Anomaly, ScenarioSummary } from './observer.js';
import type { Floor, TenantSetup } from './suite.js';
import { FaultSuite, TIMINGS } from './suite.js';
import { sleep } from './services.js';

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
    phaseMs: 2_500,
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
  /** Start floors (push them to run.floors) and inject the fault; fill run.evidence. */
  play(run: Run): Promise<void>;
}

const must = (value: number | string, ok: boolean) => ({ value, ok });

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

function liveOn(observer: Observer, gateway: number): string[] {
  const at = FaultSuite.gatewayOf(observer);
  return [...observer.live.entries()]
    .filter(([a, l]) => l.accepted && at.get(a) === gateway)
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
      const held = await killAndRestart(run, TIMINGS.CALL_TTL_MS + 2_000);
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
      const { suite, setup, observer, profile } = run;
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
      // Ping interval + timeout (10 s + 8 s) + grace + reclaim, and a margin.
      await sleep(18_000 + TIMINGS.RECONNECT_GRACE_MS + TIMINGS.CALL_TTL_MS + 1_000);
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
      await sleep(profile.phaseMs);
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
];

/** One scenario, start to verdict: its own tenant, its floors ended whatever happens. */
export async function runScenario(
  suite: FaultSuite,
  scenario: Scenario,
  profile: Profile,
): Promise<ScenarioResult> {
  const started = Date.now();
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
    await suite.drain(setup, observer, run.floors, TIMINGS.CALL_TTL_MS + 30_000);
    const end = await suite.endState(setup);
    if (run.restartMs.length > 0) run.evidence.downMs = must(run.restartMs.join('/'), true);
    for (const leaseId of run.lateLeases) {
      const row = end.attempts.find((r) => r.lease_id === leaseId);
      run.evidence.lateRowStored = must(row ? `late=${row.late}` : 'missing', row?.late === true);
    }
    const { anomalies, summary } = observer.check(end);
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
