// What a floor worker counts: calls and outcomes, talk time, offer latency (HDR, merged across
// workers by the orchestrator), redials, errors, and completions per second for the
// throughput-over-time chart. Everything cumulative from the start of the floor.
import { performance } from 'node:perf_hooks';
import { encodeHistogram, newHistogram, recordMs } from '../../lib/hdr.js';
import type { FloorMark } from './api.js';
import { OUTCOMES } from './profile.js';
import type { FloorOutcome } from './profile.js';

const KEPT_ERRORS = 5;

export class FloorTally {
  readonly #offer = newHistogram();
  readonly #outcomes = Object.fromEntries(OUTCOMES.map((o) => [o, 0])) as Record<FloorOutcome, number>;
  readonly #perSecond: number[] = [];
  readonly #errorSamples: string[] = [];
  #startedAt = 0;
  #agents = 0;
  #stoppedAt: number | undefined;
  #talkMs = 0;
  #calls = 0;
  #redials = 0;
  #errors = 0;

  begin(agents: number): void {
    this.#startedAt = performance.now();
    this.#agents = agents;
    this.#stoppedAt = undefined;
  }

  end(): void {
    this.#stoppedAt = performance.now();
  }

  offered(latencyMs: number, redial: boolean): void {
    recordMs(this.#offer, latencyMs);
    if (redial) this.#redials++;
  }

  completed(outcome: string, talkMs: number): void {
    this.#calls++;
    this.#talkMs += talkMs;
    if (outcome in this.#outcomes) this.#outcomes[outcome as FloorOutcome]++;
    const s = Math.floor((performance.now() - this.#startedAt) / 1000);
    while (this.#perSecond.length <= s) this.#perSecond.push(0);
    this.#perSecond[s]!++;
  }

  error(message: string): void {
    this.#errors++;
    if (this.#errorSamples.length < KEPT_ERRORS) this.#errorSamples.push(message);
  }

  mark(): FloorMark {
    const cpu = process.cpuUsage();
    const now = this.#stoppedAt ?? performance.now();
    return {
      loggedInMs: (now - this.#startedAt) * this.#agents,
      talkMs: this.#talkMs,
      calls: this.#calls,
      outcomes: { ...this.#outcomes },
      redials: this.#redials,
      errors: this.#errors,
      errorSamples: [...this.#errorSamples],
      offer: encodeHistogram(this.#offer),
      perSecond: [...this.#perSecond],
      cpuUs: cpu.user + cpu.system,
    };
  }
}
