// One measured phase: one system under one load (closed or open loop). Top up its queue so it
// cannot run dry, start every worker's agents, let the load settle, read everything at the
// window's start and end, stop the agents (each finishes the cycle it is in), and check the queue
// still had work at the end. A phase that ran out of work, or whose agents did not finish, fails
// the run: its number would be wrong, not just noisy.
import { setTimeout as sleep } from 'node:timers/promises';
import { encodeHistogram, mergeHistograms, summarizeHistogram } from '../../lib/hdr.js';
import type { HistogramSummary } from '../../lib/hdr.js';
import type { LoadMode, SystemName } from './api.js';
import { takeReading, windowFigures } from './meter.js';
import type { CoreShare, WindowFigures } from './meter.js';
import type { PhaseTiming } from './plan.js';
import { fill, msSince } from './rig.js';
import type { Rig } from './rig.js';

export type ModeName = 'closed' | 'open';

export interface PhaseSpec {
  readonly system: SystemName;
  readonly mode: ModeName;
  readonly timing: PhaseTiming;
  /** Open loop: cycles started per second across all agents. */
  readonly ratePerS?: number;
  /** Write a CPU profile of the server over the window to this path. */
  readonly profilePath?: string;
}

export interface PhaseEnv {
  readonly rig: Rig;
  readonly signal: AbortSignal;
  readonly log: (message: string) => void;
  readonly stopTimeoutMs: number;
  readonly fillBatch: number;
  readonly depthHeadroom: number;
  /** Last closed-loop calls/s per system: how much work the next closed phase may use. */
  readonly closedRate: Map<SystemName, number>;
}

export interface PhaseLatency {
  readonly offer: HistogramSummary;
  readonly offerFromSend: HistogramSummary;
  readonly cycle: HistogramSummary;
}

export interface PhaseResult {
  readonly system: SystemName;
  readonly mode: ModeName;
  /** Calls (or round trips) done in the window, as the system counts them (see callsOf). */
  readonly calls: number;
  readonly callsPerS: number;
  readonly figures: Omit<WindowFigures, 'histograms' | 'commands'>;
  readonly commands: Readonly<Record<string, { calls: number; usec: number }>>;
  readonly latency: PhaseLatency;
  /** The window's merged histograms, encoded, so rounds can be merged too. */
  readonly histograms: { readonly offer: string; readonly offerFromSend: string; readonly cycle: string };
  readonly depthBefore: number | null;
  readonly depthAfter: number | null;
  readonly disturbance: number;
}

/** Stopping agents finish their cycle; allow for it in the work a phase may use. */
const STOP_ALLOWANCE_MS = 2000;

/**
 * The calls a window counts: dialhub's completions acknowledged to devices (outcome committed),
 * Socket.IO's acknowledged round trips, and the BullMQ dialer's completed jobs (outcome inserted,
 * job completed), which only its server sees.
 */
function callsOf(system: SystemName, f: WindowFigures): number {
  return system === 'bullmq' ? f.serverCompleted : f.deviceCalls;
}

async function depthOf(env: PhaseEnv, system: SystemName): Promise<number | null> {
  if (system === 'socketio') return null;
  return env.rig[system].call('depth');
}

/** Queue enough work for the phase: its expected use times the headroom. */
async function topUp(env: PhaseEnv, spec: PhaseSpec): Promise<number | null> {
  const { system } = spec;
  const depth = await depthOf(env, system);
  if (system === 'socketio' || depth === null) return depth;
  const rate = spec.mode === 'open' ? spec.ratePerS : env.closedRate.get(system);
  if (rate === undefined) return depth; // first run of the system: the initial fill covers it
  const phaseMs = spec.timing.warmupMs + spec.timing.measureMs + STOP_ALLOWANCE_MS;
  const need = Math.ceil((rate * phaseMs * env.depthHeadroom) / 1000);
  if (depth >= need) return depth;
  const count = Math.ceil((need - depth) / env.fillBatch) * env.fillBatch;
  const started = process.hrtime.bigint();
  await fill(env.rig, system, count, env.fillBatch);
  env.log(`topped up ${system} by ${count} (had ${depth}, phase may use ${need}) in ${msSince(started)} ms`);
  return depthOf(env, system);
}

function loadFor(spec: PhaseSpec, worker: number, workers: number): LoadMode {
  if (spec.mode === 'closed') return { kind: 'closed' };
  const rate = spec.ratePerS;
  if (rate === undefined) throw new Error('open loop needs a rate');
  // Each worker starts one cycle per `workers / rate` s; offset by its index, the workers'
  // slots interleave into one even stream of `rate` per second.
  const gapMs = 1000 / rate;
  return { kind: 'open', slotMs: gapMs * workers, firstSlotMs: gapMs * worker };
}

/** Cores taken by other people's work and the hypervisor during the window. */
const disturbanceOf = (c: CoreShare): number => Math.round((c.other + c.steal) * 100) / 100;

export async function runPhase(env: PhaseEnv, spec: PhaseSpec): Promise<PhaseResult> {
  const { rig, signal } = env;
  const { system } = spec;
  const depthBefore = await topUp(env, spec);
  const workers = rig.workers;
  await Promise.all(
    workers.map((w, i) => w.call('start', { system, mode: loadFor(spec, i, workers.length) })),
  );
  let figures: WindowFigures;
  try {
    await sleep(spec.timing.warmupMs, undefined, { signal });
    const a = await takeReading(rig, rig.admin, rig.watch);
    if (spec.profilePath) await rig.servers[system].call('profile', { action: 'start' });
    await sleep(spec.timing.measureMs, undefined, { signal });
    const b = await takeReading(rig, rig.admin, rig.watch);
    if (spec.profilePath)
      await rig.servers[system].call('profile', { action: 'stop', path: spec.profilePath });
    figures = windowFigures(a, b, system);
  } catch (err) {
    // Agents stop before the failure (or interruption) travels on, so no cycle outlives the phase.
    await Promise.allSettled(workers.map((w) => w.call('stop', { timeoutMs: env.stopTimeoutMs })));
    throw signal.aborted ? signal.reason : err;
  }
  const stops = await Promise.all(workers.map((w) => w.call('stop', { timeoutMs: env.stopTimeoutMs })));
  const stuck = stops.reduce((acc, s) => acc + s.stuck, 0);
  if (stuck > 0) {
    throw new Error(`${stuck} ${system} agents were still in a cycle ${env.stopTimeoutMs} ms after stop`);
  }
  const depthAfter = await depthOf(env, system);
  if (depthAfter === 0)
    throw new Error(`${system} ran out of queued work during the ${spec.mode}-loop phase`);

  const merged = {
    offer: mergeHistograms(figures.histograms.map((h) => h.offer)),
    offerFromSend: mergeHistograms(figures.histograms.map((h) => h.offerFromSend)),
    cycle: mergeHistograms(figures.histograms.map((h) => h.cycle)),
  };
  const calls = callsOf(system, figures);
  const { histograms: _h, commands, ...rest } = figures;
  return {
    system,
    mode: spec.mode,
    calls,
    callsPerS: calls / figures.seconds,
    figures: rest,
    commands: Object.fromEntries(commands),
    latency: {
      offer: summarizeHistogram(merged.offer),
      offerFromSend: summarizeHistogram(merged.offerFromSend),
      cycle: summarizeHistogram(merged.cycle),
    },
    histograms: {
      offer: encodeHistogram(merged.offer),
      offerFromSend: encodeHistogram(merged.offerFromSend),
      cycle: encodeHistogram(merged.cycle),
    },
    depthBefore,
    depthAfter,
    disturbance: disturbanceOf(figures.cores),
  };
}
