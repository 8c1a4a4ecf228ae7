// The contract between `bench/run.ts` and a scenario: what a scenario is handed and what it
// hands back. A new scenario (e.g. `loop`) implements `Scenario` and is added to the registry in
// run.ts; it gets the common options, the table and the JSON merge for free.
import type { ScenarioResult, TableRow } from './report.js';

export interface ScenarioContext {
  readonly redisUrl: string;
  /** Smaller sizes for a smoke run; the full run is the one whose numbers are reported. */
  readonly quick: boolean;
  /** Unique per invocation; every Redis key the run creates starts with `keyPrefix`. */
  readonly runId: string;
  readonly keyPrefix: string;
  /**
   * Aborted on Ctrl-C / SIGTERM. Long loops check it between Redis calls, so the scenario
   * unwinds through its own cleanup before run.ts sweeps the prefix, instead of writing keys
   * while the sweep runs.
   */
  readonly signal: AbortSignal;
  /** Progress for people watching; goes to stderr so stdout stays the table. */
  log(message: string): void;
  /** Values of the scenario's own options (`Scenario.options`), keyed by commander's camelCase name. */
  readonly options: Readonly<Record<string, unknown>>;
}

/** A command-line option only one scenario understands (e.g. `--agents <n>` for `loop`). */
export interface ScenarioOption {
  /** commander flags, e.g. '--agents <n>'. */
  readonly flags: string;
  readonly description: string;
  /** Parses and checks the raw value; throws commander's InvalidArgumentError when it is bad. */
  readonly parse?: (value: string) => unknown;
}

export interface ScenarioOutcome {
  readonly result: ScenarioResult;
  readonly rows: readonly TableRow[];
}

export interface Scenario {
  readonly name: string;
  readonly summary: string;
  readonly options?: readonly ScenarioOption[];
  run(ctx: ScenarioContext): Promise<ScenarioOutcome>;
}
